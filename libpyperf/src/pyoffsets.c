/* SPDX-License-Identifier: MIT */
/* CPython struct layouts: the generated table and 3.13's _Py_DebugOffsets. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "internal.h"
#include "pyoffsets.h"

static const struct pyperf_pyoffsets table[] = {
#include "pyoffsets_table.h"
};

const struct pyperf_pyoffsets *pyperf_pyoffsets_find(uint32_t version)
{
	for (size_t i = 0; i < ARRAY_SIZE(table); i++)
		if (table[i].version == (version & 0xffff0000u))
			return &table[i];
	return NULL;
}

const struct pyperf_pyoffsets *pyperf_pyoffsets_at(size_t i)
{
	return i < ARRAY_SIZE(table) ? &table[i] : NULL;
}

/*
 * The words of 3.13's struct _Py_DebugOffsets (Include/internal/
 * pycore_runtime.h), in order: every member is a uint64_t after the 8-byte
 * cookie, so a member is found by its index.
 */
enum {
	D_VERSION = 1,
	D_FREE_THREADED = 2,
	D_RT_INTERP_HEAD = 5,
	D_IS_NEXT = 8,
	D_IS_THREADS_HEAD = 9,
	D_IS_CEVAL_GIL = 14,
	D_IS_GIL = 15,
	D_IS_GIL_LOCKED = 17,
	D_IS_GIL_HOLDER = 18,
	D_TS_NEXT = 21,
	D_TS_INTERP = 22,
	D_TS_CURRENT_FRAME = 23,
	D_TS_THREAD_ID = 24,
	D_TS_NATIVE_TID = 25,
	D_IF_SIZE = 28,
	D_IF_PREVIOUS = 29,
	D_IF_EXECUTABLE = 30,
	D_IF_INSTR_PTR = 31,
	D_IF_OWNER = 33,
	D_CO_SIZE = 34,
	D_CO_FILENAME = 35,
	D_CO_NAME = 36,
	D_CO_QUALNAME = 37,
	D_CO_LINETABLE = 38,
	D_CO_FIRSTLINENO = 39,
	D_CO_ADAPTIVE = 43,
	D_PO_OB_TYPE = 45,
	D_TY_TP_NAME = 47,
	D_TU_OB_SIZE = 52,
	D_BY_OB_SVAL = 66,
	D_UN_STATE = 68,
	D_UN_LENGTH = 69,
	D_UN_ASCII_SIZE = 70,
	D_WORDS = 73,
};

/* The fields all six versions share, for comparing two layouts. */
static bool same_layout(const struct pyperf_pyoffsets *a, const struct pyperf_pyoffsets *b)
{
	const size_t first = offsetof(struct pyperf_pyoffsets, runtime_interp_head);

	return !memcmp((const char *)a + first, (const char *)b + first, sizeof(*a) - first);
}

