/* SPDX-License-Identifier: MIT */
/*
 * Locating the CPython interpreter of a live process: the file that holds
 * _PyRuntime (executable or libpython) and its load address, the version,
 * the struct layout, and a check of that layout against the process's own
 * memory before anything trusts it. Also the user-space reading of thread
 * states and frames (pyperf_interp__for_each_thread()), with the same
 * configuration the BPF program gets.
 */
#include <elf.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#include <pyperf/symbols.h>
#include "interp_internal.h"

int pyperf_interp_read(struct pyperf_interp *ip, uint64_t addr, void *buf, size_t n)
{
	struct iovec local = {buf, n}, remote = {(void *)(uintptr_t)addr, n};
	ssize_t got;

	if (ip->gone)
		return -ESRCH;
	if (!addr)
		return -EFAULT;
	got = process_vm_readv(ip->pid, &local, 1, &remote, 1, 0);
	if (got == (ssize_t)n)
		return 0;
	ip->stats.read_errors++;
	if (got < 0 && errno == ESRCH) {
		ip->gone = true;
		return -ESRCH;
	}
	return got < 0 ? -errno : -EFAULT;
}

static int read_u64(struct pyperf_interp *ip, uint64_t addr, int32_t off, uint64_t *out)
{
	*out = 0;
	if (off < 0)
		return -ENOENT;
	return pyperf_interp_read(ip, addr + (uint64_t)off, out, sizeof(*out));
}

/* ----- finding the file ----- */

struct mapping {
	uint64_t start, end, pgoff;
	char path[PATH_MAX];
};

/* The file mappings of @pid whose path passes @want (or all if NULL). */
static int read_maps(int pid, struct mapping **out, size_t *nr)
{
	char fn[64], line[PATH_MAX + 128];
	FILE *f;
	size_t cap = 0;
	int ret = 0;

	*out = NULL;
	*nr = 0;
	snprintf(fn, sizeof(fn), "/proc/%d/maps", pid);
	f = fopen(fn, "re");
	if (!f)
		return errno == ENOENT ? -ESRCH : -errno;
	while (fgets(line, sizeof(line), f)) {
		struct mapping m;
		int pathpos = 0;

		if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %*s %" SCNx64 " %*s %*s %n", &m.start,
			   &m.end, &m.pgoff, &pathpos) < 3 ||
		    !pathpos || line[pathpos] != '/')
			continue;
		snprintf(m.path, sizeof(m.path), "%s", line + pathpos);
		m.path[strcspn(m.path, "\n")] = 0;
		if (PP_GROW(*out, cap, *nr + 1)) {
			ret = -ENOMEM;
			break;
		}
		(*out)[(*nr)++] = m;
	}
	fclose(f);
	if (ret) {
		free(*out);
		*out = NULL;
		*nr = 0;
	}
	return ret;
}

enum {
	S_RUNTIME,
	S_CODE_TYPE,
	S_UNICODE_TYPE,
	S_BYTES_TYPE,
	S_FRAME_TYPE,
	S_VERSION,
	S_REFTOTAL,
	S_NEGREF,
	S_INCREFTOTAL,
	S_NR
};
static const char *const sym_names[S_NR] = {
    "_PyRuntime", "PyCode_Type",  "PyUnicode_Type",	  "PyBytes_Type",	    "PyFrame_Type",
    "Py_Version", "_Py_RefTotal", "_Py_NegativeRefcount", "_Py_INCREF_IncRefTotal",
};

struct elf_info {
	uint64_t sym[S_NR];   /* st_value, 0 if absent */
	uint64_t load_vaddr;  /* first PT_LOAD's p_vaddr, page aligned */
	uint64_t load_offset; /* and its p_offset, page aligned */
};

