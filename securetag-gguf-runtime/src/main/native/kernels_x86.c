/*
 * Integer matrix-vector kernels for ggml's quantized types times 8-bit activations (q8_0 / q8_K), one row range per
 * call. This file is compiled twice by build.sh: once for AVX2 (+FMA, F16C) and once with AVX-512 VNNI (-DST_VNNI),
 * whose 256-bit dpbusd/dpwssd fuse the multiply-add chains; the JNI entry point picks one at load time.
 *
 * The integer sums are exact, so a row's value equals the Java scalar reference (ggml's generic code) up to the order
 * of the float additions of the per-block scaled sums.
 */
#include <immintrin.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "kernels.h"

#ifdef ST_VNNI
#define ST_FN(name) name##_vnni
#else
#define ST_FN(name) name##_avx2
#endif

static inline float h2f(const uint8_t *p) { return _cvtsh_ss((unsigned short)(p[0] | (p[1] << 8))); }

static inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

/* acc + sum of each 4 adjacent u8 x s8 products in 32-bit lanes. */
static inline __m256i dot_u8s8(__m256i acc, __m256i u, __m256i s) {
#ifdef ST_VNNI
  return _mm256_dpbusd_epi32(acc, u, s);
#else
  return _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1)));
#endif
}

/* acc + pairs of 16-bit products p * sc summed in 32-bit lanes. */
static inline __m256i madd16(__m256i acc, __m256i p, __m256i sc) {
#ifdef ST_VNNI
  return _mm256_dpwssd_epi32(acc, p, sc);
#else
  return _mm256_add_epi32(acc, _mm256_madd_epi16(p, sc));
#endif
}

/* Q8_0 (34-byte blocks: fp16 d, 32 x int8): the signs move to the activations so the weights are unsigned. */
void ST_FN(st_q8_0_rows)(const uint8_t *w, size_t row_bytes, int rows, int n, const int8_t *xq, const float *xd,
                         const int16_t *bsum16, float *out) {
  (void)bsum16;
  int nb = n / 32;
  for (int r = 0; r < rows; r++) {
    const uint8_t *row = w + (size_t)r * row_bytes;
    __m256 acc0 = _mm256_setzero_ps();
    __m256 acc1 = _mm256_setzero_ps();
    int b = 0;
    for (; b + 2 <= nb; b += 2) {
      const uint8_t *x0 = row + 34 * b;
      const uint8_t *x1 = x0 + 34;
      __m256i w0 = _mm256_loadu_si256((const __m256i *)(x0 + 2));
      __m256i w1 = _mm256_loadu_si256((const __m256i *)(x1 + 2));
      __m256i s0 = _mm256_loadu_si256((const __m256i *)(xq + 32 * b));
      __m256i s1 = _mm256_loadu_si256((const __m256i *)(xq + 32 * b + 32));
      __m256i p0 = dot_u8s8(_mm256_setzero_si256(), _mm256_sign_epi8(w0, w0), _mm256_sign_epi8(s0, w0));
      __m256i p1 = dot_u8s8(_mm256_setzero_si256(), _mm256_sign_epi8(w1, w1), _mm256_sign_epi8(s1, w1));
      acc0 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p0), _mm256_set1_ps(h2f(x0) * xd[b]), acc0);
      acc1 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p1), _mm256_set1_ps(h2f(x1) * xd[b + 1]), acc1);
    }
    for (; b < nb; b++) {
      const uint8_t *x0 = row + 34 * b;
      __m256i w0 = _mm256_loadu_si256((const __m256i *)(x0 + 2));
      __m256i s0 = _mm256_loadu_si256((const __m256i *)(xq + 32 * b));
      __m256i p0 = dot_u8s8(_mm256_setzero_si256(), _mm256_sign_epi8(w0, w0), _mm256_sign_epi8(s0, w0));
      acc0 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p0), _mm256_set1_ps(h2f(x0) * xd[b]), acc0);
    }
    out[r] = hsum(_mm256_add_ps(acc0, acc1));
  }
}

