/* SPDX-License-Identifier: MIT */
/*
 * The recorded machine: processes, threads and their memory maps, rebuilt
 * from the records of a perf.data file delivered in time order.
 *
 * FORK gives a new process a copy of its parent's maps (a new thread shares
 * its process's maps), COMM sets a thread's name and, when it comes from
 * exec(), drops the maps of the old program, MMAP/MMAP2 add maps (cutting
 * the overlapped parts of older ones, as the kernel does), EXIT ends a
 * thread. Kernel maps (the kernel, modules, KSYMBOL regions) are shared by
 * everyone.
 */
#ifndef PYPERF_MACHINE_H
#define PYPERF_MACHINE_H

#include <stdbool.h>
#include <stdint.h>
#include <pyperf/data.h>
#include <pyperf/pyperf.h>
#include <pyperf/symbols.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A memory map: [start, end) of a dso, file offset pgoff at start. */
struct pyperf_map {
	uint64_t start, end, pgoff;
	struct pyperf_dso *dso;
	uint32_t prot, flags;
	bool identity; /* addresses are the dso's own (no translation) */
};

/* Where an address was resolved to. */
struct pyperf_addr_loc {
	const struct pyperf_map *map;	 /* NULL when no map covers it */
	struct pyperf_dso *dso;		 /* never NULL: "[unknown]" at worst */
	const struct pyperf_symbol *sym; /* NULL when unresolved */
	uint64_t addr;			 /* in the dso's space (perf's map_ip) */
	uint8_t cpumode;
};

struct pyperf_machine;
struct pyperf_thread;

struct pyperf_machine_opts {
	size_t sz;
	/* the recording (borrowed; gives build ids and the kernel release), or
	 * NULL (records decoded as they come, e.g. from ring buffers) */
	const struct pyperf_data *data;
	size_t : 0;
};
#define pyperf_machine_opts__last_field data

/**
 * pyperf_machine__new() - an empty machine.
 * @syms: symbol cache to take dsos from (borrowed; must outlive the machine).
 * @opts: NULL for the defaults.
 *
 * Return: a new machine to free with pyperf_machine__free(), or NULL with
 * errno set (ENOMEM; EINVAL for unknown opts). Not thread-safe.
 */
PYPERF_API struct pyperf_machine *pyperf_machine__new(struct pyperf_symbols *syms,
						      const struct pyperf_machine_opts *opts);

/** pyperf_machine__free() - free; NULL is accepted. */
PYPERF_API void pyperf_machine__free(struct pyperf_machine *m);

/**
 * pyperf_machine__process() - apply a record: COMM, FORK, EXIT, MMAP,
 * MMAP2 and KSYMBOL change the machine; others are ignored.
 *
 * Return: 0, or -ENOMEM.
 */
PYPERF_API int pyperf_machine__process(struct pyperf_machine *m, const struct pyperf_record *rec);

/**
 * pyperf_machine__findnew_thread() - the thread @tid of process @pid,
 * created if unknown (named ":TID" until a COMM names it, as in perf).
 *
 * Return: a borrowed thread, valid while the machine lives, or NULL
 * (ENOMEM).
 */
PYPERF_API struct pyperf_thread *pyperf_machine__findnew_thread(struct pyperf_machine *m,
								int32_t pid, int32_t tid);

/** pyperf_machine__nr_threads() - threads seen so far. */
PYPERF_API size_t pyperf_machine__nr_threads(const struct pyperf_machine *m);

/** pyperf_machine__nr_processes() - processes seen so far. */
PYPERF_API size_t pyperf_machine__nr_processes(const struct pyperf_machine *m);

PYPERF_API int32_t pyperf_thread__pid(const struct pyperf_thread *t);
PYPERF_API int32_t pyperf_thread__tid(const struct pyperf_thread *t);
PYPERF_API int32_t pyperf_thread__ppid(const struct pyperf_thread *t);

/**
 * pyperf_thread__comm() - the thread's current name. The pointer is
 * interned: equal names compare equal as pointers within one machine.
 */
PYPERF_API const char *pyperf_thread__comm(const struct pyperf_thread *t);

/** pyperf_thread__exited() - whether an EXIT record ended the thread. */
PYPERF_API bool pyperf_thread__exited(const struct pyperf_thread *t);

/**
 * pyperf_thread__maps_generation() - a number that changes whenever the
 * thread's maps change; equal numbers mean identical maps, also across
 * threads and processes. For caching resolutions.
 */
PYPERF_API uint64_t pyperf_thread__maps_generation(const struct pyperf_thread *t);

/**
 * pyperf_thread__find_map() - the map covering @addr, looked up in the
 * kernel maps for kernel @cpumode and in the process's maps otherwise.
 * Return: a borrowed map, valid until the maps change, or NULL.
 */
PYPERF_API const struct pyperf_map *pyperf_thread__find_map(struct pyperf_thread *t,
							    uint8_t cpumode, uint64_t addr);

/**
 * pyperf_thread__resolve() - map, dso and symbol of @addr.
 * @t: the thread.
 * @cpumode: PYPERF_CPUMODE_KERNEL or _USER (others resolve to nothing).
 * @addr: the address.
 * @loc: filled in.
 *
 * Return: true if a symbol was found.
 */
PYPERF_API bool pyperf_thread__resolve(struct pyperf_thread *t, uint8_t cpumode, uint64_t addr,
				       struct pyperf_addr_loc *loc);

/**
 * pyperf_machine__kernel_generation() - like pyperf_thread__maps_generation()
 * for the kernel maps (changed by kernel MMAP and KSYMBOL records).
 */
PYPERF_API uint64_t pyperf_machine__kernel_generation(const struct pyperf_machine *m);

/** pyperf_map__map_ip() - @addr in the map's dso space. */
PYPERF_API uint64_t pyperf_map__map_ip(const struct pyperf_map *map, uint64_t addr);

/** pyperf_machine__unknown_dso() - the "[unknown]" dso of unmapped addresses. */
PYPERF_API struct pyperf_dso *pyperf_machine__unknown_dso(struct pyperf_machine *m);

#ifdef __cplusplus
}
#endif

#endif /* PYPERF_MACHINE_H */
