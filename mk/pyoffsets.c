/* SPDX-License-Identifier: MIT */
/*
 * Prints the struct offsets the interpreter-frame walker needs, as one C
 * initializer of struct pyperf_pyoffsets (libpyperf/src/pyoffsets.h), from
 * the headers of the CPython this file is compiled against. Run by
 * mk/gen-pyoffsets.sh once per interpreter; never linked into libpyperf.
 *
 *	cc -DPy_BUILD_CORE -I$inc -I$inc/internal mk/pyoffsets.c
 *
 * Every number comes from offsetof()/sizeof() on the interpreter's own
 * structs, so the table holds exactly the layout of the builds it was made
 * from (release builds: a Py_DEBUG or Py_TRACE_REFS build has other sizes).
 */
#define Py_BUILD_CORE 1
#include <Python.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#if PY_VERSION_HEX < 0x03080000 || PY_VERSION_HEX >= 0x030e0000
#error "pyoffsets.c knows CPython 3.8 to 3.13"
#endif

#if PY_VERSION_HEX < 0x03090000
#include <frameobject.h>
#include <internal/pycore_pystate.h>
#else
#include <internal/pycore_interp.h>
#include <internal/pycore_runtime.h>
#endif
#if PY_VERSION_HEX < 0x030b0000
#include <frameobject.h>
#else
#include <internal/pycore_frame.h>
#endif
#if PY_VERSION_HEX >= 0x030c0000
#include <internal/pycore_gil.h>
#endif

#define F(name, value) printf("\t.%s = %ld,\n", #name, (long)(value))
#define NONE(name) printf("\t.%s = -1,\n", #name)

/* The bit position and width of a bit-field, found by setting all its bits. */
static void bitfield(const char *name, const unsigned char *bytes, size_t size)
{
	int lo = -1, hi = -1;

	for (size_t i = 0; i < size * 8; i++)
		if (bytes[i / 8] & (1u << (i % 8))) {
			if (lo < 0)
				lo = (int)i;
			hi = (int)i;
		}
	printf("\t.%s_shift = %d, .%s_bits = %d,\n", name, lo, name, hi - lo + 1);
}

#define STATE_BITS(field)                                                                          \
	do {                                                                                       \
		PyASCIIObject a;                                                                   \
		memset(&a, 0, sizeof(a));                                                          \
		a.state.field = ~0u;                                                               \
		bitfield(#field, (const unsigned char *)&a + offsetof(PyASCIIObject, state),       \
			 sizeof(a.state));                                                         \
	} while (0)