/* Q4_0 (18-byte blocks: fp16 d, 16 bytes of nibbles; low nibbles are values 0-15, high 16-31, each q - 8). */
void ST_FN(st_q4_0_rows)(const uint8_t *w, size_t row_bytes, int rows, int n, const int8_t *xq, const float *xd,
                         const int16_t *bsum16, float *out) {
  (void)bsum16;
  int nb = n / 32;
  const __m256i m4 = _mm256_set1_epi8(0x0F);
  const __m256i eight = _mm256_set1_epi8(8);
  for (int r = 0; r < rows; r++) {
    const uint8_t *row = w + (size_t)r * row_bytes;
    __m256 acc = _mm256_setzero_ps();
    for (int b = 0; b < nb; b++) {
      const uint8_t *x = row + 18 * b;
      __m128i q = _mm_loadu_si128((const __m128i *)(x + 2));
      __m256i qq = _mm256_set_m128i(_mm_srli_epi16(q, 4), q);
      __m256i v = _mm256_sub_epi8(_mm256_and_si256(qq, m4), eight);
      __m256i s = _mm256_loadu_si256((const __m256i *)(xq + 32 * b));
      __m256i p = dot_u8s8(_mm256_setzero_si256(), _mm256_sign_epi8(v, v), _mm256_sign_epi8(s, v));
      acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), _mm256_set1_ps(h2f(x) * xd[b]), acc);
    }
    out[r] = hsum(acc);
  }
}

/*
 * get_scale_min_k4 for all eight sub-blocks of a Q4_K block at once, from its 12 scale bytes: 6-bit scales 0-3 and
 * mins 0-3 are the low bits of bytes 0-7; 4-7 take their low four bits from bytes 8-11 and the top two from the high
 * bits of bytes 0-7. Scales as a 16-bit vector in both 128-bit lanes; mins each twice (for the two 16-value sums of
 * their sub-block), as 16-bit lanes.
 */
static inline void q4k_scales(const uint8_t *s, __m256i *sc16, __m256i *mins16) {
  uint32_t s0, s1, s2;
  memcpy(&s0, s, 4);
  memcpy(&s1, s + 4, 4);
  memcpy(&s2, s + 8, 4);
  uint64_t scales = (uint64_t)(s0 & 0x3F3F3F3Fu) |
                    ((uint64_t)((s2 & 0x0F0F0F0Fu) | ((s0 >> 6) & 0x03030303u) << 4) << 32);
  uint64_t mins = (uint64_t)(s1 & 0x3F3F3F3Fu) |
                  ((uint64_t)(((s2 >> 4) & 0x0F0F0F0Fu) | ((s1 >> 6) & 0x03030303u) << 4) << 32);
  const __m128i dup = _mm_set_epi8(7, 7, 6, 6, 5, 5, 4, 4, 3, 3, 2, 2, 1, 1, 0, 0);
  *mins16 = _mm256_cvtepu8_epi16(_mm_shuffle_epi8(_mm_cvtsi64_si128((long long)mins), dup));
  __m256i sc = _mm256_cvtepu8_epi16(_mm_cvtsi64_si128((long long)scales));
  *sc16 = _mm256_permute2x128_si256(sc, sc, 0x00);
}

/*
 * Q4_K (144-byte blocks of 256: fp16 d, fp16 dmin, 12 bytes of 6-bit scales and mins, 128 bytes of nibbles; chunk c
 * of 32 bytes holds sub-block 2c in its low nibbles and 2c + 1 in its high ones):
 * d * sum_j sc_j * sum(q * x) - dmin * sum_j m_j * (bsum of sub-block j). Both sums stay in vectors; a row is
 * reduced once.
 */
