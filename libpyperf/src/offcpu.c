// SPDX-License-Identifier: MIT
/*
 * Off-CPU time: from a thread's switch-out (sched:sched_switch) to the
 * next record showing it running, under the stack it left with.
 */
#include "profile_internal.h"

/* ---- off-CPU time ---------------------------------------------------------------------- */

static bool is_sched_switch(const struct pyperf_profile *p, const struct pyperf_attr *attr)
{
	if (attr->type != PERF_TYPE_TRACEPOINT)
		return false;
	if (tp_formats_is_sched_switch(p->tracing, attr->config))
		return true;
	/* no tracing data, or its sched_switch format damaged (the records
	 * are switches still, with their state unknown): the event's name */
	return attr->name && !strncmp(attr->name, "sched:sched_switch", 18);
}

/* Clock events count nanoseconds in their period: they add up with time. */
static bool is_clock_event(const struct pyperf_attr *attr)
{
	return attr->type == PERF_TYPE_SOFTWARE && (attr->config == PERF_COUNT_SW_CPU_CLOCK ||
						    attr->config == PERF_COUNT_SW_TASK_CLOCK);
}

/* The slot of @tid; with @create, a new one if it has none. */
static struct off_cpu_slot *offcpu_slot(struct pyperf_profile *p, int32_t tid, bool create)
{
	size_t i;

	if (tid <= 0)
		return NULL;
	if (create && (p->offcpu_used + 1) * 2 > p->offcpu_cap) {
		size_t ncap = p->offcpu_cap ? p->offcpu_cap * 2 : 256;
		struct off_cpu_slot *n = pp_calloc(ncap, sizeof(*n));

		if (!n)
			return NULL;
		for (size_t j = 0; j < p->offcpu_cap; j++) {
			if (!p->offcpu[j].tid)
				continue;
			for (i = pp_probe_start(hash_u64((uint64_t)p->offcpu[j].tid), ncap);
			     n[i].tid; i = pp_probe_next(i, ncap))
				;
			n[i] = p->offcpu[j];
		}
		free(p->offcpu);
		p->offcpu = n;
		p->offcpu_cap = ncap;
	}
	if (!p->offcpu_cap)
		return NULL;
	for (i = pp_probe_start(hash_u64((uint64_t)tid), p->offcpu_cap); p->offcpu[i].tid;
	     i = pp_probe_next(i, p->offcpu_cap))
		if (p->offcpu[i].tid == tid)
			return &p->offcpu[i];
	if (!create)
		return NULL;
	p->offcpu[i].tid = tid;
	p->offcpu_used++;
	return &p->offcpu[i];
}

static void offcpu_close(struct pyperf_profile *p, struct off_cpu_slot *sl, uint64_t now)
{
	uint64_t ns = now > sl->since ? now - sl->since : 0;

	pyperf_profile_count_sample(p, sl->leaf, ns);
	p->events[sl->event].samples++;
	p->events[sl->event].period += ns;
	p->stats.off_cpu_intervals++;
	p->stats.off_cpu_ns += ns;
	sl->leaf = 0;
	p->offcpu_open--;
}

/* Thread @tid is seen running at @now (a sample, a switch-in, its exit):
 * whatever time it was off CPU ends there. */
static void offcpu_ran(struct pyperf_profile *p, int32_t tid, uint64_t now)
{
	struct off_cpu_slot *sl;

	if (!p->offcpu_open)
		return;
	sl = offcpu_slot(p, tid, false);
	if (sl && sl->leaf && now > sl->since)
		offcpu_close(p, sl, now);
}

/* "[off-cpu: S]": the state the thread left the CPU in, as a leaf. */
static uint32_t state_frame(struct pyperf_profile *p, const char *state)
{
	char buf[32];
	uint32_t id;

	snprintf(buf, sizeof(buf), "[off-cpu: %s]", state);
	id = pyperf_profile_view_frame(p, buf, "[off-cpu]", PYPERF_DSO_ANON);
	if (id) {
		p->frames[id - 1].kind = PYPERF_FRAME_KERNEL;
		p->frames[id - 1].cpumode = PYPERF_CPUMODE_KERNEL;
	}
	return id;
}

/*
 * A sched_switch sample: the thread in the sample's pid/tid leaves the CPU
 * with the sample's stack. The time until it runs again goes to that stack.
 * In system-wide recordings the switch also says who comes in: that
 * thread's off-CPU time ends here, exactly.
 */
