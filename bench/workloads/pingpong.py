"""Two threads ping-pong a token through two queues: every hand-off is a
context switch. usage: pingpong.py [ROUND_TRIPS=40000] [WORK=200]
WORK: iterations of work per hand-off. With little work, the hand-offs
themselves set the pace: ~40,000-50,000 context switches a second on
python3.12 on an idle machine here (perf stat -e context-switches)."""
import queue, sys, threading, time

def work(k):
    return sum(range(k))

def player(inbox, outbox, n, k):
    for _ in range(n):
        x = inbox.get()
        work(k)
        outbox.put(x)

def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 40000
    k = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    a, b = queue.SimpleQueue(), queue.SimpleQueue()
    t = threading.Thread(target=player, args=(a, b, n, k))
    t0 = time.perf_counter()
    t.start()
    for _ in range(n):
        a.put(1)
        work(k)
        b.get()
    t.join()
    print(f"pingpong: round_trips={n} s={time.perf_counter() - t0:.3f}", file=sys.stderr)

if __name__ == "__main__":
    main()
