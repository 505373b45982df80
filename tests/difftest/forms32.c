/* Compatibility-mode forms of the differential tester: 32-bit code (default operand and address
 * size 32, ESP stack, no REX) that native.c runs after a far jump to the 32-bit user code
 * segment. Forms are encoded with the Zydis encoder in LONG_COMPAT_32 mode, plus hand-written
 * sequences for what the encoder does not pick (INC/DEC short forms, 67h LOOP/JCXZ/strings) or
 * what needs absolute addresses (CALL/RET/JMP through registers and the stack).
 *
 * Inputs: EBX points into the data area for memory operands, ESI/EDI at the string buffers,
 * ESP at the stack, EBP holds 0xffffff00 and is used as an index register, so that
 * [ebx+ebp+disp] reaches the data area only when the address wraps at 4 GiB. The upper halves
 * of the GPRs hold garbage half the time (invisible in compatibility mode); only the low 32 bits
 * of EAX..EDI are compared. */
#include <stdio.h>
#include <string.h>

#include <Zydis/Zydis.h>

#include "difftest.h"

enum { CF = 1, PF = 4, AF = 0x10, ZF = 0x40, SF = 0x80, DF = 0x400, OF = 0x800 };
enum { S1 = 1, S2 = 2, S4 = 4, S124 = 7, S24 = 6 };
enum { K_SHIFT = 1, K_REP = 2, K_REPNE = 4, K_STR = 8, K_RAW = 16 };
enum { WRAP_INDEX = 0xffffff00u };

/* Hand-written sequences (K_RAW forms; mnem is one of these). */
enum { R_CALL_POP, R_CALL_RET, R_RET_IMM, R_CALL_REG, R_JMP_REG, R_LEAVE, R_ENTER0, R_ENTER1,
       R_LOOP, R_LOOP16, R_JECXZ, R_JCXZ, R_INCDEC, R_INCDEC16, R_REP_MOVSB16, R_REP_STOSD16,
       R_JCC, R_PUSHPOP16, R_COUNT };

struct form32 {
	uint16_t mnem;
	const char *ops;
	uint8_t sizes;
	uint16_t undef;
	uint8_t kind;
};

#define M(x) ZYDIS_MNEMONIC_##x
#define ALU(x, u) { M(x), "rr", S124, u, 0 }, { M(x), "ri", S124, u, 0 }, \
	{ M(x), "rm", S124, u, 0 }, { M(x), "mr", S124, u, 0 }, { M(x), "mi", S124, u, 0 }
#define SHIFT(x, u) { M(x), "r1", S124, u, K_SHIFT }, { M(x), "rb", S124, u, K_SHIFT }, \
	{ M(x), "rc", S124, u, K_SHIFT }, { M(x), "mc", S124, u, K_SHIFT }
