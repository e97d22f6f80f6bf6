/* SPDX-License-Identifier: MIT */
/*
 * libpyperf: Python programs as first-class citizens of Linux perf.
 *
 * This header holds what every module shares: the version, the export
 * macro, the warning callback and the error report filled by parsers.
 *
 * Threads: different objects may be used from different threads at the
 * same time (two profiles, each with its own symbols, read and written on
 * two threads); one object, and the objects it borrows (a profile's
 * symbols, a machine's data), from one thread at a time. The library
 * keeps no state between objects except the print callback below.
 */
#ifndef PYPERF_PYPERF_H
#define PYPERF_PYPERF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PYPERF_API __attribute__((visibility("default")))

#define PYPERF_VERSION_MAJOR 0
#define PYPERF_VERSION_MINOR 1
#define PYPERF_VERSION_PATCH 0
#define PYPERF_VERSION_STRING "0.1.0"

/**
 * pyperf_version() - the library's version, "MAJOR.MINOR.PATCH".
 *
 * Return: a static string. Thread-safe.
 */
PYPERF_API const char *pyperf_version(void);

enum pyperf_print_level {
	PYPERF_WARN,
	PYPERF_INFO,
	PYPERF_DEBUG,
};

typedef int (*pyperf_print_fn_t)(enum pyperf_print_level level, const char *format, va_list args);

/**
 * pyperf_set_print() - route the library's warnings.
 * @fn: the new callback, or NULL to silence the library.
 *
 * By default warnings and info go to stderr, each line starting with
 * "libpyperf: "; debug messages are dropped. The library never writes to
 * stdout.
 *
 * Return: the previous callback. Not thread-safe: call it before starting
 * threads that use the library.
 */
PYPERF_API pyperf_print_fn_t pyperf_set_print(pyperf_print_fn_t fn);

/*
 * Why a parse failed. Parsers take an optional struct pyperf_error * as
 * their last argument; the caller owns it and each call overwrites it.
 */
struct pyperf_error {
	int code;	  /* negative errno: -EBADMSG, -EOPNOTSUPP, -EIO... */
	uint64_t offset;  /* byte offset in the source, or UINT64_MAX */
	char source[256]; /* file name, or "" when the text stands alone */
	char text[256];	  /* what was wrong and what to do */
};

/**
 * pyperf_error__format() - one line describing @err: "source: offset N: text".
 * @err: a filled error.
 * @buf: where to write.
 * @size: size of @buf.
 *
 * Return: @buf. Thread-safe.
 */
PYPERF_API char *pyperf_error__format(const struct pyperf_error *err, char *buf, size_t size);

/*
 * Options structs start with their own size so that fields can be appended
 * without breaking callers built against older headers. Use PYPERF_OPTS to
 * declare one: it zeroes the struct (padding included) and sets sz.
 */
#define PYPERF_OPTS(TYPE, NAME, ...)                                                               \
	struct TYPE NAME = ({                                                                      \
		memset(&NAME, 0, sizeof(struct TYPE));                                             \
		(struct TYPE){.sz = sizeof(struct TYPE), __VA_ARGS__};                             \
	})

#ifdef __cplusplus
}
#endif

#endif /* PYPERF_PYPERF_H */
