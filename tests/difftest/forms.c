/* Test generator of the differential tester: a table of instruction forms (mnemonic, operand
 * pattern, operand sizes, flags the manuals leave undefined), encoded with the Zydis encoder,
 * and input states drawn from edge values (0, ±1, sign boundaries, every shift count, both
 * carry inputs) for the systematic pass or at random for random sequences. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <Zydis/Zydis.h>

#include "difftest.h"

enum { CF = 1, PF = 4, AF = 0x10, ZF = 0x40, SF = 0x80, DF = 0x400, OF = 0x800 };
enum { S1 = 1, S2 = 2, S4 = 4, S8 = 8, SALL = 15, S248 = 14, S48 = 12 };
enum { K_NONE = 0, K_SHIFT = 1, K_LOCK = 2, K_REP = 4, K_REPNE = 8, K_STR = 16, K_JCC = 32,
       K_BTMEM = 64 };
enum { T_INT, T_PS, T_PD };

struct form_def {
	uint16_t mnem;
	const char *ops;
	uint8_t sizes;
	uint16_t undef;
	uint8_t kind;
	uint8_t type;
};

#define M(x) ZYDIS_MNEMONIC_##x
#define ALU(x, u) { M(x), "rr", SALL, u, 0, 0 }, { M(x), "ri", SALL, u, 0, 0 }, \
	{ M(x), "rm", SALL, u, 0, 0 }, { M(x), "mr", SALL, u, 0, 0 }, { M(x), "mi", SALL, u, 0, 0 }, \
	{ M(x), "mr", SALL, u, K_LOCK, 0 }, { M(x), "mi", SALL, u, K_LOCK, 0 }
#define UNARY(x, u) { M(x), "r", SALL, u, 0, 0 }, { M(x), "m", SALL, u, 0, 0 }, \
	{ M(x), "m", SALL, u, K_LOCK, 0 }
#define SHIFT(x, u) { M(x), "r1", SALL, u, K_SHIFT, 0 }, { M(x), "rb", SALL, u, K_SHIFT, 0 }, \
	{ M(x), "rc", SALL, u, K_SHIFT, 0 }, { M(x), "mb", SALL, u, K_SHIFT, 0 }, \
	{ M(x), "mc", SALL, u, K_SHIFT, 0 }
#define BT(x) { M(x), "rr", S248, OF | SF | AF | PF, 0, 0 }, { M(x), "rb", S248, OF | SF | AF | PF, 0, 0 }, \
	{ M(x), "mb", S248, OF | SF | AF | PF, 0, 0 }, { M(x), "mr", S248, OF | SF | AF | PF, K_BTMEM, 0 }
#define RR_RM(x, sz, u) { M(x), "rr", sz, u, 0, 0 }, { M(x), "rm", sz, u, 0, 0 }
#define CC16(PF, ops, sz) { M(PF##O), ops, sz, 0, 0, 0 }, { M(PF##NO), ops, sz, 0, 0, 0 }, \
	{ M(PF##B), ops, sz, 0, 0, 0 }, { M(PF##NB), ops, sz, 0, 0, 0 }, { M(PF##Z), ops, sz, 0, 0, 0 }, \
	{ M(PF##NZ), ops, sz, 0, 0, 0 }, { M(PF##BE), ops, sz, 0, 0, 0 }, { M(PF##NBE), ops, sz, 0, 0, 0 }, \
	{ M(PF##S), ops, sz, 0, 0, 0 }, { M(PF##NS), ops, sz, 0, 0, 0 }, { M(PF##P), ops, sz, 0, 0, 0 }, \
	{ M(PF##NP), ops, sz, 0, 0, 0 }, { M(PF##L), ops, sz, 0, 0, 0 }, { M(PF##NL), ops, sz, 0, 0, 0 }, \
	{ M(PF##LE), ops, sz, 0, 0, 0 }, { M(PF##NLE), ops, sz, 0, 0, 0 }
#define STR(x, k) { M(x), "", S1, 0, K_STR | (k), 0 }
#define STR4(x, k) STR(x##B, k), STR(x##W, k), STR(x##D, k), STR(x##Q, k)
#define XI(x) { M(x), "xx", S1, 0, 0, T_INT }, { M(x), "xM", S1, 0, 0, T_INT }
#define XPS(x) { M(x), "xx", S1, 0, 0, T_PS }, { M(x), "xM", S1, 0, 0, T_PS }
#define XPD(x) { M(x), "xx", S1, 0, 0, T_PD }, { M(x), "xM", S1, 0, 0, T_PD }
#define XSS(x) { M(x), "xx", S1, 0, 0, T_PS }, { M(x), "xd", S1, 0, 0, T_PS }
#define XSD(x) { M(x), "xx", S1, 0, 0, T_PD }, { M(x), "xq", S1, 0, 0, T_PD }
#define XSH(x) { M(x), "xb", S1, 0, 0, T_INT }, { M(x), "xx", S1, 0, 0, T_INT }
/* MMX: 'n' is an MM register. */
#define NI(x) { M(x), "nn", S1, 0, 0, T_INT }, { M(x), "nq", S1, 0, 0, T_INT }
#define NSH(x) { M(x), "nb", S1, 0, 0, T_INT }, { M(x), "nn", S1, 0, 0, T_INT }, \
	{ M(x), "nq", S1, 0, 0, T_INT }

