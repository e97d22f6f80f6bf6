/* SPDX-License-Identifier: MIT */
/*
 * The layout of one CPython version's structs, as far as the interpreter
 * walker reads them: from the generated table (3.8-3.13, made from each
 * version's headers by mk/gen-pyoffsets.sh) or, for 3.13, from the
 * _Py_DebugOffsets the interpreter publishes at the start of _PyRuntime.
 * Offsets are bytes; -1 where the version has no such field.
 */
#ifndef PYPERF_PYOFFSETS_H
#define PYPERF_PYOFFSETS_H

#include <stddef.h>
#include <stdint.h>

struct pyperf_pyoffsets {
	const char *builds; /* the builds the entry was made from */
	uint32_t version;   /* PY_VERSION_HEX of major.minor: 0x030b0000 */
	int32_t runtime_interp_head;
	int32_t interp_next;
	int32_t interp_tstate_head;
	int32_t interp_runtime;
	int32_t runtime_gil;
	int32_t interp_gil_ptr;
	int32_t gil_locked;
	int32_t gil_locked_size;
	int32_t gil_holder;
	int32_t tstate_next;
	int32_t tstate_interp;
	int32_t tstate_thread_id;
	int32_t tstate_native_tid;
	int32_t tstate_frame;
	int32_t cframe_current_frame;
	int32_t frame_back;
	int32_t frame_code;
	int32_t frame_lasti;
	int32_t frame_instr;
	int32_t frame_owner;
	int32_t frame_is_entry;
	int32_t frame_size;
	int32_t lasti_scale;
	int32_t owner_cstack;
	int32_t pyframe_basicsize;
	int32_t code_basicsize;
	int32_t code_name;
	int32_t code_qualname;
	int32_t code_filename;
	int32_t code_firstlineno;
	int32_t code_linetable;
	int32_t code_code;
	int32_t code_adaptive;
	int32_t code_ident;
	int32_t code_ident_len;
	int32_t ob_type;
	int32_t var_size;
	int32_t type_basicsize;
	int32_t bytes_sval;
	int32_t unicode_state;
	int32_t unicode_length;
	int32_t ascii_size;
	int32_t compact_size;
	int32_t unicode_data;
	int32_t kind_shift, kind_bits;
	int32_t compact_shift, compact_bits;
	int32_t ascii_shift, ascii_bits;
};

/* The table's entry for a major.minor (PY_VERSION_HEX & 0xffff0000), or NULL. */
const struct pyperf_pyoffsets *pyperf_pyoffsets_find(uint32_t version);
/* The table's entries, for tests. */
const struct pyperf_pyoffsets *pyperf_pyoffsets_at(size_t i);

/* What struct _Py_DebugOffsets of 3.13 holds: its size, and where it starts. */
#define PYPERF_DEBUG_COOKIE "xdebugpy"
#define PYPERF_DEBUG_OFFSETS_SIZE 584

/*
 * Fills @out from the _Py_DebugOffsets bytes @raw (the first
 * PYPERF_DEBUG_OFFSETS_SIZE bytes of _PyRuntime of a 3.13): the fields the
 * structure publishes come from it; the few it lacks (the GIL's field
 * sizes, the unicode bit layout, code_basicsize...) from the table's 3.13
 * entry, and only when every field both give agrees, so a build laid out
 * otherwise is refused rather than half-read. Returns 0, -EBADMSG (no
 * cookie), -EOPNOTSUPP (not 3.13, free-threaded, or laid out otherwise
 * than the table's builds where the structure is silent).
 */
int pyperf_pyoffsets_from_debug(const void *raw, size_t size, struct pyperf_pyoffsets *out,
				char *why, size_t why_size);

#endif /* PYPERF_PYOFFSETS_H */