static int offcpu_switch_out(struct pyperf_profile *p, struct pyperf_machine *m,
			     const struct pyperf_record *rec, const char *event)
{
	const struct pyperf_sample *s = &rec->sample;
	struct tp_switch sw = {0, 0, "?"};
	struct off_cpu_slot *sl;
	struct pyperf_thread *th;
	uint32_t ev, evi, leaf, state;
	enum pyperf_stack_cut cut;
	long n;

	p->stats.switches++;
	if (!(s->present & PYPERF_SAMPLE_TID) || !(s->present & PYPERF_SAMPLE_TIME))
		return 0;
	if (!p->tracing ||
	    tp_formats_sched_switch(p->tracing, rec->attr->config, s->raw, s->raw_size, &sw)) {
		p->stats.switches_undecoded++;
		sw.prev_state = "?";
		sw.next_pid = 0;
	}
	if (sw.next_pid > 0)
		offcpu_ran(p, sw.next_pid, s->time);
	/* It ran since it last left: that interval ended before now. */
	offcpu_ran(p, (int32_t)s->tid, s->time);
	if (pyperf_profile_time_filtered(p, s))
		return 0;
	th = pyperf_machine__findnew_thread(m, (int32_t)s->pid, (int32_t)s->tid);
	if (!th)
		return -ENOMEM;
	if (pyperf_profile_filtered_out(p, th)) {
		p->stats.samples_filtered++;
		return 0;
	}
	ev = pyperf_profile_event_node(p, event, &evi);
	if (!ev)
		return -ENOMEM;
	p->events[evi].in_ns = true;
	leaf = pyperf_profile_thread_node(p, ev, th);
	if (!leaf)
		return -ENOMEM;
	n = pyperf_profile_sample_stack(p, th, rec, &cut);
	if (n < 0)
		return (int)n;
	pyperf_profile_count_cut(p, cut);
	for (long i = n - 1; i >= 0; i--) {
		leaf = pyperf_profile_node_child(p, leaf, p->stack[i]);
		if (!leaf)
			return -ENOMEM;
	}
	state = state_frame(p, sw.prev_state);
	if (!state || !(leaf = pyperf_profile_node_child(p, leaf, state - 1)))
		return -ENOMEM;
	sl = offcpu_slot(p, (int32_t)s->tid, true);
	if (!sl)
		return -ENOMEM;
	sl->leaf = leaf;
	sl->event = evi;
	sl->since = s->time;
	p->offcpu_open++;
	return 0;
}

/* The end of a file: threads still off CPU were so until its last event. */
void pyperf_offcpu_end_file(struct pyperf_profile *p)
{
	for (size_t i = 0; i < p->offcpu_cap && p->offcpu_open; i++) {
		if (p->offcpu[i].tid && p->offcpu[i].leaf) {
			offcpu_close(p, &p->offcpu[i], p->last_time);
			p->stats.off_cpu_open_at_end++;
		}
	}
	if (p->offcpu)
		memset(p->offcpu, 0, p->offcpu_cap * sizeof(*p->offcpu));
	p->offcpu_used = 0;
	p->offcpu_open = 0;
	p->last_time = 0;
}

/* Routes a sample by the weight asked for. */
int pyperf_profile_weigh_sample(struct pyperf_profile *p, struct pyperf_machine *m,
				const struct pyperf_record *rec)
{
	const struct pyperf_attr *attr = rec->attr;
	const struct pyperf_sample *s = &rec->sample;
	enum pyperf_weight wt = p->opts.weight;
	bool sw;

	if (wt == PYPERF_WEIGHT_EVENTS)
		return pyperf_profile_add_sample(p, m, rec, attr->name ? attr->name : "unknown");
	sw = is_sched_switch(p, attr);
	if (sw) {
		if (wt == PYPERF_WEIGHT_CPU) {
			p->stats.samples_other_weight++;
			return 0;
		}
		return offcpu_switch_out(p, m, rec, wt == PYPERF_WEIGHT_WALL ? "wall" : "off-cpu");
	}
	if ((s->present & PYPERF_SAMPLE_TID) && (s->present & PYPERF_SAMPLE_TIME))
		offcpu_ran(p, (int32_t)s->tid, s->time);
	if (wt == PYPERF_WEIGHT_CPU)
		return attr->type == PERF_TYPE_TRACEPOINT
			   ? (p->stats.samples_other_weight++, 0)
			   : pyperf_profile_add_sample(p, m, rec,
						       attr->name ? attr->name : "unknown");
	if (wt == PYPERF_WEIGHT_WALL && is_clock_event(attr)) {
		uint32_t evi;

		if (!pyperf_profile_event_node(p, "wall", &evi))
			return -ENOMEM;
		p->events[evi].in_ns = true;
		return pyperf_profile_add_sample(p, m, rec, "wall");
	}
	/* off-cpu: on-CPU samples only tell when threads run */
	p->stats.samples_other_weight++;
	return 0;
}

/* A record that shows a thread running (switch-in) or gone (exit). */
void pyperf_offcpu_note_record(struct pyperf_profile *p, const struct pyperf_record *rec)
{
	const struct pyperf_sample *s = &rec->sample;

	if (rec->type == PYPERF_RECORD_EXIT) {
		offcpu_ran(p, (int32_t)rec->task.tid, rec->task.time);
	} else if (rec->type == PYPERF_RECORD_SWITCH ||
		   rec->type == PYPERF_RECORD_SWITCH_CPU_WIDE) {
		if (!(rec->misc & PERF_RECORD_MISC_SWITCH_OUT) &&
		    (s->present & PYPERF_SAMPLE_TID) && (s->present & PYPERF_SAMPLE_TIME))
			offcpu_ran(p, (int32_t)s->tid, s->time);
	}
}
