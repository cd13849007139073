/*
 * JNI entry points of dev.securetag.gguf.runtime.internal.NativeKernels: picks the AVX-512 VNNI or the AVX2 build of
 * the kernels once, then runs one row range of a matrix-vector product per call, reading the weights in place from
 * the mapped (direct) buffer.
 */
#include <jni.h>
#include <stdint.h>

#include "kernels.h"

enum { ST_Q8_0 = 0, ST_Q4_0 = 1, ST_Q4_K = 2, ST_Q6_K = 3, ST_KINDS = 4 };

static st_rows_fn table[ST_KINDS];
static st_batch_fn batch_table[ST_KINDS];
static int level = -1;

static void set_avx2(void) {
  table[ST_Q8_0] = st_q8_0_rows_avx2;
  table[ST_Q4_0] = st_q4_0_rows_avx2;
  table[ST_Q4_K] = st_q4_k_rows_avx2;
  table[ST_Q6_K] = st_q6_k_rows_avx2;
  batch_table[ST_Q8_0] = st_q8_0_batch_avx2;
  batch_table[ST_Q4_K] = st_q4_k_batch_avx2;
  batch_table[ST_Q6_K] = st_q6_k_batch_avx2;
}

static int pick_level(void) {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512vl") &&
      __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
      __builtin_cpu_supports("f16c")) {
    table[ST_Q8_0] = st_q8_0_rows_vnni;
    table[ST_Q4_0] = st_q4_0_rows_vnni;
    table[ST_Q4_K] = st_q4_k_rows_vnni;
    table[ST_Q6_K] = st_q6_k_rows_vnni;
    batch_table[ST_Q8_0] = st_q8_0_batch_vnni;
    batch_table[ST_Q4_K] = st_q4_k_batch_vnni;
    batch_table[ST_Q6_K] = st_q6_k_batch_vnni;
    return 2;
  }
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c")) {
    set_avx2();
    return 1;
  }
  return 0;
}

/* The activation and output arrays of one call, pinned for its duration (no allocation, no JNI calls inside). */
typedef struct {
  jbyte *q;
  jfloat *d;
  jshort *bs;
  jfloat *o;
} pinned;

static int pin(JNIEnv *env, pinned *p, jbyteArray xq, jfloatArray xd, jshortArray bsum16, jfloatArray out) {
  p->q = (*env)->GetPrimitiveArrayCritical(env, xq, NULL);
  p->d = (*env)->GetPrimitiveArrayCritical(env, xd, NULL);
  p->bs = bsum16 != NULL ? (*env)->GetPrimitiveArrayCritical(env, bsum16, NULL) : NULL;
  p->o = (*env)->GetPrimitiveArrayCritical(env, out, NULL);
  return p->q != NULL && p->d != NULL && p->o != NULL && (bsum16 == NULL || p->bs != NULL);
}

static void unpin(JNIEnv *env, pinned *p, jbyteArray xq, jfloatArray xd, jshortArray bsum16, jfloatArray out) {
  if (p->o != NULL) (*env)->ReleasePrimitiveArrayCritical(env, out, p->o, 0);
  if (p->bs != NULL) (*env)->ReleasePrimitiveArrayCritical(env, bsum16, p->bs, JNI_ABORT);
  if (p->d != NULL) (*env)->ReleasePrimitiveArrayCritical(env, xd, p->d, JNI_ABORT);
  if (p->q != NULL) (*env)->ReleasePrimitiveArrayCritical(env, xq, p->q, JNI_ABORT);
}

/* 0: no usable instruction set (the Java kernels run), 1: AVX2, 2: AVX-512 VNNI. */
JNIEXPORT jint JNICALL Java_dev_securetag_gguf_runtime_internal_NativeKernels_level(JNIEnv *env, jclass cls) {
  (void)env;
  (void)cls;
  if (level < 0) {
    level = pick_level();
  }
  return level;
}

/* Forces the AVX2 build on a VNNI machine, so tests can check both against the same reference. */
JNIEXPORT jboolean JNICALL Java_dev_securetag_gguf_runtime_internal_NativeKernels_useAvx2(JNIEnv *env, jclass cls,
                                                                                         jboolean avx2) {
  (void)env;
  (void)cls;
  if (level < 1) {
    return JNI_FALSE;
  }
  if (avx2) {
    set_avx2();
    level = 1;
  } else {
    level = pick_level();
  }
  return JNI_TRUE;
}

/*
 * out[outOff + i] = row (rowFrom + i) . activation, for i < rows. Returns 0, or -1 when the buffer is not direct or
 * the kind is unknown (the caller then runs its Java kernels). The arrays are pinned only for the duration of the
 * product, which does no allocation and no JNI calls.
 */
JNIEXPORT jint JNICALL Java_dev_securetag_gguf_runtime_internal_NativeKernels_rows(
    JNIEnv *env, jclass cls, jint kind, jobject buffer, jlong offset, jint rowBytes, jint rows, jint n,
    jbyteArray xq, jfloatArray xd, jshortArray bsum16, jfloatArray out, jint outOff) {
  (void)cls;
  if (kind < 0 || kind >= ST_KINDS || level < 1) {
    return -1;
  }
  uint8_t *base = (uint8_t *)(*env)->GetDirectBufferAddress(env, buffer);
  if (base == NULL) {
    return -1;
  }
  pinned p;
  if (pin(env, &p, xq, xd, bsum16, out)) {
    table[kind](base + offset, (size_t)rowBytes, rows, n, (const int8_t *)p.q, p.d, (const int16_t *)p.bs,
                p.o + outOff);
  }
  unpin(env, &p, xq, xd, bsum16, out);
  return 0;
}

/*
 * out[outOff + t * outStride + i] = row (i) . activation t, for i < rows and t < batch; activation t is
 * xq[t * n ..], its scales xd[t * blocks ..], its 16-value sums bsum16[t * n / 16 ..]. Returns as rows does.
 */
JNIEXPORT jint JNICALL Java_dev_securetag_gguf_runtime_internal_NativeKernels_batch(
    JNIEnv *env, jclass cls, jint kind, jobject buffer, jlong offset, jint rowBytes, jint rows, jint n, jint batch,
    jbyteArray xq, jfloatArray xd, jshortArray bsum16, jfloatArray out, jint outOff, jint outStride) {
  (void)cls;
  /* Q4_0 has no batched kernel: a row-at-a-time one is slower than the Java float batch. */
  if (kind < 0 || kind >= ST_KINDS || level < 1 || batch_table[kind] == NULL) {
    return -1;
  }
  uint8_t *base = (uint8_t *)(*env)->GetDirectBufferAddress(env, buffer);
  if (base == NULL) {
    return -1;
  }
  pinned p;
  if (pin(env, &p, xq, xd, bsum16, out)) {
    batch_table[kind](base + offset, (size_t)rowBytes, rows, n, batch, (const int8_t *)p.q, p.d,
                      (const int16_t *)p.bs, p.o + outOff, (size_t)outStride);
  }
  unpin(env, &p, xq, xd, bsum16, out);
  return 0;
}
