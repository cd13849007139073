package dev.securetag.gguf.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.securetag.gguf.GgmlType;
import dev.securetag.gguf.GgufOutType;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class QuantRulesTest {

  @Test
  void reproducesTheDocumented32LayerQ4KmMixture() {
    QuantRules r = new QuantRules(GgufOutType.Q4_K_M, 32, 0, 32, false, false);
    List<Integer> q6 = new ArrayList<>();
    for (int l = 0; l < 32; l++) {
      GgmlType v = r.typeFor("blk." + l + ".attn_v.weight", 4096);
      GgmlType d = r.typeFor("blk." + l + ".ffn_down.weight", 14336);
      assertThat(v).isEqualTo(d);
      if (v == GgmlType.Q6_K) {
        q6.add(l);
      }
    }
    assertThat(q6).containsExactly(0, 1, 2, 3, 6, 9, 12, 15, 18, 21, 24, 27, 28, 29, 30, 31);
    assertThat(r.typeFor("output.weight", 4096)).isEqualTo(GgmlType.Q6_K);
    assertThat(r.typeFor("token_embd.weight", 4096)).isEqualTo(GgmlType.Q4_K);
    assertThat(r.typeFor("blk.5.attn_q.weight", 4096)).isEqualTo(GgmlType.Q4_K);
  }

  @Test
  void appliesTiedEmbeddingAnd70bRules() {
    QuantRules tied = new QuantRules(GgufOutType.Q4_0, 16, 0, 16, true, false);
    assertThat(tied.typeFor("token_embd.weight", 2048)).isEqualTo(GgmlType.Q6_K);
    QuantRules big = new QuantRules(GgufOutType.Q4_K_M, 80, 0, 80, false, true);
    assertThat(big.typeFor("blk.40.attn_v.weight", 8192)).isEqualTo(GgmlType.Q5_K);
    QuantRules q8 = new QuantRules(GgufOutType.Q8_0, 32, 0, 32, false, false);
    assertThat(q8.typeFor("output.weight", 4096)).isEqualTo(GgmlType.Q8_0);
    assertThat(q8.typeFor("blk.0.ffn_down.weight", 14336)).isEqualTo(GgmlType.Q8_0);
  }

  @Test
  void fallsBackToF16WhenRowsAreNotEvenMultiplesOf32() {
    QuantRules r = new QuantRules(GgufOutType.Q4_K_M, 4, 0, 4, false, false);
    assertThat(r.typeFor("blk.0.ffn_up.weight", 100)).isEqualTo(GgmlType.F16);
    assertThat(r.typeFor("blk.0.ffn_up.weight", 96)).isEqualTo(GgmlType.Q5_0);
    assertThat(r.fallbacks()).isEqualTo(2);
    assertThat(QuantRules.quantizable("blk.0.attn_norm.weight", 1)).isFalse();
    assertThat(QuantRules.quantizable("blk.0.ffn_gate_inp.weight", 2)).isFalse();
    assertThat(QuantRules.quantizable("blk.0.attn_q.weight", 2)).isTrue();
  }

  @Test
  void sortsTensorsLikeLlamaCppsWeightNameComparer() {
    List<String> names = new ArrayList<>(List.of("blk.10.attn_q.weight", "token_embd.weight", "blk.2.ffn_up.weight",
        "output.weight", "blk.2.attn_k.weight"));
    names.sort(TensorPlan::compareLlamaCpp);
    assertThat(names).containsExactly("output.weight", "token_embd.weight", "blk.2.attn_k.weight",
        "blk.2.ffn_up.weight", "blk.10.attn_q.weight");
  }
}