static const struct form_def forms[] = {
	ALU(ADD, 0), ALU(OR, AF), ALU(ADC, 0), ALU(SBB, 0), ALU(AND, AF), ALU(SUB, 0), ALU(XOR, AF),
	{ M(CMP), "rr", SALL, 0, 0, 0 }, { M(CMP), "ri", SALL, 0, 0, 0 }, { M(CMP), "rm", SALL, 0, 0, 0 },
	{ M(CMP), "mr", SALL, 0, 0, 0 }, { M(CMP), "mi", SALL, 0, 0, 0 },
	{ M(TEST), "rr", SALL, AF, 0, 0 }, { M(TEST), "ri", SALL, AF, 0, 0 },
	{ M(TEST), "mr", SALL, AF, 0, 0 }, { M(TEST), "mi", SALL, AF, 0, 0 },
	UNARY(INC, 0), UNARY(DEC, 0), UNARY(NEG, 0), UNARY(NOT, 0),
	{ M(MOV), "rr", SALL, 0, 0, 0 }, { M(MOV), "ri", SALL, 0, 0, 0 }, { M(MOV), "rm", SALL, 0, 0, 0 },
	{ M(MOV), "mr", SALL, 0, 0, 0 }, { M(MOV), "mi", SALL, 0, 0, 0 },
	{ M(MOVZX), "rg", S248, 0, 0, 0 }, { M(MOVZX), "rG", S248, 0, 0, 0 },
	{ M(MOVZX), "rh", S48, 0, 0, 0 }, { M(MOVZX), "rH", S48, 0, 0, 0 },
	{ M(MOVSX), "rg", S248, 0, 0, 0 }, { M(MOVSX), "rG", S248, 0, 0, 0 },
	{ M(MOVSX), "rh", S48, 0, 0, 0 }, { M(MOVSX), "rH", S48, 0, 0, 0 },
	{ M(MOVSXD), "re", S8, 0, 0, 0 }, { M(MOVSXD), "rE", S8, 0, 0, 0 },
	{ M(LEA), "rm", S248, 0, 0, 0 },
	{ M(XCHG), "rr", SALL, 0, 0, 0 }, { M(XCHG), "mr", SALL, 0, 0, 0 },
	{ M(XADD), "rr", SALL, 0, 0, 0 }, { M(XADD), "mr", SALL, 0, 0, 0 }, { M(XADD), "mr", SALL, 0, K_LOCK, 0 },
	{ M(CMPXCHG), "rr", SALL, 0, 0, 0 }, { M(CMPXCHG), "mr", SALL, 0, 0, 0 },
	{ M(CMPXCHG), "mr", SALL, 0, K_LOCK, 0 },
	{ M(CMPXCHG8B), "o", S4, 0, 0, 0 }, { M(CMPXCHG16B), "o", S8, 0, K_LOCK, 0 },
	SHIFT(SHL, AF), SHIFT(SHR, AF), SHIFT(SAR, AF), SHIFT(ROL, 0), SHIFT(ROR, 0), SHIFT(RCL, 0),
	SHIFT(RCR, 0),
	{ M(SHLD), "rrb", S248, AF, K_SHIFT, 0 }, { M(SHLD), "rrc", S248, AF, K_SHIFT, 0 },
	{ M(SHLD), "mrb", S248, AF, K_SHIFT, 0 }, { M(SHRD), "rrb", S248, AF, K_SHIFT, 0 },
	{ M(SHRD), "rrc", S248, AF, K_SHIFT, 0 }, { M(SHRD), "mrb", S248, AF, K_SHIFT, 0 },
	{ M(MUL), "r", SALL, SF | ZF | AF | PF, 0, 0 }, { M(MUL), "m", SALL, SF | ZF | AF | PF, 0, 0 },
	{ M(IMUL), "r", SALL, SF | ZF | AF | PF, 0, 0 }, { M(IMUL), "m", SALL, SF | ZF | AF | PF, 0, 0 },
	{ M(IMUL), "rr", S248, SF | ZF | AF | PF, 0, 0 }, { M(IMUL), "rm", S248, SF | ZF | AF | PF, 0, 0 },
	{ M(IMUL), "rri", S248, SF | ZF | AF | PF, 0, 0 }, { M(IMUL), "rmi", S248, SF | ZF | AF | PF, 0, 0 },
	{ M(DIV), "r", SALL, 0x8d5, 0, 0 }, { M(DIV), "m", SALL, 0x8d5, 0, 0 },
	{ M(IDIV), "r", SALL, 0x8d5, 0, 0 }, { M(IDIV), "m", SALL, 0x8d5, 0, 0 },
	BT(BT), BT(BTS), BT(BTR), BT(BTC),
	{ M(BTS), "mr", S248, OF | SF | AF | PF, K_BTMEM | K_LOCK, 0 },
	RR_RM(BSF, S248, CF | OF | SF | AF | PF), RR_RM(BSR, S248, CF | OF | SF | AF | PF),
	RR_RM(TZCNT, S248, OF | SF | AF | PF), RR_RM(LZCNT, S248, OF | SF | AF | PF),
	RR_RM(POPCNT, S248, 0), { M(BSWAP), "r", S48, 0, 0, 0 },
	{ M(ANDN), "rrr", S48, AF | PF, 0, 0 }, { M(ANDN), "rrm", S48, AF | PF, 0, 0 },
	RR_RM(BLSI, S48, AF | PF), RR_RM(BLSMSK, S48, AF | PF), RR_RM(BLSR, S48, AF | PF),
	{ M(BEXTR), "rrr", S48, AF | SF | PF, 0, 0 }, { M(BEXTR), "rmr", S48, AF | SF | PF, 0, 0 },
	{ M(BZHI), "rrr", S48, AF | PF, 0, 0 }, { M(BZHI), "rmr", S48, AF | PF, 0, 0 },
	{ M(PDEP), "rrr", S48, 0, 0, 0 }, { M(PEXT), "rrr", S48, 0, 0, 0 },
	{ M(PDEP), "rrm", S48, 0, 0, 0 }, { M(PEXT), "rrm", S48, 0, 0, 0 },
	{ M(SHLX), "rrr", S48, 0, 0, 0 }, { M(SHRX), "rrr", S48, 0, 0, 0 }, { M(SARX), "rrr", S48, 0, 0, 0 },
	{ M(SHLX), "rmr", S48, 0, 0, 0 }, { M(RORX), "rrb", S48, 0, 0, 0 }, { M(RORX), "rmb", S48, 0, 0, 0 },
	{ M(MULX), "rrr", S48, 0, 0, 0 }, { M(MULX), "rrm", S48, 0, 0, 0 },
	CC16(SET, "r", S1), CC16(SET, "m", S1), CC16(CMOV, "rr", S248), CC16(CMOV, "rm", S248),
	CC16(J, "", S1),
	{ M(CBW), "", S1, 0, 0, 0 }, { M(CWDE), "", S1, 0, 0, 0 }, { M(CDQE), "", S1, 0, 0, 0 },
	{ M(CWD), "", S1, 0, 0, 0 }, { M(CDQ), "", S1, 0, 0, 0 }, { M(CQO), "", S1, 0, 0, 0 },
	{ M(CLC), "", S1, 0, 0, 0 }, { M(STC), "", S1, 0, 0, 0 }, { M(CMC), "", S1, 0, 0, 0 },
	{ M(LAHF), "", S1, 0, 0, 0 }, { M(SAHF), "", S1, 0, 0, 0 },
	{ M(PUSH), "r", S8, 0, 0, 0 }, { M(PUSH), "m", S8, 0, 0, 0 }, { M(PUSH), "i", S8, 0, 0, 0 },
	{ M(POP), "r", S8, 0, 0, 0 }, { M(POP), "m", S8, 0, 0, 0 },
	STR4(MOVS, 0), STR4(MOVS, K_REP), STR4(STOS, 0), STR4(STOS, K_REP), STR4(LODS, 0),
	STR4(LODS, K_REP), STR4(CMPS, 0), STR4(CMPS, K_REP), STR4(CMPS, K_REPNE), STR4(SCAS, 0),
	STR4(SCAS, K_REP), STR4(SCAS, K_REPNE),
	XI(PADDB), XI(PADDW), XI(PADDD), XI(PADDQ), XI(PSUBB), XI(PSUBW), XI(PSUBD), XI(PSUBQ),
	XI(PADDSB), XI(PADDSW), XI(PADDUSB), XI(PADDUSW), XI(PSUBSB), XI(PSUBSW), XI(PSUBUSB),
	XI(PSUBUSW), XI(PCMPEQB), XI(PCMPEQW), XI(PCMPEQD), XI(PCMPGTB), XI(PCMPGTW), XI(PCMPGTD),
	XI(PAND), XI(PANDN), XI(POR), XI(PXOR), XI(PMINUB), XI(PMAXUB), XI(PMINSW), XI(PMAXSW),
	XI(PAVGB), XI(PAVGW), XI(PMULLW), XI(PMULHW), XI(PMULHUW), XI(PMULUDQ), XI(PMADDWD),
	XI(PSADBW), XI(PUNPCKLBW), XI(PUNPCKLWD), XI(PUNPCKLDQ), XI(PUNPCKLQDQ), XI(PUNPCKHBW),
	XI(PUNPCKHWD), XI(PUNPCKHDQ), XI(PUNPCKHQDQ), XI(PACKSSWB), XI(PACKSSDW), XI(PACKUSWB),
	XSH(PSLLW), XSH(PSLLD), XSH(PSLLQ), XSH(PSRLW), XSH(PSRLD), XSH(PSRLQ), XSH(PSRAW), XSH(PSRAD),
	{ M(PSLLDQ), "xb", S1, 0, 0, T_INT }, { M(PSRLDQ), "xb", S1, 0, 0, T_INT },
	{ M(PSHUFD), "xxb", S1, 0, 0, T_INT }, { M(PSHUFD), "xMb", S1, 0, 0, T_INT },
	{ M(PSHUFLW), "xxb", S1, 0, 0, T_INT }, { M(PSHUFHW), "xxb", S1, 0, 0, T_INT },
	{ M(PMOVMSKB), "rx", S4, 0, 0, T_INT }, { M(PEXTRW), "rxb", S4, 0, 0, T_INT },
	{ M(PINSRW), "xrb", S4, 0, 0, T_INT },
	{ M(MOVD), "xr", S4, 0, 0, T_INT }, { M(MOVD), "rx", S4, 0, 0, T_INT },
	{ M(MOVQ), "xr", S8, 0, 0, T_INT }, { M(MOVQ), "rx", S8, 0, 0, T_INT },
	{ M(MOVQ), "xx", S1, 0, 0, T_INT }, { M(MOVQ), "xq", S1, 0, 0, T_INT }, { M(MOVQ), "qx", S1, 0, 0, T_INT },
	{ M(MOVDQA), "xM", S1, 0, 0, T_INT }, { M(MOVDQA), "Mx", S1, 0, 0, T_INT },
	{ M(MOVDQU), "xM", S1, 0, 0, T_INT }, { M(MOVDQU), "Mx", S1, 0, 0, T_INT },
	{ M(MOVAPS), "xx", S1, 0, 0, T_INT }, { M(MOVUPS), "Mx", S1, 0, 0, T_INT },
	{ M(MOVAPD), "xM", S1, 0, 0, T_INT }, { M(MOVUPD), "xM", S1, 0, 0, T_INT },
	{ M(MOVSS), "xx", S1, 0, 0, T_PS }, { M(MOVSS), "xd", S1, 0, 0, T_PS }, { M(MOVSS), "dx", S1, 0, 0, T_PS },
	{ M(MOVSD), "xx", S1, 0, 0, T_PD }, { M(MOVSD), "xq", S1, 0, 0, T_PD }, { M(MOVSD), "qx", S1, 0, 0, T_PD },
	{ M(MOVLPS), "xq", S1, 0, 0, T_PS }, { M(MOVLPS), "qx", S1, 0, 0, T_PS },
	{ M(MOVHPS), "xq", S1, 0, 0, T_PS }, { M(MOVHPS), "qx", S1, 0, 0, T_PS },
	{ M(MOVLPD), "xq", S1, 0, 0, T_PD }, { M(MOVHPD), "xq", S1, 0, 0, T_PD },
	{ M(MOVHLPS), "xx", S1, 0, 0, T_PS }, { M(MOVLHPS), "xx", S1, 0, 0, T_PS },
	{ M(MOVMSKPS), "rx", S4, 0, 0, T_PS }, { M(MOVMSKPD), "rx", S4, 0, 0, T_PD },
	XPS(ADDPS), XPS(SUBPS), XPS(MULPS), XPS(DIVPS), XPS(MINPS), XPS(MAXPS), XPS(SQRTPS),
	XPS(ANDPS), XPS(ANDNPS), XPS(ORPS), XPS(XORPS), XPS(UNPCKLPS), XPS(UNPCKHPS), XPS(RCPPS),
	XPD(ADDPD), XPD(SUBPD), XPD(MULPD), XPD(DIVPD), XPD(MINPD), XPD(MAXPD), XPD(SQRTPD),
	XPD(ANDPD), XPD(ANDNPD), XPD(ORPD), XPD(XORPD), XPD(UNPCKLPD), XPD(UNPCKHPD),
	XSS(ADDSS), XSS(SUBSS), XSS(MULSS), XSS(DIVSS), XSS(MINSS), XSS(MAXSS), XSS(SQRTSS),
	XSD(ADDSD), XSD(SUBSD), XSD(MULSD), XSD(DIVSD), XSD(MINSD), XSD(MAXSD), XSD(SQRTSD),
	XSS(COMISS), XSS(UCOMISS), XSD(COMISD), XSD(UCOMISD),
	{ M(CMPPS), "xxb", S1, 0, 0, T_PS }, { M(CMPPD), "xxb", S1, 0, 0, T_PD },
	{ M(CMPSS), "xxb", S1, 0, 0, T_PS }, { M(CMPSD), "xxb", S1, 0, 0, T_PD },
	{ M(SHUFPS), "xxb", S1, 0, 0, T_PS }, { M(SHUFPD), "xxb", S1, 0, 0, T_PD },
	{ M(CVTSI2SD), "xr", S48, 0, 0, T_PD }, { M(CVTSI2SS), "xr", S48, 0, 0, T_PS },
	{ M(CVTTSD2SI), "rx", S48, 0, 0, T_PD }, { M(CVTSD2SI), "rx", S48, 0, 0, T_PD },
	{ M(CVTTSS2SI), "rx", S48, 0, 0, T_PS }, { M(CVTSS2SI), "rx", S48, 0, 0, T_PS },
	{ M(CVTSS2SD), "xx", S1, 0, 0, T_PS }, { M(CVTSD2SS), "xx", S1, 0, 0, T_PD },
	{ M(CVTDQ2PS), "xx", S1, 0, 0, T_INT }, { M(CVTPS2DQ), "xx", S1, 0, 0, T_PS },
	{ M(CVTTPS2DQ), "xx", S1, 0, 0, T_PS }, { M(CVTDQ2PD), "xx", S1, 0, 0, T_INT },
	{ M(CVTPD2DQ), "xx", S1, 0, 0, T_PD }, { M(CVTTPD2DQ), "xx", S1, 0, 0, T_PD },
	{ M(CVTPS2PD), "xx", S1, 0, 0, T_PS }, { M(CVTPD2PS), "xx", S1, 0, 0, T_PD },
	{ M(CVTSD2SI), "rq", S48, 0, 0, T_PD }, { M(CVTTSD2SI), "rq", S48, 0, 0, T_PD },
	{ M(ADDSD), "xx", S1, 0, 0, T_PD }, { M(MULSS), "xx", S1, 0, 0, T_PS },
	NI(PADDB), NI(PADDW), NI(PADDD), NI(PADDQ), NI(PSUBB), NI(PSUBW), NI(PSUBD), NI(PSUBQ),
	NI(PADDSB), NI(PADDSW), NI(PADDUSB), NI(PADDUSW), NI(PSUBSB), NI(PSUBSW), NI(PSUBUSB),
	NI(PSUBUSW), NI(PCMPEQB), NI(PCMPEQW), NI(PCMPEQD), NI(PCMPGTB), NI(PCMPGTW), NI(PCMPGTD),
	NI(PAND), NI(PANDN), NI(POR), NI(PXOR), NI(PMINUB), NI(PMAXUB), NI(PMINSW), NI(PMAXSW),
	NI(PAVGB), NI(PAVGW), NI(PMULLW), NI(PMULHW), NI(PMULHUW), NI(PMULUDQ), NI(PMADDWD),
	NI(PSADBW), NI(PUNPCKHBW), NI(PUNPCKHWD), NI(PUNPCKHDQ), NI(PACKSSWB), NI(PACKSSDW),
	NI(PACKUSWB),
	{ M(PUNPCKLBW), "nn", S1, 0, 0, T_INT }, { M(PUNPCKLBW), "nd", S1, 0, 0, T_INT },
	{ M(PUNPCKLWD), "nn", S1, 0, 0, T_INT }, { M(PUNPCKLWD), "nd", S1, 0, 0, T_INT },
	{ M(PUNPCKLDQ), "nn", S1, 0, 0, T_INT }, { M(PUNPCKLDQ), "nd", S1, 0, 0, T_INT },
	NSH(PSLLW), NSH(PSLLD), NSH(PSLLQ), NSH(PSRLW), NSH(PSRLD), NSH(PSRLQ), NSH(PSRAW), NSH(PSRAD),
	{ M(MOVD), "nr", S4, 0, 0, T_INT }, { M(MOVD), "rn", S4, 0, 0, T_INT },
	{ M(MOVD), "nd", S1, 0, 0, T_INT }, { M(MOVD), "dn", S1, 0, 0, T_INT },
	{ M(MOVQ), "nr", S8, 0, 0, T_INT }, { M(MOVQ), "rn", S8, 0, 0, T_INT },
	{ M(MOVQ), "nn", S1, 0, 0, T_INT }, { M(MOVQ), "nq", S1, 0, 0, T_INT },
	{ M(MOVQ), "qn", S1, 0, 0, T_INT }, { M(MOVNTQ), "qn", S1, 0, 0, T_INT },
	{ M(MOVQ2DQ), "xn", S1, 0, 0, T_INT }, { M(MOVDQ2Q), "nx", S1, 0, 0, T_INT },
	{ M(PSHUFW), "nnb", S1, 0, 0, T_INT }, { M(PSHUFW), "nqb", S1, 0, 0, T_INT },
	{ M(PMOVMSKB), "rn", S4, 0, 0, T_INT }, { M(PEXTRW), "rnb", S4, 0, 0, T_INT },
	{ M(PINSRW), "nrb", S4, 0, 0, T_INT }, { M(MASKMOVQ), "nn", S1, 0, 0, T_INT },
	{ M(EMMS), "", S1, 0, 0, T_INT },
	{ M(CVTPI2PS), "xn", S1, 0, 0, T_INT }, { M(CVTPI2PS), "xq", S1, 0, 0, T_INT },
	{ M(CVTPI2PD), "xn", S1, 0, 0, T_INT }, { M(CVTPI2PD), "xq", S1, 0, 0, T_INT },
	{ M(CVTPS2PI), "nx", S1, 0, 0, T_PS }, { M(CVTTPS2PI), "nx", S1, 0, 0, T_PS },
	{ M(CVTPD2PI), "nx", S1, 0, 0, T_PD }, { M(CVTTPD2PI), "nx", S1, 0, 0, T_PD },
};

