// SPDX-License-Identifier: MIT
/* Facts about the machine a recording is made on, for header features. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <pyperf/data.h>
#include "internal.h"
#include "sysinfo.h"

int sysinfo_kernel_text(uint64_t *start, uint64_t *end)
{
	FILE *f = fopen("/proc/kallsyms", "re");
	char line[512];

	*start = *end = 0;
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f) && !(*start && *end)) {
		char *sp = strchr(line, ' ');
		uint64_t addr = strtoull(line, NULL, 16);

		if (!sp || strlen(sp) < 4)
			continue;
		if (!strcmp(sp + 3, "_text\n") && !*start)
			*start = addr;
		else if (!strcmp(sp + 3, "_stext\n") && !*start)
			*start = addr;
		else if (!strcmp(sp + 3, "_etext\n"))
			*end = addr;
	}
	fclose(f);
	/* kptr_restrict shows zeros to the unprivileged */
	return *start && *end > *start ? 0 : -EPERM;
}

static char *first_line_with(const char *path, const char *prefix)
{
	FILE *f = fopen(path, "re");
	char line[1024];
	char *out = NULL;

	if (!f)
		return NULL;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, prefix, strlen(prefix))) {
			char *v = strchr(line, ':');

			if (v) {
				v++;
				while (*v == ' ' || *v == '\t')
					v++;
				v[strcspn(v, "\n")] = 0;
				out = pp_strdup(v);
			}
			break;
		}
	}
	fclose(f);
	return out;
}

/* perf_header_string_list: u32 nr, then strings. */
static int add_string_list(struct pyperf_data_writer *w, enum pyperf_feature feat,
			   const char *const *v, size_t n)
{
	size_t size = 4, off = 4;
	uint8_t *buf;
	uint32_t nr = (uint32_t)n;
	int ret;

	for (size_t i = 0; i < n; i++)
		size += 4 + ALIGN_UP(strlen(v[i]) + 1, 64);
	buf = pp_calloc(1, size);
	if (!buf)
		return -ENOMEM;
	memcpy(buf, &nr, 4);
	for (size_t i = 0; i < n; i++) {
		uint32_t len = (uint32_t)ALIGN_UP(strlen(v[i]) + 1, 64);

		memcpy(buf + off, &len, 4);
		memcpy(buf + off + 4, v[i], strlen(v[i]));
		off += 4 + len;
	}
	ret = pyperf_data_writer__add_feature(w, feat, buf, size);
	free(buf);
	return ret;
}

int sysinfo_write_features(struct pyperf_data_writer *w, const char *version)
{
	struct utsname u;
	char *cpudesc, *cpuid_vendor, *family, *model, *stepping, *mem;
	uint32_t nrcpus[2];
	uint64_t total_kb = 0;
	int ret = 0;

	if (!uname(&u)) {
		ret |= pyperf_data_writer__add_feature_string(w, PYPERF_FEAT_HOSTNAME, u.nodename);
		ret |= pyperf_data_writer__add_feature_string(w, PYPERF_FEAT_OSRELEASE, u.release);
		ret |= pyperf_data_writer__add_feature_string(w, PYPERF_FEAT_ARCH, u.machine);
	}
	ret |= pyperf_data_writer__add_feature_string(w, PYPERF_FEAT_VERSION, version);
	nrcpus[0] = (uint32_t)sysconf(_SC_NPROCESSORS_CONF);
	nrcpus[1] = (uint32_t)sysconf(_SC_NPROCESSORS_ONLN);
	ret |= pyperf_data_writer__add_feature(w, PYPERF_FEAT_NRCPUS, nrcpus, sizeof(nrcpus));
	cpudesc = first_line_with("/proc/cpuinfo", "model name");
	if (cpudesc)
		ret |= pyperf_data_writer__add_feature_string(w, PYPERF_FEAT_CPUDESC, cpudesc);
	cpuid_vendor = first_line_with("/proc/cpuinfo", "vendor_id");
	family = first_line_with("/proc/cpuinfo", "cpu family");
	model = first_line_with("/proc/cpuinfo", "model\t");
	stepping = first_line_with("/proc/cpuinfo", "stepping");
	if (cpuid_vendor && family && model && stepping) {
		char buf[256];

		snprintf(buf, sizeof(buf), "%s,%s,%s,%s", cpuid_vendor, family, model, stepping);
		ret |= pyperf_data_writer__add_feature_string(w, PYPERF_FEAT_CPUID, buf);
	}
	mem = first_line_with("/proc/meminfo", "MemTotal");
	if (mem) {
		total_kb = strtoull(mem, NULL, 10);
		ret |= pyperf_data_writer__add_feature(w, PYPERF_FEAT_TOTAL_MEM, &total_kb, 8);
	}
	free(cpudesc);
	free(cpuid_vendor);
	free(family);
	free(model);
	free(stepping);
	free(mem);
	return ret ? -ENOMEM : 0;
}

int sysinfo_write_cmdline(struct pyperf_data_writer *w)
{
	FILE *f = fopen("/proc/self/cmdline", "re");
	char buf[8192];
	size_t n, count = 0;
	const char *argv[256];
	char exe[4096];
	ssize_t el;
	int ret;

	if (!f)
		return -errno;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	/* perf stores its own path first, then the arguments */
	el = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	exe[el > 0 ? el : 0] = 0;
	argv[count++] = el > 0 ? exe : buf;
	for (size_t i = strlen(buf) + 1; i < n && count < ARRAY_SIZE(argv);
	     i += strlen(buf + i) + 1)
		argv[count++] = buf + i;
	ret = add_string_list(w, PYPERF_FEAT_CMDLINE, argv, count);
	return ret;
}
