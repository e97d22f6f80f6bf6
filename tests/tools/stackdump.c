// SPDX-License-Identifier: MIT
/*
 * Every sample's stack as pyperf-report counts it, one sample after the
 * other, in a text close to `perf script -F pid,tid,time,ip,sym,dso`:
 *
 *   stackdump [--view native|mixed|python] [--max-stack N] [--no-unwind] FILE
 *
 *   PID/TID TIME_NS CUT
 *   \tADDR SYMBOL (DSO)
 *   ...
 *   (empty line)
 *
 * CUT is "-" for a whole stack, else why it was cut (stack-copy, no-cfi...);
 * the [truncated] frame then comes last. Frames of the profile are per
 * function, so ADDR is "-" for a resolved frame; an unresolved one has the
 * address within its object (kernel: the address itself), as perf script
 * prints them. tests/unwind-diff compares this with perf script sample by
 * sample.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pyperf/profile.h>

struct dump {
	struct pyperf_profile *p;
	FILE *out;
};

static void on_stack(void *ctx, const struct pyperf_sample *s, const uint32_t *frames, size_t nr,
		     enum pyperf_stack_cut cut)
{
	struct dump *d = ctx;

	fprintf(d->out, "%u/%u %" PRIu64 " %s\n", s->pid, s->tid, s->time,
		cut == PYPERF_CUT_NONE ? "-" : pyperf_stack_cut__name(cut));
	for (size_t i = 0; i < nr; i++) {
		const struct pyperf_frame *f = pyperf_profile__frame(d->p, frames[i]);
		const char *dso = f->dso ? pyperf_dso__name(f->dso) : "[unknown]";

		/* frames are per function: only an unresolved one has an address */
		if (f->sym)
			fprintf(d->out, "\t- %s (%s)\n", f->name, dso);
		else
			fprintf(d->out, "\t%" PRIx64 " [unknown] (%s)\n",
				f->cpumode == PYPERF_CPUMODE_KERNEL ? f->ip : f->addr, dso);
	}
	fputc('\n', d->out);
}

static int usage(void)
{
	fprintf(
	    stderr,
	    "usage: stackdump [--view native|mixed|python] [--max-stack N] [--no-unwind] FILE\n");
	return 1;
}

int main(int argc, char **argv)
{
	/* no inlined frames: compared with perf script --no-inline */
	PYPERF_OPTS(pyperf_profile_opts, o, .view = PYPERF_VIEW_NATIVE, .stack_fn = on_stack,
		    .no_inline = true);
	struct dump d = {NULL, stdout};
	const char *file = NULL;
	struct pyperf_error err;
	char msg[700];
	int ret, status = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--view") && i + 1 < argc) {
			i++;
			if (!strcmp(argv[i], "native"))
				o.view = PYPERF_VIEW_NATIVE;
			else if (!strcmp(argv[i], "mixed"))
				o.view = PYPERF_VIEW_MIXED;
			else if (!strcmp(argv[i], "python"))
				o.view = PYPERF_VIEW_PYTHON;
			else
				return usage();
		} else if (!strcmp(argv[i], "--no-unwind")) {
			/* the chains as written (pyperf-record --check-unwind's
			 * online unwinding), not the stack copies unwound again */
			o.no_unwind = true;
		} else if (!strcmp(argv[i], "--max-stack") && i + 1 < argc) {
			o.max_stack = o.max_unwind = (unsigned)strtoul(argv[++i], NULL, 10);
		} else if (argv[i][0] == '-' || file) {
			return usage();
		} else {
			file = argv[i];
		}
	}
	if (!file)
		return usage();
	o.stack_ctx = &d;
	d.p = pyperf_profile__new(NULL, &o);
	if (!d.p) {
		fprintf(stderr, "stackdump: out of memory\n");
		return 2;
	}
	ret = pyperf_profile__add_file(d.p, file, &err);
	if (ret) {
		pyperf_error__format(&err, msg, sizeof(msg));
		fprintf(stderr, "stackdump: %s\n", msg);
		status = 2;
	}
	if (fflush(stdout) || ferror(stdout)) {
		fprintf(stderr, "stackdump: write error\n");
		status = 2;
	}
	pyperf_profile__free(d.p);
	return status;
}
