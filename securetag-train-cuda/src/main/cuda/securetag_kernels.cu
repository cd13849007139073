// securetag-train CUDA kernels: NF4 dequantization and the LoRA merge, loaded as PTX through the JCuda driver API.
// Regenerate the shipped PTX with:
//   nvcc -ptx -arch=compute_75 -o src/main/resources/dev/securetag/train/cuda/securetag_kernels.ptx src/main/cuda/securetag_kernels.cu
// CudaPtxTest and .ci/compile-cuda.sh compare the committed PTX against a fresh nvcc build when nvcc is on PATH.

__constant__ float NF4_CODE[16] = {
    -1.0f, -0.6961928009986877f, -0.5250730514526367f, -0.39491748809814453f,
    -0.28444138169288635f, -0.18477343022823334f, -0.09105003625154495f, 0.0f,
    0.07958029955625534f, 0.16093020141124725f, 0.24611230194568634f, 0.33791524171829224f,
    0.44070982933044434f, 0.5626170039176941f, 0.7229568362236023f, 1.0f};

// One thread per packed byte: writes elements 2k (high nibble) and 2k+1 (low nibble).
extern "C" __global__ void nf4_dequantize(const unsigned char* packed, const float* scales, int blocksize, int numel,
                                          float* out) {
  int k = blockIdx.x * blockDim.x + threadIdx.x;
  int i = 2 * k;
  if (i >= numel) return;
  unsigned char b = packed[k];
  out[i] = NF4_CODE[b >> 4] * scales[i / blocksize];
  if (i + 1 < numel) out[i + 1] = NF4_CODE[b & 0x0F] * scales[(i + 1) / blocksize];
}

// w[out, in] += scale * B[out, rank] . A[rank, in] ; one thread per weight element.
extern "C" __global__ void lora_merge(float* w, const float* a, const float* b, int out, int in, int rank, float scale) {
  long long idx = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (idx >= (long long)out * in) return;
  int o = (int)(idx / in);
  int i = (int)(idx % in);
  float acc = 0.0f;
  for (int k = 0; k < rank; k++) acc += b[(long long)o * rank + k] * a[(long long)k * in + i];
  w[idx] += scale * acc;
}
