package dev.securetag.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.securetag.core.InvalidInputException;
import dev.securetag.core.SafetensorsReader;
import dev.securetag.core.SafetensorsWriter;
import dev.securetag.core.UnsupportedFormatException;
import dev.securetag.testing.TinyLlamaFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class LlamaModelLoadTest {
  private static final JsonNode GOLDEN = Fixtures.json("nf4-golden.json");

  @TempDir Path tmp;

  @Test
  void writesLoadableHfCheckpointWithItsOwnTokenizer() throws Exception {
    Path dir = TinyLlamaFactory.builder().seed(1).build().writeTo(tmp.resolve("tiny"));
    assertThat(dir.resolve("config.json")).exists();
    assertThat(dir.resolve("model.safetensors")).exists();
    assertThat(dir.resolve("tokenizer.json")).exists();
    assertThat(dir.resolve("tokenizer_config.json")).exists();
    assertThat(dir.resolve("tokenizer.model")).isNotEmptyFile();
    try (SafetensorsReader st = SafetensorsReader.open(dir)) {
      assertThat(st.metadata()).containsEntry("format", "pt");
      assertThat(st.names()).contains("model.layers.1.mlp.down_proj.weight", "lm_head.weight");
    }
    try (LlamaModel m = LlamaModel.load(dir, ModelOptions.fullPrecision())) {
      String text = "### Instruction:\nWhat is an ISMS?\n\n### Response:\n";
      int[] ids = m.encode(text);
      assertThat(ids.length).isLessThan(text.length());
      assertThat(m.decode(ids)).isEqualTo(text);
      assertThat(m.decode(m.encode("café ∑ 日本"))).isEqualTo("café ∑ 日本");
      assertThat(m.generate(new int[] {1, 5, 6}, GenerationConfig.greedy(4))).hasSizeLessThanOrEqualTo(4);
    }
    // Same seed, same bytes.
    Path again = TinyLlamaFactory.builder().seed(1).build().writeTo(tmp.resolve("again"));
    assertThat(Files.readAllBytes(again.resolve("model.safetensors")))
        .isEqualTo(Files.readAllBytes(dir.resolve("model.safetensors")));
  }

  @Test
  void bf16CheckpointLoadsThroughJavaConversion() {
    Path dir = TinyLlamaFactory.builder().dtype(SafetensorsReader.DType.BF16).build().writeTo(tmp.resolve("bf16"));
    try (LlamaModel m = LlamaModel.load(dir, ModelOptions.fullPrecision())) {
      float[][] logits = m.logits(new int[] {1, 100, 200});
      assertThat(logits[2]).hasSize(512);
      assertThat(Float.isFinite(logits[2][0])).isTrue();
      assertThat(m.config().torchDtype()).isEqualTo("bfloat16");
    }
  }

  @Test
  void samplingWithSeedIsReproducibleAndTopPOfTinyMassIsGreedy() {
    Path dir = TinyLlamaFactory.builder().build().writeTo(tmp.resolve("s"));
    try (LlamaModel m = LlamaModel.load(dir, ModelOptions.fullPrecision())) {
      GenerationConfig hot = GenerationConfig.builder().maxNewTokens(12).temperature(1.5).topP(0.95).seed(9)
          .stopAtEos(false).build();
      int[] a = m.generate(new int[] {1, 50}, hot);
      assertThat(m.generate(new int[] {1, 50}, hot)).containsExactly(a);
      GenerationConfig nucleus = GenerationConfig.builder().maxNewTokens(6).temperature(1.0).topP(1e-6).seed(3)
          .stopAtEos(false).build();
      assertThat(m.generate(new int[] {1, 50}, nucleus))
          .containsExactly(m.generate(new int[] {1, 50}, GenerationConfig.builder().maxNewTokens(6).stopAtEos(false).build()));
    }
  }

  @Test
  void nf4ModelStaysCloseToFullPrecisionAndUsesUnderAThirdOfFp16Memory() {
    Path dir = TinyLlamaFactory.builder().hiddenSize(128).intermediateSize(384).build().writeTo(tmp.resolve("q"));
    int[] prompt = {1, 40, 41, 42, 43, 44};
    try (LlamaModel full = LlamaModel.load(dir, ModelOptions.fullPrecision());
        LlamaModel q = LlamaModel.load(dir, ModelOptions.builder().quantization(Quantization.NF4_DOUBLE_QUANT).build())) {
      float[][] a = full.logits(prompt);
      float[][] b = q.logits(prompt);
      double num = 0;
      double den = 0;
      for (int i = 0; i < a.length; i++) {
        for (int j = 0; j < a[i].length; j++) {
          num += (a[i][j] - b[i][j]) * (a[i][j] - b[i][j]);
          den += a[i][j] * a[i][j];
        }
      }
      assertThat(Math.sqrt(num / den)).isLessThan(0.25);
      LlamaModel.MemoryReport r = q.memoryReport();
      assertThat(r.linearBitsPerParam()).isLessThan(4.2);
      assertThat(r.ratioToFp16()).isLessThan(0.3);
    }
  }

  @Test
  void loadErrorsNameTheTensorOrField() throws Exception {
    Path dir = TinyLlamaFactory.builder().build().writeTo(tmp.resolve("bad"));
    // Wrong shape: rewrite the checkpoint with a transposed q_proj.
    Path wrongShape = Files.createDirectories(tmp.resolve("wrongshape"));
    Files.copy(dir.resolve("config.json"), wrongShape.resolve("config.json"));
    Path wrongDtype = Files.createDirectories(tmp.resolve("wrongdtype"));
    Files.copy(dir.resolve("config.json"), wrongDtype.resolve("config.json"));
    Path missing = Files.createDirectories(tmp.resolve("missing"));
    Files.copy(dir.resolve("config.json"), missing.resolve("config.json"));
    try (SafetensorsReader st = SafetensorsReader.open(dir)) {
      SafetensorsWriter shape = new SafetensorsWriter();
      SafetensorsWriter dtype = new SafetensorsWriter();
      SafetensorsWriter miss = new SafetensorsWriter();
      for (SafetensorsReader.TensorInfo t : st.tensors()) {
        float[] f = st.readFloats(t.name());
        boolean q = t.name().equals("model.layers.0.self_attn.q_proj.weight");
        shape.addF32(t.name(), q ? new long[] {t.shape()[1], t.shape()[0] / 2, 2} : t.shape(), f);
        if (q) {
          dtype.add(t.name(), SafetensorsReader.DType.I32, t.shape(), out -> out.write(new byte[f.length * 4]));
        } else {
          dtype.addF32(t.name(), t.shape(), f);
        }
        if (!t.name().equals("model.norm.weight")) {
          miss.addF32(t.name(), t.shape(), f);
        }
      }
      shape.write(wrongShape.resolve("model.safetensors"));
      dtype.write(wrongDtype.resolve("model.safetensors"));
      miss.write(missing.resolve("model.safetensors"));
    }
    assertThatThrownBy(() -> LlamaModel.load(wrongShape, ModelOptions.fullPrecision()))
        .isInstanceOf(InvalidInputException.class).hasMessageContaining("model.layers.0.self_attn.q_proj.weight")
        .hasMessageContaining("shape");
    assertThatThrownBy(() -> LlamaModel.load(wrongDtype, ModelOptions.fullPrecision()))
        .isInstanceOf(UnsupportedFormatException.class).hasMessageContaining("model.layers.0.self_attn.q_proj.weight")
        .hasMessageContaining("I32");
    assertThatThrownBy(() -> LlamaModel.load(missing, ModelOptions.fullPrecision()))
        .isInstanceOf(InvalidInputException.class).hasMessageContaining("model.norm.weight");
    Files.writeString(missing.resolve("config.json"),
        Files.readString(missing.resolve("config.json")).replace("LlamaForCausalLM", "FalconForCausalLM"));
    assertThatThrownBy(() -> LlamaModel.load(missing, ModelOptions.fullPrecision()))
        .isInstanceOf(UnsupportedFormatException.class).hasMessageContaining("FalconForCausalLM");
  }

  @Test
  void loadsBitsandbytesSerializedNf4CheckpointExactlyLikeQuantizingOnLoad() throws Exception {
    Path dir = TinyLlamaFactory.builder().seed(8).build().writeTo(tmp.resolve("orig"));
    int[] prompt = {1, 30, 31, 32, 33};
    for (boolean dq : new boolean[] {false, true}) {
      Path bnb = writeBnb(dir, tmp.resolve("bnb-" + dq), dq);
      Quantization q = dq ? Quantization.NF4_DOUBLE_QUANT : Quantization.NF4;
      try (LlamaModel fromBnb = LlamaModel.load(bnb, ModelOptions.builder().quantization(q).build());
          LlamaModel onLoad = LlamaModel.load(dir, ModelOptions.builder().quantization(q).build());
          LlamaModel dense = LlamaModel.load(bnb, ModelOptions.fullPrecision())) {
        float[][] a = fromBnb.logits(prompt);
        float[][] b = onLoad.logits(prompt);
        float[][] c = dense.logits(prompt);
        for (int i = 0; i < a.length; i++) {
          assertThat(a[i]).containsExactly(b[i]);
          for (int j = 0; j < a[i].length; j++) {
            assertThat(c[i][j]).isCloseTo(a[i][j], org.assertj.core.data.Offset.offset(1e-4f));
          }
        }
        assertThat(fromBnb.memoryReport().linearBaseBytes()).isEqualTo(onLoad.memoryReport().linearBaseBytes());
      }
    }
  }

  /** Rewrites every decoder linear of {@code dir} the way bitsandbytes serializes a 4-bit checkpoint. */
  private static Path writeBnb(Path dir, Path bnb, boolean dq) throws Exception {
    Files.createDirectories(bnb);
    for (String f : new String[] {"config.json", "tokenizer.json"}) {
      Files.copy(dir.resolve(f), bnb.resolve(f));
    }
    try (SafetensorsReader st = SafetensorsReader.open(dir)) {
      SafetensorsWriter w = new SafetensorsWriter();
      for (SafetensorsReader.TensorInfo t : st.tensors()) {
        float[] f = st.readFloats(t.name());
        if (!(t.name().startsWith("model.layers.") && t.shape().length == 2)) {
          w.addF32(t.name(), t.shape(), f);
          continue;
        }
        Nf4Tensor q = Nf4Tensor.quantize(f, t.shape(), dq);
        String n = t.name();
        byte[] packed = q.packed();
        w.add(n, SafetensorsReader.DType.U8, new long[] {packed.length, 1}, out -> out.write(packed));
        w.addF32(n + ".quant_map", new long[] {16}, dev.securetag.train.internal.BnbTables.NF4);
        if (dq) {
          byte[] codes = q.absmaxCodes();
          w.add(n + ".absmax", SafetensorsReader.DType.U8, new long[] {codes.length}, out -> out.write(codes));
          w.addF32(n + ".nested_absmax", new long[] {q.nestedAbsmax().length}, q.nestedAbsmax());
          w.addF32(n + ".nested_quant_map", new long[] {256}, dev.securetag.train.internal.BnbTables.DYNAMIC);
        } else {
          w.addF32(n + ".absmax", new long[] {q.absmax().length}, q.absmax());
        }
        byte[] js = quantStateJson(q).getBytes(StandardCharsets.UTF_8);
        w.add(n + ".quant_state.bitsandbytes__nf4", SafetensorsReader.DType.U8, new long[] {js.length},
            out -> out.write(js));
      }
      w.write(bnb.resolve("model.safetensors"));
    }
    return bnb;
  }

  /**
   * The {@code quant_state.bitsandbytes__nf4} JSON bitsandbytes serializes for an NF4 weight of a bfloat16 model
   * (Python's {@code json.dumps} layout; {@code nested_offset} is the float32 offset printed as a double).
   */
  static String quantStateJson(Nf4Tensor q) {
    long[] shape = q.shape();
    String json = "{\"quant_type\": \"nf4\", \"blocksize\": " + q.blocksize() + ", \"dtype\": \"bfloat16\", "
        + "\"shape\": [" + shape[0] + ", " + shape[1] + "]";
    if (q.doubleQuant()) {
      json += ", \"nested_blocksize\": " + Nf4Tensor.NESTED_BLOCKSIZE + ", \"nested_dtype\": \"float32\", "
          + "\"nested_offset\": " + (double) q.offset();
    }
    return json + "}";
  }

  private static JsonNode goldenCase(String name) {
    for (JsonNode c : GOLDEN.get("cases")) {
      if (c.get("name").asText().equals(name)) {
        return c;
      }
    }
    throw new IllegalArgumentException(name);
  }

  @Test
  void quantStateWrittenForTheFixtureTensorsEqualsBitsandbytesQuantStateJson() {
    int cases = 0;
    for (JsonNode c : GOLDEN.get("cases")) {
      long[] shape = {c.get("shape").get(0).asLong(), c.get("shape").get(1).asLong()};
      float[] input = Fixtures.hexFloats(c.get("input_f32_hex"));
      for (boolean dq : new boolean[] {false, true}) {
        String golden = c.get(dq ? "double_quant" : "plain").get("quant_state_json").asText();
        assertThat(quantStateJson(Nf4Tensor.quantize(input, shape, dq))).as("%s dq=%s", c.get("name"), dq)
            .isEqualTo(golden);
      }
      cases++;
    }
    assertThat(cases).isEqualTo(GOLDEN.get("cases").size()).isPositive();
  }

  /**
   * The golden cases that can stand as a k_proj / v_proj weight ([kvHeads * headDim, hidden]) of a Llama layer with
   * an even head dimension, with the attention layout that makes them fit: name, hidden size, heads, KV heads.
   */
  static Stream<Arguments> goldenCasesShapedLikeKvProjections() {
    List<Arguments> out = new ArrayList<>();
    for (JsonNode c : GOLDEN.get("cases")) {
      int rows = c.get("shape").get(0).asInt();
      int cols = c.get("shape").get(1).asInt();
      for (int kv = 1; kv <= rows; kv++) {
        int headDim = rows / kv;
        if (rows % kv == 0 && headDim % 2 == 0 && cols % headDim == 0 && (cols / headDim) % kv == 0) {
          out.add(Arguments.of(c.get("name").asText(), cols, cols / headDim, kv));
          break;
        }
      }
    }
    return out.stream();
  }

  /**
   * A checkpoint whose layer-0 k_proj / v_proj hold one golden case exactly as bitsandbytes serialized it: its packed
   * codes, absmax, code tables and its {@code quant_state_json} bytes verbatim (plain for k_proj, double-quantized
   * for v_proj). Loading must reproduce bitsandbytes' dequantized weights bit for bit, both kept NF4 and dequantized
   * at load.
   */
  @ParameterizedTest(name = "{0}")
  @MethodSource("goldenCasesShapedLikeKvProjections")
  void loadsBitsandbytesQuantStateJsonVerbatimAndDequantizesBitExactly(String name, int hidden, int heads,
      int kvHeads) throws Exception {
    JsonNode c = goldenCase(name);
    JsonNode plain = c.get("plain");
    JsonNode dq = c.get("double_quant");
    float[] nf4Code = Fixtures.hexFloats(GOLDEN.get("nf4_code").get("hex"));
    float[] dynamicMap = Fixtures.hexFloats(GOLDEN.get("dynamic_map").get("hex"));
    Path dir = TinyLlamaFactory.builder().hiddenSize(hidden).heads(heads).kvHeads(kvHeads).layers(1).seed(3).build()
        .writeTo(tmp.resolve("dense-" + name));
    Path bnb = Files.createDirectories(tmp.resolve("bnb-golden-" + name));
    for (String f : new String[] {"config.json", "tokenizer.json"}) {
      Files.copy(dir.resolve(f), bnb.resolve(f));
    }
    String k = "model.layers.0.self_attn.k_proj.weight";
    String v = "model.layers.0.self_attn.v_proj.weight";
    try (SafetensorsReader st = SafetensorsReader.open(dir)) {
      assertThat(st.tensor(k).orElseThrow().shape())
          .containsExactly(c.get("shape").get(0).asLong(), c.get("shape").get(1).asLong());
      SafetensorsWriter w = new SafetensorsWriter();
      for (SafetensorsReader.TensorInfo t : st.tensors()) {
        if (!t.name().equals(k) && !t.name().equals(v)) {
          w.addF32(t.name(), t.shape(), st.readFloats(t.name()));
        }
      }
      byte[] kPacked = Fixtures.hexBytes(plain.get("packed_hex").asText());
      w.add(k, SafetensorsReader.DType.U8, new long[] {kPacked.length, 1}, out -> out.write(kPacked));
      w.addF32(k + ".absmax", new long[] {c.get("n_blocks").asLong()}, Fixtures.hexFloats(plain.get("absmax_hex")));
      w.addF32(k + ".quant_map", new long[] {16}, nf4Code);
      byte[] kState = plain.get("quant_state_json").asText().getBytes(StandardCharsets.UTF_8);
      w.add(k + ".quant_state.bitsandbytes__nf4", SafetensorsReader.DType.U8, new long[] {kState.length},
          out -> out.write(kState));
      byte[] vPacked = Fixtures.hexBytes(dq.get("packed_hex").asText());
      byte[] vAbsmax = Fixtures.hexBytes(dq.get("absmax_u8_hex").asText());
      w.add(v, SafetensorsReader.DType.U8, new long[] {vPacked.length, 1}, out -> out.write(vPacked));
      w.add(v + ".absmax", SafetensorsReader.DType.U8, new long[] {vAbsmax.length}, out -> out.write(vAbsmax));
      w.addF32(v + ".nested_absmax", new long[] {dq.get("n_nested_blocks").asLong()},
          Fixtures.hexFloats(dq.get("nested_absmax_hex")));
      w.addF32(v + ".nested_quant_map", new long[] {256}, dynamicMap);
      w.addF32(v + ".quant_map", new long[] {16}, nf4Code);
      byte[] vState = dq.get("quant_state_json").asText().getBytes(StandardCharsets.UTF_8);
      w.add(v + ".quant_state.bitsandbytes__nf4", SafetensorsReader.DType.U8, new long[] {vState.length},
          out -> out.write(vState));
      w.write(bnb.resolve("model.safetensors"));
    }
    float[] kExpected = Fixtures.hexFloats(plain.get("dequantized_f32_hex"));
    float[] vExpected = Fixtures.hexFloats(dq.get("dequantized_f32_hex"));
    for (ModelOptions opts : new ModelOptions[] {
        ModelOptions.builder().quantization(Quantization.NF4_DOUBLE_QUANT).build(), ModelOptions.fullPrecision()}) {
      try (LlamaModel m = LlamaModel.load(bnb, opts)) {
        var kLin = m.weights().allLinears().stream().filter(l -> l.name().equals("model.layers.0.self_attn.k_proj")).findFirst()
            .orElseThrow();
        var vLin = m.weights().allLinears().stream().filter(l -> l.name().equals("model.layers.0.self_attn.v_proj")).findFirst()
            .orElseThrow();
        assertThat(bits(kLin.baseWeight(m.weights().kernels()))).as("k_proj, %s", opts).containsExactly(bits(kExpected));
        assertThat(bits(vLin.baseWeight(m.weights().kernels()))).as("v_proj, %s", opts).containsExactly(bits(vExpected));
        if (opts.quantization() != Quantization.NONE) {
          assertThat(kLin.nf4().doubleQuant()).isFalse();
          assertThat(vLin.nf4().doubleQuant()).isTrue();
          assertThat(Float.floatToRawIntBits(vLin.nf4().offset()))
              .isEqualTo(Integer.parseUnsignedInt(dq.get("offset_hex").asText(), 16));
        }
      }
    }
  }

  private static int[] bits(float[] f) {
    int[] out = new int[f.length];
    for (int i = 0; i < f.length; i++) {
      out[i] = Float.floatToRawIntBits(f[i]);
    }
    return out;
  }

  @Test
  void closedModelRejectsUse() {
    Path dir = TinyLlamaFactory.builder().build().writeTo(tmp.resolve("c"));
    LlamaModel m = LlamaModel.load(dir, ModelOptions.fullPrecision());
    m.close();
    m.close();
    assertThatThrownBy(() -> m.logits(new int[] {1})).isInstanceOf(IllegalStateException.class);
  }
}
