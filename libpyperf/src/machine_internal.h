/* SPDX-License-Identifier: MIT */
#ifndef PYPERF_MACHINE_INTERNAL_H
#define PYPERF_MACHINE_INTERNAL_H

#include <pyperf/machine.h>

/* Maps of @filename (e.g. "/tmp/perf-PID.map") use @dso instead of the one
 * the symbol cache would give: a recording's embedded copy of the file. */
int machine_override_dso(struct pyperf_machine *m, const char *filename, struct pyperf_dso *dso);

/* Whether @filename already has an override. */
bool machine_has_override(const struct pyperf_machine *m, const char *filename);

#endif
