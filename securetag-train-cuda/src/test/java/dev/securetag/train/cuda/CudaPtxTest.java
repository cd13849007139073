package dev.securetag.train.cuda;

import static org.assertj.core.api.Assertions.assertThat;

import dev.securetag.train.cuda.internal.CudaKernelBackend;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import jcuda.nvptxcompiler.JNvPTXCompiler;
import jcuda.nvptxcompiler.nvPTXCompilerHandle;
import jcuda.nvptxcompiler.nvPTXCompileResult;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Keeps the shipped PTX in sync with src/main/cuda and proves it assembles without a GPU. */
class CudaPtxTest {
  private static final Path CU = Path.of("src/main/cuda/securetag_kernels.cu");

  private static String body(String ptx) {
    return ptx.lines().filter(l -> !l.startsWith("//")).collect(Collectors.joining("\n")).trim();
  }

  @Test
  void shippedPtxEqualsFreshNvccOutputOfTheCudaSource(@TempDir Path tmp) throws Exception {
    Assumptions.assumeTrue(Files.exists(CU), "CUDA source not found (test not run from the module directory)");
    Assumptions.assumeTrue(onPath("nvcc"), "nvcc is not on PATH; PTX sync is checked where it is (CI)");
    Path out = tmp.resolve("k.ptx");
    Process p = new ProcessBuilder("nvcc", "-ptx", "-arch=compute_75", "-o", out.toString(), CU.toString())
        .redirectErrorStream(true).start();
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
    String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.exitValue()).as(log).isZero();
    assertThat(body(CudaKernelBackend.ptx()))
        .as("regenerate with: nvcc -ptx -arch=compute_75 -o src/main/resources/dev/securetag/train/cuda/"
            + "securetag_kernels.ptx src/main/cuda/securetag_kernels.cu")
        .isEqualTo(body(Files.readString(out)));
  }

  @ParameterizedTest
  @ValueSource(strings = {"sm_75", "sm_80", "sm_90"})
  void shippedPtxAssemblesForGpuArchitecturesWithoutAGpu(String arch) {
    // JCuda's static nvPTXCompiler (CUDA 12.0, PTX ISA <= 8.0) runs on any CPU; the kernels need nothing newer. The
    // text is the one the loader's fallback hands an older driver.
    String ptx = CudaKernelBackend.withPtxVersion(CudaKernelBackend.ptx(), CudaKernelBackend.FALLBACK_PTX_VERSION);
    byte[] src = (ptx + "\0").getBytes(StandardCharsets.US_ASCII);
    nvPTXCompilerHandle h = new nvPTXCompilerHandle();
    int rc;
    try {
      rc = JNvPTXCompiler.nvPTXCompilerCreate(h, src.length, src);
    } catch (LinkageError e) {
      Assumptions.abort("JCuda nvPTXCompiler native library not loadable here: " + e.getMessage());
      return;
    }
    assertThat(rc).isEqualTo(nvPTXCompileResult.NVPTXCOMPILE_SUCCESS);
    try {
      rc = JNvPTXCompiler.nvPTXCompilerCompile(h, 1, new String[] {"--gpu-name=" + arch});
      long[] size = new long[1];
      if (rc != nvPTXCompileResult.NVPTXCOMPILE_SUCCESS) {
        JNvPTXCompiler.nvPTXCompilerGetErrorLogSize(h, size);
        byte[] log = new byte[(int) size[0]];
        JNvPTXCompiler.nvPTXCompilerGetErrorLog(h, log);
        throw new AssertionError("PTX does not assemble for " + arch + ": " + new String(log, StandardCharsets.UTF_8));
      }
      JNvPTXCompiler.nvPTXCompilerGetCompiledProgramSize(h, size);
      assertThat(size[0]).isPositive();
    } finally {
      JNvPTXCompiler.nvPTXCompilerDestroy(h);
    }
  }

  private static boolean onPath(String exe) {
    String path = System.getenv("PATH");
    if (path == null) {
      return false;
    }
    for (String dir : path.split(File.pathSeparator)) {
      if (Files.isExecutable(Path.of(dir, exe))) {
        return true;
      }
    }
    return false;
  }
}
