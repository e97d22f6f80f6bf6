// SPDX-License-Identifier: MIT
/*
 * The perf maps and jitdumps of recorded processes, copied into the file
 * (a feature section), so that a report names JIT code after /tmp's
 * files are gone or replaced.
 */
#include "record_internal.h"

static bool written_in_lifetime(const struct pyperf_recorder *r, pid_t pid,
				const struct timespec *mtime)
{
	double started = r->t0_real;

	for (size_t i = 0; i < r->nr_attach; i++)
		if (r->attach_pids[i] == pid)
			started = r->attach_started[i];
	return (double)mtime->tv_sec + mtime->tv_nsec / 1e9 >= started - 1.0;
}

int pyperf_recorder_embed_files(struct pyperf_recorder *r, const pid_t *pids, size_t nr)
{
	uint8_t *buf = NULL;
	size_t len = 8, cap = 0;
	uint32_t count = 0, version = 1;
	int ret = 0;

	if (PP_GROW(buf, cap, len))
		return -ENOMEM;
	for (size_t i = 0; i < nr; i++) {
		for (uint32_t kind = 1; kind <= 2; kind++) {
			char path[64];
			size_t size = 0, plen, need;
			uint32_t slen, pid32 = (uint32_t)pids[i];
			uint64_t size64;
			struct pyperf_error ferr;
			struct stat st;
			char *data;

			snprintf(path, sizeof(path),
				 kind == 1 ? "/tmp/perf-%d.map" : "/tmp/jit-%d.dump", pids[i]);
			for (size_t k = 0; k < r->nr_py; k++)
				r->py[k].seen |= r->py[k].pid == pids[i];
			ret = pyperf_read_untrusted(path, 0, PP_MAX_JIT_FILE, &data, &size, &st,
						    &ferr);
			if (ret == -ENOMEM)
				goto out;
			if (ret) {
				/* refused files are said; missing ones are normal */
				if (ret != -ENOENT) {
					r->stats.maps_refused++;
					pr_warn("%s %s\n", path, ferr.text);
				}
				ret = 0;
				continue;
			}
			if (!written_in_lifetime(r, pids[i], &st.st_mtim)) {
				r->stats.maps_stale++;
				free(data);
				continue;
			}
			for (size_t k = 0; k < r->nr_py; k++)
				r->py[k].named |= r->py[k].pid == pids[i] && size;
			plen = strlen(path) + 1;
			slen = (uint32_t)ALIGN_UP(plen, 8);
			need = 16 + 4 + slen + ALIGN_UP(size, 8);
			if (PP_GROW(buf, cap, len + need)) {
				free(data);
				ret = -ENOMEM;
				goto out;
			}
			memset(buf + len, 0, need);
			size64 = size;
			memcpy(buf + len, &kind, 4);
			memcpy(buf + len + 4, &pid32, 4);
			memcpy(buf + len + 8, &size64, 8);
			memcpy(buf + len + 16, &slen, 4);
			memcpy(buf + len + 20, path, plen);
			memcpy(buf + len + 20 + slen, data, size);
			len += need;
			count++;
			free(data);
			if (r->o.clean_maps && r->launched)
				unlink(path);
		}
	}
	memcpy(buf, &version, 4);
	memcpy(buf + 4, &count, 4);
	if (count) {
		/* Version 2: the entries deflated (perf maps are text that
		 * shrinks 5-10 times), so that a short recording is not mostly
		 * its maps: [u32 2][u32 count][u64 entries' size][zlib stream]. */
		uLongf zlen = compressBound((uLong)(len - 8));
		uint8_t *z = pp_malloc(16 + zlen);
		uint64_t raw = len - 8;

		if (z && compress2(z + 16, &zlen, buf + 8, (uLong)raw, 6) == Z_OK &&
		    16 + zlen < len) {
			version = 2;
			memcpy(z, &version, 4);
			memcpy(z + 4, &count, 4);
			memcpy(z + 8, &raw, 8);
			ret = pyperf_data_writer__add_feature(
			    r->w, (enum pyperf_feature)PYPERF_FEAT_EMBEDDED_FILES, z, 16 + zlen);
		} else {
			ret = pyperf_data_writer__add_feature(
			    r->w, (enum pyperf_feature)PYPERF_FEAT_EMBEDDED_FILES, buf, len);
		}
		free(z);
	}
	r->stats.maps_embedded = count;
out:
	free(buf);
	return ret;
}

/*
 * The kernel's count of samples each event instance could not write
 * (PERF_FORMAT_LOST), as LOST_SAMPLES records: what perf report's "Total
 * Lost Samples" adds up. The LOST records of the ring buffers count the
 * same samples, as they were dropped.
 */
