// SPDX-License-Identifier: MIT
/*
 * Records synthesized from /proc for what existed before recording began
 * (the kernel's map, processes' comms and mmaps), as perf record does.
 */
#include "record_internal.h"

/* ---- synthesized records ----------------------------------------------------------- */

int pyperf_recorder_write_rec(struct pyperf_recorder *r, const void *rec, size_t size)
{
	const struct pyperf_record *dec;
	int ret = pyperf_data_writer__write(r->w, rec, size);

	if (ret)
		return ret;
	r->stats.bytes_written += size;
	/* a malformed record (the file then holds it too; readers skip it)
	 * does not reach the sink */
	if (r->sink_decoder && !r->sink_err &&
	    pyperf_decoder__decode(r->sink_decoder, rec, size, &dec) == 1 &&
	    (ret = r->sink(r->sink_ctx, dec)) < 0)
		r->sink_err = ret;
	return ret < 0 ? ret : 0;
}

/* Synthesized records: through the online machine too when unwinding live. */
static int emit(struct pyperf_recorder *r, const void *rec, size_t size)
{
	return r->online ? pyperf_recorder_enqueue(r, rec)
			 : pyperf_recorder_write_rec(r, rec, size);
}

/* The sample_id pyperf_recorder_trailer for synthesized records: pid, tid, time 0, id 0. */
/* The sample_id pyperf_recorder_trailer of a synthesized record: pid/tid, time 0 (before
 * everything), and with two events an id of 0, which readers give to the
 * first event, as perf does with its own synthesized records. */
size_t pyperf_recorder_trailer(struct pyperf_recorder *r, uint8_t *p, uint32_t pid, uint32_t tid)
{
	memcpy(p, &pid, 4);
	memcpy(p + 4, &tid, 4);
	memset(p + 8, 0, 8);
	if (!r->o.off_cpu)
		return 16;
	memset(p + 16, 0, 8);
	return 24;
}

int pyperf_recorder_synth_kernel_mmap(struct pyperf_recorder *r)
{
	uint8_t buf[256] = {0};
	const char *name = "[kernel.kallsyms]_text";
	uint64_t start, end;
	uint32_t pid = (uint32_t)-1, tid = 0;
	size_t off, size;
	uint16_t misc = PERF_RECORD_MISC_KERNEL, type16;
	uint32_t type = PERF_RECORD_MMAP;

	if (sysinfo_kernel_text(&start, &end))
		return 0; /* kernel frames unresolved; not fatal */
	memcpy(buf + 8, &pid, 4);
	memcpy(buf + 12, &tid, 4);
	memcpy(buf + 16, &start, 8);
	end -= start;
	memcpy(buf + 24, &end, 8);
	memcpy(buf + 32, &start, 8);
	memcpy(buf + 40, name, strlen(name) + 1);
	off = 40 + ALIGN_UP(strlen(name) + 1, 8);
	off += pyperf_recorder_trailer(r, buf + off, pid, tid);
	size = off;
	memcpy(buf, &type, 4);
	memcpy(buf + 4, &misc, 2);
	type16 = (uint16_t)size;
	memcpy(buf + 6, &type16, 2);
	return emit(r, buf, size);
}

int pyperf_recorder_synth_comm(struct pyperf_recorder *r, uint32_t pid, uint32_t tid,
			       const char *comm)
{
	uint8_t buf[128] = {0};
	uint32_t type = PERF_RECORD_COMM;
	uint16_t misc = 0, size16;
	size_t n = strnlen(comm, 15), off;

	memcpy(buf + 8, &pid, 4);
	memcpy(buf + 12, &tid, 4);
	memcpy(buf + 16, comm, n);
	off = 16 + ALIGN_UP(n + 1, 8);
	off += pyperf_recorder_trailer(r, buf + off, pid, tid);
	memcpy(buf, &type, 4);
	memcpy(buf + 4, &misc, 2);
	size16 = (uint16_t)off;
	memcpy(buf + 6, &size16, 2);
	return emit(r, buf, off);
}

static int synth_mmap2(struct pyperf_recorder *r, uint32_t pid, uint64_t start, uint64_t len,
		       uint64_t pgoff, uint32_t maj, uint32_t min, uint64_t ino, uint32_t prot,
		       uint32_t flags, const char *name)
{
	uint8_t buf[4096 + 128] = {0};
	uint32_t type = PERF_RECORD_MMAP2;
	uint16_t misc = PERF_RECORD_MISC_USER, size16;
	size_t n = strnlen(name, 4095), off;

	memcpy(buf + 8, &pid, 4);
	memcpy(buf + 12, &pid, 4);
	memcpy(buf + 16, &start, 8);
	memcpy(buf + 24, &len, 8);
	memcpy(buf + 32, &pgoff, 8);
	memcpy(buf + 40, &maj, 4);
	memcpy(buf + 44, &min, 4);
	memcpy(buf + 48, &ino, 8);
	memcpy(buf + 64, &prot, 4);
	memcpy(buf + 68, &flags, 4);
	memcpy(buf + 72, name, n);
	off = 72 + ALIGN_UP(n + 1, 8);
	off += pyperf_recorder_trailer(r, buf + off, pid, pid);
	memcpy(buf, &type, 4);
	memcpy(buf + 4, &misc, 2);
	size16 = (uint16_t)off;
	memcpy(buf + 6, &size16, 2);
	return emit(r, buf, off);
}

int pyperf_recorder_synth_process(struct pyperf_recorder *r, pid_t pid)
{
	char path[64], line[PATH_MAX + 256], comm[64];
	DIR *dir;
	struct dirent *de;
	FILE *f;
	int ret = 0;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	dir = opendir(path);
	if (!dir)
		return -errno;
	while ((de = readdir(dir)) && !ret) {
		pid_t tid = (pid_t)atoi(de->d_name);

		if (tid <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%d/comm", pid, tid);
		f = fopen(path, "re");
		if (!f)
			continue;
		if (!fgets(comm, sizeof(comm), f))
			comm[0] = 0;
		fclose(f);
		comm[strcspn(comm, "\n")] = 0;
		ret = pyperf_recorder_synth_comm(r, (uint32_t)pid, (uint32_t)tid, comm);
	}
	closedir(dir);
	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "re");
	if (!f)
		return ret ? ret : -errno;
	while (!ret && fgets(line, sizeof(line), f)) {
		uint64_t start, end, pgoff, ino;
		unsigned maj, min;
		char perms[8], name[PATH_MAX] = "";
		int n = 0;
		uint32_t prot = 0, flags;

		if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %7s %" SCNx64 " %x:%x %" SCNu64 " %n",
			   &start, &end, perms, &pgoff, &maj, &min, &ino, &n) < 7)
			continue;
		if (perms[2] != 'x')
			continue; /* code only, as perf records without -d */
		snprintf(name, sizeof(name), "%s", n ? line + n : "");
		name[strcspn(name, "\n")] = 0;
		if (!name[0])
			snprintf(name, sizeof(name), "//anon");
		prot = (perms[0] == 'r' ? 1 : 0) | (perms[1] == 'w' ? 2 : 0) | 4;
		flags = perms[3] == 's' ? 1 : 2; /* MAP_SHARED : MAP_PRIVATE */
		ret = synth_mmap2(r, (uint32_t)pid, start, end - start, pgoff, maj, min, ino, prot,
				  flags, name);
	}
	fclose(f);
	return ret;
}
