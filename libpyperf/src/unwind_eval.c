// SPDX-License-Identifier: MIT
/*
 * DWARF expressions as CFI rules use them (the CFA and register
 * locations), evaluated against the registers and the stack copy of the
 * frame being stepped.
 */
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <errno.h>
#include "internal.h"
#include "unwind_internal.h"

int pyperf_unwind_eval(struct state *s, const Dwarf_Op *ops, size_t n, uint64_t cfa, bool have_cfa,
		       uint64_t *out, bool *is_value)
{
	uint64_t st[32], a, b;
	int sp = 0;

	*is_value = false;
#define PUSH(v)                                                                                    \
	do {                                                                                       \
		if (sp >= (int)ARRAY_SIZE(st))                                                     \
			return -EINVAL;                                                            \
		st[sp++] = (v);                                                                    \
	} while (0)
#define POP(v)                                                                                     \
	do {                                                                                       \
		if (sp <= 0)                                                                       \
			return -EINVAL;                                                            \
		(v) = st[--sp];                                                                    \
	} while (0)
	for (size_t i = 0; i < n; i++) {
		uint8_t op = ops[i].atom;

		if (op >= DW_OP_lit0 && op <= DW_OP_lit31) {
			PUSH((uint64_t)(op - DW_OP_lit0));
		} else if (op >= DW_OP_breg0 && op <= DW_OP_breg31) {
			if (!pyperf_unwind_reg_get(s, op - DW_OP_breg0, &a))
				return -EINVAL;
			PUSH(a + (uint64_t)(int64_t)ops[i].number);
		} else if (op >= DW_OP_reg0 && op <= DW_OP_reg31) {
			/* the register itself: its value */
			if (!pyperf_unwind_reg_get(s, op - DW_OP_reg0, &a))
				return -EINVAL;
			*out = a;
			*is_value = true;
			return 0;
		} else {
			switch (op) {
			case DW_OP_bregx:
				if (!pyperf_unwind_reg_get(s, (int)ops[i].number, &a))
					return -EINVAL;
				PUSH(a + (uint64_t)(int64_t)ops[i].number2);
				break;
			case DW_OP_regx:
				if (!pyperf_unwind_reg_get(s, (int)ops[i].number, &a))
					return -EINVAL;
				*out = a;
				*is_value = true;
				return 0;
			case DW_OP_call_frame_cfa:
				if (!have_cfa)
					return -EINVAL;
				PUSH(cfa);
				break;
			case DW_OP_const1u:
			case DW_OP_const2u:
			case DW_OP_const4u:
			case DW_OP_const8u:
			case DW_OP_constu:
			case DW_OP_const1s:
			case DW_OP_const2s:
			case DW_OP_const4s:
			case DW_OP_const8s:
			case DW_OP_consts:
				PUSH(ops[i].number);
				break;
			case DW_OP_plus_uconst:
				POP(a);
				PUSH(a + ops[i].number);
				break;
			case DW_OP_deref:
				POP(a);
				if (!pyperf_unwind_read_mem(s, a, &b))
					return -EFAULT;
				PUSH(b);
				break;
			case DW_OP_dup:
				POP(a);
				PUSH(a);
				PUSH(a);
				break;
			case DW_OP_drop:
				POP(a);
				break;
			case DW_OP_over:
				if (sp < 2)
					return -EINVAL;
				a = st[sp - 2];
				PUSH(a);
				break;
			case DW_OP_swap:
				POP(a);
				POP(b);
				PUSH(a);
				PUSH(b);
				break;
			case DW_OP_neg:
				POP(a);
				PUSH(-a);
				break;
			case DW_OP_not:
				POP(a);
				PUSH(~a);
				break;
			case DW_OP_plus:
			case DW_OP_minus:
			case DW_OP_mul:
			case DW_OP_and:
			case DW_OP_or:
			case DW_OP_xor:
			case DW_OP_shl:
			case DW_OP_shr:
			case DW_OP_shra:
			case DW_OP_ge:
			case DW_OP_gt:
			case DW_OP_le:
			case DW_OP_lt:
			case DW_OP_eq:
			case DW_OP_ne:
				POP(b);
				POP(a);
				switch (op) {
				case DW_OP_plus:
					a = a + b;
					break;
				case DW_OP_minus:
					a = a - b;
					break;
				case DW_OP_mul:
					a = a * b;
					break;
				case DW_OP_and:
					a = a & b;
					break;
				case DW_OP_or:
					a = a | b;
					break;
				case DW_OP_xor:
					a = a ^ b;
					break;
				case DW_OP_shl:
					a = b < 64 ? a << b : 0;
					break;
				case DW_OP_shr:
					a = b < 64 ? a >> b : 0;
					break;
				case DW_OP_shra:
					a = (uint64_t)((int64_t)a >> (b < 64 ? b : 63));
					break;
				case DW_OP_ge:
					a = (int64_t)a >= (int64_t)b;
					break;
				case DW_OP_gt:
					a = (int64_t)a > (int64_t)b;
					break;
				case DW_OP_le:
					a = (int64_t)a <= (int64_t)b;
					break;
				case DW_OP_lt:
					a = (int64_t)a < (int64_t)b;
					break;
				case DW_OP_eq:
					a = a == b;
					break;
				default:
					a = a != b;
					break;
				}
				PUSH(a);
				break;
			case DW_OP_stack_value:
				*is_value = true;
				break;
			case DW_OP_nop:
				break;
			default:
				return -EINVAL;
			}
		}
	}
	if (!sp)
		return -EINVAL;
	*out = st[sp - 1];
	return 0;
#undef PUSH
#undef POP
}