int pyperf_pyoffsets_from_debug(const void *raw, size_t size, struct pyperf_pyoffsets *out,
				char *why, size_t why_size)
{
	const struct pyperf_pyoffsets *t = pyperf_pyoffsets_find(0x030d0000);
	uint64_t w[D_WORDS];
	struct pyperf_pyoffsets o;

	if (size < sizeof(w) || memcmp(raw, PYPERF_DEBUG_COOKIE, 8)) {
		snprintf(why, why_size, "no _Py_DebugOffsets cookie at the start of _PyRuntime");
		return -EBADMSG;
	}
	memcpy(w, raw, sizeof(w));
	if ((w[D_VERSION] & 0xffff0000u) != 0x030d0000u) {
		snprintf(why, why_size, "_Py_DebugOffsets of version %#llx, not 3.13",
			 (unsigned long long)w[D_VERSION]);
		return -EOPNOTSUPP;
	}
	if (w[D_FREE_THREADED]) {
		snprintf(why, why_size,
			 "a free-threaded build (its objects are laid out otherwise)");
		return -EOPNOTSUPP;
	}
	/* Offsets are small: a huge one means the bytes are not what we think. */
	for (size_t i = D_RT_INTERP_HEAD; i < D_WORDS; i++)
		if (w[i] > (1u << 24)) {
			snprintf(why, why_size, "_Py_DebugOffsets word %zu is %#llx", i,
				 (unsigned long long)w[i]);
			return -EBADMSG;
		}
	if (!t) {
		snprintf(why, why_size, "no 3.13 entry in the offset table");
		return -EOPNOTSUPP;
	}
	/*
	 * What the structure does not publish follows from C's layout rules
	 * and from values fixed in 3.13: tp_basicsize follows tp_name in
	 * PyTypeObject, PyCompactUnicodeObject is PyASCIIObject plus a size
	 * and a pointer (its data follows), PyVarObject's ob_size is the one
	 * the tuple offsets give, the GIL's locked is an int, C-stack shim
	 * frames are owner 3, and the state bits are those of the table.
	 */
	o = *t;
	o.builds = "this interpreter's _Py_DebugOffsets (equal to the table's)";
	o.runtime_interp_head = (int32_t)w[D_RT_INTERP_HEAD];
	o.interp_next = (int32_t)w[D_IS_NEXT];
	o.interp_tstate_head = (int32_t)w[D_IS_THREADS_HEAD];
	o.interp_runtime = t->interp_runtime; /* not published; only used to cross-check */
	o.runtime_gil = -1;
	o.interp_gil_ptr = (int32_t)w[D_IS_CEVAL_GIL];
	o.gil_locked = (int32_t)(w[D_IS_GIL_LOCKED] - w[D_IS_GIL]);
	o.gil_holder = (int32_t)(w[D_IS_GIL_HOLDER] - w[D_IS_GIL]);
	o.tstate_next = (int32_t)w[D_TS_NEXT];
	o.tstate_interp = (int32_t)w[D_TS_INTERP];
	o.tstate_thread_id = (int32_t)w[D_TS_THREAD_ID];
	o.tstate_native_tid = (int32_t)w[D_TS_NATIVE_TID];
	o.tstate_frame = (int32_t)w[D_TS_CURRENT_FRAME];
	o.cframe_current_frame = -1;
	o.frame_back = (int32_t)w[D_IF_PREVIOUS];
	o.frame_code = (int32_t)w[D_IF_EXECUTABLE];
	o.frame_instr = (int32_t)w[D_IF_INSTR_PTR];
	o.frame_owner = (int32_t)w[D_IF_OWNER];
	o.frame_size = (int32_t)w[D_IF_SIZE];
	o.code_basicsize = (int32_t)w[D_CO_SIZE];
	o.code_name = (int32_t)w[D_CO_NAME];
	o.code_qualname = (int32_t)w[D_CO_QUALNAME];
	o.code_filename = (int32_t)w[D_CO_FILENAME];
	o.code_firstlineno = (int32_t)w[D_CO_FIRSTLINENO];
	o.code_linetable = (int32_t)w[D_CO_LINETABLE];
	o.code_adaptive = (int32_t)w[D_CO_ADAPTIVE];
	o.ob_type = (int32_t)w[D_PO_OB_TYPE];
	o.var_size = (int32_t)w[D_TU_OB_SIZE];
	o.type_basicsize = (int32_t)w[D_TY_TP_NAME] + 8;
	o.bytes_sval = (int32_t)w[D_BY_OB_SVAL];
	o.unicode_state = (int32_t)w[D_UN_STATE];
	o.unicode_length = (int32_t)w[D_UN_LENGTH];
	o.ascii_size = (int32_t)w[D_UN_ASCII_SIZE];
	o.compact_size = o.ascii_size + 16;
	o.unicode_data = o.compact_size;
	/* The identity window: the four pointers, when they sit together. */
	{
		int32_t lo =
		    MIN(MIN(o.code_filename, o.code_name), MIN(o.code_qualname, o.code_linetable));
		int32_t hi =
		    MAX(MAX(o.code_filename, o.code_name), MAX(o.code_qualname, o.code_linetable));

		if (hi + 8 - lo <= 48) {
			o.code_ident = lo;
			o.code_ident_len = hi + 8 - lo;
		} else {
			o.code_ident = o.code_linetable;
			o.code_ident_len = 8;
		}
	}
	/* PyFrameObject is not described; its size only cross-checks. */
	if (!same_layout(&o, t)) {
		o.builds = "this interpreter's _Py_DebugOffsets (other than the table's)";
		o.pyframe_basicsize = -1;
	}
	*out = o;
	return 0;
}
