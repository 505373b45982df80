/* Decoder: Zydis decodes the bytes exactly; this file turns its output into the compact
 * struct soft_op (register numbers, one memory operand, resolved immediates and branch targets)
 * and picks the handler from the per-CPU dispatch table built from the family tables. */
#include <stdio.h>

#include "accel/soft/soft_code.h"

/* Map a Zydis register onto an operand; false for registers the executor does not model. */
static bool map_reg(ZydisRegister r, struct soft_opnd *o)
{
	int id = ZydisRegisterGetId(r);
	switch (ZydisRegisterGetClass(r)) {
	case ZYDIS_REGCLASS_GPR8:
		o->kind = SOFT_OPND_REG;
		o->size = 1;
		o->reg = (uint8_t)(id < 4 ? id : id < 8 ? 16 + id - 4 : id - 4);
		return true;
	case ZYDIS_REGCLASS_GPR16: o->kind = SOFT_OPND_REG; o->size = 2; o->reg = (uint8_t)id; return true;
	case ZYDIS_REGCLASS_GPR32: o->kind = SOFT_OPND_REG; o->size = 4; o->reg = (uint8_t)id; return true;
	case ZYDIS_REGCLASS_GPR64: o->kind = SOFT_OPND_REG; o->size = 8; o->reg = (uint8_t)id; return true;
	case ZYDIS_REGCLASS_XMM: o->kind = SOFT_OPND_XMM; o->size = 16; o->reg = (uint8_t)id; return true;
	case ZYDIS_REGCLASS_X87: o->kind = SOFT_OPND_ST; o->size = 10; o->reg = (uint8_t)id; return true;
	case ZYDIS_REGCLASS_MMX: o->kind = SOFT_OPND_MMX; o->size = 8; o->reg = (uint8_t)id; return true;
	case ZYDIS_REGCLASS_SEGMENT: o->kind = SOFT_OPND_SEG; o->size = 2; o->reg = (uint8_t)id; return true;
	case ZYDIS_REGCLASS_CONTROL: o->kind = SOFT_OPND_CR; o->size = 8; o->reg = (uint8_t)id; return true;
	case ZYDIS_REGCLASS_DEBUG: o->kind = SOFT_OPND_DR; o->size = 8; o->reg = (uint8_t)id; return true;
	default: return false;
	}
}

static uint8_t gpr_index(ZydisRegister r)
{
	if (r == ZYDIS_REGISTER_NONE)
		return SOFT_NOREG;
	return (uint8_t)ZydisRegisterGetId(r);
}

static void set_ud(struct soft_op *op, uint64_t rip, unsigned len)
{
	memset(op, 0, sizeof(*op));
	op->fn = soft_h_ud;
	op->len = (uint8_t)len;
	op->next_rip = rip + len;
	op->base = op->index = SOFT_NOREG;
}

static bool ends_block(const ZydisDecodedInstruction *in)
{
	switch (in->meta.category) {
	case ZYDIS_CATEGORY_COND_BR: case ZYDIS_CATEGORY_UNCOND_BR: case ZYDIS_CATEGORY_CALL:
	case ZYDIS_CATEGORY_RET: case ZYDIS_CATEGORY_SYSCALL: case ZYDIS_CATEGORY_INTERRUPT:
		return true;
	default:
		break;
	}
	switch (in->mnemonic) {
	case ZYDIS_MNEMONIC_HLT: case ZYDIS_MNEMONIC_UD0: case ZYDIS_MNEMONIC_UD1:
	case ZYDIS_MNEMONIC_UD2: case ZYDIS_MNEMONIC_LOOP: case ZYDIS_MNEMONIC_LOOPE:
	case ZYDIS_MNEMONIC_LOOPNE: case ZYDIS_MNEMONIC_JRCXZ: case ZYDIS_MNEMONIC_JECXZ:
	/* System mode: the interrupt shadow after STI covers exactly the next instruction (the
	 * run loop runs it alone); the others change translation, mode or IF. */
	case ZYDIS_MNEMONIC_STI: case ZYDIS_MNEMONIC_WRMSR: case ZYDIS_MNEMONIC_LMSW:
	case ZYDIS_MNEMONIC_INVLPG: case ZYDIS_MNEMONIC_XSETBV: case ZYDIS_MNEMONIC_CLTS:
	case ZYDIS_MNEMONIC_POPF: case ZYDIS_MNEMONIC_POPFD: case ZYDIS_MNEMONIC_POPFQ: /* TF */
	case ZYDIS_MNEMONIC_SWAPGS: case ZYDIS_MNEMONIC_SYSRET: case ZYDIS_MNEMONIC_SYSEXIT:
	case ZYDIS_MNEMONIC_SYSENTER:
		return true;
	default:
		return false;
	}
}