#define NFORMS (sizeof(forms) / sizeof(forms[0]))

static const uint64_t edges[] = {
	0, 1, 0x7f, 0x80, 0x7fffffff, 0x80000000, ~0ULL, 0x8000000000000000ULL,
	2, 0xff, 0x7fff, 0x8000, 0xffff, 0xffffffff, 0x7fffffffffffffffULL, 0xfffffffffffffffeULL,
	0x123456789abcdef0ULL, 0x5555555555555555ULL,
};

/* Pool of GPRs tests may freely overwrite (pointers live in RBX, RSI, RDI, RSP, R15). */
static const uint8_t pool[] = { 0, 1, 2, 5, 8, 9, 10, 11, 12, 13 };

struct dt_gen {
	uint64_t s;
};

static uint64_t rnd(struct dt_gen *g)
{
	g->s ^= g->s << 13;
	g->s ^= g->s >> 7;
	g->s ^= g->s << 17;
	return g->s;
}

struct dt_gen *dt_gen_create(uint64_t seed)
{
	struct dt_gen *g = calloc(1, sizeof(*g));
	if (g)
		g->s = seed * 0x9E3779B97F4A7C15ULL + 0x1234567;
	return g;
}

void dt_gen_destroy(struct dt_gen *g)
{
	free(g);
}