#define STR3(x, k) { M(x##B), "", S1, 0, K_STR | (k) }, { M(x##W), "", S1, 0, K_STR | (k) }, \
	{ M(x##D), "", S1, 0, K_STR | (k) }
#define RAW(r) { r, "", S1, 0, K_RAW }
#define MDIV (SF | ZF | AF | PF | CF | OF)
#define MULU (SF | ZF | AF | PF)

static const struct form32 forms[] = {
	ALU(ADD, 0), ALU(OR, AF), ALU(ADC, 0), ALU(SBB, 0), ALU(AND, AF), ALU(SUB, 0), ALU(XOR, AF),
	ALU(CMP, 0),
	{ M(TEST), "rr", S124, AF, 0 }, { M(TEST), "ri", S124, AF, 0 }, { M(TEST), "mr", S124, AF, 0 },
	{ M(INC), "r", S124, 0, 0 }, { M(INC), "m", S124, 0, 0 }, { M(DEC), "r", S124, 0, 0 },
	{ M(DEC), "m", S124, 0, 0 }, { M(NEG), "r", S124, 0, 0 }, { M(NOT), "m", S124, 0, 0 },
	{ M(MOV), "rr", S124, 0, 0 }, { M(MOV), "ri", S124, 0, 0 }, { M(MOV), "rm", S124, 0, 0 },
	{ M(MOV), "mr", S124, 0, 0 }, { M(MOV), "mi", S124, 0, 0 },
	{ M(MOVZX), "rg", S24, 0, 0 }, { M(MOVZX), "rG", S24, 0, 0 }, { M(MOVSX), "rg", S24, 0, 0 },
	{ M(MOVSX), "rH", S4, 0, 0 }, { M(LEA), "rm", S24, 0, 0 }, { M(LEA), "rw", S24, 0, 0 },
	{ M(XCHG), "rr", S124, 0, 0 }, { M(XCHG), "mr", S124, 0, 0 }, { M(XADD), "mr", S124, 0, 0 },
	{ M(CMPXCHG), "mr", S124, 0, 0 },
	SHIFT(SHL, AF), SHIFT(SHR, AF), SHIFT(SAR, AF), SHIFT(ROL, 0), SHIFT(ROR, 0), SHIFT(RCL, 0),
	SHIFT(RCR, 0),
	{ M(SHLD), "rrb", S4, AF, K_SHIFT }, { M(SHRD), "mrc", S4, AF, K_SHIFT },
	{ M(MUL), "r", S124, MULU, 0 }, { M(MUL), "m", S124, MULU, 0 },
	{ M(IMUL), "r", S124, MULU, 0 }, { M(IMUL), "rr", S24, MULU, 0 },
	{ M(IMUL), "rmi", S24, MULU, 0 },
	{ M(DIV), "r", S124, MDIV, 0 }, { M(DIV), "m", S124, MDIV, 0 },
	{ M(IDIV), "r", S124, MDIV, 0 }, { M(IDIV), "m", S124, MDIV, 0 },
	{ M(BT), "rr", S24, OF | SF | AF | PF, 0 }, { M(BTS), "mb", S24, OF | SF | AF | PF, 0 },
	{ M(BSF), "rr", S24, CF | OF | SF | AF | PF, 0 }, { M(BSWAP), "r", S4, 0, 0 },
	{ M(SETNBE), "r", S1, 0, 0 }, { M(SETL), "m", S1, 0, 0 }, { M(CMOVLE), "rr", S24, 0, 0 },
	{ M(CMOVB), "rm", S24, 0, 0 },
	{ M(CBW), "", S1, 0, 0 }, { M(CWDE), "", S1, 0, 0 }, { M(CWD), "", S1, 0, 0 },
	{ M(CDQ), "", S1, 0, 0 }, { M(CMC), "", S1, 0, 0 }, { M(LAHF), "", S1, 0, 0 },
	{ M(SAHF), "", S1, 0, 0 },
	{ M(PUSH), "r", S4, 0, 0 }, { M(PUSH), "m", S4, 0, 0 }, { M(PUSH), "i", S4, 0, 0 },
	{ M(POP), "r", S4, 0, 0 }, { M(POP), "m", S4, 0, 0 },
	{ M(PUSHAD), "", S1, 0, 0 }, { M(POPAD), "", S1, 0, 0 }, { M(PUSHA), "", S1, 0, 0 },
	STR3(MOVS, 0), STR3(MOVS, K_REP), STR3(STOS, K_REP), STR3(LODS, 0), STR3(CMPS, K_REP),
	STR3(SCAS, K_REPNE),
	RAW(R_CALL_POP), RAW(R_CALL_RET), RAW(R_RET_IMM), RAW(R_CALL_REG), RAW(R_JMP_REG),
	RAW(R_LEAVE), RAW(R_ENTER0), RAW(R_ENTER1), RAW(R_LOOP), RAW(R_LOOP16), RAW(R_JECXZ),
	RAW(R_JCXZ), RAW(R_INCDEC), RAW(R_INCDEC16), RAW(R_REP_MOVSB16), RAW(R_REP_STOSD16),
	RAW(R_JCC), RAW(R_PUSHPOP16),
};

#define NFORMS (sizeof(forms) / sizeof(forms[0]))

static const uint32_t edges[] = { 0, 1, 0x7f, 0x80, 0x7fffffff, 0x80000000, 0xffffffff, 2, 0xff,
				  0x7fff, 0x8000, 0xffff, 0x10000, 0x12345678 };
#define NEDGES (sizeof(edges) / sizeof(edges[0]))

/* GPRs tests may overwrite: EAX, ECX, EDX (EBX, ESP, EBP, ESI, EDI address memory). */
static const uint8_t pool[] = { 0, 1, 2 };

void dt_compat_mask(struct dt_state *s)
{
	for (unsigned i = 0; i < 16; i++)
		s->gpr[i] = i < 8 ? (uint32_t)s->gpr[i] : 0;
}

unsigned dt_compat_form_count(void)
{
	return NFORMS;
}

static const char *const raw_names[R_COUNT] = {
	"call;pop", "call;ret", "ret imm16", "call reg", "jmp reg", "push;mov;sub;leave",
	"enter 16,0", "enter 8,1", "loop", "67 loop", "jecxz", "67 jcxz", "inc/dec r32 (40-4f)",
	"66 inc/dec r16", "67 rep movsb", "67 rep stosd", "jcc", "66 push/pop",
};

const char *dt_compat_form_name(unsigned f, char *buf, size_t len)
{
	const struct form32 *d = &forms[f];
	if (d->kind & K_RAW)
		snprintf(buf, len, "compat %s", raw_names[d->mnem]);
	else
		snprintf(buf, len, "compat %s%s %s", d->kind & K_REP ? "rep " : d->kind & K_REPNE
			 ? "repne " : "", ZydisMnemonicGetString((ZydisMnemonic)d->mnem), d->ops);
	return buf;
}

static void base_state(struct dt_gen *g, struct dt_test *t)
{
	memset(&t->in, 0, sizeof(t->in));
	t->compat = true;
	t->form = -1;
	t->len = 0;
	t->undef_flags = 0;
	bool garbage = dt_rnd(g) & 1;
	for (unsigned i = 0; i < 16; i++) {
		uint64_t r = dt_rnd(g);
		t->in.gpr[i] = (r & 1) ? edges[(r >> 8) % NEDGES] : (uint32_t)dt_rnd(g);
	}
	t->in.gpr[3] = DT_DATA_ADDR + 0x800;  /* EBX */
	t->in.gpr[4] = DT_DATA_ADDR + 0x1f00; /* ESP */
	t->in.gpr[5] = WRAP_INDEX;            /* EBP */
	t->in.gpr[6] = DT_DATA_ADDR + 0x400;  /* ESI */
	t->in.gpr[7] = DT_DATA_ADDR + 0xc00;  /* EDI */
	for (unsigned i = 0; i < 8 && garbage; i++)
		t->in.gpr[i] |= dt_rnd(g) << 32;
	t->in.flags = 2 | (dt_rnd(g) & (CF | PF | AF | ZF | SF | OF));
	t->in.mxcsr = 0x1f80;
	t->data_seed = dt_rnd(g);
}

static ZydisRegister gpr(unsigned idx, unsigned sz)
{
	switch (sz) {
	case 1: return (ZydisRegister)(idx >= 16 ? ZYDIS_REGISTER_AH + (idx - 16)
						  : ZYDIS_REGISTER_AL + idx);
	case 2: return (ZydisRegister)(ZYDIS_REGISTER_AX + idx);
	default: return (ZydisRegister)(ZYDIS_REGISTER_EAX + idx);
	}
}

/* Encode form d at size sz; regs[i] receives the GPR chosen for operand i (0xff: none). */
static unsigned encode(struct dt_gen *g, const struct form32 *d, unsigned sz, int count,
		       unsigned *regs, uint64_t *imm, uint8_t *out)
{
	ZydisEncoderRequest req;
	memset(&req, 0, sizeof(req));
	req.machine_mode = ZYDIS_MACHINE_MODE_LONG_COMPAT_32;
	req.mnemonic = (ZydisMnemonic)d->mnem;
	if (d->kind & K_REP)
		req.prefixes |= (d->mnem >= M(CMPSB) && d->mnem <= M(CMPSW)) ||
					(d->mnem >= M(SCASB) && d->mnem <= M(SCASW))
				? ZYDIS_ATTRIB_HAS_REPE : ZYDIS_ATTRIB_HAS_REP;
	if (d->kind & K_REPNE)
		req.prefixes |= ZYDIS_ATTRIB_HAS_REPNE;
	unsigned n = (unsigned)strlen(d->ops);
	req.operand_count = (ZyanU8)n;
	for (unsigned i = 0; i < n; i++) {
		ZydisEncoderOperand *o = &req.operands[i];
		char k = d->ops[i];
		regs[i] = 0xff;
		if (k == 'r' || k == 'g' || k == 'h') {
			unsigned s = k == 'g' ? 1 : k == 'h' ? 2 : sz;
			unsigned idx = pool[dt_rnd(g) % sizeof(pool)];
			if (s == 1 && (dt_rnd(g) & 3) == 0)
				idx = 16 + (unsigned)(dt_rnd(g) % 3); /* AH, CH, DH */
			regs[i] = idx;
			o->type = ZYDIS_OPERAND_TYPE_REGISTER;
			o->reg.value = gpr(idx, s);
		} else if (k == 'c') {
			o->type = ZYDIS_OPERAND_TYPE_REGISTER;
			o->reg.value = ZYDIS_REGISTER_CL;
		} else if (strchr("mGHw", k)) {
			o->type = ZYDIS_OPERAND_TYPE_MEMORY;
			o->mem.size = (ZyanU16)(k == 'G' ? 1 : k == 'H' ? 2 : sz);
			o->mem.displacement = (ZyanI64)(dt_rnd(g) % 0x100);
			if (k == 'w') { /* 16-bit addressing (67h): [bx+si+disp] wraps at 64 KiB */
				static const ZydisRegister b16[] = { ZYDIS_REGISTER_BX, ZYDIS_REGISTER_BP };
				static const ZydisRegister i16[] = { ZYDIS_REGISTER_SI, ZYDIS_REGISTER_DI };
				o->mem.base = b16[dt_rnd(g) & 1];
				o->mem.index = i16[dt_rnd(g) & 1];
				o->mem.scale = 1;
				o->mem.displacement = (ZyanI64)(int16_t)dt_rnd(g);
			} else {
				o->mem.base = ZYDIS_REGISTER_EBX;
				if ((dt_rnd(g) & 1) == 0) { /* [ebx+ebp+disp]: wraps at 4 GiB */
					o->mem.index = ZYDIS_REGISTER_EBP;
					o->mem.scale = 1;
					o->mem.displacement += 0x100;
				}
			}
		} else if (k == 'i' || k == 'b' || k == '1') {
			uint64_t v = k == '1' ? 1 : count >= 0 ? (uint64_t)count
				: (dt_rnd(g) & 1) ? edges[dt_rnd(g) % NEDGES] : dt_rnd(g);
			v &= (k == 'b' || sz == 1) ? 0xff : sz == 2 ? 0xffff : 0xffffffff;
			o->type = ZYDIS_OPERAND_TYPE_IMMEDIATE;
			o->imm.u = v;
			*imm = v;
		} else {
			return 0;
		}
	}
	ZyanUSize len = ZYDIS_MAX_INSTRUCTION_LENGTH;
	if (!ZYAN_SUCCESS(ZydisEncoderEncodeInstruction(&req, out, &len)))
		return 0;
	return (unsigned)len;
}

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

/* A hand-written sequence placed at code offset off (absolute addresses depend on it). */
static unsigned build_raw(struct dt_gen *g, unsigned r, unsigned off, uint8_t *out)
{
	uint32_t here = (uint32_t)(DT_CODE_ADDR + DT_TEST_OFF + off);
	unsigned reg = pool[dt_rnd(g) % sizeof(pool)];
	switch (r) {
	case R_CALL_POP: /* call $+5; pop reg */
		memcpy(out, (const uint8_t[]){ 0xe8, 0, 0, 0, 0, (uint8_t)(0x58 + reg) }, 6);
		return 6;
	case R_CALL_RET: /* call L; jmp +1; L: ret */
		memcpy(out, (const uint8_t[]){ 0xe8, 2, 0, 0, 0, 0xeb, 1, 0xc3 }, 8);
		return 8;
	case R_RET_IMM: /* push next; ret 8 */
		out[0] = 0x68;
		put32(out + 1, here + 8);
		memcpy(out + 5, (const uint8_t[]){ 0xc2, 8, 0 }, 3);
		return 8;
	case R_CALL_REG: /* mov reg, next; call reg */
		out[0] = (uint8_t)(0xb8 + reg);
		put32(out + 1, here + 7);
		out[5] = 0xff;
		out[6] = (uint8_t)(0xd0 + reg);
		return 7;
	case R_JMP_REG: /* mov reg, L; jmp reg; inc eax; L: */
		out[0] = (uint8_t)(0xb8 + reg);
		put32(out + 1, here + 8);
		memcpy(out + 5, (const uint8_t[]){ 0xff, (uint8_t)(0xe0 + reg), 0x40 }, 3);
		return 8;
	case R_LEAVE: /* push ebp; mov ebp, esp; sub esp, 16; leave */
		memcpy(out, (const uint8_t[]){ 0x55, 0x89, 0xe5, 0x83, 0xec, 0x10, 0xc9 }, 7);
		return 7;
	case R_ENTER0:
		memcpy(out, (const uint8_t[]){ 0xc8, 0x10, 0, 0, 0xc9 }, 5);
		return 5;
	case R_ENTER1:
		memcpy(out, (const uint8_t[]){ 0xc8, 0x08, 0, 1, 0xc9 }, 5);
		return 5;
	case R_LOOP: case R_LOOP16: case R_JECXZ: case R_JCXZ: { /* branch +3 over add eax, 1 */
		unsigned n = 0;
		if (r == R_LOOP16 || r == R_JCXZ)
			out[n++] = 0x67;
		out[n++] = r == R_LOOP || r == R_LOOP16 ? 0xe2 : 0xe3;
		memcpy(out + n, (const uint8_t[]){ 3, 0x83, 0xc0, 0x01 }, 4);
		return n + 4;
	}
	case R_INCDEC: case R_INCDEC16: {
		unsigned n = 0;
		for (unsigned k = 0; k < 3; k++) {
			if (r == R_INCDEC16)
				out[n++] = 0x66;
			out[n++] = (uint8_t)(((dt_rnd(g) & 1) ? 0x40 : 0x48) + pool[dt_rnd(g) % 3]);
		}
		return n;
	}
	case R_REP_MOVSB16:
		memcpy(out, (const uint8_t[]){ 0x67, 0xf3, 0xa4 }, 3);
		return 3;
	case R_REP_STOSD16:
		memcpy(out, (const uint8_t[]){ 0x67, 0xf3, 0xab }, 3);
		return 3;
	case R_JCC: /* jcc +3 over add eax, 1 */
		memcpy(out, (const uint8_t[]){ (uint8_t)(0x70 | (dt_rnd(g) & 15)), 3, 0x83, 0xc0, 1 }, 5);
		return 5;
	case R_PUSHPOP16: /* push ax..dx; pop another (16-bit slots on ESP) */
		memcpy(out, (const uint8_t[]){ 0x66, (uint8_t)(0x50 + reg), 0x66,
					       (uint8_t)(0x58 + pool[dt_rnd(g) % 3]) }, 4);
		return 4;
	default:
		return 0;
	}
}

/* Flags form d leaves undefined for count (shifts), as in forms.c. */
static uint32_t undef_for(const struct form32 *d, uint64_t cnt, unsigned sz)
{
	uint32_t u = d->undef;
	if (d->kind & K_SHIFT) {
		unsigned m = (unsigned)(cnt & 31);
		if (m != 1)
			u |= OF;
		if ((d->mnem == M(SHL) || d->mnem == M(SHR)) && m >= sz * 8)
			u |= CF;
		if ((d->mnem == M(SHLD) || d->mnem == M(SHRD)) && m > sz * 8)
			u |= CF | OF;
	}
	return u;
}

/* Append one instance of form f to t; vals seed the first operand's register (systematic). */
static bool build(struct dt_gen *g, unsigned f, unsigned sz, const uint64_t *vals, int count,
		  struct dt_test *t)
{
	const struct form32 *d = &forms[f];
	uint8_t buf[32];
	unsigned regs[4] = { 0xff, 0xff, 0xff, 0xff }, n;
	uint64_t imm = 1;
	if (t->len + 16 > DT_MAX_CODE)
		return false;
	if (d->kind & K_RAW) {
		n = build_raw(g, d->mnem, t->len, buf);
		if (vals && (d->mnem >= R_LOOP && d->mnem <= R_REP_STOSD16))
			t->in.gpr[1] = vals[0]; /* ECX / CX: the count */
	} else {
		n = encode(g, d, sz, count, regs, &imm, buf);
	}
	if (!n)
		return false;
	if (vals)
		for (unsigned i = 0; i < 2 && d->ops[i]; i++)
			if (regs[i] < 16)
				t->in.gpr[regs[i]] = (t->in.gpr[regs[i]] & ~0xffffffffULL) | (uint32_t)vals[i];
	if (vals && (d->mnem == M(MUL) || d->mnem == M(IMUL) || d->mnem == M(DIV) ||
		     d->mnem == M(IDIV) || d->mnem == M(CMPXCHG)) && !(d->kind & K_RAW)) {
		t->in.gpr[0] = (uint32_t)vals[1];
		t->in.gpr[2] = (uint32_t)(vals[0] >> 3);
	}
	if (d->kind & K_STR) {
		t->in.gpr[1] = (t->in.gpr[1] & ~0xffffffffULL) | dt_rnd(g) % 24;
		if (dt_rnd(g) & 1)
			t->in.flags |= DF;
	}
	uint64_t cnt = strchr(d->ops, 'c') ? (count >= 0 ? (uint64_t)count : t->in.gpr[1]) : imm;
	if (count >= 0 && strchr(d->ops, 'c'))
		t->in.gpr[1] = (uint64_t)count;
	memcpy(t->code + t->len, buf, n);
	t->len += n;
	t->undef_flags = undef_for(d, cnt, sz);
	return true;
}

bool dt_compat_systematic(unsigned f, unsigned i, unsigned level, struct dt_test *t)
{
	struct dt_gen *g = dt_gen_create((uint64_t)f * 0x100000001B3ULL + i * 0x9E3779B97F4A7C15ULL
					 + level + 7);
	if (!g)
		return false;
	const struct form32 *d = &forms[f];
	unsigned nsizes = (unsigned)__builtin_popcount(d->sizes);
	unsigned nv = level ? (unsigned)NEDGES : 8;
	bool shift_count = (d->kind & K_SHIFT) && strpbrk(d->ops, "bc");
	unsigned per_size = shift_count ? 2 * 34 * (level ? 4 : 1)
		: strpbrk(d->ops, "rmi") || (d->kind & K_RAW) ? 2 * nv * nv : 16;
	bool more = i < per_size * nsizes;
	if (more) {
		unsigned sz = 1u << __builtin_ctz(d->sizes);
		for (unsigned k = i / per_size; k; k--)
			sz = 1u << __builtin_ctz(d->sizes & ~((sz << 1) - 1));
		unsigned j = i % per_size;
		base_state(g, t);
		uint64_t vals[2] = { edges[(j >> 1) % nv], edges[((j >> 1) / nv) % nv] };
		int count = shift_count ? (int)((j >> 1) % 34) : -1;
		t->in.flags = (t->in.flags & ~(uint64_t)CF) | ((j & 1) ? CF : 0);
		for (unsigned tries = 0; tries < 8 && !build(g, f, sz, vals, count, t); tries++)
			t->len = 0;
	}
	dt_gen_destroy(g);
	return more;
}

static bool flags_fully_defined(const struct form32 *d)
{
	return d->undef == 0 && !(d->kind & (K_SHIFT | K_STR));
}

void dt_compat_random(struct dt_gen *g, struct dt_test *t)
{
	unsigned n = 1 + (unsigned)(dt_rnd(g) % 6);
	base_state(g, t);
	for (unsigned k = 0; k < n; k++) {
		unsigned f = (unsigned)(dt_rnd(g) % NFORMS);
		const struct form32 *d = &forms[f];
		if (k != n - 1 && !flags_fully_defined(d))
			continue;
		if (t->len && (d->kind & K_SHIFT) && strchr(d->ops, 'c'))
			continue; /* CL may have changed since the input state */
		unsigned nsz = (unsigned)__builtin_popcount(d->sizes), sz = 1u << __builtin_ctz(d->sizes);
		for (unsigned z = (unsigned)(dt_rnd(g) % nsz); z; z--)
			sz = 1u << __builtin_ctz(d->sizes & ~((sz << 1) - 1));
		build(g, f, sz, NULL, -1, t);
	}
}
