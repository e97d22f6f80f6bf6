// SPDX-License-Identifier: MIT
/*
 * The tracing-data container of perf.data and sched_switch decoding.
 *
 * Layout of the container (perf's util/trace-event-info.c writes it):
 *	"\027\010\104tracing" version'\0' big_endian:u8 long_size:u8 page_size:u32
 *	"header_page\0" size:u64 bytes   "header_event\0" size:u64 bytes
 *	nr_ftrace:u32 { size:u64 bytes }
 *	nr_systems:u32 { system'\0' nr:u32 { size:u64 format } }
 *	kallsyms size:u32 bytes   printk size:u32 bytes   [>= 0.6: cmdlines size:u64 bytes]
 * Numbers are in the byte order the file declares; only native files are
 * read (perf.data of the other order is refused earlier anyway).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <api/fs/fs.h>
#include <traceevent/event-parse.h>
#include "internal.h"
#include "tracing.h"

#define MAX_STATES 32

struct tp_formats {
	struct tep_handle *tep;
	struct trace_seq seq;
	/* sched_switch, found once */
	struct tep_event *sw;
	struct tep_format_field *prev_pid, *prev_state, *next_pid;
	/* prev_state value -> the letters the kernel's format prints */
	struct {
		unsigned long long value;
		char text[8];
	} states[MAX_STATES];
	size_t nr_states;
	bool damaged; /* sched_switch's format was refused */
};

struct cursor {
	const uint8_t *p, *end;
	bool bad;
};

static const uint8_t *take(struct cursor *c, uint64_t n)
{
	const uint8_t *at = c->p;

	if (c->bad || (uint64_t)(c->end - c->p) < n) {
		c->bad = true;
		return NULL;
	}
	c->p += n;
	return at;
}

static uint64_t take_u32(struct cursor *c)
{
	const uint8_t *at = take(c, 4);
	uint32_t v = 0;

	if (at)
		memcpy(&v, at, 4);
	return v;
}

static uint64_t take_u64(struct cursor *c)
{
	const uint8_t *at = take(c, 8);
	uint64_t v = 0;

	if (at)
		memcpy(&v, at, 8);
	return v;
}

static const char *take_string(struct cursor *c)
{
	const uint8_t *nul = c->bad ? NULL : memchr(c->p, 0, (size_t)(c->end - c->p));
	const char *s = (const char *)c->p;

	if (!nul) {
		c->bad = true;
		return NULL;
	}
	c->p = nul + 1;
	return s;
}

static bool take_tag(struct cursor *c, const char *tag)
{
	const uint8_t *at = take(c, strlen(tag) + 1);

	return at && !memcmp(at, tag, strlen(tag) + 1);
}

void tp_formats_free(struct tp_formats *f)
{
	if (!f)
		return;
	trace_seq_destroy(&f->seq);
	if (f->tep)
		tep_free(f->tep);
	free(f);
}

static void find_sched_switch(struct tp_formats *f)
{
	f->sw = tep_find_event_by_name(f->tep, "sched", "sched_switch");
	if (!f->sw)
		return;
	f->prev_pid = tep_find_field(f->sw, "prev_pid");
	f->prev_state = tep_find_field(f->sw, "prev_state");
	f->next_pid = tep_find_field(f->sw, "next_pid");
	if (!f->prev_pid || !f->prev_state || !f->next_pid)
		f->sw = NULL;
}

/* ---- checking a format before libtraceevent reads it ----------------------------- */

static bool ident_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool ident_char(char c)
{
	return ident_start(c) || (c >= '0' && c <= '9');
}

#define MAX_FIELDS 64

struct fmt_check {
	const char *p, *end;
	const char *field[MAX_FIELDS];
	size_t field_len[MAX_FIELDS];
	size_t nr_fields;
};

static bool field_declared(const struct fmt_check *k, const char *name, size_t n)
{
	for (size_t i = 0; i < k->nr_fields; i++)
		if (k->field_len[i] == n && !memcmp(k->field[i], name, n))
			return true;
	return false;
}

/* Whether [@p, @e) is a C type of words libtraceevent knows (a damaged
 * one made it leak): scalars, pid_t-like names, pointers, __data_loc. */