static int elf_info(const char *path, struct elf_info *e)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	Elf *elf;
	Elf_Scn *scn = NULL;
	size_t phnum;
	bool have_load = false;

	memset(e, 0, sizeof(*e));
	if (fd < 0)
		return -errno;
	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF || elf_getphdrnum(elf, &phnum)) {
		if (elf)
			elf_end(elf);
		close(fd);
		return -ENOEXEC;
	}
	for (size_t i = 0; i < phnum && !have_load; i++) {
		GElf_Phdr ph;

		if (gelf_getphdr(elf, (int)i, &ph) && ph.p_type == PT_LOAD) {
			uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);

			e->load_vaddr = ph.p_vaddr & ~(page - 1);
			e->load_offset = ph.p_offset & ~(page - 1);
			have_load = true;
		}
	}
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		Elf_Data *data;

		if (!gelf_getshdr(scn, &sh) ||
		    (sh.sh_type != SHT_SYMTAB && sh.sh_type != SHT_DYNSYM))
			continue;
		data = elf_getdata(scn, NULL);
		for (size_t i = 0; data && sh.sh_entsize && i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Sym s;
			const char *n;

			if (!gelf_getsym(data, (int)i, &s) || s.st_shndx == SHN_UNDEF ||
			    !s.st_value)
				continue;
			n = elf_strptr(elf, sh.sh_link, s.st_name);
			if (!n || (n[0] != '_' && n[0] != 'P'))
				continue;
			for (int k = 0; k < S_NR; k++)
				if (!e->sym[k] && !strcmp(n, sym_names[k]))
					e->sym[k] = s.st_value;
		}
	}
	elf_end(elf);
	close(fd);
	return have_load ? 0 : -ENOEXEC;
}

/* "python3.12", "libpython3.12.so.1.0", "libpython3.8d.so": 0x030c. */
static unsigned version_from_name(const char *path)
{
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path, *p;
	unsigned major, minor;

	p = strstr(base, "python");
	if (!p || sscanf(p, "python%u.%u", &major, &minor) != 2 || major != 3 || minor > 99)
		return 0;
	return major << 8 | minor;
}

/* ----- layout ----- */

static int32_t rel(int32_t off, int32_t base)
{
	return off < 0 ? -1 : off - base;
}

/* The BPF program's configuration, from the offsets; -EOPNOTSUPP if they do not fit it. */
static int build_proc(struct pyperf_interp *ip)
{
	const struct pyperf_pyoffsets *o = &ip->off;
	struct pyperf_walk_proc *p = &ip->proc;
	const int32_t frame_fields[][2] = {
	    {o->frame_back, 8},	 {o->frame_code, 8},  {o->frame_lasti, 4},
	    {o->frame_instr, 8}, {o->frame_owner, 1}, {o->frame_is_entry, 1},
	};
	int32_t lo = INT32_MAX, hi = 0;

	for (size_t i = 0; i < ARRAY_SIZE(frame_fields); i++) {
		if (frame_fields[i][0] < 0)
			continue;
		lo = MIN(lo, frame_fields[i][0]);
		hi = MAX(hi, frame_fields[i][0] + frame_fields[i][1]);
	}
	/* 8-byte reads of the window: keep 8 bytes past the last field's start */
	hi = MAX(hi, MAX(o->frame_back, o->frame_code) + 8);
	if (lo == INT32_MAX || hi - lo > PYPERF_WALK_FRAME_WIN ||
	    o->code_ident_len > PYPERF_WALK_IDENT_WIN || o->code_ident_len < 8 ||
	    o->code_ident_len % 8)
		return -EOPNOTSUPP;
	memset(p, 0, sizeof(*p));
	p->runtime = ip->runtime;
	p->max_frames = PYPERF_WALK_MAX_FRAMES;
	p->tid_mode = o->tstate_native_tid >= 0 ? PYPERF_WALK_TID_NATIVE : PYPERF_WALK_TID_FSBASE;
	p->owner_cstack = (int8_t)o->owner_cstack;
	p->lasti_scale = (uint8_t)(o->frame_lasti >= 0 ? o->lasti_scale : 0);
	p->gil_locked_size = (uint8_t)o->gil_locked_size;
	p->runtime_interp_head = o->runtime_interp_head;
	p->interp_next = o->interp_next;
	p->interp_tstate_head = o->interp_tstate_head;
	p->runtime_gil = o->runtime_gil;
	p->interp_gil_ptr = o->interp_gil_ptr;
	p->gil_locked = o->gil_locked;
	p->gil_holder = o->gil_holder;
	p->tstate_next = o->tstate_next;
	p->tstate_interp = o->tstate_interp;
	p->tstate_tid =
	    p->tid_mode == PYPERF_WALK_TID_NATIVE ? o->tstate_native_tid : o->tstate_thread_id;
	p->tstate_frame = o->tstate_frame;
	p->cframe_current_frame = o->cframe_current_frame;
	p->frame_win_off = lo;
	p->frame_win_len = hi - lo;
	p->frame_back = rel(o->frame_back, lo);
	p->frame_code = rel(o->frame_code, lo);
	p->frame_lasti = rel(o->frame_lasti, lo);
	p->frame_instr = rel(o->frame_instr, lo);
	p->frame_owner = rel(o->frame_owner, lo);
	p->frame_is_entry = rel(o->frame_is_entry, lo);
	p->code_adaptive = o->code_adaptive;
	p->code_ident = o->code_ident;
	p->code_ident_len = o->code_ident_len;
	lo = MIN(p->tstate_tid, MIN(o->tstate_interp, o->tstate_frame));
	hi = MAX(p->tstate_tid, MAX(o->tstate_interp, o->tstate_frame)) + 8;
	if (lo < 0 || hi - lo > PYPERF_WALK_TSTATE_WIN)
		return -EOPNOTSUPP;
	p->tstate_win_off = lo;
	p->tstate_win_len = hi - lo;
	p->tstate_w_tid = p->tstate_tid - lo;
	p->tstate_w_interp = o->tstate_interp - lo;
	p->tstate_w_frame = o->tstate_frame - lo;
	lo = MIN(o->gil_locked, o->gil_holder);
	hi = MAX(o->gil_locked + o->gil_locked_size, o->gil_holder + 8);
	if (lo < 0 || hi - lo > PYPERF_WALK_GIL_WIN)
		return -EOPNOTSUPP;
	p->gil_win_off = lo;
	p->gil_win_len = hi - lo;
	p->gil_w_locked = o->gil_locked - lo;
	p->gil_w_holder = o->gil_holder - lo;
	return 0;
}

