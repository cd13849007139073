package dev.securetag.train.cuda.internal;

import static jcuda.driver.JCudaDriver.cuCtxSetCurrent;
import static jcuda.driver.JCudaDriver.cuCtxSynchronize;
import static jcuda.driver.JCudaDriver.cuDeviceGet;
import static jcuda.driver.JCudaDriver.cuDeviceGetCount;
import static jcuda.driver.JCudaDriver.cuDeviceGetName;
import static jcuda.driver.JCudaDriver.cuDevicePrimaryCtxRelease;
import static jcuda.driver.JCudaDriver.cuDevicePrimaryCtxRetain;
import static jcuda.driver.JCudaDriver.cuInit;
import static jcuda.driver.JCudaDriver.cuLaunchKernel;
import static jcuda.driver.JCudaDriver.cuMemAlloc;
import static jcuda.driver.JCudaDriver.cuMemFree;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoH;
import static jcuda.driver.JCudaDriver.cuMemcpyHtoD;
import static jcuda.driver.JCudaDriver.cuModuleGetFunction;
import static jcuda.driver.JCudaDriver.cuModuleLoadData;
import static jcuda.driver.JCudaDriver.cuModuleUnload;

import dev.securetag.train.KernelBackend;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.function.ToIntFunction;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import jcuda.Pointer;
import jcuda.Sizeof;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUfunction;
import jcuda.driver.CUmodule;
import jcuda.driver.CUresult;
import jcuda.driver.JCudaDriver;

/**
 * Kernels from {@code src/main/cuda/securetag_kernels.cu}, shipped as PTX and loaded with the JCuda driver API
 * ({@code cuModuleLoadData}), which needs nothing but the NVIDIA driver. Runs in the device's primary context so it
 * shares memory and stream ordering with libtorch. This path copies through host memory on each call.
 */
public final class CudaKernelBackend implements KernelBackend {
  /** Class-path location of the PTX built from the .cu file. */
  public static final String PTX_RESOURCE = "/dev/securetag/train/cuda/securetag_kernels.ptx";
  private static final int THREADS = 256;
  /** The PTX ISA version the loader falls back to: the newest an R525 (CUDA 12.0) driver accepts. */
  public static final String FALLBACK_PTX_VERSION = "8.0";
  private static final Pattern PTX_VERSION = Pattern.compile("(?m)^\\.version (\\d+\\.\\d+)[ \\t]*$");
  private static volatile String probe;

  private final CUdevice device;
  private final CUcontext context;
  private final CUmodule module;
  private final CUfunction dequant;
  private final CUfunction merge;
  private final String name;
  private volatile boolean closed;

  private CudaKernelBackend() {
    JCudaDriver.setExceptionsEnabled(true);
    cuInit(0);
    device = new CUdevice();
    cuDeviceGet(device, 0);
    context = new CUcontext();
    cuDevicePrimaryCtxRetain(context, device);
    cuCtxSetCurrent(context);
    byte[] devName = new byte[256];
    cuDeviceGetName(devName, devName.length, device);
    String n = new String(devName, StandardCharsets.US_ASCII).trim();
    int nul = n.indexOf('\0');
    name = "cuda(" + (nul >= 0 ? n.substring(0, nul) : n) + ")";
    module = loadModule(ptx());
    dequant = function("nf4_dequantize");
    merge = function("lora_merge");
  }

  /** Opens the backend on device 0; call only when {@link #unavailableReason()} is empty. */
  public static CudaKernelBackend open() {
    return new CudaKernelBackend();
  }

  /**
   * Why CUDA cannot be used, or empty when it can. Probed once: JCuda reports a missing driver as an Error
   * ({@code UnsatisfiedLinkError}, then {@code NoClassDefFoundError}), so its classes are never touched again after
   * a failure.
   */
  public static synchronized Optional<String> unavailableReason() {
    if (probe == null) {
      probe = runProbe();
    }
    return probe.isEmpty() ? Optional.empty() : Optional.of(probe);
  }

  private static String runProbe() {
    try {
      JCudaDriver.setExceptionsEnabled(false);
      int rc = cuInit(0);
      if (rc != CUresult.CUDA_SUCCESS) {
        return "cuInit failed: " + CUresult.stringFor(rc);
      }
      int[] count = new int[1];
      rc = cuDeviceGetCount(count);
      if (rc != CUresult.CUDA_SUCCESS) {
        return "cuDeviceGetCount failed: " + CUresult.stringFor(rc);
      }
      return count[0] > 0 ? "" : "no CUDA device";
    } catch (LinkageError e) {
      return "NVIDIA driver not loadable (" + e.getClass().getSimpleName() + ": " + firstLine(e) + ")";
    }
  }

  private static String firstLine(Throwable e) {
    String m = String.valueOf(e.getMessage());
    int nl = m.indexOf('\n');
    return nl < 0 ? m : m.substring(0, nl);
  }

  /** The shipped PTX text. */
  public static String ptx() {
    try (InputStream in = CudaKernelBackend.class.getResourceAsStream(PTX_RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException("PTX resource " + PTX_RESOURCE + " missing from the jar");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + PTX_RESOURCE, e);
    }
  }

  /** What {@link #loadWithFallback} did: the driver's final result code and the PTX text it was given last. */
  record PtxLoad(int result, String ptx, boolean loweredVersion) {}

  /** The {@code .version} of a PTX module, e.g. {@code 9.0}. */
  public static String ptxVersion(String ptx) {
    Matcher m = PTX_VERSION.matcher(ptx);
    if (!m.find()) {
      throw new IllegalArgumentException("PTX text has no .version directive");
    }
    return m.group(1);
  }

