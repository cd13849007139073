package dev.securetag.train.internal;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import dev.securetag.core.HfConfig;
import dev.securetag.train.GenerationConfig;
import java.util.ArrayList;
import java.util.List;

/**
 * Text generation over a loaded decoder: the checkpoint's tokenizer (no special tokens added), and KV-cached greedy,
 * temperature or top-p decoding that stops at an end-of-sequence id.
 */
public final class DecoderGeneration {
  private final DecoderWeights weights;
  private final DecoderForward forward;
  private final HfConfig config;

  public DecoderGeneration(DecoderWeights weights, DecoderForward forward) {
    this.weights = weights;
    this.forward = forward;
    this.config = weights.config();
  }

  /** Token ids of {@code text} without special tokens. */
  public int[] encode(String text) {
    long[] ids = tokenizer().encode(text, false, false).getIds();
    int[] out = new int[ids.length];
    for (int i = 0; i < ids.length; i++) {
      out[i] = (int) ids[i];
    }
    return out;
  }

  /** Text of {@code ids}, skipping special tokens. */
  public String decode(int[] ids) {
    long[] l = new long[ids.length];
    for (int i = 0; i < ids.length; i++) {
      l[i] = ids[i];
    }
    return tokenizer().decode(l, true);
  }

  private HuggingFaceTokenizer tokenizer() {
    return weights.tokenizer().orElseThrow(
        () -> new IllegalStateException("checkpoint " + weights.source() + " has no tokenizer.json"));
  }

  /** Generates up to {@code cfg.maxNewTokens()} tokens after {@code prompt}; returns only the new tokens. */
  public int[] generate(int[] prompt, GenerationConfig cfg) {
    if (prompt.length == 0) {
      throw new IllegalArgumentException("prompt must hold at least one token");
    }
    Sampler sampler = new Sampler(cfg.temperature(), cfg.topP(), cfg.seed());
    List<Integer> out = new ArrayList<>();
    try (DecoderForward.KvCache cache = forward.newCache()) {
      float[][] logits = forward.append(cache, prompt);
      float[] last = logits[logits.length - 1];
      for (int i = 0; i < cfg.maxNewTokens(); i++) {
        int next = sampler.next(last);
        if (cfg.stopAtEos() && config.eosTokenIds().contains(next)) {
          break;
        }
        out.add(next);
        if (i + 1 < cfg.maxNewTokens()) {
          last = forward.append(cache, next)[0];
        }
      }
    }
    return out.stream().mapToInt(Integer::intValue).toArray();
  }

  /** Tokenizes {@code prompt} (with BOS), generates and decodes the continuation. */
  public String generate(String prompt, GenerationConfig cfg) {
    int[] ids = encode(prompt);
    int[] withBos = new int[ids.length + 1];
    withBos[0] = config.bosTokenId();
    System.arraycopy(ids, 0, withBos, 1, ids.length);
    return decode(generate(withBos, cfg));
  }
}