/* ----- reading frames from user space ----- */

static uint8_t gil_held(struct pyperf_interp *ip, uint64_t interp, uint64_t tstate)
{
	const struct pyperf_walk_proc *p = &ip->proc;
	uint64_t gil = 0, holder;
	uint32_t locked = 0;

	if (p->runtime_gil >= 0)
		gil = ip->runtime + (uint64_t)p->runtime_gil;
	else if (read_u64(ip, interp, p->interp_gil_ptr, &gil))
		return PYPERF_WALK_GIL_UNKNOWN;
	if (!gil || p->gil_locked < 0 ||
	    pyperf_interp_read(ip, gil + (uint64_t)p->gil_locked, &locked, sizeof(locked)) ||
	    read_u64(ip, gil, p->gil_holder, &holder))
		return PYPERF_WALK_GIL_UNKNOWN;
	if (p->gil_locked_size == 1)
		locked &= 0xff;
	return locked && holder == tstate ? PYPERF_WALK_GIL_YES : PYPERF_WALK_GIL_NO;
}

/*
 * The frames of one thread state, as interp_walk.bpf.c reads them (the
 * same configuration, the same rules): a check of that configuration and
 * a snapshot for tools.
 */
static int thread_frames(struct pyperf_interp *ip, uint64_t tstate, struct pyperf_pyframe *out,
			 unsigned max, unsigned *nr, bool *truncated)
{
	const struct pyperf_walk_proc *p = &ip->proc;
	uint64_t cur;
	uint8_t win[PYPERF_WALK_FRAME_WIN];
	unsigned n = 0;
	int ret;

	*truncated = false;
	if ((ret = read_u64(ip, tstate, p->tstate_frame, &cur)))
		return ret;
	if (p->cframe_current_frame >= 0 && cur &&
	    (ret = read_u64(ip, cur, p->cframe_current_frame, &cur)))
		return ret;
	while (cur) {
		uint64_t code, back, ident[PYPERF_WALK_IDENT_WIN / 8];
		int64_t lasti;
		uint32_t flags = 0;

		if (n >= max) {
			*truncated = true;
			break;
		}
		if ((ret = pyperf_interp_read(ip, cur + (uint64_t)p->frame_win_off, win,
					      (size_t)p->frame_win_len)))
			return ret;
		back = load_u64(win + p->frame_back);
		if (back == cur)
			return -ELOOP;
		cur = back;
		if (p->owner_cstack >= 0 && win[p->frame_owner] == (uint8_t)p->owner_cstack) {
			if (n)
				out[n - 1].flags |= PYPERF_PYFRAME_ENTRY;
			continue;
		}
		code = load_u64(win + p->frame_code);
		if (p->lasti_scale)
			lasti = (int64_t)(int32_t)load_u32(win + p->frame_lasti) * p->lasti_scale;
		else
			lasti = (int64_t)(load_u64(win + p->frame_instr) - code -
					  (uint64_t)p->code_adaptive);
		if (lasti < -2)
			lasti = -2;
		if (p->lasti_scale || (p->frame_is_entry >= 0 && win[p->frame_is_entry]))
			flags |= PYPERF_PYFRAME_ENTRY;
		out[n] = (struct pyperf_pyframe){
		    .code = code,
		    .lasti = (int32_t)MIN(lasti, (int64_t)PYPERF_WALK_LOC_OFFSET - 2),
		    .flags = flags};
		if (pyperf_interp_read(ip, code + (uint64_t)p->code_ident, ident,
				       (size_t)p->code_ident_len))
			out[n].flags |= PYPERF_PYFRAME_NO_IDENT;
		else
			out[n].ident = pyperf_walk_ident(ident, (unsigned)p->code_ident_len / 8);
		n++;
	}
	*nr = n;
	return 0;
}

