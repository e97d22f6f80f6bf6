// SPDX-License-Identifier: MIT
/*
 * Perf trampolines for CPython 3.8 to 3.11: every Python function gets its
 * own native address, named "py::qualname:filename" in /tmp/perf-PID.map,
 * so that perf and pyperf show Python frames between the interpreter's C
 * frames, as CPython 3.12's -X perf does.
 *
 * A frame-evaluation hook (PEP 523) calls the interpreter's evaluation
 * function through a small piece of machine code belonging to the code
 * object being run. All those pieces are copies of one template:
 *
 *	f3 0f 1e fa	endbr64
 *	55		push %rbp
 *	48 89 e5	mov %rsp,%rbp
 *	ff d1		call *%rcx	(the evaluator, passed as 4th argument)
 *	5d		pop %rbp
 *	c3		ret
 *	cc cc cc cc	int3 (padding to 16 bytes)
 *
 * It keeps the frame-pointer chain, and pyperf's DWARF unwinder knows its
 * layout (16-byte py:: entries), so stacks are complete in both modes.
 *
 * Copies live in chunks of executable memory, written while the chunk is
 * writable and then made read+execute (never both). A code object keeps its
 * copy in a co_extra slot; when it dies its copy is freed for reuse,
 * preferably by a code object of the same name (then the map needs no new
 * entry and earlier samples keep their name), otherwise, once many copies
 * are free, by any code object (a new map entry names it from then on).
 *
 * All state is guarded by the GIL: the hook and code object deallocation
 * both run with it held.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#if PY_VERSION_HEX < 0x03080000 || PY_VERSION_HEX >= 0x030C0000
#error "this module is for CPython 3.8 to 3.11; 3.12+ has sys.activate_stack_trampoline()"
#endif

#if PY_VERSION_HEX < 0x03090000
/* 3.8 keeps the hook in PyInterpreterState, whose layout is internal. */
#define Py_BUILD_CORE 1
#include <internal/pycore_pystate.h>
#undef Py_BUILD_CORE
#elif PY_VERSION_HEX >= 0x030B0000
/* 3.11 passes the internal _PyInterpreterFrame to the hook. */
#define Py_BUILD_CORE 1
#include <internal/pycore_frame.h>
#undef Py_BUILD_CORE
#endif
#include <frameobject.h>

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <pyperf/map.h>

#define SLOT_SIZE 16
#define CHUNK_SLOTS 4096 /* 64 KiB of code per chunk */
/* Free copies kept for code objects of the same name before any code
 * object may take one (and rename it in the map). */
#define FREE_SLACK 4096
#define NONE UINT32_MAX

static const uint8_t template_code[SLOT_SIZE] = {
    0xf3, 0x0f, 0x1e, 0xfa, /* endbr64 */
    0x55,		    /* push %rbp */
    0x48, 0x89, 0xe5,	    /* mov %rsp,%rbp */
    0xff, 0xd1,		    /* call *%rcx */
    0x5d,		    /* pop %rbp */
    0xc3,		    /* ret */
    0xcc, 0xcc, 0xcc, 0xcc, /* int3 */
};

#if PY_VERSION_HEX < 0x03090000
typedef PyObject *(*evaluator)(PyFrameObject *, int);
typedef PyObject *(*trampoline)(PyFrameObject *, intptr_t, void *, evaluator);
#define FRAME_T PyFrameObject
#define FRAME_CODE(f) ((f)->f_code)
#elif PY_VERSION_HEX < 0x030B0000
typedef PyObject *(*evaluator)(PyThreadState *, PyFrameObject *, int);
typedef PyObject *(*trampoline)(PyThreadState *, PyFrameObject *, intptr_t, evaluator);
#define FRAME_T PyFrameObject
#define FRAME_CODE(f) ((f)->f_code)
#else
typedef PyObject *(*evaluator)(PyThreadState *, struct _PyInterpreterFrame *, int);
typedef PyObject *(*trampoline)(PyThreadState *, struct _PyInterpreterFrame *, intptr_t, evaluator);
#define FRAME_T struct _PyInterpreterFrame
#define FRAME_CODE(f) ((f)->f_code)
#endif

/* What we know of each copy; index = chunk * CHUNK_SLOTS + position. */
struct slot_info {
	uint64_t name_hash;	       /* of the name the map gives it now */
	uint32_t next_same, prev_same; /* free copies of the same name */
	uint32_t next_free, prev_free; /* all free copies, oldest first */
	bool free;
};

