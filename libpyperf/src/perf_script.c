// SPDX-License-Identifier: MIT
/*
 * Folding `perf script` text exactly as stackcollapse-perf.pl does.
 *
 * The script is defined by three Perl regular expressions, and its output
 * by how Perl's backtracking matches them, odd lines included. Each
 * matcher below states the expression it stands for and gives the same
 * groups for every input line, in linear time (the backtracking
 * alternatives are worked out once, in the comments, rather than tried).
 *
 * Perl reads the input as bytes: \s is [ \t\n\v\f\r], \d is [0-9], \w is
 * [A-Za-z0-9_]; chomp removes one final "\n" and nothing else.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <pyperf/output.h>
#include "foldtab.h"
#include "internal.h"

struct span {
	const char *s;
	size_t n;
};

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_word(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

/* Perl's truth of a string: false when empty or "0". */
static bool truthy(struct span v)
{
	return v.s && v.n && !(v.n == 1 && v.s[0] == '0');
}

static bool span_eq(struct span a, const char *b)
{
	return a.n == strlen(b) && !memcmp(a.s, b, a.n);
}

static const char *span_find(struct span h, const char *needle)
{
	size_t n = strlen(needle);

	for (size_t i = 0; i + n <= h.n; i++)
		if (!memcmp(h.s + i, needle, n))
			return h.s + i;
	return NULL;
}

/*
 * /^(\S.+?)\s+(\d+)[/]*(\d+)*\s+/ (as the script writes it, with an
 * escaped slash for [/]): the comm is the shortest prefix of at
 * least two characters, starting with a non-space, followed by spaces,
 * digits, optionally slashes and more digits, and a space. Once the
 * spaces after a candidate end are consumed the rest is forced, so a
 * candidate inside a run of spaces fails as its run's first one did.
 */
static bool match_header(struct span l, struct span *comm, struct span *pid, struct span *tid)
{
	if (l.n < 2 || is_space(l.s[0]))
		return false;
	for (size_t e = 2; e < l.n; e++) {
		size_t i = e, d1, d2, sl;

		if (!is_space(l.s[e]) || (e > 2 && is_space(l.s[e - 1])))
			continue;
		while (i < l.n && is_space(l.s[i]))
			i++;
		for (d1 = i; i < l.n && is_digit(l.s[i]); i++)
			;
		if (i == d1)
			continue;
		*pid = (struct span){l.s + d1, i - d1};
		for (sl = i; i < l.n && l.s[i] == '/'; i++)
			;
		for (d2 = i; i < l.n && is_digit(l.s[i]); i++)
			;
		if (i >= l.n || !is_space(l.s[i]))
			continue;
		*comm = (struct span){l.s, e};
		/* (\d+)* that matched no digits leaves $3 undefined */
		*tid = i > d2 && sl < d2 ? (struct span){l.s + d2, i - d2} : (struct span){NULL, 0};
		return true;
	}
	return false;
}

/*
 * /:\s*(\d+)*\s+(\S+):\s*$/: the event is the last word, which must end
 * in ':' (dropped); before it come spaces, optionally digits (the period)
 * and optional spaces, and a ':'.
 */
static bool match_event(struct span l, struct span *period, struct span *event)
{
	size_t end = l.n, ts, ws, ds, ss;

	while (end && is_space(l.s[end - 1]))
		end--;
	if (end < 2 || l.s[end - 1] != ':')
		return false;
	for (ts = end - 1; ts && !is_space(l.s[ts - 1]); ts--)
		;
	if (ts == end - 1)
		return false;
	for (ws = ts; ws && is_space(l.s[ws - 1]); ws--)
		;
	if (ws == ts)
		return false;
	for (ds = ws; ds && is_digit(l.s[ds - 1]); ds--)
		;
	for (ss = ds; ds < ws && ss && is_space(l.s[ss - 1]); ss--)
		;
	if (!ss || l.s[ss - 1] != ':')
		return false;
	*period = ds < ws ? (struct span){l.s + ds, ws - ds} : (struct span){NULL, 0};
	*event = (struct span){l.s + ts, end - 1 - ts};
	return true;
}