/* The segment override of an instruction without an explicit memory operand (string, XLAT,
 * MASKMOVQ), else DS. */
static unsigned implicit_sreg(const ZydisDecodedInstruction *in)
{
	if (in->attributes & ZYDIS_ATTRIB_HAS_SEGMENT_ES)
		return SOFT_ES;
	if (in->attributes & ZYDIS_ATTRIB_HAS_SEGMENT_CS)
		return SOFT_CS;
	if (in->attributes & ZYDIS_ATTRIB_HAS_SEGMENT_SS)
		return SOFT_SS;
	if (in->attributes & ZYDIS_ATTRIB_HAS_SEGMENT_FS)
		return SOFT_FS;
	if (in->attributes & ZYDIS_ATTRIB_HAS_SEGMENT_GS)
		return SOFT_GS;
	return SOFT_DS;
}

static uint8_t seg_based(unsigned sreg)
{
	return (uint8_t)(SOFT_SEG_BASED | (sreg << SOFT_SEG_SREG_SHIFT));
}

/* Whether the mode's code is 16-bit (IP wraps at 64 KiB). */
static bool mode_is16(enum soft_cs_mode m)
{
	return m == SOFT_CS_COMPAT16 || m == SOFT_CS_LEGACY16 || m == SOFT_CS_REAL16;
}