void ST_FN(st_q4_k_rows)(const uint8_t *w, size_t row_bytes, int rows, int n, const int8_t *xq, const float *xd,
                         const int16_t *bsum16, float *out) {
  int nb = n / 256;
  const __m256i m4 = _mm256_set1_epi8(0x0F);
  // Scale 2c (low nibbles) and 2c + 1 (high) of chunk c, as 16-bit lanes picked out of the eight scales.
  const __m256i pick_lo = _mm256_set1_epi16(0x0100);
  const __m256i pick_step = _mm256_set1_epi16(0x0404);
  const __m256i pick_hi = _mm256_set1_epi16(0x0302);
  for (int r = 0; r < rows; r++) {
    const uint8_t *row = w + (size_t)r * row_bytes;
    __m256 acc = _mm256_setzero_ps();
    __m256 accm = _mm256_setzero_ps();
    for (int b = 0; b < nb; b++) {
      const uint8_t *x = row + 144 * b;
      __m256i sc16, mins16;
      q4k_scales(x + 4, &sc16, &mins16);
      float dx = xd[b];
      __m256i msum = _mm256_madd_epi16(mins16, _mm256_loadu_si256((const __m256i *)(bsum16 + 16 * b)));
      accm = _mm256_fmadd_ps(_mm256_cvtepi32_ps(msum), _mm256_set1_ps(h2f(x + 2) * dx), accm);
      const int8_t *q8 = xq + 256 * b;
      __m256i sumi = _mm256_setzero_si256();
      __m256i plo = pick_lo;
      __m256i phi = pick_hi;
      for (int c = 0; c < 4; c++) {
        __m256i q = _mm256_loadu_si256((const __m256i *)(x + 16 + 32 * c));
        __m256i lo = _mm256_and_si256(q, m4);
        __m256i hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), m4);
        __m256i p0 = _mm256_maddubs_epi16(lo, _mm256_loadu_si256((const __m256i *)(q8 + 64 * c)));
        __m256i p1 = _mm256_maddubs_epi16(hi, _mm256_loadu_si256((const __m256i *)(q8 + 64 * c + 32)));
        sumi = madd16(sumi, p0, _mm256_shuffle_epi8(sc16, plo));
        sumi = madd16(sumi, p1, _mm256_shuffle_epi8(sc16, phi));
        plo = _mm256_add_epi8(plo, pick_step);
        phi = _mm256_add_epi8(phi, pick_step);
      }
      acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sumi), _mm256_set1_ps(h2f(x) * dx), acc);
    }
    out[r] = hsum(_mm256_sub_ps(acc, accm));
  }
}

/*
 * The four 32-value runs of half h of a Q6_K block as unsigned 6-bit values (q, 0..63): low nibbles from ql, the two
 * high bits from qh (run k takes bits 2k..2k+1 of each qh byte).
 */
static inline void q6k_unpack(const uint8_t *ql, const uint8_t *qh, int h, __m256i u[4]) {
  const __m256i m4 = _mm256_set1_epi8(0x0F);
  const __m256i m30 = _mm256_set1_epi8(0x30);
  __m256i qa = _mm256_loadu_si256((const __m256i *)(ql + 64 * h));
  __m256i qc = _mm256_loadu_si256((const __m256i *)(ql + 64 * h + 32));
  __m256i hq = _mm256_loadu_si256((const __m256i *)(qh + 32 * h));
  u[0] = _mm256_or_si256(_mm256_and_si256(qa, m4), _mm256_and_si256(_mm256_slli_epi16(hq, 4), m30));
  u[1] = _mm256_or_si256(_mm256_and_si256(qc, m4), _mm256_and_si256(_mm256_slli_epi16(hq, 2), m30));
  u[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(qa, 4), m4), _mm256_and_si256(hq, m30));
  u[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(qc, 4), m4),
                         _mm256_and_si256(_mm256_srli_epi16(hq, 2), m30));
}

/*
 * Q6_K (210-byte blocks of 256: ql[128] low nibbles, qh[64] 2-bit highs, 16 int8 scales, fp16 d; values q - 32 with
 * q in 0..63): d * (sum_g sc_g * sum(q * x) - 32 * sum_g sc_g * bsum_g) over 16 groups of 16.
 */