#define MAX_THREADS 4096

PYPERF_API int pyperf_interp__for_each_thread(struct pyperf_interp *ip, unsigned int max_frames,
					      int (*fn)(const struct pyperf_pythread *t, void *ctx),
					      void *ctx)
{
	const struct pyperf_walk_proc *p;
	struct pyperf_pyframe *frames;
	uint64_t interp;
	int ret, count = 0;

	if (!ip || !fn)
		return pyperf_err(-EINVAL);
	p = &ip->proc;
	if (!max_frames)
		max_frames = PYPERF_WALK_MAX_FRAMES;
	frames = pp_calloc(max_frames, sizeof(*frames));
	if (!frames)
		return pyperf_err(-ENOMEM);
	ret = read_u64(ip, ip->runtime, p->runtime_interp_head, &interp);
	for (int ni = 0; !ret && interp && ni < PYPERF_WALK_MAX_INTERPS; ni++) {
		uint64_t ts;

		ret = read_u64(ip, interp, p->interp_tstate_head, &ts);
		while (!ret && ts && count < MAX_THREADS) {
			struct pyperf_pythread t = {.tstate = ts, .frames = frames};
			uint64_t native = 0;

			read_u64(ip, ts, ip->off.tstate_thread_id, &t.thread_id);
			if (!read_u64(ip, ts, ip->off.tstate_native_tid, &native))
				t.native_tid = (int)native;
			t.holds_gil = gil_held(ip, interp, ts) == PYPERF_WALK_GIL_YES;
			ret = thread_frames(ip, ts, frames, max_frames, &t.nr, &t.truncated);
			if (ret)
				break;
			count++;
			ret = fn(&t, ctx);
			if (ret)
				goto out;
			ret = read_u64(ip, ts, p->tstate_next, &ts);
		}
		if (!ret)
			ret = read_u64(ip, interp, p->interp_next, &interp);
	}
	if (!ret)
		ret = count;
out:
	free(frames);
	return pyperf_err(ret);
}

/* ----- opening ----- */

/* Every frame's code object must be a code object: otherwise the layout lies. */
static int check_frames_cb(const struct pyperf_pythread *t, void *ctx)
{
	struct pyperf_interp *ip = ctx;

	for (unsigned i = 0; i < t->nr; i++) {
		uint64_t type;

		if (read_u64(ip, t->frames[i].code, ip->off.ob_type, &type) ||
		    type != ip->code_type)
			return -EBADMSG;
	}
	return 0;
}

