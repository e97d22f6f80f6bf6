// SPDX-License-Identifier: MIT
/*
 * The session: one perf.data read in time order through the machine
 * (maps, threads), the unwinder and the symbols into the profile. The
 * embedded perf maps and jitdumps of the recording win over /tmp's.
 */
#include "profile_internal.h"

/* The recorded command line, once, from the first file that has one. */
static void note_command(struct pyperf_profile *p, struct pyperf_data *data)
{
	size_t argc = 0, len = 0;
	const char *const *argv = pyperf_data__cmdline(data, &argc);
	char *cmd, *w;

	if (p->command)
		return;
	for (size_t i = 0; argv && i < argc; i++)
		len += strlen(argv[i]) + 1;
	if (!len)
		return;
	cmd = pp_malloc(len);
	if (!cmd) {
		p->nomem = true;
		return;
	}
	w = cmd;
	for (size_t i = 0; i < argc; i++) {
		size_t alen = strlen(argv[i]);

		memcpy(w, argv[i], alen);
		w += alen;
		*w++ = i + 1 < argc ? ' ' : 0;
	}
	p->command = pp_strtab_intern(&p->strings, cmd, len - 1);
	if (!p->command)
		p->nomem = true;
	free(cmd);
}

/*
 * Perf maps and jitdumps copied into the recording win over /tmp, which
 * may be gone or hold another run's files under the same pid. Both name
 * the anonymous code of their process; a perf map wins. A damaged copy is
 * left out (/tmp's file, if any, is read instead). 0 or -ENOMEM.
 */
static int use_embedded_files(struct pyperf_profile *p, struct pyperf_machine *m,
			      struct pyperf_data *data)
{
	for (int kind = 1; kind <= 2; kind++) {
		for (size_t i = 0; i < pyperf_data__nr_embedded_files(data); i++) {
			const struct pyperf_embedded_file *f = pyperf_data__embedded_file(data, i);
			uint64_t tag = hash_bytes(f->data, f->size, HASH_SEED);
			struct pyperf_dso *dso;
			char name[64];
			int err2 = 0;

			if ((int)f->kind != kind)
				continue;
			snprintf(name, sizeof(name), "/tmp/perf-%d.map", f->pid);
			if (kind == 2 && machine_has_override(m, name))
				continue;
			dso = symbols_add_dso(p->syms, name, PYPERF_DSO_PERF_MAP,
					      (const uint8_t *)&tag, sizeof(tag));
			if (dso && !dso->loaded)
				err2 = kind == 1 ? pyperf_dso__set_perf_map(dso, f->data, f->size)
						 : pyperf_dso__set_jitdump(dso, f->data, f->size);
			if (err2 == -EBADMSG)
				continue;
			if (!dso || err2 || machine_override_dso(m, name, dso))
				return -ENOMEM;
		}
	}
	return 0;
}

/* The tracepoint formats (sched_switch's prev_state) for time weights. */
static void read_tracing_formats(struct pyperf_profile *p, struct pyperf_data *data)
{
	uint64_t size = 0;
	const void *td;
	struct pyperf_error terr = {0};

	if (p->opts.weight != PYPERF_WEIGHT_OFF_CPU && p->opts.weight != PYPERF_WEIGHT_WALL &&
	    p->opts.weight != PYPERF_WEIGHT_CPU)
		return;
	td = pyperf_data__feature(data, PYPERF_FEAT_TRACING_DATA, &size);
	tp_formats_free(p->tracing);
	/* Without it (or when it is damaged) switches still count; their
	 * state is unknown. */
	p->tracing = td ? tp_formats_parse(td, size, pyperf_data__name(data), &terr) : NULL;
	if (td && !p->tracing && terr.code == -ENOMEM)
		p->nomem = true;
}

static int add_record(struct pyperf_profile *p, struct pyperf_machine *m,
		      const struct pyperf_record *rec)
{
	if ((rec->sample.present & PYPERF_SAMPLE_TIME) && rec->sample.time > p->last_time)
		p->last_time = rec->sample.time;
	if (rec->type == PYPERF_RECORD_SAMPLE)
		return rec->attr ? pyperf_profile_weigh_sample(p, m, rec) : 0;
	if (p->offcpu_open)
		pyperf_offcpu_note_record(p, rec);
	return pyperf_machine__process(m, rec);
}