/* Free copies by name: linear probing, backward-shift deletion. */
struct name_bucket {
	uint64_t hash; /* 0: empty */
	uint32_t head;
};

static struct {
	bool active;
	pid_t pid;	    /* the process the allocation state belongs to */
	evaluator previous; /* what we call through the trampolines */
	Py_ssize_t extra_index;
	struct pyperf_map_writer *map;
	uint8_t **chunks;
	size_t nr_chunks, cap_chunks;
	uint32_t used;	   /* copies handed out from chunks, ever */
	uint32_t own_from; /* first copy in a chunk this process mapped */
	struct slot_info *info;
	uint32_t free_head, free_tail, nr_free;
	struct name_bucket *names;
	size_t names_cap, names_used;
	/* statistics */
	uint64_t code_objects, reused_same, reused_other, map_errors, fallbacks;
	char *name_buf;
	size_t name_cap;
	char error[512];
} st = {.extra_index = -1, .free_head = NONE, .free_tail = NONE};

static uint64_t hash_name(const char *s, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 0x100000001b3ULL;
	}
	return h ? h : 1;
}

static uint8_t *slot_code(uint32_t idx)
{
	return st.chunks[idx / CHUNK_SLOTS] + (size_t)(idx % CHUNK_SLOTS) * SLOT_SIZE;
}

/* ---- free copies by name ---- */

static struct name_bucket *name_find(uint64_t h)
{
	size_t mask = st.names_cap - 1;

	if (!st.names_cap)
		return NULL;
	for (size_t i = h & mask;; i = (i + 1) & mask) {
		if (st.names[i].hash == h)
			return &st.names[i];
		if (!st.names[i].hash)
			return NULL;
	}
}

static int names_grow(void)
{
	size_t ncap = st.names_cap ? st.names_cap * 2 : 1024;
	struct name_bucket *n = PyMem_RawCalloc(ncap, sizeof(*n));

	if (!n)
		return -1;
	for (size_t i = 0; i < st.names_cap; i++) {
		size_t j;

		if (!st.names[i].hash)
			continue;
		for (j = st.names[i].hash & (ncap - 1); n[j].hash; j = (j + 1) & (ncap - 1))
			;
		n[j] = st.names[i];
	}
	PyMem_RawFree(st.names);
	st.names = n;
	st.names_cap = ncap;
	return 0;
}

static void name_remove(struct name_bucket *b)
{
	size_t mask = st.names_cap - 1, i = (size_t)(b - st.names), j = i;

	for (;;) {
		size_t home;

		j = (j + 1) & mask;
		if (!st.names[j].hash)
			break;
		home = st.names[j].hash & mask;
		/* move j back to i unless its home lies cyclically in (i, j] */
		if ((j > i && (home <= i || home > j)) || (j < i && home <= i && home > j)) {
			st.names[i] = st.names[j];
			i = j;
		}
	}
	st.names[i].hash = 0;
	st.names_used--;
}

static void unlink_free(uint32_t idx)
{
	struct slot_info *s = &st.info[idx];
	struct name_bucket *b;

	if (s->prev_free != NONE)
		st.info[s->prev_free].next_free = s->next_free;
	else
		st.free_head = s->next_free;
	if (s->next_free != NONE)
		st.info[s->next_free].prev_free = s->prev_free;
	else
		st.free_tail = s->prev_free;
	if (s->prev_same != NONE) {
		st.info[s->prev_same].next_same = s->next_same;
	} else if ((b = name_find(s->name_hash))) {
		if (s->next_same != NONE)
			b->head = s->next_same;
		else
			name_remove(b);
	}
	if (s->next_same != NONE)
		st.info[s->next_same].prev_same = s->prev_same;
	s->free = false;
	st.nr_free--;
}

static void child_reset(pid_t pid);

