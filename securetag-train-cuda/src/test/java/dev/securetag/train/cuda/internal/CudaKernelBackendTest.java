package dev.securetag.train.cuda.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import jcuda.driver.CUresult;
import jcuda.nvptxcompiler.JNvPTXCompiler;
import jcuda.nvptxcompiler.nvPTXCompileResult;
import jcuda.nvptxcompiler.nvPTXCompilerHandle;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The PTX-version fallback of the CUDA loader, without a GPU: the decision logic against a recording loader, and the
 * shipped PTX against a real PTX consumer that, like a pre-R580 driver, accepts ISA 8.0 but not 9.0.
 */
class CudaKernelBackendTest {
  private static final String SHIPPED = CudaKernelBackend.ptx();

  /** A driver stand-in that records each PTX text it is given and answers from the text's .version. */
  private static final class RecordingLoader {
    final List<String> texts = new ArrayList<>();
    final String newestSupported;

    RecordingLoader(String newestSupported) {
      this.newestSupported = newestSupported;
    }

    int load(String ptx) {
      texts.add(ptx);
      String v = CudaKernelBackend.ptxVersion(ptx);
      return Double.parseDouble(v) <= Double.parseDouble(newestSupported) ? CUresult.CUDA_SUCCESS
          : CUresult.CUDA_ERROR_UNSUPPORTED_PTX_VERSION;
    }
  }