static bool type_words(const char *p, const char *e)
{
	static const char *const words[] = {
	    "unsigned", "signed", "char",     "short", "int",	     "long",	 "bool",
	    "_Bool",	"const",  "volatile", "u8",    "u16",	     "u32",	 "u64",
	    "s8",	"s16",	  "s32",      "s64",   "__data_loc", "__rel_loc"};
	bool any = false;

	while (p < e) {
		const char *w = p;
		size_t n;
		bool known = false;

		if (*p == ' ' || *p == '*' || *p == '[' || *p == ']') {
			p++;
			continue;
		}
		while (p < e && ident_char(*p))
			p++;
		n = (size_t)(p - w);
		if (!n || !ident_start(*w))
			return false;
		for (size_t i = 0; i < ARRAY_SIZE(words) && !known; i++)
			known = strlen(words[i]) == n && !memcmp(w, words[i], n);
		known = known || (n > 2 && !memcmp(w + n - 2, "_t", 2)) ||
			(n > 3 && (!memcmp(w, "__u", 3) || !memcmp(w, "__s", 3)));
		if (!known)
			return false;
		any = true;
	}
	return any;
}

/* "\tfield:TYPE NAME[N];\toffset:N;\tsize:N;\tsigned:N;": remembers NAME. */
static bool check_field_line(struct fmt_check *k, const char *l, const char *e)
{
	const char *semi = memchr(l, ';', (size_t)(e - l)), *n;
	static const char *const keys[] = {"offset:", "size:", "signed:"};
	const char *q;

	if (!semi || k->nr_fields == MAX_FIELDS)
		return false;
	q = semi;
	if (q > l && q[-1] == ']') { /* an array: NAME[N] */
		while (q > l && q[-1] != '[')
			q--;
		if (q == l)
			return false;
		q--;
	}
	for (n = q; n > l && ident_char(n[-1]); n--)
		;
	if (n == q || !ident_start(*n) || !type_words(l, n))
		return false;
	k->field[k->nr_fields] = n;
	k->field_len[k->nr_fields++] = (size_t)(q - n);
	q = semi + 1;
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		size_t kl = strlen(keys[i]);

		while (q < e && (*q == ' ' || *q == '\t'))
			q++;
		if ((size_t)(e - q) < kl || memcmp(q, keys[i], kl))
			return false;
		q += kl;
		if (q < e && *q == '-')
			q++;
		if (q >= e || *q < '0' || *q > '9')
			return false;
		while (q < e && *q >= '0' && *q <= '9')
			q++;
		if (q >= e || *q++ != ';')
			return false;
	}
	return true;
}

/*
 * The print format's arguments: string and number literals, operators,
 * balanced brackets, helpers (__print_flags...) and REC->FIELD for
 * declared fields only.
 */
static bool check_print_args(const struct fmt_check *k, const char *p, const char *e)
{
	char stack[64];
	size_t depth = 0;

	while (p < e) {
		char c = *p;

		if (c == ' ' || c == '\t' || c == '\n') {
			p++;
		} else if (c == '"') {
			for (p++; p < e && *p != '"'; p++)
				if (*p == '\\' && p + 1 < e)
					p++;
			if (p >= e)
				return false;
			p++;
		} else if (c >= '0' && c <= '9') {
			while (p < e && (ident_char(*p)))
				p++; /* 123, 0x1f, 1UL */
		} else if (ident_start(c)) {
			const char *w = p;

			while (p < e && ident_char(*p))
				p++;
			if ((size_t)(p - w) == 3 && !memcmp(w, "REC", 3)) {
				const char *f;

				if (e - p < 3 || p[0] != '-' || p[1] != '>' || !ident_start(p[2]))
					return false;
				for (f = p += 2; p < e && ident_char(*p); p++)
					;
				if (!field_declared(k, f, (size_t)(p - f)))
					return false;
			} else if (!((p - w) > 8 && !memcmp(w, "__print_", 8)) &&
				   !((p - w) > 6 && !memcmp(w, "__get_", 6)) &&
				   !((size_t)(p - w) == 6 && !memcmp(w, "sizeof", 6))) {
				return false;
			}
		} else if (c == '(' || c == '[' || c == '{') {
			if (depth == sizeof(stack))
				return false;
			stack[depth++] = c == '(' ? ')' : c == '[' ? ']' : '}';
			p++;
		} else if (c == ')' || c == ']' || c == '}') {
			if (!depth || stack[--depth] != c)
				return false;
			p++;
		} else if (strchr(",|&^~!?:+-*/%<>=.", c)) {
			p++;
		} else {
			return false;
		}
	}
	return !depth;
}

/*
 * Whether a format is one libtraceevent can be given: "name:", "ID:",
 * "format:", field lines, then "print fmt:" with a quoted format and
 * checked arguments. libtraceevent trusts what it parses: a print format
 * naming a field the format does not declare (one byte changed) makes it
 * follow a NULL field, and perf crashes on such files as well.
 */
