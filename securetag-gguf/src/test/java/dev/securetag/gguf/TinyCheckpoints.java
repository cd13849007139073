package dev.securetag.gguf;

import dev.securetag.core.SafetensorsReader;
import dev.securetag.core.SafetensorsWriter;
import dev.securetag.testfixtures.SharedFixtures;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

/** Writes small random Llama / Mixtral checkpoints in Hugging Face layout for converter tests. */
final class TinyCheckpoints {
  private TinyCheckpoints() {}

  /** Shape of a test model. */
  record Shape(int hidden, int layers, int heads, int kvHeads, int ff, int experts, int vocab) {}

  /**
   * Writes config.json, model.safetensors (F32 or given dtype) and the tiny-llama SentencePiece tokenizer into
   * {@code dir}; returns the tensors written, by HF name.
   */
  static Map<String, float[]> write(Path dir, Shape s, SafetensorsReader.DType dtype, long seed) {
    try {
      Files.createDirectories(dir);
      for (String f : new String[] {"tokenizer.model", "tokenizer.json", "tokenizer_config.json"}) {
        // The bundled copy: these checkpoints have their own hand-picked shapes (vocab 512 and the like), so
        // they need the tokenizer of known size, whatever reference fixtures the run points at.
        Files.copy(SharedFixtures.bundled("tiny-llama/hf/" + f), dir.resolve(f));
      }
      String arch = s.experts > 0 ? "MixtralForCausalLM" : "LlamaForCausalLM";
      String moe = s.experts > 0
          ? "\"num_local_experts\": " + s.experts + ", \"num_experts_per_tok\": 2, " : "";
      Files.writeString(dir.resolve("config.json"), "{\"architectures\": [\"" + arch + "\"], "
          + "\"hidden_size\": " + s.hidden + ", \"num_hidden_layers\": " + s.layers + ", "
          + "\"num_attention_heads\": " + s.heads + ", \"num_key_value_heads\": " + s.kvHeads + ", "
          + "\"intermediate_size\": " + s.ff + ", \"max_position_embeddings\": 512, " + moe
          + "\"rms_norm_eps\": 1e-06, \"rope_theta\": 1000000.0, \"vocab_size\": " + s.vocab + ", "
          + "\"bos_token_id\": 1, \"eos_token_id\": 2, \"tie_word_embeddings\": false}");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    Random rnd = new Random(seed);
    Map<String, float[]> tensors = new LinkedHashMap<>();
    Map<String, long[]> shapes = new LinkedHashMap<>();
    int hd = s.hidden / s.heads;
    add(tensors, shapes, rnd, "model.embed_tokens.weight", s.vocab, s.hidden);
    add(tensors, shapes, rnd, "lm_head.weight", s.vocab, s.hidden);
    add(tensors, shapes, rnd, "model.norm.weight", s.hidden);
    for (int l = 0; l < s.layers; l++) {
      String p = "model.layers." + l + ".";
      add(tensors, shapes, rnd, p + "input_layernorm.weight", s.hidden);
      add(tensors, shapes, rnd, p + "post_attention_layernorm.weight", s.hidden);
      add(tensors, shapes, rnd, p + "self_attn.q_proj.weight", s.heads * hd, s.hidden);
      add(tensors, shapes, rnd, p + "self_attn.k_proj.weight", s.kvHeads * hd, s.hidden);
      add(tensors, shapes, rnd, p + "self_attn.v_proj.weight", s.kvHeads * hd, s.hidden);
      add(tensors, shapes, rnd, p + "self_attn.o_proj.weight", s.hidden, s.heads * hd);
      if (s.experts > 0) {
        add(tensors, shapes, rnd, p + "block_sparse_moe.gate.weight", s.experts, s.hidden);
        for (int e = 0; e < s.experts; e++) {
          String q = p + "block_sparse_moe.experts." + e + ".";
          add(tensors, shapes, rnd, q + "w1.weight", s.ff, s.hidden);
          add(tensors, shapes, rnd, q + "w2.weight", s.hidden, s.ff);
          add(tensors, shapes, rnd, q + "w3.weight", s.ff, s.hidden);
        }
      } else {
        add(tensors, shapes, rnd, p + "mlp.gate_proj.weight", s.ff, s.hidden);
        add(tensors, shapes, rnd, p + "mlp.up_proj.weight", s.ff, s.hidden);
        add(tensors, shapes, rnd, p + "mlp.down_proj.weight", s.hidden, s.ff);
      }
    }
    SafetensorsWriter w = new SafetensorsWriter();
    tensors.forEach((name, data) -> w.addFloats(name, dtype, shapes.get(name), data));
    w.write(dir.resolve("model.safetensors"));
    return tensors;
  }

  private static void add(Map<String, float[]> t, Map<String, long[]> shapes, Random rnd, String name, long... shape) {
    long n = 1;
    for (long d : shape) {
      n *= d;
    }
    float[] data = new float[(int) n];
    boolean norm = shape.length == 1;
    for (int i = 0; i < data.length; i++) {
      data[i] = norm ? 1f + (float) rnd.nextGaussian() * 0.1f : (float) (rnd.nextGaussian() * 0.05);
    }
    t.put(name, data);
    shapes.put(name, shape);
  }
}
