/* SPDX-License-Identifier: MIT */
/*
 * Time ranges: which samples of a recording to keep, in perf's --time
 * syntax (perf report, perf script).
 *
 * Times are the perf clock's, in nanoseconds (what a sample's time field
 * holds and perf script prints as seconds). A range keeps the samples
 * with start <= time <= end; start 0 means from the beginning, end 0 to
 * the end. A sample without a time is always kept, as perf keeps it.
 */
#ifndef PYPERF_TIME_RANGE_H
#define PYPERF_TIME_RANGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <pyperf/data.h>
#include <pyperf/pyperf.h>

#ifdef __cplusplus
extern "C" {
#endif

struct pyperf_time_range {
	uint64_t start, end; /* ns; 0: open on that side */
};

/*
 * pyperf_time_range__parse() - ranges from perf's --time syntax.
 * @s: "START,STOP" in seconds with up to nine decimals, either side may be
 *     empty; several such ranges separated by spaces (as perf) or all in
 *     one comma-separated list of pairs ("A,B,C,D"); or shares of the
 *     recording: "10%/2" (the second 10% slice), "0%-10%", "50%" (the
 *     first half), several separated by commas ("10%/1,10%/3").
 * @first: time of the recording's first sample (ns); used by % and @rel.
 * @last: time of its last sample.
 * @rel: START and STOP count from @first (perf script --reltime).
 * @nr: number of ranges, on success.
 * @err: why parsing failed (offset into @s); may be NULL.
 *
 * As in perf, absolute ranges must be in increasing order and must not
 * overlap, and a % range is rounded to the nanosecond with its end one
 * nanosecond short unless it is the recording's end. A % range or @rel
 * on a recording whose sample times are unknown (@first and @last both
 * 0) is an error.
 *
 * Return: an array of @nr ranges to free(), or NULL with errno EINVAL
 * (@err says why) or ENOMEM.
 */
PYPERF_API struct pyperf_time_range *pyperf_time_range__parse(const char *s, uint64_t first,
							      uint64_t last, bool rel, size_t *nr,
							      struct pyperf_error *err);

/*
 * pyperf_time_range__keep() - whether a sample at @time is kept by one of
 * @ranges (all samples when @nr is 0, and samples without a time, @time 0).
 */
PYPERF_API bool pyperf_time_range__keep(const struct pyperf_time_range *ranges, size_t nr,
					uint64_t time);

/*
 * pyperf_time_range__format() - "START,STOP" in seconds with six decimals
 * (perf script's precision), an open side left empty; several ranges
 * separated by spaces: perf's syntax, so the text can be passed back to
 * --time.
 *
 * Return: @buf (truncated to @size). Thread-safe.
 */
PYPERF_API char *pyperf_time_range__format(const struct pyperf_time_range *ranges, size_t nr,
					   char *buf, size_t size);

/*
 * pyperf_data__sample_time_bounds() - the times of a recording's first and
 * last samples: its HEADER_SAMPLE_TIME feature when it has one (what perf
 * uses for % ranges), otherwise found by reading every record from the
 * current position (which it moves to the end: open the file for this).
 *
 * Return: 0 (both 0 when no sample carries a time), or a negative errno
 * when the file cannot be read (@err says where).
 */
PYPERF_API int pyperf_data__sample_time_bounds(struct pyperf_data *data, uint64_t *first,
					       uint64_t *last, struct pyperf_error *err);

#ifdef __cplusplus
}
#endif

#endif /* PYPERF_TIME_RANGE_H */