static int check_layout(struct pyperf_interp *ip, struct pyperf_error *err)
{
	const struct pyperf_pyoffsets *o = &ip->off;
	uint64_t basic, interp, v, ts;
	int64_t want;
	int ret;

	/* PyCode_Type's size is the code object's (3.11+: up to its bytecode) */
	if ((ret = read_u64(ip, ip->code_type, o->type_basicsize, &basic)))
		return ret;
	want = o->code_adaptive >= 0 ? o->code_adaptive : o->code_basicsize;
	if ((int64_t)basic != want)
		return pyperf_error_set(
		    err, -EBADMSG, PYPERF_NO_OFFSET, ip->path,
		    "PyCode_Type.tp_basicsize is %" PRIu64 ", the layout (%s) says %" PRId64
		    ": a build laid out otherwise (debug build?); use perf maps",
		    basic, o->builds, want);
	if ((ret = read_u64(ip, ip->runtime, o->runtime_interp_head, &interp)))
		return ret;
	if (!interp)
		return pyperf_error_set(err, -EAGAIN, PYPERF_NO_OFFSET, ip->path,
					"the interpreter has not started (or has finished)");
	if (o->interp_runtime >= 0 &&
	    (read_u64(ip, interp, o->interp_runtime, &v) || v != ip->runtime))
		return pyperf_error_set(err, -EBADMSG, PYPERF_NO_OFFSET, ip->path,
					"the interpreter state does not point back to _PyRuntime: "
					"the layout (%s) does not fit this build",
					o->builds);
	if ((ret = read_u64(ip, interp, o->interp_tstate_head, &ts)))
		return ret;
	if (ts && (read_u64(ip, ts, o->tstate_interp, &v) || v != interp))
		return pyperf_error_set(err, -EBADMSG, PYPERF_NO_OFFSET, ip->path,
					"the thread state does not point back to its interpreter: "
					"the layout (%s) does not fit this build",
					o->builds);
	/* Frames change while we read them: a bad read is retried before it counts. */
	for (int attempt = 0;; attempt++) {
		ret = pyperf_interp__for_each_thread(ip, 256, check_frames_cb, ip);
		if (ret >= 0)
			return 0;
		if (ret == -ESRCH || attempt == 4)
			break;
		nanosleep(&(struct timespec){0, 2000000}, NULL);
	}
	if (ret == -ESRCH)
		return ret;
	return pyperf_error_set(err, -EBADMSG, PYPERF_NO_OFFSET, ip->path,
				"frames read with the layout (%s) are not code objects: "
				"a build laid out otherwise; use perf maps",
				o->builds);
}