void ST_FN(st_q6_k_rows)(const uint8_t *w, size_t row_bytes, int rows, int n, const int8_t *xq, const float *xd,
                         const int16_t *bsum16, float *out) {
  int nb = n / 256;
  // A 32-value run k spans groups 2k and 2k + 1: lanes 0-7 of its 16-bit pair sums take scale 2k, lanes 8-15 2k + 1.
  const __m256i pick0 = _mm256_set_epi16(0x0302, 0x0302, 0x0302, 0x0302, 0x0302, 0x0302, 0x0302, 0x0302, 0x0100,
                                         0x0100, 0x0100, 0x0100, 0x0100, 0x0100, 0x0100, 0x0100);
  const __m256i step = _mm256_set1_epi16(0x0404);
  for (int r = 0; r < rows; r++) {
    const uint8_t *row = w + (size_t)r * row_bytes;
    __m256 acc = _mm256_setzero_ps();
    __m256 accc = _mm256_setzero_ps();
    for (int b = 0; b < nb; b++) {
      const uint8_t *ql = row + 210 * b;
      const uint8_t *qh = ql + 128;
      __m256i sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(ql + 192)));
      float d = h2f(ql + 208) * xd[b];
      __m256i corr = _mm256_madd_epi16(sc16, _mm256_loadu_si256((const __m256i *)(bsum16 + 16 * b)));
      accc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(corr), _mm256_set1_ps(32 * d), accc);
      // Scales 0-7 in both 128-bit lanes for the first half of the block, 8-15 for the second.
      __m256i halves[2] = {_mm256_permute2x128_si256(sc16, sc16, 0x00), _mm256_permute2x128_si256(sc16, sc16, 0x11)};
      const int8_t *q8 = xq + 256 * b;
      __m256i sumi = _mm256_setzero_si256();
      for (int h = 0; h < 2; h++) {
        __m256i u[4];
        q6k_unpack(ql, qh, h, u);
        __m256i pick = pick0;
        for (int k = 0; k < 4; k++) {
          __m256i p = _mm256_maddubs_epi16(u[k], _mm256_loadu_si256((const __m256i *)(q8 + 128 * h + 32 * k)));
          sumi = madd16(sumi, p, _mm256_shuffle_epi8(halves[h], pick));
          pick = _mm256_add_epi8(pick, step);
        }
      }
      acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sumi), _mm256_set1_ps(d), acc);
    }
    out[r] = hsum(_mm256_sub_ps(acc, accc));
  }
}

/* Tokens left over after the groups of a batch: the row kernel, one row at a time into a strided output. */
static void one_token(st_rows_fn f, const uint8_t *w, size_t row_bytes, int rows, int n, const int8_t *xq,
                      const float *xd, const int16_t *bsum16, float *out) {
  for (int r = 0; r < rows; r++) {
    f(w + (size_t)r * row_bytes, row_bytes, 1, n, xq, xd, bsum16, out + r);
  }
}

/*
 * Batched products (prompt processing): rows [0, rows) times `batch` activations, out[t * out_stride + r]. Each
 * weight block is unpacked once for four tokens (the unpacking costs as much as one token's multiply-adds), so a
 * batch runs at the rate of the multiply-add units rather than of the unpacking. Activation t starts at xq + t * n,
 * its block scales at xd + t * (n / block) and its 16-value sums at bsum16 + t * (n / 16).
 */
#ifdef ST_VNNI
#define ST_T 8 /* 32 vector registers: eight tokens' accumulators stay in them */
#else
#define ST_T 4
#endif
/* Q8_0 keeps eight blocks' weights in registers, so four tokens at a time. */
#define ST_T0 4