bool soft_decode_insn(struct soft_cpu *c, const uint8_t *bytes, unsigned avail, uint64_t rip,
		      struct soft_op *op, bool *ends, ZyanStatus *status)
{
	ZydisDecodedInstruction in;
	ZydisDecodedOperand zo[ZYDIS_MAX_OPERAND_COUNT];
	bool compat = c->cs_mode != SOFT_CS_64;
	/* The instruction pointer wraps at the code size (IP at 64 KiB, EIP at 4 GiB). */
	uint64_t ipmask = !compat ? ~0ULL : mode_is16(c->cs_mode) ? 0xffff : 0xffffffff;
	*status = ZydisDecoderDecodeFull(&c->cache->dec[c->cs_mode], bytes, avail, &in, zo);
	if (!ZYAN_SUCCESS(*status)) {
		set_ud(op, rip, 1);
		op->next_rip &= ipmask;
		*ends = true;
		return false;
	}
	set_ud(op, rip, in.length);
	op->next_rip &= ipmask;
	*ends = ends_block(&in);
	op->mnem = (uint16_t)in.mnemonic;
	op->osize = (uint8_t)(in.operand_width / 8);
	op->asize = (uint8_t)(in.address_width / 8);
	op->cc = in.opcode & 0xf;
	if (in.attributes & ZYDIS_ATTRIB_HAS_LOCK)
		op->pfx |= SOFT_PFX_LOCK;
	if (in.attributes & (ZYDIS_ATTRIB_HAS_REP | ZYDIS_ATTRIB_HAS_REPE))
		op->pfx |= SOFT_PFX_REP;
	if (in.attributes & ZYDIS_ATTRIB_HAS_REPNE)
		op->pfx |= SOFT_PFX_REPNE;
	if (in.attributes & ZYDIS_ATTRIB_HAS_OPERANDSIZE)
		op->pfx |= SOFT_PFX_OSIZE;
	if (compat)
		op->pfx |= SOFT_PFX_COMPAT;
	bool far = in.meta.branch_type == ZYDIS_BRANCH_TYPE_FAR;
	unsigned n = in.operand_count_visible;
	if (n > 4)
		n = 4;
	bool have_imm = false;
	for (unsigned i = 0; i < n; i++) {
		const ZydisDecodedOperand *z = &zo[i];
		struct soft_opnd *o = &op->o[i];
		switch (z->type) {
		case ZYDIS_OPERAND_TYPE_REGISTER:
			if (!map_reg(z->reg.value, o))
				goto unsupported;
			break;
		case ZYDIS_OPERAND_TYPE_MEMORY:
			o->kind = SOFT_OPND_MEM;
			o->size = (uint8_t)(z->size / 8);
			op->scale = (uint8_t)(z->mem.scale == 8 ? 3 : z->mem.scale == 4 ? 2 :
					      z->mem.scale == 2 ? 1 : 0);
			op->disp = z->mem.disp.value;
			if (z->mem.base == ZYDIS_REGISTER_RIP || z->mem.base == ZYDIS_REGISTER_EIP) {
				op->disp += (int64_t)(rip + in.length);
				op->base = SOFT_NOREG;
			} else {
				op->base = gpr_index(z->mem.base);
			}
			op->index = gpr_index(z->mem.index);
			if (op->asize == 4)
				op->seg |= SOFT_SEG_ADDR32;
			else if (op->asize == 2) /* 16-bit code, or 67h in 32-bit code */
				op->seg |= SOFT_SEG_ADDR32 | SOFT_SEG_ADDR16;
			if (z->mem.type == ZYDIS_MEMOP_TYPE_AGEN)
				break;
			if (compat) { /* DS, SS for rBP/rSP bases, or the override */
				if (z->mem.segment >= ZYDIS_REGISTER_ES &&
				    z->mem.segment <= ZYDIS_REGISTER_GS)
					op->seg |= seg_based(z->mem.segment - ZYDIS_REGISTER_ES);
			} else {
				if (z->mem.segment == ZYDIS_REGISTER_FS)
					op->seg |= SOFT_SEG_FS;
				else if (z->mem.segment == ZYDIS_REGISTER_GS)
					op->seg |= SOFT_SEG_GS;
			}
			break;
		case ZYDIS_OPERAND_TYPE_POINTER: /* JMP/CALL ptr16:16/32: offset, selector */
			o->kind = SOFT_OPND_IMM;
			o->size = 8;
			op->imm = z->ptr.offset;
			op->aux = z->ptr.segment;
			have_imm = true;
			break;
		case ZYDIS_OPERAND_TYPE_IMMEDIATE:
			o->kind = SOFT_OPND_IMM;
			o->size = 8;
			if (z->imm.is_relative) {
				op->imm = rip + in.length + (uint64_t)z->imm.value.s;
				if (compat) /* EIP (IP with 66h) wraps */
					op->imm &= soft_mask(op->osize);
			} else if (have_imm) {
				op->aux = (uint32_t)z->imm.value.u;
			} else {
				op->imm = z->imm.is_signed ? (uint64_t)z->imm.value.s : z->imm.value.u;
			}
			have_imm = true;
			break;
		default:
			goto unsupported;
		}
	}
	op->nopnd = (uint8_t)n;
	/* String instructions, XLAT and MASKMOVQ address memory implicitly: an FS/GS override
	 * applies to their DS-relative operand. */
	bool has_mem = false;
	for (unsigned i = 0; i < n; i++)
		has_mem |= op->o[i].kind == SOFT_OPND_MEM;
	if (!has_mem && compat)
		op->seg |= seg_based(implicit_sreg(&in));
	else if (!has_mem && (in.attributes & ZYDIS_ATTRIB_HAS_SEGMENT_FS))
		op->seg |= SOFT_SEG_FS;
	else if (!has_mem && (in.attributes & ZYDIS_ATTRIB_HAS_SEGMENT_GS))
		op->seg |= SOFT_SEG_GS;
	/* Far transfers and segment register moves run in seg.c. */
	if (far) {
		op->fn = in.mnemonic == ZYDIS_MNEMONIC_JMP ? soft_h_jmp_far
			: in.mnemonic == ZYDIS_MNEMONIC_CALL ? soft_h_call_far
			: in.mnemonic == ZYDIS_MNEMONIC_RET ? soft_h_ret_far : soft_h_ud;
		return true;
	}
	bool sreg_opnd = n && (op->o[0].kind == SOFT_OPND_SEG ||
			       (n > 1 && op->o[1].kind == SOFT_OPND_SEG));
	if (sreg_opnd && (in.mnemonic == ZYDIS_MNEMONIC_MOV || in.mnemonic == ZYDIS_MNEMONIC_PUSH ||
			  in.mnemonic == ZYDIS_MNEMONIC_POP)) {
		op->fn = in.mnemonic == ZYDIS_MNEMONIC_MOV ? soft_h_mov_sreg
			: in.mnemonic == ZYDIS_MNEMONIC_PUSH ? soft_h_push_sreg : soft_h_pop_sreg;
		return true;
	}
	soft_handler fn = c->cache->dispatch[in.mnemonic];
	for (unsigned i = 0; i < n; i++)
		if (op->o[i].kind == SOFT_OPND_MMX)
			fn = c->cache->dispatch_mmx[in.mnemonic]; /* the MMX form of the mnemonic */
	for (unsigned i = 0; i < n; i++)
		if (op->o[i].kind == SOFT_OPND_CR || op->o[i].kind == SOFT_OPND_DR) {
			op->fn = soft_h_mov_crdr; /* may switch mode or paging: ends the block */
			*ends = true;
			return true;
		}
	if (!fn)
		goto unsupported;
	/* Zydis names the string and the SSE2 scalar forms alike. */
	if (n && (op->o[0].kind == SOFT_OPND_XMM || op->o[1].kind == SOFT_OPND_XMM)) {
		if (in.mnemonic == ZYDIS_MNEMONIC_MOVSD)
			fn = soft_h_movsd_sse;
		else if (in.mnemonic == ZYDIS_MNEMONIC_CMPSD)
			fn = soft_h_cmpsd_sse;
	}
	op->fn = fn;
	soft_handler fast = soft_fast_handler(op);
	if (fast)
		op->fn = fast;
	return true;
unsupported:
	op->fn = soft_h_ud;
	*ends = true;
	return true;
}