static bool format_is_sane(const char *text, size_t len)
{
	struct fmt_check k = {text, text + len, {0}, {0}, 0};
	const char *p = text, *end = text + len, *fmt = NULL;

	unsigned line = 0;

	if (memchr(text, 0, len))
		return false;
	for (; p < end; line++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p)), *le = nl ? nl : end;
		const char *q;

		if (line == 0) { /* name: NAME */
			if (le - p < 7 || memcmp(p, "name: ", 6))
				return false;
		} else if (line == 1) { /* ID: digits */
			if (le - p < 5 || memcmp(p, "ID: ", 4))
				return false;
			for (q = p + 4; q < le; q++)
				if (*q < '0' || *q > '9')
					return false;
		} else if (line == 2) {
			if (le - p != 7 || memcmp(p, "format:", 7))
				return false;
		} else if (le - p >= 7 && !memcmp(p, "\tfield:", 7)) {
			if (!check_field_line(&k, p + 7, le))
				return false;
		} else if (le - p >= 10 && !memcmp(p, "print fmt:", 10)) {
			fmt = p + 10;
			break; /* it runs to the end */
		} else if (le > p) {
			return false;
		}
		p = nl ? nl + 1 : end;
	}
	if (!fmt || !k.nr_fields)
		return false;
	while (fmt < end && *fmt == ' ')
		fmt++;
	if (fmt >= end || *fmt != '"')
		return false;
	return check_print_args(&k, fmt, end);
}

/* Whether the format text is that of @name ("name: sched_switch\n"). */
static bool format_named(const char *text, size_t len, const char *name)
{
	size_t n = strlen(name);

	return len > 6 + n && !memcmp(text, "name: ", 6) && !memcmp(text + 6, name, n) &&
	       text[6 + n] == '\n';
}

struct tp_formats *tp_formats_parse(const void *buf, size_t size, const char *source,
				    struct pyperf_error *err)
{
	static const uint8_t magic[10] = {23, 8, 68, 't', 'r', 'a', 'c', 'i', 'n', 'g'};
	struct cursor c = {buf, (const uint8_t *)buf + size, false};
	struct tp_formats *f;
	const uint8_t *b;
	uint64_t n, len;
	const char *what = "header";

	if (size < sizeof(magic) || memcmp(buf, magic, sizeof(magic))) {
		pyperf_error_set(err, -EBADMSG, PYPERF_NO_OFFSET, source,
				 "tracing data: no 'tracing' signature; tracepoint records "
				 "cannot be decoded");
		return NULL;
	}
	c.p += sizeof(magic);
	f = pp_calloc(1, sizeof(*f));
	if (!f || !(f->tep = tep_alloc())) {
		free(f);
		pyperf_error_set(err, -ENOMEM, PYPERF_NO_OFFSET, source, "out of memory");
		return NULL;
	}
	trace_seq_init(&f->seq);
	take_string(&c); /* version */
	b = take(&c, 2);
	if (b && b[0] != (__BYTE_ORDER__ == __ORDER_BIG_ENDIAN__)) {
		pyperf_error_set(err, -EOPNOTSUPP, PYPERF_NO_OFFSET, source,
				 "tracing data of the other byte order is not supported");
		tp_formats_free(f);
		return NULL;
	}
	if (b) {
		tep_set_long_size(f->tep, b[1]);
		tep_set_file_bigendian(f->tep, (enum tep_endian)b[0]);
		tep_set_local_bigendian(f->tep, (enum tep_endian)b[0]);
	}
	tep_set_page_size(f->tep, (int)take_u32(&c));
	what = "header_page";
	if (!take_tag(&c, "header_page"))
		goto bad;
	len = take_u64(&c);
	b = take(&c, len);
	if (b)
		tep_parse_header_page(f->tep, (char *)b, len, tep_get_long_size(f->tep));
	what = "header_event";
	if (!take_tag(&c, "header_event"))
		goto bad;
	take(&c, take_u64(&c));
	what = "ftrace formats";
	n = take_u32(&c);
	for (uint64_t i = 0; i < n && !c.bad; i++)
		take(&c, take_u64(&c));
	what = "event formats";
	n = take_u32(&c);
	for (uint64_t i = 0; i < n && !c.bad; i++) {
		const char *sys = take_string(&c);
		uint64_t count = take_u32(&c);

		for (uint64_t j = 0; j < count && !c.bad; j++) {
			len = take_u64(&c);
			b = take(&c, len);
			/* Only sched_switch is decoded, so only its format is
			 * parsed, and only when it checks out: a damaged one
			 * leaves switches undecodable, the rest of the report
			 * whole. */
			if (!b || !sys || strcmp(sys, "sched") ||
			    !format_named((const char *)b, len, "sched_switch"))
				continue;
			if (format_is_sane((const char *)b, len))
				tep_parse_event(f->tep, (const char *)b, len, sys);
			else
				f->damaged = true;
		}
	}
	/* kallsyms, printk formats and saved cmdlines follow; not needed. */
	if (c.bad)
		goto bad;
	find_sched_switch(f);
	return f;
bad:
	pyperf_error_set(err, -EBADMSG, PYPERF_NO_OFFSET, source,
			 "tracing data: truncated or malformed %s at byte %zu of %zu", what,
			 (size_t)(c.p - (const uint8_t *)buf), size);
	tp_formats_free(f);
	return NULL;
}