uint64_t dt_rnd(struct dt_gen *g)
{
	return rnd(g);
}

unsigned dt_form_count(void)
{
	return NFORMS + dt_compat_form_count();
}

static unsigned size_of_index(uint8_t sizes, unsigned k)
{
	for (unsigned b = 0, n = 0; b < 4; b++)
		if (sizes & (1u << b)) {
			if (n == k)
				return 1u << b;
			n++;
		}
	return 0;
}

const char *dt_form_name(int f, char *buf, size_t len)
{
	if (f < 0) {
		snprintf(buf, len, "random sequence");
		return buf;
	}
	if ((unsigned)f >= NFORMS)
		return dt_compat_form_name((unsigned)f - NFORMS, buf, len);
	const struct form_def *d = &forms[f];
	snprintf(buf, len, "%s%s%s %s", d->kind & K_LOCK ? "lock " : "",
		 d->kind & K_REP ? "rep " : d->kind & K_REPNE ? "repne " : "",
		 ZydisMnemonicGetString((ZydisMnemonic)d->mnem), d->ops);
	return buf;
}

void dt_fill_data(uint64_t seed, uint8_t *data)
{
	struct dt_gen g = { seed | 1 };
	for (unsigned i = 0; i < DT_DATA_SIZE; i += 8) {
		uint64_t v = rnd(&g);
		if ((v & 7) == 0)
			v = edges[(v >> 8) % 18];
		memcpy(data + i, &v, 8);
	}
}