/*
 * /^\s*(\w+)\s*(.+) \((.*)\)/: the module is what lies between the last
 * " (" that a later ')' closes and the line's last ')'; the function is
 * what lies between the address and that " (". When the address and the
 * spaces after it leave no character for the function, Perl gives some
 * of them back, which is what the min() below does.
 */
static bool match_frame(struct span l, struct span *pc, struct span *func, struct span *mod)
{
	size_t i0 = 0, wn, sn, close, q, s;

	while (i0 < l.n && is_space(l.s[i0]))
		i0++;
	for (wn = 0; i0 + wn < l.n && is_word(l.s[i0 + wn]); wn++)
		;
	if (!wn)
		return false;
	for (sn = 0; i0 + wn + sn < l.n && is_space(l.s[i0 + wn + sn]); sn++)
		;
	for (close = l.n; close && l.s[close - 1] != ')'; close--)
		;
	if (!close)
		return false;
	close--;
	if (close < 2)
		return false;
	for (q = close - 2;; q--) {
		if (l.s[q] == ' ' && l.s[q + 1] == '(')
			break;
		if (q == 0)
			return false;
	}
	if (q < i0 + 2)
		return false;
	s = MIN(i0 + wn + sn, q - 1);
	*pc = (struct span){l.s + i0, MIN(s, i0 + wn) - i0};
	*func = (struct span){l.s + s, q - s};
	*mod = (struct span){l.s + q + 2, close - (q + 2)};
	return true;
}

struct folder {
	struct pyperf_perf_script_opts o;
	/* the current stack: frames in the order lines gave them (leaf
	 * first), in groups (one per line) that keep their inner order */
	char *buf;
	size_t buf_len, buf_cap;
	size_t *frame_end; /* end offset of each frame in buf */
	size_t nr_frames, cap_frames;
	size_t *group_end; /* frames count at the end of each group */
	size_t nr_groups, cap_groups;
	char *pname;
	size_t pname_len, pname_cap;
	bool have_pname;
	uint64_t period;
	char *event_filter;
	size_t event_filter_len;
	/* the folded stacks */
	struct pp_foldtab stacks;
	char *line; /* joined stack being remembered */
	size_t line_cap;
	char *func; /* a frame being tidied */
	size_t func_cap;
};

static int push_bytes(char **b, size_t *len, size_t *cap, const char *s, size_t n)
{
	if (PP_GROW(*b, *cap, *len + n + 1))
		return -ENOMEM;
	memcpy(*b + *len, s, n);
	*len += n;
	return 0;
}

/* The blank line after a sample: "pname;outer;...;leaf". */
static int end_of_stack(struct folder *f)
{
	size_t len = 0, g = f->nr_groups;

	if (push_bytes(&f->line, &len, &f->line_cap, f->pname, f->pname_len))
		return -ENOMEM;
	/* groups from the last line read (the outermost) to the first */
	while (g--) {
		size_t first = g ? f->group_end[g - 1] : 0;

		for (size_t k = first; k < f->group_end[g]; k++) {
			size_t start = k ? f->frame_end[k - 1] : 0;

			if (push_bytes(&f->line, &len, &f->line_cap, ";", 1) ||
			    push_bytes(&f->line, &len, &f->line_cap, f->buf + start,
				       f->frame_end[k] - start))
				return -ENOMEM;
		}
	}
	f->nr_frames = f->nr_groups = f->buf_len = 0;
	f->have_pname = false;
	return pp_foldtab_add(&f->stacks, f->line, len, f->period);
}

