package dev.securetag.gguf.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.securetag.core.SafetensorsReader;
import dev.securetag.core.internal.Hashing;
import dev.securetag.gguf.GgmlType;
import dev.securetag.gguf.GgufReader;
import dev.securetag.gguf.GgufTensorInfo;
import dev.securetag.testfixtures.SharedFixtures;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class RowPipelineTest {

  private static Path res(String name) {
    return SharedFixtures.path(name);
  }

  @Test
  void producesIdenticalBytesWithSmallMappingWindowsAndAnyThreadCount() throws Exception {
    Path hf = res("tiny-llama/hf");
    HfModel model = HfModel.read(hf);
    try (SafetensorsReader st = SafetensorsReader.open(hf);
        RowPipeline big = new RowPipeline(1);
        RowPipeline small = new RowPipeline(3, 4096);
        GgufReader expected = GgufReader.open(res("tiny-llama/expected/model-f16.gguf"))) {
      List<TensorPlan> plan = model.plan(st);
      for (TensorPlan t : plan) {
        GgmlType type = t.keepF32() ? GgmlType.F32 : GgmlType.F16;
        ByteArrayOutputStream a = new ByteArrayOutputStream();
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        long[] rows = {0};
        big.write(st, t, type, GgmlType.F32, null, a, n -> rows[0] = n);
        small.write(st, t, type, GgmlType.F32, null, b, n -> { });
        assertThat(b.toByteArray()).as(t.name()).isEqualTo(a.toByteArray());
        assertThat(rows[0]).isEqualTo(t.rows());
        GgufTensorInfo info = expected.tensor(t.name()).orElseThrow();
        ByteBuffer e = expected.tensorData(t.name());
        byte[] eb = new byte[e.remaining()];
        e.get(eb);
        assertThat(Hashing.sha256Hex(a.toByteArray())).as(info.name()).isEqualTo(Hashing.sha256Hex(eb));
      }
    }
  }

  @Test
  void refusesUseAfterCloseAndBadThreadCounts() throws Exception {
    RowPipeline p = new RowPipeline(2);
    p.close();
    p.close();
    Path hf = res("tiny-llama/hf");
    try (SafetensorsReader st = SafetensorsReader.open(hf)) {
      TensorPlan t = HfModel.read(hf).plan(st).get(0);
      assertThatThrownBy(() -> p.write(st, t, GgmlType.F16, GgmlType.F32, null, new ByteArrayOutputStream(), n -> { }))
          .isInstanceOf(IllegalStateException.class);
    }
    assertThatThrownBy(() -> new RowPipeline(0)).isInstanceOf(IllegalArgumentException.class);
  }
}