void ST_FN(st_q4_k_batch)(const uint8_t *w, size_t row_bytes, int rows, int n, int batch, const int8_t *xq,
                          const float *xd, const int16_t *bsum16, float *out, size_t out_stride) {
  int nb = n / 256;
  const __m256i m4 = _mm256_set1_epi8(0x0F);
  const __m256i pick_lo = _mm256_set1_epi16(0x0100);
  const __m256i pick_step = _mm256_set1_epi16(0x0404);
  const __m256i pick_hi = _mm256_set1_epi16(0x0302);
  int t0 = 0;
  for (; t0 + ST_T <= batch; t0 += ST_T) {
    for (int r = 0; r < rows; r++) {
      const uint8_t *row = w + (size_t)r * row_bytes;
      __m256 acc[ST_T];
#pragma GCC unroll 8
      for (int t = 0; t < ST_T; t++) {
        acc[t] = _mm256_setzero_ps();
      }
      for (int b = 0; b < nb; b++) {
        const uint8_t *x = row + 144 * b;
        __m256i sc16, mins16;
        q4k_scales(x + 4, &sc16, &mins16);
        float d = h2f(x);
        float dmin = h2f(x + 2);
        __m256i sumi[ST_T];
#pragma GCC unroll 8
        for (int t = 0; t < ST_T; t++) {
          sumi[t] = _mm256_setzero_si256();
        }
        __m256i plo = pick_lo;
        __m256i phi = pick_hi;
        for (int c = 0; c < 4; c++) {
          __m256i q = _mm256_loadu_si256((const __m256i *)(x + 16 + 32 * c));
          __m256i lo = _mm256_and_si256(q, m4);
          __m256i hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), m4);
          __m256i slo = _mm256_shuffle_epi8(sc16, plo);
          __m256i shi = _mm256_shuffle_epi8(sc16, phi);
#pragma GCC unroll 8
          for (int t = 0; t < ST_T; t++) {
            const int8_t *q8 = xq + (size_t)(t0 + t) * n + 256 * b + 64 * c;
            __m256i p0 = _mm256_maddubs_epi16(lo, _mm256_loadu_si256((const __m256i *)q8));
            __m256i p1 = _mm256_maddubs_epi16(hi, _mm256_loadu_si256((const __m256i *)(q8 + 32)));
            sumi[t] = madd16(madd16(sumi[t], p0, slo), p1, shi);
          }
          plo = _mm256_add_epi8(plo, pick_step);
          phi = _mm256_add_epi8(phi, pick_step);
        }
#pragma GCC unroll 8
        for (int t = 0; t < ST_T; t++) {
          float dx = xd[(size_t)(t0 + t) * nb + b];
          __m256i msum = _mm256_madd_epi16(
              mins16, _mm256_loadu_si256((const __m256i *)(bsum16 + (size_t)(t0 + t) * (n / 16) + 16 * b)));
          acc[t] = _mm256_fnmadd_ps(_mm256_cvtepi32_ps(msum), _mm256_set1_ps(dmin * dx), acc[t]);
          acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sumi[t]), _mm256_set1_ps(d * dx), acc[t]);
        }
      }
#pragma GCC unroll 8
      for (int t = 0; t < ST_T; t++) {
        out[(size_t)(t0 + t) * out_stride + r] = hsum(acc[t]);
      }
    }
  }
  for (; t0 < batch; t0++) {
    one_token(ST_FN(st_q4_k_rows), w, row_bytes, rows, n, xq + (size_t)t0 * n, xd + (size_t)t0 * nb, bsum16 + (size_t)t0 * (n / 16),
              out + (size_t)t0 * out_stride);
  }
}