static ZydisRegister gpr(unsigned idx, unsigned sz)
{
	switch (sz) {
	case 1:
		if (idx >= 16)
			return (ZydisRegister)(ZYDIS_REGISTER_AH + (idx - 16));
		if (idx < 4)
			return (ZydisRegister)(ZYDIS_REGISTER_AL + idx);
		if (idx < 8)
			return (ZydisRegister)(ZYDIS_REGISTER_SPL + (idx - 4));
		return (ZydisRegister)(ZYDIS_REGISTER_R8B + (idx - 8));
	case 2: return (ZydisRegister)(ZYDIS_REGISTER_AX + idx);
	case 4: return (ZydisRegister)(ZYDIS_REGISTER_EAX + idx);
	default: return (ZydisRegister)(ZYDIS_REGISTER_RAX + idx);
	}
}

static uint64_t fp_value(struct dt_gen *g, unsigned type, unsigned lane_bytes)
{
	static const double dv[] = { 0.0, -0.0, 1.0, -1.5, 3.0, 1e20, -1e-300, 2.5e-310, 1.0 / 0.0,
				     -1.0 / 0.0, 1.7976931348623157e308, 0.5, 2147483648.0,
				     -2147483649.0, 9.3e18, 123.456 };
	static const float fv[] = { 0.0f, -0.0f, 1.0f, -1.5f, 3.0f, 1e20f, -1e-30f, 1e-40f,
				    1.0f / 0.0f, -1.0f / 0.0f, 3.4e38f, 0.5f, 2147483648.0f,
				    -2147483904.0f, 7.7f, 123.456f };
	uint64_t r = rnd(g);
	unsigned k = (unsigned)(r >> 32) % 20;
	if (type == T_PD && lane_bytes == 8) {
		if (k >= 16)
			return k == 16 ? 0x7ff8000000000000ULL : k == 17 ? 0x7ff4000000000001ULL
				: k == 18 ? 0xfff8000000000123ULL : r;
		uint64_t u;
		memcpy(&u, &dv[k], 8);
		return u;
	}
	if (type == T_PS) {
		if (k >= 16)
			return k == 16 ? 0x7fc00000 : k == 17 ? 0x7fa00001 : k == 18 ? 0xffc00123 : (uint32_t)r;
		uint32_t u;
		memcpy(&u, &fv[k], 4);
		return u;
	}
	/* Integer lanes: edge bytes or random. */
	uint64_t v = 0;
	for (unsigned b = 0; b < 8; b++) {
		static const uint8_t eb[] = { 0, 1, 0x7f, 0x80, 0xff, 0xfe, 0x55 };
		uint64_t x = rnd(g);
		uint8_t byte = (x & 3) ? (uint8_t)(x >> 8) : eb[(x >> 16) % 7];
		v |= (uint64_t)byte << (8 * b);
	}
	return v;
}