  /** The same PTX with its {@code .version} directive (only that line) replaced by {@code version}. */
  public static String withPtxVersion(String ptx, String version) {
    Matcher m = PTX_VERSION.matcher(ptx);
    if (!m.find()) {
      throw new IllegalArgumentException("PTX text has no .version directive");
    }
    return ptx.substring(0, m.start(1)) + version + ptx.substring(m.end(1));
  }

  /**
   * nvcc 13 writes PTX ISA 9.0, which needs an R580+ driver; these kernels use no newer instructions, so when the
   * driver answers {@code CUDA_ERROR_UNSUPPORTED_PTX_VERSION} the same text is retried once with the header lowered
   * to {@link #FALLBACK_PTX_VERSION}. Any other error, or PTX already at or below that version, is not retried.
   */
  static PtxLoad loadWithFallback(String ptx, ToIntFunction<String> load) {
    int rc = load.applyAsInt(ptx);
    if (rc != CUresult.CUDA_ERROR_UNSUPPORTED_PTX_VERSION
        || compareVersions(ptxVersion(ptx), FALLBACK_PTX_VERSION) <= 0) {
      return new PtxLoad(rc, ptx, false);
    }
    String lowered = withPtxVersion(ptx, FALLBACK_PTX_VERSION);
    return new PtxLoad(load.applyAsInt(lowered), lowered, true);
  }

  private static int compareVersions(String a, String b) {
    String[] x = a.split("\\.");
    String[] y = b.split("\\.");
    int c = Integer.compare(Integer.parseInt(x[0]), Integer.parseInt(y[0]));
    return c != 0 ? c : Integer.compare(Integer.parseInt(x[1]), Integer.parseInt(y[1]));
  }

  private static CUmodule loadModule(String ptx) {
    CUmodule m = new CUmodule();
    JCudaDriver.setExceptionsEnabled(false);
    PtxLoad r;
    try {
      r = loadWithFallback(ptx, text -> cuModuleLoadData(m, text));
    } finally {
      JCudaDriver.setExceptionsEnabled(true);
    }
    if (r.result() != CUresult.CUDA_SUCCESS) {
      throw new IllegalStateException("cannot load securetag PTX (ISA " + ptxVersion(ptx)
          + (r.loweredVersion() ? ", retried as " + FALLBACK_PTX_VERSION : "") + "): "
          + CUresult.stringFor(r.result()));
    }
    return m;
  }

  private CUfunction function(String fn) {
    CUfunction f = new CUfunction();
    cuModuleGetFunction(f, module, fn);
    return f;
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public synchronized void dequantizeNf4(byte[] packed, float[] scales, int blocksize, int numel, float[] out) {
    ensureOpen();
    cuCtxSetCurrent(context);
    CUdeviceptr dPacked = upload(Pointer.to(packed), packed.length);
    CUdeviceptr dScales = upload(Pointer.to(scales), (long) scales.length * Sizeof.FLOAT);
    CUdeviceptr dOut = alloc((long) numel * Sizeof.FLOAT);
    try {
      int threads = (numel + 1) / 2;
      launch(dequant, threads, Pointer.to(Pointer.to(dPacked), Pointer.to(dScales), Pointer.to(new int[] {blocksize}),
          Pointer.to(new int[] {numel}), Pointer.to(dOut)));
      cuMemcpyDtoH(Pointer.to(out), dOut, (long) numel * Sizeof.FLOAT);
    } finally {
      free(dPacked, dScales, dOut);
    }
  }

  @Override
  public synchronized void mergeLora(float[] w, int out, int in, float[] a, float[] b, int rank, float scale) {
    ensureOpen();
    cuCtxSetCurrent(context);
    CUdeviceptr dw = upload(Pointer.to(w), (long) out * in * Sizeof.FLOAT);
    CUdeviceptr da = upload(Pointer.to(a), (long) rank * in * Sizeof.FLOAT);
    CUdeviceptr db = upload(Pointer.to(b), (long) out * rank * Sizeof.FLOAT);
    try {
      launch(merge, out * in, Pointer.to(Pointer.to(dw), Pointer.to(da), Pointer.to(db), Pointer.to(new int[] {out}),
          Pointer.to(new int[] {in}), Pointer.to(new int[] {rank}), Pointer.to(new float[] {scale})));
      cuMemcpyDtoH(Pointer.to(w), dw, (long) out * in * Sizeof.FLOAT);
    } finally {
      free(dw, da, db);
    }
  }

  private static void launch(CUfunction f, int threads, Pointer params) {
    if (threads <= 0) {
      return;
    }
    int grid = (threads + THREADS - 1) / THREADS;
    cuLaunchKernel(f, grid, 1, 1, THREADS, 1, 1, 0, null, params, null);
    cuCtxSynchronize();
  }

  private static CUdeviceptr alloc(long bytes) {
    CUdeviceptr p = new CUdeviceptr();
    cuMemAlloc(p, Math.max(1, bytes));
    return p;
  }

  private static CUdeviceptr upload(Pointer host, long bytes) {
    CUdeviceptr p = alloc(bytes);
    if (bytes > 0) {
      cuMemcpyHtoD(p, host, bytes);
    }
    return p;
  }

  private static void free(CUdeviceptr... ptrs) {
    for (CUdeviceptr p : ptrs) {
      cuMemFree(p);
    }
  }

  private void ensureOpen() {
    if (closed) {
      throw new IllegalStateException("kernel backend " + name + " is closed");
    }
  }

  @Override
  public synchronized void close() {
    if (!closed) {
      closed = true;
      cuModuleUnload(module);
      cuDevicePrimaryCtxRelease(device);
    }
  }
}