void ST_FN(st_q6_k_batch)(const uint8_t *w, size_t row_bytes, int rows, int n, int batch, const int8_t *xq,
                          const float *xd, const int16_t *bsum16, float *out, size_t out_stride) {
  int nb = n / 256;
  const __m256i pick0 = _mm256_set_epi16(0x0302, 0x0302, 0x0302, 0x0302, 0x0302, 0x0302, 0x0302, 0x0302, 0x0100,
                                         0x0100, 0x0100, 0x0100, 0x0100, 0x0100, 0x0100, 0x0100);
  const __m256i step = _mm256_set1_epi16(0x0404);
  int t0 = 0;
  for (; t0 + ST_T <= batch; t0 += ST_T) {
    for (int r = 0; r < rows; r++) {
      const uint8_t *row = w + (size_t)r * row_bytes;
      __m256 acc[ST_T];
#pragma GCC unroll 8
      for (int t = 0; t < ST_T; t++) {
        acc[t] = _mm256_setzero_ps();
      }
      for (int b = 0; b < nb; b++) {
        const uint8_t *ql = row + 210 * b;
        const uint8_t *qh = ql + 128;
        __m256i sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(ql + 192)));
        float d = h2f(ql + 208);
        __m256i halves[2] = {_mm256_permute2x128_si256(sc16, sc16, 0x00),
                             _mm256_permute2x128_si256(sc16, sc16, 0x11)};
        __m256i sumi[ST_T];
#pragma GCC unroll 8
        for (int t = 0; t < ST_T; t++) {
          sumi[t] = _mm256_setzero_si256();
        }
        for (int h = 0; h < 2; h++) {
          __m256i u[4];
          q6k_unpack(ql, qh, h, u);
          __m256i pick = pick0;
          for (int k = 0; k < 4; k++) {
            __m256i s = _mm256_shuffle_epi8(halves[h], pick);
#pragma GCC unroll 8
            for (int t = 0; t < ST_T; t++) {
              const int8_t *q8 = xq + (size_t)(t0 + t) * n + 256 * b + 128 * h + 32 * k;
              __m256i p = _mm256_maddubs_epi16(u[k], _mm256_loadu_si256((const __m256i *)q8));
              sumi[t] = madd16(sumi[t], p, s);
            }
            pick = _mm256_add_epi8(pick, step);
          }
        }
#pragma GCC unroll 8
        for (int t = 0; t < ST_T; t++) {
          float dd = d * xd[(size_t)(t0 + t) * nb + b];
          __m256i corr = _mm256_madd_epi16(
              sc16, _mm256_loadu_si256((const __m256i *)(bsum16 + (size_t)(t0 + t) * (n / 16) + 16 * b)));
          acc[t] = _mm256_fnmadd_ps(_mm256_cvtepi32_ps(corr), _mm256_set1_ps(32 * dd), acc[t]);
          acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sumi[t]), _mm256_set1_ps(dd), acc[t]);
        }
      }
#pragma GCC unroll 8
      for (int t = 0; t < ST_T; t++) {
        out[(size_t)(t0 + t) * out_stride + r] = hsum(acc[t]);
      }
    }
  }
  for (; t0 < batch; t0++) {
    one_token(ST_FN(st_q6_k_rows), w, row_bytes, rows, n, xq + (size_t)t0 * n, xd + (size_t)t0 * nb, bsum16 + (size_t)t0 * (n / 16),
              out + (size_t)t0 * out_stride);
  }
}

/* The 8 lanes of each of p[0..7] summed: lane j of the result is the sum of p[j]. */
static inline __m256i sum8x8(const __m256i p[8]) {
  __m256i a = _mm256_hadd_epi32(_mm256_hadd_epi32(p[0], p[1]), _mm256_hadd_epi32(p[2], p[3]));
  __m256i b = _mm256_hadd_epi32(_mm256_hadd_epi32(p[4], p[5]), _mm256_hadd_epi32(p[6], p[7]));
  return _mm256_add_epi32(_mm256_permute2x128_si256(a, b, 0x20), _mm256_permute2x128_si256(a, b, 0x31));
}

/*
 * Q8_0 batch: eight blocks at a time, their integer sums gathered into one vector so that the per-block float
 * scaling is one multiply-add per 256 values and token rather than one per 32.
 */