int main(void)
{
	printf("{\n");
	printf("\t.version = 0x%08x,\n", PY_VERSION_HEX & 0xffff0000);
	/* _PyRuntimeState and the interpreters */
	F(runtime_interp_head, offsetof(_PyRuntimeState, interpreters.head));
	F(interp_next, offsetof(PyInterpreterState, next));
#if PY_VERSION_HEX < 0x030b0000
	F(interp_tstate_head, offsetof(PyInterpreterState, tstate_head));
#else
	F(interp_tstate_head, offsetof(PyInterpreterState, threads.head));
#endif
#if PY_VERSION_HEX >= 0x03090000
	F(interp_runtime, offsetof(PyInterpreterState, runtime));
#else
	NONE(interp_runtime);
#endif
	/* The GIL: in the runtime up to 3.11, behind interp->ceval.gil from 3.12. */
#if PY_VERSION_HEX < 0x030c0000
	F(runtime_gil, offsetof(_PyRuntimeState, ceval.gil));
	NONE(interp_gil_ptr);
#else
	NONE(runtime_gil);
	F(interp_gil_ptr, offsetof(PyInterpreterState, ceval.gil));
#endif
	F(gil_locked, offsetof(struct _gil_runtime_state, locked));
	F(gil_locked_size, sizeof(((struct _gil_runtime_state *)0)->locked));
	F(gil_holder, offsetof(struct _gil_runtime_state, last_holder));
	/* PyThreadState */
	F(tstate_next, offsetof(PyThreadState, next));
	F(tstate_interp, offsetof(PyThreadState, interp));
	F(tstate_thread_id, offsetof(PyThreadState, thread_id));
#if PY_VERSION_HEX >= 0x030b0000
	F(tstate_native_tid, offsetof(PyThreadState, native_thread_id));
#else
	NONE(tstate_native_tid);
#endif
#if PY_VERSION_HEX < 0x030b0000
	F(tstate_frame, offsetof(PyThreadState, frame));
	NONE(cframe_current_frame);
#elif PY_VERSION_HEX < 0x030d0000
	F(tstate_frame, offsetof(PyThreadState, cframe));
	F(cframe_current_frame, offsetof(_PyCFrame, current_frame));
#else
	F(tstate_frame, offsetof(PyThreadState, current_frame));
	NONE(cframe_current_frame);
#endif
	/* Frames: PyFrameObject up to 3.10, _PyInterpreterFrame from 3.11. */
#if PY_VERSION_HEX < 0x030b0000
	F(frame_back, offsetof(PyFrameObject, f_back));
	F(frame_code, offsetof(PyFrameObject, f_code));
	F(frame_lasti, offsetof(PyFrameObject, f_lasti));
	NONE(frame_instr);
	NONE(frame_owner);
	NONE(frame_is_entry);
	F(frame_size, sizeof(PyFrameObject));
	/* f_lasti counts bytes up to 3.9 and code units in 3.10. */
	F(lasti_scale, PY_VERSION_HEX < 0x030a0000 ? 1 : sizeof(_Py_CODEUNIT));
	NONE(owner_cstack);
#else
	F(frame_back, offsetof(_PyInterpreterFrame, previous));
#if PY_VERSION_HEX < 0x030d0000
	F(frame_code, offsetof(_PyInterpreterFrame, f_code));
	F(frame_instr, offsetof(_PyInterpreterFrame, prev_instr));
#else
	F(frame_code, offsetof(_PyInterpreterFrame, f_executable));
	F(frame_instr, offsetof(_PyInterpreterFrame, instr_ptr));
#endif
	NONE(frame_lasti);
	F(frame_owner, offsetof(_PyInterpreterFrame, owner));
#if PY_VERSION_HEX < 0x030c0000
	F(frame_is_entry, offsetof(_PyInterpreterFrame, is_entry));
	NONE(owner_cstack);
#else
	NONE(frame_is_entry);
	F(owner_cstack, FRAME_OWNED_BY_CSTACK);
#endif
	F(frame_size, sizeof(_PyInterpreterFrame));
	F(lasti_scale, 0);
#endif
	F(pyframe_basicsize, sizeof(PyFrameObject));
	/* Code objects */
	F(code_basicsize, sizeof(PyCodeObject));
	F(code_name, offsetof(PyCodeObject, co_name));
#if PY_VERSION_HEX >= 0x030b0000
	F(code_qualname, offsetof(PyCodeObject, co_qualname));
#else
	NONE(code_qualname);
#endif
	F(code_filename, offsetof(PyCodeObject, co_filename));
	F(code_firstlineno, offsetof(PyCodeObject, co_firstlineno));
#if PY_VERSION_HEX < 0x030a0000
	F(code_linetable, offsetof(PyCodeObject, co_lnotab));
#else
	F(code_linetable, offsetof(PyCodeObject, co_linetable));
#endif
#if PY_VERSION_HEX < 0x030b0000
	F(code_code, offsetof(PyCodeObject, co_code));
	NONE(code_adaptive);
	/* Identity: the argument counts, flags, first line and the co_code
	 * pointer, all fixed once the code object exists. */
	F(code_ident, offsetof(PyCodeObject, co_argcount));
	F(code_ident_len,
	  offsetof(PyCodeObject, co_code) + sizeof(void *) - offsetof(PyCodeObject, co_argcount));
#else
	NONE(code_code);
	F(code_adaptive, offsetof(PyCodeObject, co_code_adaptive));
	/* Identity: filename, name, qualname and line table pointers. */
	F(code_ident, offsetof(PyCodeObject, co_filename));
	F(code_ident_len, offsetof(PyCodeObject, co_linetable) + sizeof(void *) -
			      offsetof(PyCodeObject, co_filename));
#endif
	/* Objects */
	F(ob_type, offsetof(PyObject, ob_type));
	F(var_size, offsetof(PyVarObject, ob_size));
	F(type_basicsize, offsetof(PyTypeObject, tp_basicsize));
	F(bytes_sval, offsetof(PyBytesObject, ob_sval));
	F(unicode_state, offsetof(PyASCIIObject, state));
	F(unicode_length, offsetof(PyASCIIObject, length));
	F(ascii_size, sizeof(PyASCIIObject));
	F(compact_size, sizeof(PyCompactUnicodeObject));
#if PY_VERSION_HEX < 0x030c0000
	F(unicode_data, offsetof(PyUnicodeObject, data));
#else
	F(unicode_data, offsetof(PyUnicodeObject, data));
#endif
	STATE_BITS(kind);
	STATE_BITS(compact);
	STATE_BITS(ascii);
	printf("},\n");
	return 0;
}
