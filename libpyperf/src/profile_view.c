// SPDX-License-Identifier: MIT
/*
 * The python and mixed views: interpreter frames folded, Python frames
 * shown by their functions, blocking builtins named.
 */
#include "profile_internal.h"

/* ---- views ------------------------------------------------------------------------------- */

#define FC_DONE 1
#define FC_PYTHON 2  /* a py:: frame */
#define FC_INTERP 4  /* code of the interpreter: libpython, or a static python binary */
#define FC_BUILTIN 8 /* the C function of a Python builtin that blocks */

/*
 * C functions of CPython builtins where Python code waits, by the name
 * Python code calls them with. Python and mixed views show them as frames
 * ("time.sleep (built-in)") between the Python caller and the kernel, so
 * that an off-CPU profile says what the program waited in. The C names are
 * those of CPython 3.8-3.13 (Modules/timemodule.c, _threadmodule.c,
 * socketmodule.c, selectmodule.c, posixmodule.c, _io, _queuemodule.c).
 */
static const struct {
	const char *c_name, *py_name;
} builtins[] = {
    {"time_sleep", "time.sleep"},
    {"lock_PyThread_acquire_lock", "lock.acquire"},
    {"rlock_acquire", "RLock.acquire"},
    {"sock_recv", "socket.recv"},
    {"sock_recv_into", "socket.recv_into"},
    {"sock_recvfrom", "socket.recvfrom"},
    {"sock_recvfrom_into", "socket.recvfrom_into"},
    {"sock_send", "socket.send"},
    {"sock_sendall", "socket.sendall"},
    {"sock_accept", "socket.accept"},
    {"sock_connect", "socket.connect"},
    {"select_select", "select.select"},
    {"select_select_impl", "select.select"},
    {"select_poll_poll", "poll.poll"},
    {"select_poll_poll_impl", "poll.poll"},
    {"select_epoll_poll", "epoll.poll"},
    {"select_epoll_poll_impl", "epoll.poll"},
    {"os_read", "os.read"},
    {"os_read_impl", "os.read"},
    {"os_write", "os.write"},
    {"os_write_impl", "os.write"},
    {"os_waitpid", "os.waitpid"},
    {"os_waitpid_impl", "os.waitpid"},
    {"os_wait", "os.wait"},
    {"os_waitid", "os.waitid"},
    {"_io_FileIO_read", "FileIO.read"},
    {"_io_FileIO_read_impl", "FileIO.read"},
    {"_io_FileIO_readinto", "FileIO.readinto"},
    {"_io_FileIO_readall", "FileIO.readall"},
    {"_io_FileIO_write", "FileIO.write"},
    {"_queue_SimpleQueue_get", "SimpleQueue.get"},
    {"_queue_SimpleQueue_get_impl", "SimpleQueue.get"},
    {"builtin_input", "input"},
};

static const char *builtin_name(const char *c_name)
{
	for (size_t i = 0; i < sizeof(builtins) / sizeof(builtins[0]); i++)
		if (!strcmp(builtins[i].c_name, c_name))
			return builtins[i].py_name;
	return NULL;
}

/* "libpython3.12.so.1.0", "python3.12", "python3", "python3.12d" */
static bool interpreter_dso(const struct pyperf_dso *d)
{
	const char *n = d ? pyperf_dso__short_name(d) : "";

	if (!strncmp(n, "libpython", 9))
		return n[9] >= '2' && n[9] <= '9';
	if (strncmp(n, "python", 6) || !(n[6] >= '2' && n[6] <= '9'))
		return false;
	for (n += 7; *n; n++)
		if (!(*n == '.' || (*n >= '0' && *n <= '9') || *n == 'd' || *n == 'm' || *n == 'u'))
			return false;
	return true;
}

static uint8_t frame_class(struct pyperf_profile *p, uint32_t id)
{
	size_t old = p->fclass_cap;

	if (id >= p->fclass_cap) {
		size_t cap = p->fclass_cap, cap2 = p->fclass_cap;

		if (PP_GROW(p->fclass, cap, p->nr_frames) ||
		    PP_GROW(p->view_of, cap2, p->nr_frames))
			return 0;
		p->fclass_cap = MIN(cap, cap2);
		memset(p->fclass + old, 0, p->fclass_cap - old);
		memset(p->view_of + old, 0, (p->fclass_cap - old) * sizeof(*p->view_of));
	}
	if (!p->fclass[id]) {
		const struct pyperf_frame *f = &p->frames[id];
		uint8_t c = FC_DONE;

		if (f->kind == PYPERF_FRAME_PYTHON && f->sym && !strncmp(f->sym->name, "py::", 4))
			c |= FC_PYTHON;
		else if (f->kind == PYPERF_FRAME_NATIVE && interpreter_dso(f->dso))
			c |= FC_INTERP;
		if (f->kind == PYPERF_FRAME_NATIVE && f->sym && builtin_name(f->sym->name))
			c |= FC_BUILTIN;
		p->fclass[id] = c;
	}
	return p->fclass[id];
}