static void fill_xmm(struct dt_gen *g, uint8_t x[16], unsigned type)
{
	if (type == T_PD) {
		for (unsigned i = 0; i < 2; i++) {
			uint64_t v = fp_value(g, type, 8);
			memcpy(x + 8 * i, &v, 8);
		}
	} else if (type == T_PS) {
		for (unsigned i = 0; i < 4; i++) {
			uint32_t v = (uint32_t)fp_value(g, type, 4);
			memcpy(x + 4 * i, &v, 4);
		}
	} else {
		for (unsigned i = 0; i < 2; i++) {
			uint64_t v = fp_value(g, T_INT, 8);
			memcpy(x + 8 * i, &v, 8);
		}
	}
}

/* Base input: random edge values in the pool, pointers in RBX/RSI/RDI/RSP, index in R15. */
static void base_state(struct dt_gen *g, struct dt_test *t, unsigned type)
{
	memset(&t->in, 0, sizeof(t->in));
	t->compat = false;
	for (unsigned i = 0; i < 16; i++) {
		uint64_t r = rnd(g);
		t->in.gpr[i] = (r & 1) ? edges[(r >> 8) % 18] : rnd(g);
	}
	t->in.gpr[3] = DT_DATA_ADDR + 0x800;  /* RBX: memory operands */
	t->in.gpr[6] = DT_DATA_ADDR + 0x400;  /* RSI: string source */
	t->in.gpr[7] = DT_DATA_ADDR + 0xc00;  /* RDI: string destination */
	t->in.gpr[4] = DT_DATA_ADDR + 0x1f00; /* RSP: stack */
	t->in.gpr[15] = rnd(g) % 16;          /* R15: index */
	t->in.flags = 2 | (rnd(g) & (CF | PF | AF | ZF | SF | OF));
	for (unsigned i = 0; i < 16; i++)
		fill_xmm(g, t->in.xmm[i], type);
	for (unsigned i = 0; i < 8; i++)
		t->in.mm[i] = fp_value(g, T_INT, 8);
	/* MXCSR: rounding control, FTZ, DAZ, some sticky flags and some exception masks vary. */
	uint64_t m = rnd(g);
	t->in.mxcsr = 0x1f80 | (uint32_t)((m & 3) << 13);
	if ((m >> 2) % 4 == 0)
		t->in.mxcsr |= 0x8000; /* FTZ */
	if ((m >> 4) % 4 == 0)
		t->in.mxcsr |= 0x40; /* DAZ */
	if ((m >> 6) % 4 == 0)
		t->in.mxcsr |= (uint32_t)(m >> 8) & 0x3f;
	if ((m >> 14) % 4 == 0) /* unmask some exceptions (not underflow, see sse_fp.c): #XM */
		t->in.mxcsr &= ~(((uint32_t)(m >> 16) & 0x3f) << 7);
	t->data_seed = rnd(g);
}

struct enc_ctx {
	unsigned size;      /* operand size of the form */
	unsigned regs[4];   /* register index chosen for each operand (GPR or XMM) */
	int imm_override;   /* >= 0: immediate value to use */
	uint64_t immv;
};

/* Encode form d with size sz into out; returns length or 0 when Zydis cannot encode it. */
static unsigned encode(struct dt_gen *g, const struct form_def *d, struct enc_ctx *e, uint8_t *out,
		       uint64_t *imm_used)
{
	ZydisEncoderRequest req;
	memset(&req, 0, sizeof(req));
	req.machine_mode = ZYDIS_MACHINE_MODE_LONG_64;
	req.mnemonic = (ZydisMnemonic)d->mnem;
	if (d->kind & K_LOCK)
		req.prefixes |= ZYDIS_ATTRIB_HAS_LOCK;
	if (d->kind & K_REP)
		req.prefixes |= (d->mnem >= ZYDIS_MNEMONIC_CMPSB && d->mnem <= ZYDIS_MNEMONIC_CMPSW) ||
					(d->mnem >= ZYDIS_MNEMONIC_SCASB && d->mnem <= ZYDIS_MNEMONIC_SCASW)
				? ZYDIS_ATTRIB_HAS_REPE : ZYDIS_ATTRIB_HAS_REP;
	if (d->kind & K_REPNE)
		req.prefixes |= ZYDIS_ATTRIB_HAS_REPNE;
	unsigned n = (unsigned)strlen(d->ops), sz = e->size;
	req.operand_count = (ZyanU8)n;
	for (unsigned i = 0; i < n; i++) {
		ZydisEncoderOperand *o = &req.operands[i];
		char k = d->ops[i];
		switch (k) {
		case 'r': case 'g': case 'h': case 'e': {
			unsigned s = k == 'g' ? 1 : k == 'h' ? 2 : k == 'e' ? 4 : sz;
			unsigned idx = pool[rnd(g) % sizeof(pool)];
			if (s == 1 && (rnd(g) & 3) == 0)
				idx = 16 + (unsigned)(rnd(g) % 3); /* AH, CH, DH */
			e->regs[i] = idx;
			o->type = ZYDIS_OPERAND_TYPE_REGISTER;
			o->reg.value = gpr(idx, s);
			break;
		}
		case 'c':
			o->type = ZYDIS_OPERAND_TYPE_REGISTER;
			o->reg.value = ZYDIS_REGISTER_CL;
			e->regs[i] = 1;
			break;
		case 'n':
			e->regs[i] = (unsigned)(rnd(g) % 8);
			o->type = ZYDIS_OPERAND_TYPE_REGISTER;
			o->reg.value = (ZydisRegister)(ZYDIS_REGISTER_MM0 + e->regs[i]);
			break;
		case 'x':
			e->regs[i] = (unsigned)(rnd(g) % 16);
			o->type = ZYDIS_OPERAND_TYPE_REGISTER;
			o->reg.value = (ZydisRegister)(ZYDIS_REGISTER_XMM0 + e->regs[i]);
			break;
		case 'm': case 'G': case 'H': case 'E': case 'M': case 'q': case 'd': case 'o': {
			unsigned s = k == 'G' ? 1 : k == 'H' ? 2 : k == 'E' ? 4 : k == 'M' ? 16 : k == 'q' ? 8
				: k == 'd' ? 4 : k == 'o' ? 2 * sz : sz;
			o->type = ZYDIS_OPERAND_TYPE_MEMORY;
			o->mem.base = ZYDIS_REGISTER_RBX;
			o->mem.size = (ZyanU16)s;
			unsigned align = (k == 'M' || k == 'o') ? 16 : 1;
			o->mem.displacement = (ZyanI64)((rnd(g) % 0x100) & ~(uint64_t)(align - 1));
			if (align == 1 && (rnd(g) & 3) == 0) {
				o->mem.index = ZYDIS_REGISTER_R15;
				o->mem.scale = (ZyanU8)(1u << (rnd(g) % 4));
			}
			if (rnd(g) % 8 == 0)
				o->mem.displacement -= 0x80;
			e->regs[i] = 0xff;
			break;
		}
		case 'i': case 'b': case '1': {
			uint64_t v;
			if (k == '1')
				v = 1;
			else if (e->imm_override >= 0)
				v = e->immv;
			else
				v = (rnd(g) & 1) ? edges[rnd(g) % 18] : rnd(g);
			if (k == 'b' || (k == 'i' && sz == 1))
				v &= 0xff;
			else if (k == 'i' && sz == 2)
				v &= 0xffff;
			else if (k == 'i')
				v = (uint64_t)(int64_t)(int32_t)v;
			o->type = ZYDIS_OPERAND_TYPE_IMMEDIATE;
			o->imm.u = v;
			*imm_used = v;
			break;
		}
		default:
			return 0;
		}
	}
	if (n == 0 && (d->kind & K_STR) == 0 && d->mnem != ZYDIS_MNEMONIC_CBW)
		(void)0;
	ZyanUSize len = ZYDIS_MAX_INSTRUCTION_LENGTH;
	if (!ZYAN_SUCCESS(ZydisEncoderEncodeInstruction(&req, out, &len)))
		return 0;
	return (unsigned)len;
}