/* Whether @m contains "/tmp/perf-<digits>.map". */
static bool jit_module(struct span m)
{
	for (const char *p = span_find(m, "/tmp/perf-"); p;
	     p = span_find((struct span){p + 1, (size_t)(m.s + m.n - p - 1)}, "/tmp/perf-")) {
		const char *d = p + 10, *end = m.s + m.n;

		while (d < end && is_digit(*d))
			d++;
		if (d > p + 10 && end - d >= 4 && !memcmp(d, ".map", 4))
			return true;
	}
	return false;
}

/* One element of the frame's "->" list, through the script's treatment. */
static int add_func(struct folder *f, struct span func, struct span pc, struct span mod,
		    bool inlined)
{
	size_t len = 0, cut;
	char *t;

	if (span_eq(func, "[unknown]")) {
		struct span base = {"unknown", 7};

		if (!span_eq(mod, "[unknown]")) {
			/* s/.*\///: everything up to the last '/' goes */
			const char *slash = NULL;

			for (size_t i = 0; i < mod.n; i++)
				if (mod.s[i] == '/')
					slash = mod.s + i;
			base = slash ? (struct span){slash + 1, (size_t)(mod.s + mod.n - slash - 1)}
				     : mod;
		}
		if (push_bytes(&f->func, &len, &f->func_cap, "[", 1) ||
		    push_bytes(&f->func, &len, &f->func_cap, base.s, base.n) ||
		    (f->o.addrs && (push_bytes(&f->func, &len, &f->func_cap, " <", 2) ||
				    push_bytes(&f->func, &len, &f->func_cap, pc.s, pc.n) ||
				    push_bytes(&f->func, &len, &f->func_cap, ">", 1))) ||
		    push_bytes(&f->func, &len, &f->func_cap, "]", 1))
			return -ENOMEM;
	} else if (push_bytes(&f->func, &len, &f->func_cap, func.s, func.n)) {
		return -ENOMEM;
	}
	t = f->func;
	/* tidy_generic: s/;/:/g */
	for (size_t i = 0; i < len; i++)
		if (t[i] == ';')
			t[i] = ':';
	/* unless /\.\(.*\)\./ (a Go method such as "net/http.(*Client).Do"),
	 * cut from the first '(' that does not open "(anonymous namespace)" */
	{
		const char *go = span_find((struct span){t, len}, ".(");
		bool go_like = false;

		if (go)
			go_like = span_find((struct span){go + 2, (size_t)(t + len - go - 2)},
					    ").") != NULL;
		if (!go_like) {
			for (cut = 0; cut < len; cut++)
				if (t[cut] == '(' &&
				    !(len - cut - 1 >= 20 &&
				      !memcmp(t + cut + 1, "anonymous namespace)", 20)))
					break;
			len = cut;
		}
	}
	/* tr/"'//d */
	{
		size_t w = 0;

		for (size_t i = 0; i < len; i++)
			if (t[i] != '"' && t[i] != '\'')
				t[w++] = t[i];
		len = w;
	}
	/* tidy_java, for processes named java*: "Lorg/x/Y:.m" -> "org/x/Y:.m" */
	if (f->pname_len >= 4 && !memcmp(f->pname, "java", 4) && memchr(t, '/', len) && len &&
	    t[0] == 'L') {
		memmove(t, t + 1, len - 1);
		len--;
	}
	/* annotations: one at most */
	if (inlined) {
		if (!span_find((struct span){t, len}, "_[i]") &&
		    push_bytes(&f->func, &len, &f->func_cap, "_[i]", 4))
			return -ENOMEM;
	} else if (f->o.annotate_kernel &&
		   ((mod.n && mod.s[0] == '[') ||
		    (mod.n >= 7 && !memcmp(mod.s + mod.n - 7, "vmlinux", 7))) &&
		   !span_find(mod, "unknown")) {
		if (push_bytes(&f->func, &len, &f->func_cap, "_[k]", 4))
			return -ENOMEM;
	} else if (f->o.annotate_jit && jit_module(mod)) {
		if (!span_find((struct span){f->func, len}, "_[j]") &&
		    push_bytes(&f->func, &len, &f->func_cap, "_[j]", 4))
			return -ENOMEM;
	}
	if (push_bytes(&f->buf, &f->buf_len, &f->buf_cap, f->func, len) ||
	    PP_GROW(f->frame_end, f->cap_frames, f->nr_frames + 1))
		return -ENOMEM;
	f->frame_end[f->nr_frames++] = f->buf_len;
	return 0;
}