/* co_extra's free function: the code object died, its copy is free. */
static void release_slot(void *extra)
{
	uint32_t idx = (uint32_t)((uintptr_t)extra - 1);
	struct slot_info *s;
	struct name_bucket *b;

	if (!extra)
		return;
	if (getpid() != st.pid)
		child_reset(getpid());
	/* copies in inherited chunks are named by the parent's map */
	if (idx >= st.used || idx < st.own_from)
		return;
	s = &st.info[idx];
	if (s->free)
		return;
	if (st.names_used + 1 > st.names_cap / 2 && names_grow())
		return; /* no memory: this copy is not reused */
	b = name_find(s->name_hash);
	if (!b) {
		size_t i, mask = st.names_cap - 1;

		for (i = s->name_hash & mask; st.names[i].hash; i = (i + 1) & mask)
			;
		b = &st.names[i];
		b->hash = s->name_hash;
		b->head = NONE;
		st.names_used++;
	}
	s->next_same = b->head;
	s->prev_same = NONE;
	if (b->head != NONE)
		st.info[b->head].prev_same = idx;
	b->head = idx;
	s->next_free = NONE;
	s->prev_free = st.free_tail;
	if (st.free_tail != NONE)
		st.info[st.free_tail].next_free = idx;
	else
		st.free_head = idx;
	st.free_tail = idx;
	s->free = true;
	st.nr_free++;
}

/* ---- fresh copies ---- */

