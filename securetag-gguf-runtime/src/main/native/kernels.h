/* The row-range kernels of kernels_x86.c, one set per instruction level. */
#ifndef SECURETAG_GGUF_KERNELS_H
#define SECURETAG_GGUF_KERNELS_H
#include <stddef.h>
#include <stdint.h>

typedef void (*st_rows_fn)(const uint8_t *w, size_t row_bytes, int rows, int n, const int8_t *xq, const float *xd,
                           const int16_t *bsum16, float *out);

typedef void (*st_batch_fn)(const uint8_t *w, size_t row_bytes, int rows, int n, int batch, const int8_t *xq,
                            const float *xd, const int16_t *bsum16, float *out, size_t out_stride);

#define ST_DECLARE_BATCH(level, type)                                                                    \
  void st_##type##_batch_##level(const uint8_t *, size_t, int, int, int, const int8_t *, const float *, \
                                 const int16_t *, float *, size_t);

#define ST_DECLARE(level)                                                                                   \
  void st_q8_0_rows_##level(const uint8_t *, size_t, int, int, const int8_t *, const float *, const int16_t *, \
                            float *);                                                                       \
  void st_q4_0_rows_##level(const uint8_t *, size_t, int, int, const int8_t *, const float *, const int16_t *, \
                            float *);                                                                       \
  void st_q4_k_rows_##level(const uint8_t *, size_t, int, int, const int8_t *, const float *, const int16_t *, \
                            float *);                                                                       \
  void st_q6_k_rows_##level(const uint8_t *, size_t, int, int, const int8_t *, const float *, const int16_t *, \
                            float *);

ST_DECLARE(avx2)
ST_DECLARE(vnni)
ST_DECLARE_BATCH(avx2, q8_0)
ST_DECLARE_BATCH(avx2, q4_k)
ST_DECLARE_BATCH(avx2, q6_k)
ST_DECLARE_BATCH(vnni, q8_0)
ST_DECLARE_BATCH(vnni, q4_k)
ST_DECLARE_BATCH(vnni, q6_k)

#endif