void ST_FN(st_q8_0_batch)(const uint8_t *w, size_t row_bytes, int rows, int n, int batch, const int8_t *xq,
                          const float *xd, const int16_t *bsum16, float *out, size_t out_stride) {
  int nb = n / 32;
#ifndef ST_VNNI
  (void)bsum16;
#endif
  int nb8 = nb / 8 * 8;
  int t0 = 0;
  for (; t0 + ST_T0 <= batch; t0 += ST_T0) {
    for (int r = 0; r < rows; r++) {
      const uint8_t *row = w + (size_t)r * row_bytes;
      __m256 acc[ST_T0];
#pragma GCC unroll 4
      for (int t = 0; t < ST_T0; t++) {
        acc[t] = _mm256_setzero_ps();
      }
      int b = 0;
      for (; b < nb8; b += 8) {
        __m256i wv[8], aw[8];
        uint16_t dh[8];
        for (int j = 0; j < 8; j++) {
          const uint8_t *x = row + 34 * (b + j);
          wv[j] = _mm256_loadu_si256((const __m256i *)(x + 2));
#ifdef ST_VNNI
          aw[j] = _mm256_xor_si256(wv[j], _mm256_set1_epi8((char)0x80)); /* w + 128 */
#else
          aw[j] = _mm256_sign_epi8(wv[j], wv[j]);
#endif
          dh[j] = (uint16_t)(x[0] | (x[1] << 8));
        }
        __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)dh));
#pragma GCC unroll 4
        for (int t = 0; t < ST_T0; t++) {
          const int8_t *q8 = xq + (size_t)(t0 + t) * n + 32 * b;
          __m256i p[8];
          for (int j = 0; j < 8; j++) {
            __m256i s = _mm256_loadu_si256((const __m256i *)(q8 + 32 * j));
#ifdef ST_VNNI
            p[j] = dot_u8s8(_mm256_setzero_si256(), aw[j], s);
#else
            p[j] = dot_u8s8(_mm256_setzero_si256(), aw[j], _mm256_sign_epi8(s, wv[j]));
#endif
          }
          __m256i sums = sum8x8(p);
#ifdef ST_VNNI
          /* sum((w + 128) x) - 128 sum(x): bsum16 holds the 32-value sums of the q8_0 activations here. */
          __m256i bs = _mm256_cvtepi16_epi32(_mm_loadu_si128((const __m128i *)(bsum16 + (size_t)(t0 + t) * nb + b)));
          sums = _mm256_sub_epi32(sums, _mm256_slli_epi32(bs, 7));
#endif
          __m256 dd = _mm256_mul_ps(dw, _mm256_loadu_ps(xd + (size_t)(t0 + t) * nb + b));
          acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sums), dd, acc[t]);
        }
      }
      for (; b < nb; b++) {
        const uint8_t *x = row + 34 * b;
        __m256i wv = _mm256_loadu_si256((const __m256i *)(x + 2));
        __m256i aw = _mm256_sign_epi8(wv, wv);
        float d = h2f(x);
#pragma GCC unroll 4
        for (int t = 0; t < ST_T0; t++) {
          __m256i s = _mm256_loadu_si256((const __m256i *)(xq + (size_t)(t0 + t) * n + 32 * b));
          __m256i p = dot_u8s8(_mm256_setzero_si256(), aw, _mm256_sign_epi8(s, wv));
          acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), _mm256_set1_ps(d * xd[(size_t)(t0 + t) * nb + b]), acc[t]);
        }
      }
#pragma GCC unroll 4
      for (int t = 0; t < ST_T0; t++) {
        out[(size_t)(t0 + t) * out_stride + r] = hsum(acc[t]);
      }
    }
  }
  for (; t0 < batch; t0++) {
    one_token(ST_FN(st_q8_0_rows), w, row_bytes, rows, n, xq + (size_t)t0 * n, xd + (size_t)t0 * nb, NULL,
              out + (size_t)t0 * out_stride);
  }
}