bool tp_formats_damaged(const struct tp_formats *f)
{
	return f && f->damaged;
}

bool tp_formats_is_sched_switch(struct tp_formats *f, uint64_t id)
{
	return f && f->sw && (uint64_t)f->sw->id == id;
}

/* The letters the kernel's print format gives @value ("S", "D", "R+"...),
 * worked out by libtraceevent once per distinct value. */
static const char *state_text(struct tp_formats *f, const void *raw, size_t size,
			      unsigned long long value)
{
	struct tep_record rec = {0};
	const char *p, *e;
	size_t i, n;

	for (i = 0; i < f->nr_states; i++)
		if (f->states[i].value == value)
			return f->states[i].text;
	if (f->nr_states == MAX_STATES)
		return "?";
	rec.data = (void *)raw;
	rec.size = (int)size;
	trace_seq_reset(&f->seq);
	tep_print_event(f->tep, &f->seq, &rec, "%s", TEP_PRINT_INFO);
	trace_seq_terminate(&f->seq);
	p = f->seq.buffer ? strstr(f->seq.buffer, "prev_state=") : NULL;
	i = f->nr_states++;
	f->states[i].value = value;
	if (!p) {
		snprintf(f->states[i].text, sizeof(f->states[i].text), "%llx", value);
	} else {
		p += strlen("prev_state=");
		e = p + strcspn(p, " \t");
		n = (size_t)(e - p) < sizeof(f->states[i].text) ? (size_t)(e - p)
								: sizeof(f->states[i].text) - 1;
		memcpy(f->states[i].text, p, n);
		f->states[i].text[n] = 0;
	}
	return f->states[i].text;
}

int tp_formats_sched_switch(struct tp_formats *f, uint64_t id, const void *raw, size_t size,
			    struct tp_switch *out)
{
	unsigned long long prev, next, state;

	if (!tp_formats_is_sched_switch(f, id))
		return -ENOENT;
	if (size < (size_t)(f->next_pid->offset + f->next_pid->size) ||
	    size < (size_t)(f->prev_state->offset + f->prev_state->size) ||
	    size < (size_t)(f->prev_pid->offset + f->prev_pid->size))
		return -EBADMSG;
	if (tep_read_number_field(f->prev_pid, raw, &prev) ||
	    tep_read_number_field(f->next_pid, raw, &next) ||
	    tep_read_number_field(f->prev_state, raw, &state))
		return -EBADMSG;
	out->prev_pid = (int32_t)prev;
	out->next_pid = (int32_t)next;
	out->prev_state = state_text(f, raw, size, state);
	return 0;
}

/* ---- building ------------------------------------------------------------------------ */

static const char *tracefs(void)
{
	static const char *const dirs[] = {"/sys/kernel/tracing", "/sys/kernel/debug/tracing"};

	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		char p[64];

		snprintf(p, sizeof(p), "%s/events", dirs[i]);
		if (!access(p, R_OK))
			return dirs[i];
	}
	return NULL;
}

int pyperf_tracefs_mount(bool *mounted, struct pyperf_error *err)
{
	int e;

	*mounted = false;
	if (tracefs())
		return 0;
	errno = 0;
	tracefs__mount();
	e = errno;
	if (tracefs()) {
		*mounted = true;
		return 0;
	}
	if (!e || e == EBUSY)
		e = EACCES;
	return pyperf_error_set(
	    err, -e, PYPERF_NO_OFFSET, "/sys/kernel/tracing",
	    "tracefs is not mounted and could not be mounted (%s); %s, or record without --off-cpu",
	    strerror(e),
	    e == EPERM || e == EACCES ? "mount it as root ('mount -t tracefs nodev "
					"/sys/kernel/tracing') or record as root"
				      : "this kernel may lack tracefs (CONFIG_TRACING)");
}

