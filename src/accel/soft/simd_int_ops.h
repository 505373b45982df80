/* The lane operations that MMX (64-bit) and SSE2 (128-bit) packed-integer instructions share,
 * as one X-macro list: X(handler name, intrinsic expression of a and b). mmx.c and sse_int.c
 * each expand it with their own X, which loads the operands at their width and stores the
 * result; the intrinsics define every edge case (saturation, wrap) as the guest expects. */
#ifndef HARDY_ACCEL_SOFT_SIMD_INT_OPS_H
#define HARDY_ACCEL_SOFT_SIMD_INT_OPS_H

#define SOFT_SIMD_INT_LANE_OPS(X)                                                          \
	X(paddb, _mm_add_epi8(a, b)) X(paddw, _mm_add_epi16(a, b))                         \
	X(paddd, _mm_add_epi32(a, b)) X(paddq, _mm_add_epi64(a, b))                        \
	X(psubb, _mm_sub_epi8(a, b)) X(psubw, _mm_sub_epi16(a, b))                         \
	X(psubd, _mm_sub_epi32(a, b)) X(psubq, _mm_sub_epi64(a, b))                        \
	X(paddsb, _mm_adds_epi8(a, b)) X(paddsw, _mm_adds_epi16(a, b))                     \
	X(paddusb, _mm_adds_epu8(a, b)) X(paddusw, _mm_adds_epu16(a, b))                   \
	X(psubsb, _mm_subs_epi8(a, b)) X(psubsw, _mm_subs_epi16(a, b))                     \
	X(psubusb, _mm_subs_epu8(a, b)) X(psubusw, _mm_subs_epu16(a, b))                   \
	X(pcmpeqb, _mm_cmpeq_epi8(a, b)) X(pcmpeqw, _mm_cmpeq_epi16(a, b))                 \
	X(pcmpeqd, _mm_cmpeq_epi32(a, b)) X(pcmpgtb, _mm_cmpgt_epi8(a, b))                 \
	X(pcmpgtw, _mm_cmpgt_epi16(a, b)) X(pcmpgtd, _mm_cmpgt_epi32(a, b))                \
	X(pand, _mm_and_si128(a, b)) X(pandn, _mm_andnot_si128(a, b))                      \
	X(por, _mm_or_si128(a, b)) X(pxor, _mm_xor_si128(a, b))                            \
	X(pminub, _mm_min_epu8(a, b)) X(pmaxub, _mm_max_epu8(a, b))                        \
	X(pminsw, _mm_min_epi16(a, b)) X(pmaxsw, _mm_max_epi16(a, b))                      \
	X(pavgb, _mm_avg_epu8(a, b)) X(pavgw, _mm_avg_epu16(a, b))                         \
	X(pmullw, _mm_mullo_epi16(a, b)) X(pmulhw, _mm_mulhi_epi16(a, b))                  \
	X(pmulhuw, _mm_mulhi_epu16(a, b)) X(pmuludq, _mm_mul_epu32(a, b))                  \
	X(pmaddwd, _mm_madd_epi16(a, b)) X(psadbw, _mm_sad_epu8(a, b))                     \
	X(punpcklbw, _mm_unpacklo_epi8(a, b)) X(punpcklwd, _mm_unpacklo_epi16(a, b))       \
	X(punpckldq, _mm_unpacklo_epi32(a, b))

#endif