/* Finds the file with _PyRuntime in @pid's maps and reads what opening needs. */
static int locate(struct pyperf_interp *ip, struct pyperf_error *err)
{
	struct mapping *maps;
	size_t nr;
	int ret;
	struct elf_info e;
	char exe[PATH_MAX] = "", fn[64];
	bool found = false;
	ssize_t n;

	ret = read_maps(ip->pid, &maps, &nr);
	if (ret)
		return ret;
	snprintf(fn, sizeof(fn), "/proc/%d/exe", ip->pid);
	n = readlink(fn, exe, sizeof(exe) - 1);
	exe[n > 0 ? n : 0] = 0;
	/* The executable first (static builds), then any libpython. */
	for (int pass = 0; pass < 2 && !found; pass++) {
		for (size_t i = 0; i < nr && !found; i++) {
			const char *base = strrchr(maps[i].path, '/') + 1;
			char file[PATH_MAX + 64];

			if (pass == 0 ? strcmp(maps[i].path, exe) : strncmp(base, "libpython3", 10))
				continue;
			/* map_files reaches the very file mapped (deleted, or in
			 * another mount namespace); the path is for messages */
			snprintf(file, sizeof(file), "/proc/%d/map_files/%" PRIx64 "-%" PRIx64,
				 ip->pid, maps[i].start, maps[i].end);
			if (elf_info(file, &e)) {
				snprintf(file, sizeof(file), "/proc/%d/root%s", ip->pid,
					 maps[i].path);
				if (elf_info(file, &e))
					continue;
			}
			if (!e.sym[S_RUNTIME])
				continue;
			/* the load address: the mapping of the first segment's page */
			for (size_t k = 0; k < nr; k++)
				if (!strcmp(maps[k].path, maps[i].path) &&
				    maps[k].pgoff == e.load_offset) {
					ip->bias = maps[k].start - e.load_vaddr;
					found = true;
					break;
				}
			if (found) {
				snprintf(ip->path, sizeof(ip->path), "%s", maps[i].path);
				ip->build_id_size = pyperf_read_build_id(file, ip->build_id);
				if (ip->build_id_size < 0)
					ip->build_id_size = 0;
			}
		}
	}
	free(maps);
	if (!found)
		return pyperf_error_set(
		    err, -ENOENT, PYPERF_NO_OFFSET, "pid",
		    "process %d runs no CPython (no _PyRuntime in its executable "
		    "or a libpython)",
		    ip->pid);
	ip->runtime = ip->bias + e.sym[S_RUNTIME];
	ip->code_type = e.sym[S_CODE_TYPE] ? ip->bias + e.sym[S_CODE_TYPE] : 0;
	ip->unicode_type = e.sym[S_UNICODE_TYPE] ? ip->bias + e.sym[S_UNICODE_TYPE] : 0;
	ip->bytes_type = e.sym[S_BYTES_TYPE] ? ip->bias + e.sym[S_BYTES_TYPE] : 0;
	if (e.sym[S_VERSION]) {
		uint32_t hex;

		if ((ret = pyperf_interp_read(ip, ip->bias + e.sym[S_VERSION], &hex, sizeof(hex))))
			return ret;
		ip->version = hex >> 16;
	} else {
		ip->version = version_from_name(ip->path);
	}
	if (!ip->version)
		return pyperf_error_set(err, -EOPNOTSUPP, PYPERF_NO_OFFSET, ip->path,
					"cannot tell which CPython version this is (no Py_Version, "
					"no version in the name); use perf maps");
	if (e.sym[S_REFTOTAL] || e.sym[S_NEGREF] || e.sym[S_INCREFTOTAL])
		return pyperf_error_set(
		    err, -EOPNOTSUPP, PYPERF_NO_OFFSET, ip->path,
		    "CPython %u.%u debug build: its objects are laid out otherwise "
		    "than release builds; use perf maps",
		    ip->version >> 8, ip->version & 0xff);
	if (!ip->code_type || !ip->unicode_type || !ip->bytes_type)
		return pyperf_error_set(
		    err, -EOPNOTSUPP, PYPERF_NO_OFFSET, ip->path,
		    "no PyCode_Type/PyUnicode_Type/PyBytes_Type symbol; use perf maps");
	return 0;
}

static int load_layout(struct pyperf_interp *ip, struct pyperf_error *err)
{
	const struct pyperf_pyoffsets *t = pyperf_pyoffsets_find((uint32_t)ip->version << 16);
	int ret;

	if (ip->version == 0x030d) {
		uint8_t raw[PYPERF_DEBUG_OFFSETS_SIZE];
		char why[160];

		if ((ret = pyperf_interp_read(ip, ip->runtime, raw, sizeof(raw))))
			return ret;
		ret = pyperf_pyoffsets_from_debug(raw, sizeof(raw), &ip->off, why, sizeof(why));
		if (ret)
			return pyperf_error_set(err, ret, PYPERF_NO_OFFSET, ip->path,
						"CPython 3.13: %s; use perf maps", why);
	} else if (t) {
		ip->off = *t;
	} else {
		return pyperf_error_set(err, -EOPNOTSUPP, PYPERF_NO_OFFSET, ip->path,
					"CPython %u.%u: no frame layout known for this version "
					"(3.8-3.13 are); use perf maps",
					ip->version >> 8, ip->version & 0xff);
	}
	ip->lines = pyperf_pylines_format_of((uint32_t)ip->version << 16);
	if (build_proc(ip))
		return pyperf_error_set(
		    err, -EOPNOTSUPP, PYPERF_NO_OFFSET, ip->path,
		    "CPython %u.%u: the frame layout does not fit the BPF reader", ip->version >> 8,
		    ip->version & 0xff);
	return 0;
}