static int new_chunk(void)
{
	size_t bytes = (size_t)CHUNK_SLOTS * SLOT_SIZE;
	uint8_t *mem;
	struct slot_info *info;

	if (st.nr_chunks == st.cap_chunks) {
		size_t ncap = st.cap_chunks ? st.cap_chunks * 2 : 16;
		uint8_t **n = PyMem_RawRealloc(st.chunks, ncap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		st.chunks = n;
		st.cap_chunks = ncap;
	}
	info = PyMem_RawRealloc(st.info, (st.nr_chunks + 1) * CHUNK_SLOTS * sizeof(*info));
	if (!info)
		return -ENOMEM;
	st.info = info;
	mem = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		return -errno;
	for (size_t i = 0; i < CHUNK_SLOTS; i++)
		memcpy(mem + i * SLOT_SIZE, template_code, SLOT_SIZE);
	/* Written, now executable: never writable and executable at once. */
	if (mprotect(mem, bytes, PROT_READ | PROT_EXEC)) {
		int e = errno;

		munmap(mem, bytes);
		return -e;
	}
	st.chunks[st.nr_chunks++] = mem;
	return 0;
}

/* "py::qualname:filename" in st.name_buf; its length, or -1. */
static Py_ssize_t code_name(PyCodeObject *co)
{
#if PY_VERSION_HEX >= 0x030B0000
	PyObject *qual = co->co_qualname;
#else
	PyObject *qual = co->co_name;
#endif
	const char *q = NULL, *f = NULL;
	Py_ssize_t ql = 0, fl = 0;
	size_t need;

	if (qual && PyUnicode_Check(qual))
		q = PyUnicode_AsUTF8AndSize(qual, &ql);
	if (co->co_filename && PyUnicode_Check(co->co_filename))
		f = PyUnicode_AsUTF8AndSize(co->co_filename, &fl);
	if (!q || !f) {
		PyErr_Clear();
		q = q ? q : "?", ql = q ? (Py_ssize_t)strlen(q) : 1;
		f = f ? f : "?", fl = f ? (Py_ssize_t)strlen(f) : 1;
	}
	need = 4 + (size_t)ql + 1 + (size_t)fl + 1;
	if (need > st.name_cap) {
		char *n = PyMem_RawRealloc(st.name_buf, need);

		if (!n)
			return -1;
		st.name_buf = n;
		st.name_cap = need;
	}
	memcpy(st.name_buf, "py::", 4);
	memcpy(st.name_buf + 4, q, (size_t)ql);
	st.name_buf[4 + ql] = ':';
	memcpy(st.name_buf + 5 + ql, f, (size_t)fl);
	st.name_buf[5 + ql + fl] = 0;
	return 5 + ql + fl;
}

/*
 * In a forked child: copies made from now on go into chunks the child maps
 * itself. perf (and pyperf-report, which follows it) resolves addresses in
 * mappings inherited through fork() with the parent's map, so a copy the
 * child names must not sit in one: the rest of the current chunk and the
 * free copies inherited are left unused.
 */
static void child_reset(pid_t pid)
{
	st.pid = pid;
	st.used = st.own_from = (uint32_t)(st.nr_chunks * CHUNK_SLOTS);
	st.free_head = st.free_tail = NONE;
	st.nr_free = 0;
	if (st.names)
		memset(st.names, 0, st.names_cap * sizeof(*st.names));
	st.names_used = 0;
}

/* The copy that runs @co, made on its first run; NULL to run it plainly. */
static void *trampoline_for(PyCodeObject *co)
{
	void *extra = NULL;
	Py_ssize_t len;
	uint64_t h;
	uint32_t idx;
	struct name_bucket *b;
	bool named = false;

	if (_PyCode_GetExtra((PyObject *)co, st.extra_index, &extra) < 0) {
		PyErr_Clear();
		st.fallbacks++;
		return NULL;
	}
	if (extra)
		return slot_code((uint32_t)((uintptr_t)extra - 1));

	if (getpid() != st.pid)
		child_reset(getpid());
	len = code_name(co);
	if (len < 0) {
		st.fallbacks++;
		return NULL;
	}
	h = hash_name(st.name_buf, (size_t)len);
	if ((b = name_find(h))) {
		idx = b->head;
		unlink_free(idx);
		named = true; /* the map already names this copy so */
		st.reused_same++;
	} else if (st.nr_free >= FREE_SLACK) {
		idx = st.free_head;
		unlink_free(idx);
		st.reused_other++;
	} else {
		if (st.used == st.nr_chunks * CHUNK_SLOTS && new_chunk()) {
			st.fallbacks++;
			return NULL;
		}
		idx = st.used++;
		memset(&st.info[idx], 0, sizeof(st.info[idx]));
	}
	st.info[idx].name_hash = h;
	if (!named && pyperf_map_writer__add(st.map, (uint64_t)(uintptr_t)slot_code(idx), SLOT_SIZE,
					     st.name_buf))
		st.map_errors++;
	if (_PyCode_SetExtra((PyObject *)co, st.extra_index, (void *)(uintptr_t)(idx + 1)) < 0) {
		PyErr_Clear();
		release_slot((void *)(uintptr_t)(idx + 1));
		st.fallbacks++;
		return NULL;
	}
	st.code_objects++;
	return slot_code(idx);
}

/* ---- the hook ---- */

#if PY_VERSION_HEX < 0x03090000
static PyObject *eval_hook(PyFrameObject *frame, int throwflag)
{
	void *code;

	if (!st.active || !(code = trampoline_for(FRAME_CODE(frame))))
		return st.previous(frame, throwflag);
	return ((trampoline)code)(frame, throwflag, NULL, st.previous);
}

static evaluator get_eval(PyInterpreterState *interp)
{
	return interp->eval_frame;
}

static void set_eval(PyInterpreterState *interp, evaluator f)
{
	interp->eval_frame = f;
}
#else
static PyObject *eval_hook(PyThreadState *ts, FRAME_T *frame, int throwflag)
{
	void *code;

	if (!st.active || !(code = trampoline_for(FRAME_CODE(frame))))
		return st.previous(ts, frame, throwflag);
	return ((trampoline)code)(ts, frame, throwflag, st.previous);
}

static evaluator get_eval(PyInterpreterState *interp)
{
	return _PyInterpreterState_GetEvalFrameFunc(interp);
}

static void set_eval(PyInterpreterState *interp, evaluator f)
{
	_PyInterpreterState_SetEvalFrameFunc(interp, f);
}
#endif

/* ---- module functions ---- */

static PyObject *activate(PyObject *self, PyObject *args, PyObject *kw)
{
	static char *names[] = {"reemit_on_fork", NULL};
	int reemit = 1;
	PyInterpreterState *interp = PyThreadState_Get()->interp;
	evaluator cur;

	(void)self;
	if (!PyArg_ParseTupleAndKeywords(args, kw, "|p:activate", names, &reemit))
		return NULL;
#if !defined(__x86_64__)
	PyErr_SetString(PyExc_RuntimeError,
			"perf trampolines are implemented for x86-64 only; this interpreter "
			"runs on another architecture");
	return NULL;
#endif
	if (interp != PyInterpreterState_Main()) {
		PyErr_SetString(PyExc_RuntimeError,
				"perf trampolines can only be activated in the main interpreter");
		return NULL;
	}
	cur = get_eval(interp);
	if (st.active && cur == (evaluator)eval_hook)
		Py_RETURN_NONE;
	if (!st.map) {
		PYPERF_OPTS(pyperf_map_writer_opts, mopts, .reemit_on_fork = reemit);
		struct pyperf_error err;

		st.map = pyperf_map_writer__open(&mopts, &err);
		if (!st.map) {
			pyperf_error__format(&err, st.error, sizeof(st.error));
			PyErr_Format(PyExc_OSError, "cannot write the perf map: %s", st.error);
			return NULL;
		}
	}
	if (st.extra_index < 0) {
		st.extra_index = _PyEval_RequestCodeExtraIndex(release_slot);
		if (st.extra_index < 0) {
			PyErr_SetString(PyExc_RuntimeError,
					"no co_extra slot left for perf trampolines");
			return NULL;
		}
	}
	if (!st.pid)
		st.pid = getpid();
	/* Fail now, not on the first call, if executable memory is refused. */
	if (!st.nr_chunks) {
		int e = new_chunk();

		if (e) {
			errno = -e;
			PyErr_SetFromErrnoWithFilename(PyExc_OSError,
						       "executable memory for perf trampolines");
			return NULL;
		}
	}
	if (cur != (evaluator)eval_hook) {
		st.previous = cur;
		set_eval(interp, (evaluator)eval_hook);
	}
	st.active = true;
	Py_RETURN_NONE;
}

static PyObject *deactivate(PyObject *self, PyObject *noargs)
{
	PyInterpreterState *interp = PyThreadState_Get()->interp;

	(void)self;
	(void)noargs;
	if (!st.active)
		Py_RETURN_NONE;
	st.active = false;
	/* Another hook installed over ours still calls us; we then pass
	 * straight through. Frames running in trampolines return normally:
	 * the code is never unmapped. */
	if (get_eval(interp) == (evaluator)eval_hook)
		set_eval(interp, st.previous);
	Py_RETURN_NONE;
}

static PyObject *is_active(PyObject *self, PyObject *noargs)
{
	(void)self;
	(void)noargs;
	return PyBool_FromLong(st.active);
}

static PyObject *after_fork(PyObject *self, PyObject *noargs)
{
	struct pyperf_error err;

	(void)self;
	(void)noargs;
	if (getpid() != st.pid)
		child_reset(getpid());
	if (st.map && pyperf_map_writer__after_fork(st.map, &err)) {
		pyperf_error__format(&err, st.error, sizeof(st.error));
		PyErr_Format(PyExc_OSError, "perf map after fork: %s", st.error);
		return NULL;
	}
	Py_RETURN_NONE;
}

static PyObject *stats(PyObject *self, PyObject *noargs)
{
	(void)self;
	(void)noargs;
	return Py_BuildValue(
	    "{s:O,s:K,s:K,s:K,s:K,s:K,s:K,s:K,s:K,s:s}", "active", st.active ? Py_True : Py_False,
	    "code_objects", (unsigned long long)st.code_objects, "trampolines",
	    (unsigned long long)st.used, "free", (unsigned long long)st.nr_free, "reused_same_name",
	    (unsigned long long)st.reused_same, "reused_renamed",
	    (unsigned long long)st.reused_other, "code_bytes",
	    (unsigned long long)st.nr_chunks * CHUNK_SLOTS * SLOT_SIZE, "map_errors",
	    (unsigned long long)st.map_errors, "fallbacks", (unsigned long long)st.fallbacks,
	    "map_path", st.map ? pyperf_map_writer__path(st.map) : "");
}

static PyMethodDef methods[] = {
    {"activate", (PyCFunction)(void (*)(void))activate, METH_VARARGS | METH_KEYWORDS,
     "activate(reemit_on_fork=True): run every Python function through its own perf "
     "trampoline and name it in /tmp/perf-PID.map."},
    {"deactivate", deactivate, METH_NOARGS, "deactivate(): stop using trampolines."},
    {"is_active", is_active, METH_NOARGS, "is_active() -> bool"},
    {"_after_fork", after_fork, METH_NOARGS, "switch to the child's perf map (fork handler)"},
    {"stats", stats, METH_NOARGS, "stats() -> dict of counters"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    "_trampoline",
    "Perf trampolines for CPython 3.8-3.11 (part of pyperf).",
    -1,
    methods,
    NULL,
    NULL,
    NULL,
    NULL,
};

/* 3.8's PyMODINIT_FUNC does not export by itself; we build hidden. */
__attribute__((visibility("default"))) PyMODINIT_FUNC PyInit__trampoline(void)
{
	PyObject *m = PyModule_Create(&module);

	if (m && PyModule_AddIntConstant(m, "TRAMPOLINE_SIZE", SLOT_SIZE)) {
		Py_DECREF(m);
		return NULL;
	}
	return m;
}