/* A live stream's record (a recorder's sink): the machine is the caller's. */
PYPERF_API int pyperf_profile__add_record(struct pyperf_profile *p, struct pyperf_machine *m,
					  const struct pyperf_record *rec)
{
	int ret = add_record(p, m, rec);

	if (ret >= 0)
		ret = pp_profile_check(p);
	return pyperf_err(ret < 0 ? ret : 0);
}

/*
 * Every record in time order: samples into the profile (weighed), the
 * others into the machine (maps, threads), which off-CPU accounting
 * watches for threads running again.
 */
static int read_records(struct pyperf_profile *p, struct pyperf_machine *m,
			struct pyperf_data *data, struct pyperf_error *err)
{
	const struct pyperf_record *rec;
	uint64_t total = pyperf_data__data_size(data), n = 0;
	int ret;

	while ((ret = pyperf_data__next_ordered(data, &rec, err)) > 0) {
		ret = add_record(p, m, rec);
		if (ret < 0) {
			pyperf_error_set(err, ret, rec->offset, pyperf_data__name(data),
					 "out of memory");
			break;
		}
		if (p->opts.progress && !(++n & 0xffff))
			p->opts.progress(p->opts.progress_ctx, rec->offset, total);
	}
	if (p->opts.progress)
		p->opts.progress(p->opts.progress_ctx, total, total);
	return ret;
}

/* What the file counted as lost, malformed or out of order, and its tasks. */
static void add_file_stats(struct pyperf_profile *p, struct pyperf_machine *m,
			   struct pyperf_data *data)
{
	const struct pyperf_data_stats *ds = pyperf_data__stats(data);

	/* LOST records count what a ring buffer dropped; LOST_SAMPLES,
	 * written at the end by perf record (6.0+) and pyperf-record, hold
	 * the kernel's count per event, those same samples included: one or
	 * the other, never their sum. perf's "Total Lost Samples" is the
	 * latter. */
	p->stats.lost_samples += ds->lost_samples ? ds->lost_samples : ds->lost_records;
	p->stats.lost_chunks += ds->records[PYPERF_RECORD_LOST];
	p->lost_reported += ds->lost_samples;
	p->stats.malformed_records += ds->malformed_records;
	p->stats.unknown_records += ds->unknown_records;
	p->stats.out_of_order += ds->out_of_order;
	p->stats.processes += pyperf_machine__nr_processes(m);
	p->stats.threads += pyperf_machine__nr_threads(m);
	p->stats.files++;
}

/*
 * The session: reader -> ordered events -> machine -> unwind -> symbols ->
 * profile. The machine (threads, maps) lives for one file; the profile
 * and the symbols outlive it.
 */
PYPERF_API int pyperf_profile__add_data(struct pyperf_profile *p, struct pyperf_data *data,
					struct pyperf_error *err)
{
	PYPERF_OPTS(pyperf_machine_opts, mopts, .data = data);
	struct pyperf_machine *m = pyperf_machine__new(p->syms, &mopts);
	int ret;

	if (!m)
		return pyperf_err(-ENOMEM);
	p->last_event_name = NULL; /* the names of an earlier file may be gone */
	note_command(p, data);
	ret = use_embedded_files(p, m, data);
	if (!ret) {
		read_tracing_formats(p, data);
		ret = read_records(p, m, data, err);
		pyperf_offcpu_end_file(p);
		add_file_stats(p, m, data);
	}
	pyperf_machine__free(m);
	memset(p->thread_memo, 0, sizeof(p->thread_memo)); /* its threads and comms are gone */
	if (ret >= 0 && (ret = pp_profile_check(p)))
		pyperf_error_set(err, ret, PYPERF_NO_OFFSET, pyperf_data__name(data),
				 "out of memory");
	return pyperf_err(ret < 0 ? ret : 0);
}

PYPERF_API int pyperf_profile__add_file(struct pyperf_profile *p, const char *path,
					struct pyperf_error *err)
{
	PYPERF_OPTS(pyperf_data_open_opts, o, .force = p->opts.force);
	struct pyperf_data *d = pyperf_data__open(path, &o, err);
	int ret;

	if (!d)
		return -errno;
	ret = pyperf_profile__add_data(p, d, err);
	pyperf_data__close(d);
	return pyperf_err(ret);
}