  @Test
  void loweringRewritesOnlyTheVersionDirective() {
    assertThat(CudaKernelBackend.ptxVersion(SHIPPED)).isEqualTo("9.0");
    String lowered = CudaKernelBackend.withPtxVersion(SHIPPED, CudaKernelBackend.FALLBACK_PTX_VERSION);
    assertThat(CudaKernelBackend.ptxVersion(lowered)).isEqualTo("8.0");
    List<String> before = SHIPPED.lines().toList();
    List<String> after = lowered.lines().toList();
    assertThat(after).hasSameSizeAs(before);
    List<Integer> changed = new ArrayList<>();
    for (int i = 0; i < before.size(); i++) {
      if (!before.get(i).equals(after.get(i))) {
        changed.add(i);
      }
    }
    assertThat(changed).hasSize(1);
    assertThat(before.get(changed.get(0))).isEqualTo(".version 9.0");
    assertThat(after.get(changed.get(0))).isEqualTo(".version 8.0");
    // A ".version" in a comment or inside another directive is not the header.
    String tricky = "// .version 9.0 in a comment\n  .version 7.0 indented\n.version 9.1\n.target sm_75\n";
    assertThat(CudaKernelBackend.ptxVersion(tricky)).isEqualTo("9.1");
    assertThat(CudaKernelBackend.withPtxVersion(tricky, "8.0"))
        .isEqualTo("// .version 9.0 in a comment\n  .version 7.0 indented\n.version 8.0\n.target sm_75\n");
    assertThatThrownBy(() -> CudaKernelBackend.withPtxVersion(".target sm_75\n", "8.0"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining(".version");
  }

  @Test
  void driverRejectingThePtxVersionGetsOneRetryWithIsa80() {
    RecordingLoader driver = new RecordingLoader("8.5");
    CudaKernelBackend.PtxLoad r = CudaKernelBackend.loadWithFallback(SHIPPED, driver::load);
    assertThat(r.result()).isEqualTo(CUresult.CUDA_SUCCESS);
    assertThat(r.loweredVersion()).isTrue();
    assertThat(driver.texts).hasSize(2);
    assertThat(driver.texts.get(0)).isEqualTo(SHIPPED);
    assertThat(driver.texts.get(1)).isEqualTo(r.ptx())
        .isEqualTo(CudaKernelBackend.withPtxVersion(SHIPPED, "8.0"));
  }

  @Test
  void driverAcceptingThePtxIsAskedOnce() {
    RecordingLoader driver = new RecordingLoader("9.0");
    CudaKernelBackend.PtxLoad r = CudaKernelBackend.loadWithFallback(SHIPPED, driver::load);
    assertThat(r.result()).isEqualTo(CUresult.CUDA_SUCCESS);
    assertThat(r.loweredVersion()).isFalse();
    assertThat(driver.texts).containsExactly(SHIPPED);
  }

  @Test
  void otherLoadErrorsAreNotRetried() {
    List<String> seen = new ArrayList<>();
    CudaKernelBackend.PtxLoad r = CudaKernelBackend.loadWithFallback(SHIPPED, t -> {
      seen.add(t);
      return CUresult.CUDA_ERROR_INVALID_PTX;
    });
    assertThat(r.result()).isEqualTo(CUresult.CUDA_ERROR_INVALID_PTX);
    assertThat(r.loweredVersion()).isFalse();
    assertThat(seen).containsExactly(SHIPPED);
  }

  @Test
  void driverTooOldEvenForIsa80ReportsTheUnsupportedVersionAfterOneRetry() {
    RecordingLoader driver = new RecordingLoader("7.8");
    CudaKernelBackend.PtxLoad r = CudaKernelBackend.loadWithFallback(SHIPPED, driver::load);
    assertThat(r.result()).isEqualTo(CUresult.CUDA_ERROR_UNSUPPORTED_PTX_VERSION);
    assertThat(r.loweredVersion()).isTrue();
    assertThat(driver.texts).hasSize(2);
    // PTX already at (or below) the fallback version is not "lowered" to itself.
    RecordingLoader old = new RecordingLoader("7.8");
    String isa80 = CudaKernelBackend.withPtxVersion(SHIPPED, "8.0");
    CudaKernelBackend.PtxLoad same = CudaKernelBackend.loadWithFallback(isa80, old::load);
    assertThat(same.loweredVersion()).isFalse();
    assertThat(old.texts).containsExactly(isa80);
  }

  /**
   * JCuda's bundled nvPTXCompiler is CUDA 12.0's PTX assembler, the same generation as an R525 driver's JIT: it
   * rejects the shipped ISA 9.0 text, and the fallback's text assembles, so the retry is both needed and sufficient.
   */
  @Test
  void shippedPtxLoadsThroughTheFallbackOnACuda12PtxAssembler() {
    List<String> logs = new ArrayList<>();
    CudaKernelBackend.PtxLoad r;
    try {
      r = CudaKernelBackend.loadWithFallback(SHIPPED, ptx -> assemble(ptx, "sm_75", logs));
    } catch (LinkageError e) {
      Assumptions.abort("JCuda nvPTXCompiler native library not loadable here: " + e.getMessage());
      return;
    }
    assertThat(logs).hasSize(2);
    assertThat(logs.get(0)).as("CUDA 12.0 assembler on ISA 9.0").contains("Unsupported .version 9.0");
    assertThat(r.loweredVersion()).isTrue();
    assertThat(r.result()).as("assembler log: %s", logs).isEqualTo(CUresult.CUDA_SUCCESS);
  }

  /**
   * Assembles PTX for {@code arch}; maps the outcome onto the driver's result codes the loader distinguishes: success,
   * an unsupported {@code .version}, or any other PTX error.
   */
  private static int assemble(String ptx, String arch, List<String> logs) {
    byte[] src = (ptx + "\0").getBytes(StandardCharsets.US_ASCII);
    nvPTXCompilerHandle h = new nvPTXCompilerHandle();
    int rc = JNvPTXCompiler.nvPTXCompilerCreate(h, src.length, src);
    if (rc != nvPTXCompileResult.NVPTXCOMPILE_SUCCESS) {
      logs.add("nvPTXCompilerCreate: " + rc);
      return CUresult.CUDA_ERROR_INVALID_PTX;
    }
    try {
      rc = JNvPTXCompiler.nvPTXCompilerCompile(h, 1, new String[] {"--gpu-name=" + arch});
      long[] size = new long[1];
      JNvPTXCompiler.nvPTXCompilerGetErrorLogSize(h, size);
      byte[] log = new byte[(int) size[0]];
      if (size[0] > 0) {
        JNvPTXCompiler.nvPTXCompilerGetErrorLog(h, log);
      }
      String text = new String(log, StandardCharsets.UTF_8).replace("\0", "").trim();
      logs.add(text);
      if (rc == nvPTXCompileResult.NVPTXCOMPILE_SUCCESS) {
        return CUresult.CUDA_SUCCESS;
      }
      // ptxas words it "fatal : Unsupported .version 9.0; current version is '8.0'".
      return text.contains("Unsupported .version") ? CUresult.CUDA_ERROR_UNSUPPORTED_PTX_VERSION
          : CUresult.CUDA_ERROR_INVALID_PTX;
    } finally {
      JNvPTXCompiler.nvPTXCompilerDestroy(h);
    }
  }
}