ZydisMachineMode soft_zydis_mode(enum soft_cs_mode m)
{
	switch (m) {
	case SOFT_CS_64: return ZYDIS_MACHINE_MODE_LONG_64;
	case SOFT_CS_COMPAT16: return ZYDIS_MACHINE_MODE_LONG_COMPAT_16;
	case SOFT_CS_LEGACY32: return ZYDIS_MACHINE_MODE_LEGACY_32;
	case SOFT_CS_LEGACY16: return ZYDIS_MACHINE_MODE_LEGACY_16;
	case SOFT_CS_REAL16: return ZYDIS_MACHINE_MODE_REAL_16;
	default: return ZYDIS_MACHINE_MODE_LONG_COMPAT_32;
	}
}

void soft_cpu_describe(struct soft_cpu *c, uint64_t rip, char *buf, size_t len)
{
	uint8_t bytes[15];
	unsigned n = 0;
	uint64_t lin = c->cs_base + rip; /* rip is CS's offset */
	snprintf(buf, len, "<unreadable>");
	for (; n < 15; n++) {
		struct soft_tlb_entry *e = soft_tlbe(c, lin + n);
		uint8_t *host;
		if (e->tag_x == ((lin + n) & ~0xfffULL)) {
			bytes[n] = *(uint8_t *)(uintptr_t)(lin + n + e->addend);
		} else if (c->mem->translate(c->mem_ctx, (lin + n) & ~0xfffULL, SOFT_ACC_READ,
					     &host) == 0) {
			bytes[n] = host[(lin + n) & 0xfff];
		} else {
			break;
		}
	}
	ZydisDisassembledInstruction d;
	if (n && ZYAN_SUCCESS(ZydisDisassembleIntel(soft_zydis_mode(c->cs_mode), rip, bytes, n,
						    &d))) {
		int k = snprintf(buf, len, "%s  [", d.text);
		for (unsigned i = 0; i < d.info.length && k > 0 && (size_t)k < len; i++)
			k += snprintf(buf + k, len - (size_t)k, "%s%02x", i ? " " : "", bytes[i]);
		if (k > 0 && (size_t)k < len)
			snprintf(buf + k, len - (size_t)k, "]");
	}
}
