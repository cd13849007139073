package dev.securetag.gguf.runtime;

import dev.securetag.gguf.GgufTensorInfo;
import dev.securetag.gguf.GgufWriter;
import dev.securetag.gguf.GgufValue;
import dev.securetag.gguf.GgufFormatException;
import dev.securetag.gguf.GgmlType;
import dev.securetag.gguf.GgufReader;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Mixture-of-experts (Mixtral) plumbing of the runtime on GGUF files built from the tiny-llama fixture: the dense
 * FFN of every layer becomes llama.cpp's stacked expert tensors ({@code ffn_gate_exps} etc., {@code ne = [in, out,
 * experts]}) next to a router {@code ffn_gate_inp}. The routing arithmetic itself (softmax, top-k, renormalisation)
 * is checked against the trainer's DJL forward in the examples module's {@code CrossModuleConsistencyTest}.
 */
class MixtralRuntimeTest {
  private static final int EXPERTS = 4;
  private static final int USED = 2;

  /**
   * Experts 0 and 1 are the dense FFN, experts 2 and 3 a different one (the other layer's), and the router is all
   * zeros: every expert gets probability 1/4, the two lowest indices win the tie, each weighted 1/2 after
   * renormalisation, so the model must compute exactly the dense model. A wrong expert offset, a wrong selection or
   * unnormalised weights would show.
   */
  @ParameterizedTest
  @ValueSource(strings = {"model-f32.gguf", "model-q8_0.gguf"})
  void expertsWithATiedRouterReproduceTheDenseModel(String file, @TempDir Path tmp) {
    Path moe = writeMoe(RuntimeFixtures.path(file), tmp.resolve("moe-" + file));
    int[] ids = RuntimeFixtures.ints(RuntimeFixtures.longestPrompt().path("token_ids"));
    try (GgufModel dense = GgufModel.builder().ggufFile(RuntimeFixtures.path(file)).threads(2).build();
        GgufModel mixtral = GgufModel.builder().ggufFile(moe).threads(2).build();
        GgufSession d = dense.newSession();
        GgufSession batched = mixtral.newSession();
        GgufSession single = mixtral.newSession()) {
      float[] want = d.eval(ids);
      float[] got = batched.eval(ids);
      float[] one = null;
      for (int t : ids) {
        one = single.eval(t);
      }
      assertThat(RuntimeFixtures.maxAbsDiff(got, want)).as(file + " batched").isLessThan(1e-5);
      assertThat(RuntimeFixtures.maxAbsDiff(one, want)).as(file + " token by token").isLessThan(1e-4);
      // A token reads the router and two experts: the dense FFN twice.
      assertThat(mixtral.weightBytesPerToken()).isEqualTo(dense.weightBytesPerToken() + ffnAndRouterBytes(moe));
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {0, 5})
  void rejectsAnExpertUsedCountOutsideTheExperts(int used, @TempDir Path tmp) {
    Path moe = writeMoe(RuntimeFixtures.path("model-f32.gguf"), tmp.resolve("bad.gguf"), used);
    assertThatThrownBy(() -> GgufModel.load(moe)).isInstanceOf(GgufFormatException.class)
        .hasMessageContaining("expert_used_count");
  }

  /** One expert's gate, up and down bytes plus the router, over all layers. */
  private static long ffnAndRouterBytes(Path file) {
    try (GgufReader r = GgufReader.open(file)) {
      long b = 0;
      for (GgufTensorInfo t : r.tensors()) {
        if (t.name().endsWith("_exps.weight")) {
          b += t.byteSize() / EXPERTS;
        } else if (t.name().endsWith("ffn_gate_inp.weight")) {
          b += t.byteSize();
        }
      }
      return b;
    }
  }

  static Path writeMoe(Path dense, Path out) {
    return writeMoe(dense, out, USED);
  }

  /** The dense fixture file rewritten as a Mixtral-layout GGUF (see the test above). */
  static Path writeMoe(Path dense, Path out, int used) {
    try (GgufReader r = GgufReader.open(dense)) {
      GgufWriter w = GgufWriter.create();
      for (Map.Entry<String, GgufValue> e : r.metadata().entrySet()) {
        if (!e.getKey().equals("general.alignment")) {
          w.put(e.getKey(), e.getValue());
        }
      }
      w.put("llama.expert_count", GgufValue.uint32(EXPERTS));
      w.put("llama.expert_used_count", GgufValue.uint32(used));
      int dim = (int) r.get("llama.embedding_length").orElseThrow().asLong();
      int layers = (int) r.get("llama.block_count").orElseThrow().asLong();
      for (GgufTensorInfo t : r.tensors()) {
        String n = t.name();
        int ffn = n.indexOf(".ffn_");
        if (ffn > 0 && !n.endsWith("ffn_norm.weight")) {
          continue;
        }
        w.tensor(n, t.type(), t.ne(), bytes(r, n));
      }
      for (int l = 0; l < layers; l++) {
        String p = "blk." + l + ".";
        String other = "blk." + (l + 1) % layers + ".";
        w.tensor(p + "ffn_gate_inp.weight", GgmlType.F32, new long[] {dim, EXPERTS}, new byte[4 * dim * EXPERTS]);
        for (String m : new String[] {"ffn_gate", "ffn_up", "ffn_down"}) {
          GgufTensorInfo t = r.tensor(p + m + ".weight").orElseThrow();
          byte[] mine = bytes(r, p + m + ".weight");
          byte[] theirs = bytes(r, other + m + ".weight");
          byte[] stacked = new byte[mine.length * EXPERTS];
          for (int e = 0; e < EXPERTS; e++) {
            System.arraycopy(e < 2 ? mine : theirs, 0, stacked, e * mine.length, mine.length);
          }
          w.tensor(p + m + "_exps.weight", t.type(), new long[] {t.ne()[0], t.ne()[1], EXPERTS}, stacked);
        }
      }
      w.write(out);
      return out;
    }
  }

  private static byte[] bytes(GgufReader r, String name) {
    ByteBuffer b = r.tensorData(name);
    byte[] a = new byte[b.remaining()];
    b.duplicate().get(a);
    return a;
  }
}