static int open_once(struct pyperf_interp *ip, struct pyperf_error *err)
{
	int ret;

	ip->gone = false;
	if ((ret = locate(ip, err)) || (ret = load_layout(ip, err)) ||
	    (ret = check_layout(ip, err)))
		return ret;
	return 0;
}

PYPERF_API struct pyperf_interp *
pyperf_interp__open(int pid, const struct pyperf_interp_open_opts *opts, struct pyperf_error *err)
{
	struct pyperf_interp *ip;
	unsigned wait_ms;
	struct timespec t0, now;
	int ret;

	if (!OPTS_VALID(opts, pyperf_interp_open_opts) || pid <= 0) {
		pyperf_error_set(err, -EINVAL, PYPERF_NO_OFFSET, "pyperf_interp__open",
				 "bad pid or options");
		return pyperf_err_ptr(-EINVAL);
	}
	wait_ms = OPTS_GET(opts, wait_ms, 0);
	ip = pp_calloc(1, sizeof(*ip));
	if (!ip)
		return pyperf_err_ptr(-ENOMEM);
	ip->pid = pid;
	pp_strtab_init(&ip->strings);
	pp_arena_init(&ip->arena, 64 * 1024);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		if (err)
			memset(err, 0, sizeof(*err));
		ret = open_once(ip, err);
		if (!ret)
			return ip;
		/*
		 * A program just launched: not Python yet (ENOENT), libpython
		 * mapped but the dynamic loader still placing its segments (the
		 * data reads as other bytes of the file: EBADMSG, EFAULT), or
		 * the interpreter not initialised (EAGAIN). Anything else is
		 * final, and so is every error once the interpreter has run.
		 */
		if (ret != -ENOENT && ret != -EAGAIN && ret != -EBADMSG && ret != -EFAULT)
			break;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if ((now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000 >=
		    wait_ms)
			break;
		nanosleep(&(struct timespec){0, 5000000}, NULL);
	}
	if (err && !err->code) {
		if (ret == -ESRCH)
			pyperf_error_set(err, ret, PYPERF_NO_OFFSET, "pid", "process %d is gone",
					 pid);
		else if (ret == -EPERM || ret == -EACCES)
			pyperf_error_set(err, ret, PYPERF_NO_OFFSET, "pid",
					 "cannot read the memory of process %d (%s): run as its "
					 "user or with CAP_SYS_PTRACE",
					 pid, strerror(-ret));
		else
			pyperf_error_set(err, ret, PYPERF_NO_OFFSET, "pid",
					 "reading process %d failed: %s", pid, strerror(-ret));
	}
	pyperf_interp__close(ip);
	return pyperf_err_ptr(ret);
}

PYPERF_API void pyperf_interp__close(struct pyperf_interp *ip)
{
	if (!ip)
		return;
	pyperf_interp_codes_free(ip);
	pp_strtab_free(&ip->strings);
	pp_arena_free(&ip->arena);
	free(ip);
}

PYPERF_API int pyperf_interp__pid(const struct pyperf_interp *ip)
{
	return ip->pid;
}

PYPERF_API unsigned int pyperf_interp__version(const struct pyperf_interp *ip)
{
	return ip->version;
}

PYPERF_API const char *pyperf_interp__path(const struct pyperf_interp *ip)
{
	return ip->path;
}

PYPERF_API int pyperf_interp__build_id(const struct pyperf_interp *ip, uint8_t out[20])
{
	if (!ip->build_id_size)
		return pyperf_err(-ENODATA);
	memcpy(out, ip->build_id, 20);
	return ip->build_id_size;
}

PYPERF_API const char *pyperf_interp__layout(const struct pyperf_interp *ip)
{
	return ip->off.builds;
}

PYPERF_API void pyperf_interp__stats(const struct pyperf_interp *ip,
				     struct pyperf_interp_stats *out)
{
	*out = ip->stats;
}