static int frame_line(struct folder *f, struct span pc, struct span raw, struct span mod)
{
	size_t start = 0, nfields = 0;

	/* s/\+0x[\da-f]+$//: the last '+' if "0x" and hex digits follow to the end */
	for (size_t i = raw.n; i-- > 0;) {
		if (raw.s[i] != '+')
			continue;
		if (raw.n - i > 3 && raw.s[i + 1] == '0' && raw.s[i + 2] == 'x') {
			size_t k = i + 3;

			while (k < raw.n &&
			       (is_digit(raw.s[k]) || (raw.s[k] >= 'a' && raw.s[k] <= 'f')))
				k++;
			if (k == raw.n)
				raw.n = i;
		}
		break;
	}
	if (raw.n && raw.s[0] == '(')
		return 0;
	/* split /\->/: trailing empty fields are dropped, others kept */
	{
		size_t n = raw.n;

		while (n >= 2 && raw.s[n - 2] == '-' && raw.s[n - 1] == '>')
			n -= 2;
		raw.n = n;
	}
	while (raw.n) {
		size_t end = start;

		while (end < raw.n &&
		       !(raw.s[end] == '-' && end + 1 < raw.n && raw.s[end + 1] == '>'))
			end++;
		if (add_func(f, (struct span){raw.s + start, end - start}, pc, mod, nfields > 0))
			return -ENOMEM;
		nfields++;
		if (end >= raw.n)
			break;
		start = end + 2;
		if (start >= raw.n) /* cannot happen: trailing "->" were dropped */
			break;
	}
	if (!nfields)
		return 0;
	if (PP_GROW(f->group_end, f->cap_groups, f->nr_groups + 1))
		return -ENOMEM;
	f->group_end[f->nr_groups++] = f->nr_frames;
	return 0;
}

static int header_line(struct folder *f, struct span l, struct span comm, struct span pid,
		       struct span tid)
{
	struct span period = {NULL, 0}, event;
	size_t len = 0;

	if (!truthy(tid)) {
		tid = pid;
		pid = (struct span){"?", 1};
	}
	if (match_event(l, &period, &event)) {
		if (!f->event_filter) {
			/* the bytes as they are: the text may hold NULs, which
			 * Perl compares like any byte (strndup would stop) */
			f->event_filter = pp_malloc(event.n + 1);
			if (!f->event_filter)
				return -ENOMEM;
			memcpy(f->event_filter, event.s, event.n);
			f->event_filter[event.n] = 0;
			f->event_filter_len = event.n;
		} else if (event.n != f->event_filter_len ||
			   memcmp(event.s, f->event_filter, event.n)) {
			return 0;
		}
	}
	if (f->o.count_samples || !truthy(period)) {
		f->period = 1;
	} else {
		uint64_t v = 0;

		for (size_t i = 0; i < period.n; i++)
			v = v > (UINT64_MAX - 9) / 10 ? UINT64_MAX
						      : v * 10 + (uint64_t)(period.s[i] - '0');
		f->period = v;
	}
	if (push_bytes(&f->pname, &len, &f->pname_cap, comm.s, comm.n))
		return -ENOMEM;
	if (f->o.tid || f->o.pid) {
		if (push_bytes(&f->pname, &len, &f->pname_cap, "-", 1) ||
		    push_bytes(&f->pname, &len, &f->pname_cap, pid.s, pid.n))
			return -ENOMEM;
		if (f->o.tid && (push_bytes(&f->pname, &len, &f->pname_cap, "/", 1) ||
				 push_bytes(&f->pname, &len, &f->pname_cap, tid.s, tid.n)))
			return -ENOMEM;
	}
	for (size_t i = 0; i < len; i++)
		if (f->pname[i] == ' ')
			f->pname[i] = '_';
	f->pname_len = len;
	f->have_pname = true;
	return 0;
}

