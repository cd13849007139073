package dev.securetag.gguf.runtime.internal;

import dev.securetag.gguf.GgmlType;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The optional native integer kernels ({@code src/main/native}: C with AVX2 or AVX-512 VNNI, built into the jar on
 * Linux x86_64 when a C compiler is present at build time). They compute the same integer dot products as the
 * Vector API kernels of {@code Q8_0Kernels}, {@code Q4_0Kernels}, {@code Q4_KKernels} and {@code Q6_KKernels}, with
 * the 8-bit multiply-adds ({@code vpmaddubsw}, {@code vpdpbusd}, {@code vpdpwssd}) that Java 17's Vector API cannot
 * express, a whole row range per call. Where the library is absent, fails to load or the CPU lacks AVX2, or with
 * {@code -Dsecuretag.gguf.native=false}, {@link #available()} is false, {@link #status()} says why, and the Java
 * kernels run.
 */
public final class NativeKernels {
  private static final Logger LOG = LoggerFactory.getLogger(NativeKernels.class);
  /** Where build.sh puts the library inside the jar. */
  static final String RESOURCE = "native/linux-x86_64/libsecuretag_gguf.so";

  static final int Q8_0 = 0;
  static final int Q4_0 = 1;
  static final int Q4_K = 2;
  static final int Q6_K = 3;

  private static final boolean AVAILABLE;
  private static final String STATUS;

  static {
    String status;
    boolean ok = false;
    if (!Boolean.parseBoolean(System.getProperty("securetag.gguf.native", "true"))) {
      status = "off (-Dsecuretag.gguf.native=false)";
    } else {
      try {
        status = load();
        ok = status == null;
        if (ok) {
          int level = level();
          ok = level > 0;
          status = ok ? describe(level) : "the CPU has no AVX2, FMA and F16C; the Java kernels run";
        }
      } catch (LinkageError | IOException | RuntimeException e) {
        status = "failed to load: " + e;
      }
    }
    AVAILABLE = ok;
    STATUS = status;
    LOG.debug("native GGUF kernels: {}", status);
  }

  private NativeKernels() {}

  /** True when the native kernels are loaded and usable on this CPU. */
  public static boolean available() {
    return AVAILABLE;
  }

  /** The instruction set in use ("AVX-512 VNNI", "AVX2"), or why the native kernels are not used. */
  public static String status() {
    return STATUS;
  }

  /** The native kernel of weights of type {@code t}, or -1 when the type has none (its Java kernel runs). */
  static int kind(GgmlType t) {
    return switch (t) {
      case Q8_0 -> Q8_0;
      case Q4_0 -> Q4_0;
      case Q4_K -> Q4_K;
      case Q6_K -> Q6_K;
      default -> -1;
    };
  }

  /**
   * Switches between the AVX2 and the best build (tests check both against the same scalar reference); returns
   * false when the library is not loaded.
   */
  static boolean forceAvx2(boolean avx2) {
    return AVAILABLE && useAvx2(avx2);
  }

  /** The level now in use: 1 AVX2, 2 AVX-512 VNNI. */
  static String levelName() {
    return AVAILABLE ? describe(level()) : STATUS;
  }

  private static String describe(int level) {
    return level == 2 ? "AVX-512 VNNI" : "AVX2";
  }

  private static String load() throws IOException {
    String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
    String arch = System.getProperty("os.arch", "");
    if (!os.startsWith("linux") || !(arch.equals("amd64") || arch.equals("x86_64"))) {
      return "not built for " + os + " " + arch + " (Linux x86_64 only); the Java kernels run";
    }
    try (InputStream in = NativeKernels.class.getResourceAsStream(RESOURCE)) {
      if (in == null) {
        return "not in this build (no C compiler when securetag-gguf-runtime was built); the Java kernels run";
      }
      // Loaded from a private copy: the jar's entry cannot be mapped, and the copy can go as soon as it is loaded.
      Path tmp = Files.createTempFile("securetag-gguf-", ".so");
      try {
        Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
        System.load(tmp.toAbsolutePath().toString());
      } finally {
        Files.deleteIfExists(tmp);
      }
    }
    return null;
  }

  /**
   * {@code out[outOff + i]} = row {@code i} of the {@code rows} rows at byte {@code offset} of {@code w} times the
   * 8-bit activation ({@code xq}, per-block scales {@code xd}, q8_K's 16-value sums {@code bsum16} or null for q8_0).
   * Returns 0, or -1 when it did nothing (a heap buffer, an unknown kind).
   */
  static native int rows(int kind, ByteBuffer w, long offset, int rowBytes, int rows, int n, byte[] xq, float[] xd,
      short[] bsum16, float[] out, int outOff);

  /**
   * {@code out[outOff + t * outStride + i]} = row {@code i} times activation {@code t} of a batch of {@code batch}
   * laid out as in {@link Q8Batch}; returns as {@link #rows} does.
   */
  static native int batch(int kind, ByteBuffer w, long offset, int rowBytes, int rows, int n, int batch, byte[] xq,
      float[] xd, short[] bsum16, float[] out, int outOff, int outStride);

  private static native int level();

  private static native boolean useAvx2(boolean avx2);
}