/* A view frame: @name (copied) under dso @dso_name of @kind. id + 1, 0 on ENOMEM. */
uint32_t pyperf_profile_view_frame(struct pyperf_profile *p, const char *name, const char *dso_name,
				   enum pyperf_dso_kind dso_kind)
{
	const char *n = pp_strtab_intern(&p->strings, name, strlen(name));
	struct frame_key k = {(uintptr_t)n, 0, 0, KEY_VIEW};
	struct pyperf_frame *f;
	struct pyperf_symbol *sym;
	uint32_t id;

	if (!n)
		return 0;
	id = pyperf_profile_frame_intern(p, &k, &f);
	if (!id || !f)
		return id;
	sym = pp_arena_alloc(&p->arena, sizeof(*sym));
	f->dso = symbols_add_dso(p->syms, dso_name, dso_kind, NULL, 0);
	if (!sym || !f->dso)
		return 0;
	f->dso->loaded = true;
	/* a range of its own, so that perf-style symbol keys tell them apart */
	sym->start = (uint64_t)id << 4;
	sym->end = sym->start + 1;
	sym->name = n;
	f->kind = dso_kind == PYPERF_DSO_PYTHON ? PYPERF_FRAME_PYTHON : PYPERF_FRAME_NATIVE;
	f->cpumode = PYPERF_CPUMODE_USER;
	f->sym = sym;
	f->name = n;
	f->ip = f->addr = sym->start;
	return id;
}

/* "py::Class.method:/path/file.py" -> "Class.method (file.py)" */
static uint32_t python_view_frame(struct pyperf_profile *p, uint32_t id)
{
	const char *full = p->frames[id].sym->name + 4, *colon = strchr(full, ':');
	const char *file = colon ? colon + 1 : "?", *base = strrchr(file, '/');
	char buf[1024];

	if (p->view_of[id])
		return p->view_of[id];
	snprintf(buf, sizeof(buf), "%.*s (%s)", colon ? (int)(colon - full) : (int)strlen(full),
		 full, p->opts.full_path || !base ? file : base + 1);
	p->view_of[id] = pyperf_profile_view_frame(p, buf, file, PYPERF_DSO_PYTHON);
	return p->view_of[id];
}

/* "time_sleep" -> "time.sleep (built-in)" */
static uint32_t builtin_view_frame(struct pyperf_profile *p, uint32_t id)
{
	char buf[128];

	if (p->view_of[id])
		return p->view_of[id];
	snprintf(buf, sizeof(buf), "%s (built-in)", builtin_name(p->frames[id].sym->name));
	p->view_of[id] = pyperf_profile_view_frame(p, buf, "<built-in>", PYPERF_DSO_PYTHON);
	return p->view_of[id];
}

/*
 * Rewrites p->stack (leaf first, @n frames) for the python and mixed views.
 * Returns the new length, or -ENOMEM.
 */
long pyperf_profile_apply_view(struct pyperf_profile *p, long n)
{
	long outer = -1, w = 0;

	if (p->opts.view == PYPERF_VIEW_NATIVE)
		return n;
	for (long i = 0; i < n; i++) {
		uint8_t c = frame_class(p, p->stack[i]);

		if (!c)
			return -ENOMEM;
		if (c & FC_PYTHON)
			outer = i;
	}
	if (outer < 0) {
		if (p->opts.view == PYPERF_VIEW_MIXED)
			return n;
		/* no Python at all: one [native] frame */
		if (!p->native_frame)
			p->native_frame =
			    pyperf_profile_view_frame(p, "[native]", "[native]", PYPERF_DSO_ANON);
		if (!p->native_frame)
			return -ENOMEM;
		p->stack[0] = p->native_frame - 1;
		return 1;
	}
	for (long i = 0; i < n; i++) {
		uint8_t c = p->fclass[p->stack[i]];
		uint32_t v;

		if (c & FC_PYTHON) {
			v = python_view_frame(p, p->stack[i]);
			if (!v)
				return -ENOMEM;
			pyperf_profile_move_frame(p, w++, i, v - 1);
		} else if ((c & FC_BUILTIN) && i < outer) {
			v = builtin_view_frame(p, p->stack[i]);
			if (!v)
				return -ENOMEM;
			/* one call, two C functions (a wrapper and its _impl,
			 * both kept apart on 3.8): one frame */
			if (!w || p->stack[w - 1] != v - 1)
				pyperf_profile_move_frame(p, w++, i, v - 1);
		} else if (p->opts.view == PYPERF_VIEW_PYTHON) {
			/* native code: charged to the Python frame above it, or
			 * to a [native] leaf when asked, if the time was spent
			 * outside the interpreter (C extensions, libc, kernel):
			 * the interpreter running bytecode is the Python frame's
			 * own time */
			if (i == 0 && p->opts.native_leaf && !(c & FC_INTERP)) {
				if (!p->native_frame)
					p->native_frame = pyperf_profile_view_frame(
					    p, "[native]", "[native]", PYPERF_DSO_ANON);
				if (!p->native_frame)
					return -ENOMEM;
				pyperf_profile_move_frame(p, w++, 0, p->native_frame - 1);
			}
		} else if (!(i < outer && (c & FC_INTERP))) {
			pyperf_profile_move_frame(p, w++, i, p->stack[i]);
		}
	}
	return w;
}