/* Flags a form leaves undefined for this particular input (shift counts). */
static uint32_t undef_for(const struct form_def *d, const struct dt_test *t, unsigned sz,
			  const struct enc_ctx *e, uint64_t imm, bool has_imm)
{
	uint32_t u = d->undef;
	if (d->kind & K_SHIFT) {
		bool cl = strchr(d->ops, 'c') != NULL;
		uint64_t cnt = strchr(d->ops, '1') ? 1 : cl ? t->in.gpr[1] : has_imm ? imm : 1;
		unsigned m = (unsigned)(cnt & (sz == 8 ? 63 : 31));
		if (m != 1)
			u |= OF;
		if ((d->mnem == ZYDIS_MNEMONIC_SHL || d->mnem == ZYDIS_MNEMONIC_SHR) && m >= sz * 8)
			u |= CF;
		if ((d->mnem == ZYDIS_MNEMONIC_SHLD || d->mnem == ZYDIS_MNEMONIC_SHRD) && m > sz * 8)
			u |= CF | OF;
	}
	(void)e;
	return u;
}

/* Build one instance of form f; vals (when non-NULL) seed the first operands' values. */
static bool build(struct dt_gen *g, unsigned f, unsigned sz, const uint64_t *vals, int count,
		  struct dt_test *t, uint8_t *out, unsigned *len, uint32_t *undef)
{
	const struct form_def *d = &forms[f];
	struct enc_ctx e = { .size = sz, .imm_override = -1 };
	uint64_t imm = 0;
	bool has_imm = strpbrk(d->ops, "ib") != NULL;
	if (count >= 0) {
		e.imm_override = 1;
		e.immv = (uint64_t)count;
	} else if (vals && has_imm && strchr(d->ops, 'i')) {
		e.imm_override = 1;
		e.immv = vals[1];
	}
	unsigned n = 0;
	if (d->kind & K_JCC || (d->mnem >= ZYDIS_MNEMONIC_JB && d->mnem <= ZYDIS_MNEMONIC_JZ &&
				d->ops[0] == 0 && d->mnem != ZYDIS_MNEMONIC_JMP)) {
		/* jcc +4 over "add rax, 1": shows whether the branch was taken. */
		ZydisDecoder dec;
		(void)dec;
		uint8_t cc;
		static const uint16_t jcc[16] = { M(JO), M(JNO), M(JB), M(JNB), M(JZ), M(JNZ), M(JBE),
						  M(JNBE), M(JS), M(JNS), M(JP), M(JNP), M(JL), M(JNL),
						  M(JLE), M(JNLE) };
		for (cc = 0; cc < 16 && jcc[cc] != d->mnem; cc++)
			;
		if (cc == 16)
			return false;
		const uint8_t code[] = { (uint8_t)(0x70 | cc), 4, 0x48, 0x83, 0xc0, 0x01 };
		memcpy(out, code, sizeof(code));
		*len = sizeof(code);
		*undef = 0;
		return true;
	}
	n = encode(g, d, &e, out, &imm);
	if (!n)
		return false;
	/* Put systematic values into the first two operands. */
	if (vals) {
		for (unsigned i = 0; i < 2 && d->ops[i]; i++) {
			char k = d->ops[i];
			uint64_t v = vals[i];
			if (strchr("rghe", k) && e.regs[i] < 16)
				t->in.gpr[e.regs[i]] = v;
			else if (strchr("rghe", k))
				t->in.gpr[e.regs[i] - 16] = (t->in.gpr[e.regs[i] - 16] & ~0xff00ULL) | (v & 0xff) << 8;
		}
		if (d->mnem == ZYDIS_MNEMONIC_MUL || d->mnem == ZYDIS_MNEMONIC_IMUL ||
		    d->mnem == ZYDIS_MNEMONIC_DIV || d->mnem == ZYDIS_MNEMONIC_IDIV ||
		    d->mnem == ZYDIS_MNEMONIC_CMPXCHG || d->mnem == ZYDIS_MNEMONIC_MULX) {
			t->in.gpr[0] = vals[1];
			t->in.gpr[2] = vals[0] >> 3;
		}
	}
	if (d->kind & K_BTMEM) /* keep the bit offset inside the data area */
		t->in.gpr[e.regs[1]] = (t->in.gpr[e.regs[1]] % 8192) - 4096;
	if (strchr(d->ops, 'c') && (d->mnem == ZYDIS_MNEMONIC_SHLD || d->mnem == ZYDIS_MNEMONIC_SHRD) &&
	    sz == 2)
		t->in.gpr[1] &= 15;
	if ((d->mnem == ZYDIS_MNEMONIC_SHLD || d->mnem == ZYDIS_MNEMONIC_SHRD) && sz == 2 &&
	    strchr(d->ops, 'b') && (imm & 31) > 16)
		return false;
	if (d->kind & K_STR) {
		t->in.gpr[1] = rnd(g) % 24; /* RCX */
		if (rnd(g) & 1)
			t->in.flags |= DF;
	}
	if (count >= 0 && strchr(d->ops, 'c'))
		t->in.gpr[1] = (uint64_t)count;
	if (strchr(d->ops, 'c') && (d->mnem == ZYDIS_MNEMONIC_SHLD || d->mnem == ZYDIS_MNEMONIC_SHRD) &&
	    sz == 2 && (t->in.gpr[1] & 31) > 16)
		return false; /* 16-bit double shifts by more than 16 are undefined */
	*len = n;
	*undef = undef_for(d, t, sz, &e, imm, has_imm);
	return true;
}

