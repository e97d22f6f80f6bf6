"""A program in a real terminal: a tmux server and session of its own, keys
sent, the screen captured; the shell around the program writes its exit
status, its stderr and the terminal's modes afterwards (stty -a), so that a
test can check how it left the terminal."""
import os
import subprocess
import time


class Term:
    def __init__(self, d, argv, w=120, h=40, name='t', pipe=None, env=None):
        self.d, self.name = d, f'pyperf-term-{os.getpid()}-{name}'
        self.rc, self.err, self.stty = f'{d}/{name}.rc', f'{d}/{name}.err', f'{d}/{name}.stty'
        for f in (self.rc, self.err, self.stty):
            if os.path.exists(f):
                os.unlink(f)
        cmd = subprocess.list2cmdline(argv)
        if pipe:
            # the program's status, not cat's
            cmd = f'( {cmd}; echo $? > {pipe}.rc ) | cat > {pipe}'
        shell = (f'{cmd} 2>{self.err}; echo $? > {self.rc}.tmp; stty -a > {self.stty}; '
                 f'mv {self.rc}.tmp {self.rc}; sleep 600')
        subprocess.run(['tmux', '-L', self.name, '-f', '/dev/null', 'new-session', '-d', '-s',
                        self.name, '-x', str(w), '-y', str(h), 'bash', '-c', shell], check=True,
                       env={**os.environ, 'TERM': 'screen', **(env or {})})

    def tmux(self, *args):
        return subprocess.run(['tmux', '-L', self.name, *args], stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, text=True).stdout

    def screen(self):
        return self.tmux('capture-pane', '-p', '-t', self.name).split('\n')[:-1]

    def wait(self, pred, timeout=30, every=0.2):
        """Polls the screen until pred(screen) holds; the last screen, and
        whether it held."""
        end = time.time() + timeout
        s = self.screen()
        while time.time() < end:
            s = self.screen()
            if pred(s):
                return s, True
            time.sleep(every)
        return s, False

    def keys(self, *keys):
        """Literal characters, or tmux key names (C-c, Escape...)."""
        for k in keys:
            self.tmux('send-keys', '-t', self.name, *(['-l', k] if len(k) == 1 else [k]))

    def pid(self):
        """The program's pid: the child of the pane's shell."""
        sh = self.tmux('display-message', '-p', '-t', self.name, '#{pane_pid}').strip()
        p = subprocess.run(['pgrep', '-P', sh], stdout=subprocess.PIPE, text=True)
        kids = p.stdout.split()
        return int(kids[0]) if kids else None

    def result(self, timeout=20):
        """(exit status, stderr, stty -a) once the program ended, else (None, '', '')."""
        end = time.time() + timeout
        while time.time() < end and not os.path.exists(self.rc):
            time.sleep(0.1)
        if not os.path.exists(self.rc):
            return None, '', ''
        with open(self.rc) as f:
            rc = int(f.read().strip() or -1)
        with open(self.err) as f:
            err = f.read()
        stty = open(self.stty).read() if os.path.exists(self.stty) else ''
        return rc, err, stty

    def close(self):
        self.tmux('kill-server')


def restored(stty):
    """The modes a shell's terminal has: canonical input and echo on."""
    words = stty.split()
    return 'icanon' in words and 'echo' in words