PYPERF_API int pyperf_perf_script__collapse(FILE *in, const char *name, FILE *out,
					    const struct pyperf_perf_script_opts *opts,
					    struct pyperf_error *err)
{
	PYPERF_OPTS(pyperf_perf_script_opts, defaults);
	struct folder f = {0};
	char *line = NULL;
	size_t cap = 0;
	uint64_t lineno = 0, bad = 0;
	ssize_t got;
	int ret = 0;

	if (!OPTS_VALID(opts, pyperf_perf_script_opts))
		return pyperf_err(-EINVAL);
	f.o = defaults;
	if (opts)
		memcpy(&f.o, opts, MIN(opts->sz, sizeof(f.o)));
	if (!name)
		name = "<input>";
	pp_foldtab_init(&f.stacks);
	while ((got = getline(&line, &cap, in)) >= 0) {
		struct span l = {line, (size_t)got}, a, b, c;

		lineno++;
		if (l.n && l.s[l.n - 1] == '\n')
			l.n--;
		if (l.n && l.s[0] == '#')
			continue;
		if (!l.n) {
			/* "ignore filtered samples": a falsy pname keeps the stack */
			if (!f.have_pname || !truthy((struct span){f.pname, f.pname_len}))
				continue;
			ret = end_of_stack(&f);
		} else if (match_header(l, &a, &b, &c)) {
			ret = header_line(&f, l, a, b, c);
		} else if (match_frame(l, &a, &b, &c)) {
			if (!f.have_pname || !truthy((struct span){f.pname, f.pname_len}))
				continue;
			ret = frame_line(&f, a, b, c);
		} else {
			/* The script warns and goes on; so do we, and say so at the end. */
			if (!bad++) {
				char snip[64];
				size_t k;

				/* printable ASCII only: the line may be binary garbage */
				for (k = 0; k < l.n && k + 1 < sizeof(snip); k++)
					snip[k] = l.s[k] >= 0x20 && l.s[k] < 0x7f ? l.s[k] : '?';
				snip[k] = 0;
				pyperf_error_set(err, -EBADMSG, PYPERF_NO_OFFSET, name,
						 "line %" PRIu64 ": not perf script output: '%s%s'",
						 lineno, snip, l.n > k ? "..." : "");
			}
		}
		if (ret)
			break;
	}
	if (!ret && ferror(in)) {
		ret = -EIO;
		pyperf_error_set(err, ret, PYPERF_NO_OFFSET, name, "line %" PRIu64 ": read error",
				 lineno + 1);
	}
	if (ret == -ENOMEM)
		pyperf_error_set(err, ret, PYPERF_NO_OFFSET, name,
				 "line %" PRIu64 ": out of memory", lineno);
	/* What was folded is written even after an error: keep what can be kept. */
	{
		int wret = pp_foldtab_write(&f.stacks, out);

		if (wret && !ret) {
			ret = wret;
			pyperf_error_set(err, ret, PYPERF_NO_OFFSET, name,
					 "cannot write the folded stacks: %s", strerror(-wret));
		}
	}
	if (!ret && bad) {
		ret = -EBADMSG;
		if (err && bad > 1) {
			size_t n = strlen(err->text);

			snprintf(err->text + n, sizeof(err->text) - n,
				 " (and %" PRIu64 " more such lines)", bad - 1);
		}
	}
	free(line);
	free(f.buf);
	free(f.frame_end);
	free(f.group_end);
	free(f.pname);
	free(f.event_filter);
	pp_foldtab_free(&f.stacks);
	free(f.line);
	free(f.func);
	return pyperf_err(ret);
}