bool dt_gen_systematic(struct dt_gen *rg, unsigned f, unsigned i, unsigned level, struct dt_test *t)
{
	struct dt_gen local, *g = &local; /* systematic tests do not consume the random stream */
	(void)rg;
	if (f >= NFORMS) {
		bool more = dt_compat_systematic(f - NFORMS, i, level, t);
		t->form = (int)f;
		return more;
	}
	const struct form_def *d = &forms[f];
	unsigned nsizes = (unsigned)__builtin_popcount(d->sizes);
	unsigned nv = level ? 18 : 8;
	bool shift_count = (d->kind & K_SHIFT) && strpbrk(d->ops, "bc");
	bool sse = d->type != T_INT || strpbrk(d->ops, "xMn") != NULL;
	unsigned per_size;
	if (sse)
		per_size = level ? 400 : 40;
	else if (shift_count)
		per_size = 2 * 66 * (level ? 6 : 2);
	else if (strchr(d->ops, 'r') || strchr(d->ops, 'm') || strchr(d->ops, 'i'))
		per_size = 2 * nv * nv;
	else
		per_size = level ? 64 : 16;
	if (i >= per_size * nsizes)
		return false;
	unsigned sz = size_of_index(d->sizes, i / per_size);
	unsigned j = i % per_size;
	g->s = (uint64_t)f * 0x100000001B3ULL + i * 0x9E3779B97F4A7C15ULL + level + 1;
	rnd(g);
	base_state(g, t, d->type);
	uint64_t vals[2] = { rnd(g), rnd(g) };
	int count = -1;
	bool cf = j & 1;
	j >>= 1;
	if (sse) {
		/* random special values already in XMM */
	} else if (shift_count) {
		count = (int)(j % 66);
		vals[0] = (j / 66) % 2 ? rnd(g) : edges[(j / 66) * 3 % 18];
	} else {
		vals[0] = edges[j % nv];
		vals[1] = edges[(j / nv) % nv];
	}
	t->in.flags = (t->in.flags & ~(uint64_t)CF) | (cf ? CF : 0);
	t->form = (int)f;
	uint32_t undef;
	for (unsigned tries = 0; tries < 8; tries++) {
		if (build(g, f, sz, (sse ? NULL : vals), count, t, t->code, &t->len, &undef)) {
			t->undef_flags = undef;
			return true;
		}
	}
	t->len = 0; /* not encodable: caller skips */
	return true;
}

static bool flags_fully_defined(const struct form_def *d)
{
	return d->undef == 0 && !(d->kind & (K_SHIFT | K_STR));
}

void dt_gen_random(struct dt_gen *g, struct dt_test *t)
{
	if (rnd(g) % 5 == 0) { /* one sequence in five runs in compatibility mode */
		dt_compat_random(g, t);
		return;
	}
	unsigned n = 1 + (unsigned)(rnd(g) % 6);
	base_state(g, t, (unsigned)(rnd(g) % 3));
	t->form = -1;
	t->len = 0;
	t->undef_flags = 0;
	for (unsigned k = 0; k < n; k++) {
		unsigned f = (unsigned)(rnd(g) % NFORMS);
		const struct form_def *d = &forms[f];
		bool last = k == n - 1;
		if (!last && !flags_fully_defined(d))
			continue;
		unsigned nsz = (unsigned)__builtin_popcount(d->sizes);
		unsigned sz = size_of_index(d->sizes, (unsigned)(rnd(g) % nsz));
		uint8_t buf[32];
		unsigned len;
		uint32_t undef;
		if (t->len + 16 > DT_MAX_CODE)
			break;
		if (!build(g, f, sz, NULL, -1, t, buf, &len, &undef))
			continue;
		if (t->len && (d->kind & K_SHIFT) && strchr(d->ops, 'c')) {
			/* CL may have changed since the input state: be conservative. */
			if (d->mnem == ZYDIS_MNEMONIC_SHLD || d->mnem == ZYDIS_MNEMONIC_SHRD)
				continue;
			undef |= OF | CF;
		}
		memcpy(t->code + t->len, buf, len);
		t->len += len;
		t->undef_flags = undef;
		if ((d->mnem == ZYDIS_MNEMONIC_CMP || d->mnem == ZYDIS_MNEMONIC_TEST) && (rnd(g) & 1) &&
		    t->len + 6 <= DT_MAX_CODE) {
			/* compare-and-branch pair (the CPU fuses it): jcc +4 over "add rax, 1" */
			const uint8_t jcc[] = { (uint8_t)(0x70 | (rnd(g) & 15)), 4, 0x48, 0x83, 0xc0, 0x01 };
			memcpy(t->code + t->len, jcc, sizeof(jcc));
			t->len += sizeof(jcc);
		}
	}
}
