package dev.securetag.gguf.runtime.internal;

import dev.securetag.gguf.GgmlType;
import dev.securetag.gguf.GgufOutType;
import dev.securetag.gguf.GgufValue;
import dev.securetag.gguf.GgufValueType;
import dev.securetag.gguf.GgufWriter;
import dev.securetag.gguf.internal.QuantRules;
import java.io.OutputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Writes a llama-architecture GGUF of any shape with random weights: the model of the runtime's benchmarks (a 0.85B
 * file in seconds, without a model hub) and of its tests that need K-quant shapes the tiny fixture cannot have. Each
 * tensor cycles through 16 random quantized rows, so writing is fast while every row still sits at its own offset.
 */
public final class SyntheticLlama {
  private SyntheticLlama() {}

  private record Shape(int dim, int layers, int heads, int kvHeads, int ff, int vocab) {}

  /**
   * Writes a llama GGUF of the given shape with random weights, quantized to {@code out} by llama-quantize's type
   * rules, and a SentencePiece vocabulary of byte tokens and {@code "\u2581t<i>"} pieces.
   */
  public static void write(Path file, int dim, int layers, int heads, int kvHeads, int ff, int vocab,
      GgufOutType out) {
    Shape s = new Shape(dim, layers, heads, kvHeads, ff, vocab);
    int hd = s.dim / s.heads;
    QuantRules rules = new QuantRules(out, s.layers, 0, s.layers, false, false);
    GgufWriter w = GgufWriter.create();
    w.put("general.architecture", GgufValue.string("llama"));
    w.put("general.type", GgufValue.string("model"));
    w.put("general.name", GgufValue.string("synthetic"));
    w.put("llama.block_count", GgufValue.uint32(s.layers));
    w.put("llama.context_length", GgufValue.uint32(2048));
    w.put("llama.embedding_length", GgufValue.uint32(s.dim));
    w.put("llama.feed_forward_length", GgufValue.uint32(s.ff));
    w.put("llama.attention.head_count", GgufValue.uint32(s.heads));
    w.put("llama.attention.head_count_kv", GgufValue.uint32(s.kvHeads));
    w.put("llama.rope.freq_base", GgufValue.float32(10000f));
    w.put("llama.attention.layer_norm_rms_epsilon", GgufValue.float32(1e-5f));
    w.put("general.file_type", GgufValue.uint32(out.fileType()));
    w.put("llama.vocab_size", GgufValue.uint32(s.vocab));
    w.put("llama.rope.dimension_count", GgufValue.uint32(hd));
    w.put("general.quantization_version", GgufValue.uint32(2));
    List<String> tokens = new ArrayList<>();
    List<Float> scores = new ArrayList<>();
    List<Long> types = new ArrayList<>();
    for (String sp : List.of("<unk>", "<s>", "</s>")) {
      tokens.add(sp);
      scores.add(0f);
      types.add(sp.equals("<unk>") ? 2L : 3L);
    }
    for (int b = 0; b < 256; b++) {
      tokens.add(String.format("<0x%02X>", b));
      scores.add(0f);
      types.add(6L);
    }
    for (int i = tokens.size(); i < s.vocab; i++) {
      tokens.add("\u2581t" + i);
      scores.add((float) -i);
      types.add(1L);
    }
    w.put("tokenizer.ggml.model", GgufValue.string("llama"));
    w.put("tokenizer.ggml.tokens", GgufValue.array(GgufValueType.STRING, tokens));
    w.put("tokenizer.ggml.scores", GgufValue.array(GgufValueType.FLOAT32, scores));
    w.put("tokenizer.ggml.token_type", GgufValue.array(GgufValueType.INT32, types));
    w.put("tokenizer.ggml.bos_token_id", GgufValue.uint32(1));
    w.put("tokenizer.ggml.eos_token_id", GgufValue.uint32(2));
    Random rnd = new Random(132);
    matrix(w, rules, "token_embd.weight", s.dim, s.vocab, 1.0, rnd);
    for (int l = 0; l < s.layers; l++) {
      String p = "blk." + l + ".";
      norm(w, p + "attn_norm.weight", s.dim, rnd);
      matrix(w, rules, p + "attn_q.weight", s.dim, s.dim, 1.0 / Math.sqrt(s.dim), rnd);
      matrix(w, rules, p + "attn_k.weight", s.dim, s.kvHeads * hd, 1.0 / Math.sqrt(s.dim), rnd);
      matrix(w, rules, p + "attn_v.weight", s.dim, s.kvHeads * hd, 1.0 / Math.sqrt(s.dim), rnd);
      matrix(w, rules, p + "attn_output.weight", s.dim, s.dim, 1.0 / Math.sqrt(s.dim), rnd);
      norm(w, p + "ffn_norm.weight", s.dim, rnd);
      matrix(w, rules, p + "ffn_gate.weight", s.dim, s.ff, 1.0 / Math.sqrt(s.dim), rnd);
      matrix(w, rules, p + "ffn_up.weight", s.dim, s.ff, 1.0 / Math.sqrt(s.dim), rnd);
      matrix(w, rules, p + "ffn_down.weight", s.ff, s.dim, 1.0 / Math.sqrt(s.ff), rnd);
    }
    norm(w, "output_norm.weight", s.dim, rnd);
    matrix(w, rules, "output.weight", s.dim, s.vocab, 1.0 / Math.sqrt(s.dim), rnd);
    w.write(file);
  }

  private static void norm(GgufWriter w, String name, int n, Random rnd) {
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = (float) (1 + 0.1 * rnd.nextGaussian());
    }
    byte[] b = new byte[4 * n];
    GgmlType.F32.quantizeRow(v, 0, n, b, 0);
    w.tensor(name, GgmlType.F32, new long[] {n}, b);
  }

  /** A [cols, rows] matrix whose rows cycle through a pool of random rows quantized with the project's quantizer. */
  private static void matrix(GgufWriter w, QuantRules rules, String name, int cols, int rows, double std, Random rnd) {
    GgmlType type = rules.typeFor(name, cols);
    int pool = 16;
    int rowBytes = (int) type.rowBytes(cols);
    byte[] q = new byte[pool * rowBytes];
    float[] x = new float[cols];
    for (int p = 0; p < pool; p++) {
      for (int i = 0; i < cols; i++) {
        x[i] = (float) (std * rnd.nextGaussian());
      }
      type.quantizeRow(x, 0, cols, q, p * rowBytes);
    }
    w.tensor(name, type, new long[] {cols, rows}, (OutputStream o) -> {
      for (int r = 0; r < rows; r += pool) {
        int n = Math.min(pool, rows - r);
        o.write(q, 0, n * rowBytes);
      }
    });
  }
}