/* Reads a tracefs file whole (their st_size is 0, so read until EOF). */
static char *read_all(const char *path, size_t *size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	char *buf = NULL;
	size_t cap = 0, len = 0;

	if (fd < 0)
		return NULL;
	for (;;) {
		ssize_t n;

		if (PP_GROW(buf, cap, len + 4097)) {
			free(buf);
			close(fd);
			errno = ENOMEM;
			return NULL;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;

			free(buf);
			close(fd);
			errno = e;
			return NULL;
		}
		if (!n)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = 0;
	*size = len;
	return buf;
}

struct out {
	uint8_t *buf;
	size_t len, cap;
	bool nomem;
};

static void put(struct out *o, const void *p, size_t n)
{
	if (o->nomem || PP_GROW(o->buf, o->cap, o->len + n)) {
		o->nomem = true;
		return;
	}
	memcpy(o->buf + o->len, p, n);
	o->len += n;
}

static void put_u32(struct out *o, uint32_t v)
{
	put(o, &v, 4);
}

static void put_u64(struct out *o, uint64_t v)
{
	put(o, &v, 8);
}

static int put_file(struct out *o, const char *path, bool size64, struct pyperf_error *err)
{
	size_t n;
	char *text = read_all(path, &n);

	if (!text)
		return pyperf_error_set(
		    err, -errno, PYPERF_NO_OFFSET, path, "cannot read: %s%s", strerror(errno),
		    errno == EACCES ? " (tracefs needs root or CAP_PERFMON)" : "");
	if (size64)
		put_u64(o, n);
	else
		put_u32(o, (uint32_t)n);
	put(o, text, n);
	free(text);
	return 0;
}

int tp_formats_build(const char *const *names, size_t n, void **buf, size_t *size, uint64_t *ids,
		     struct pyperf_error *err)
{
	static const uint8_t magic[10] = {23, 8, 68, 't', 'r', 'a', 'c', 'i', 'n', 'g'};
	const char *root = tracefs();
	struct out o = {0};
	char path[512];
	uint8_t b[2] = {__BYTE_ORDER__ == __ORDER_BIG_ENDIAN__, sizeof(long)};
	int ret;

	if (!root)
		return pyperf_error_set(err, -ENOENT, PYPERF_NO_OFFSET, "/sys/kernel/tracing",
					"tracefs is not mounted or not readable; mount it with "
					"'mount -t tracefs nodev /sys/kernel/tracing'");
	put(&o, magic, sizeof(magic));
	put(&o, "0.6", 4);
	put(&o, b, 2);
	put_u32(&o, (uint32_t)sysconf(_SC_PAGESIZE));
	put(&o, "header_page", 12);
	snprintf(path, sizeof(path), "%s/events/header_page", root);
	if ((ret = put_file(&o, path, true, err)))
		goto fail;
	put(&o, "header_event", 13);
	snprintf(path, sizeof(path), "%s/events/header_event", root);
	if ((ret = put_file(&o, path, true, err)))
		goto fail;
	put_u32(&o, 0); /* no ftrace formats */
	/* one system per tracepoint: simple, and what readers accept */
	put_u32(&o, (uint32_t)n);
	for (size_t i = 0; i < n; i++) {
		const char *slash = strchr(names[i], '/');
		char *id_text;
		size_t len;

		if (!slash) {
			ret = pyperf_error_set(err, -EINVAL, PYPERF_NO_OFFSET, names[i],
					       "not a SYSTEM/EVENT tracepoint name");
			goto fail;
		}
		put(&o, names[i], (size_t)(slash - names[i]));
		put(&o, "", 1);
		put_u32(&o, 1);
		snprintf(path, sizeof(path), "%s/events/%s/format", root, names[i]);
		if ((ret = put_file(&o, path, true, err)))
			goto fail;
		snprintf(path, sizeof(path), "%s/events/%s/id", root, names[i]);
		id_text = read_all(path, &len);
		if (!id_text) {
			ret = pyperf_error_set(err, -errno, PYPERF_NO_OFFSET, path,
					       "cannot read: %s", strerror(errno));
			goto fail;
		}
		ids[i] = strtoull(id_text, NULL, 10);
		free(id_text);
	}
	put_u32(&o, 0); /* kallsyms: none (perf reads 0 as "not present") */
	put_u32(&o, 0); /* printk formats: none */
	put_u64(&o, 0); /* saved cmdlines: none */
	if (o.nomem) {
		ret = pyperf_error_set(err, -ENOMEM, PYPERF_NO_OFFSET, NULL, "out of memory");
		goto fail;
	}
	*buf = o.buf;
	*size = o.len;
	return 0;
fail:
	free(o.buf);
	return ret;
}
