package dev.securetag.gguf.runtime.internal;

import dev.securetag.gguf.GgufReader;
import dev.securetag.gguf.GgufValue;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;

/**
 * llama.cpp's SentencePiece-style tokenizer ({@code tokenizer.ggml.model = "llama"}) driven by the GGUF vocabulary:
 * whitespace escaped to U+2581 with a leading space, text split into UTF-8 characters, adjacent pairs merged
 * greedily by the <em>score of the merged token</em> (ties: leftmost first), and pieces that are not tokens
 * re-split along the merges that built them, falling back to {@code <0xXX>} byte tokens.
 */
final class SpmTokenizer extends VocabTokenizer {
  private static final String SPACE = "\u2581";
  private static final List<String> END_OF_TURN = List.of("<|eot_id|>", "<|im_end|>", "<|end|>", "<|eom_id|>",
      "<end_of_turn>");

  private final float[] scores;
  private final int[] byteIds = new int[256];
  private final int unk;
  private final boolean addSpacePrefix;

  private SpmTokenizer(String[] tokens, float[] scores, int[] types, int bos, int eos, int unk, boolean addBos,
      boolean addEos, boolean addSpacePrefix, int[] endOfGeneration) {
    super(tokens, types, bos, eos, addBos, addEos, endOfGeneration);
    this.scores = scores;
    Arrays.fill(byteIds, -1);
    for (int b = 0; b < 256; b++) {
      Integer id = ids.get(String.format("<0x%02X>", b));
      if (id != null) {
        byteIds[b] = id;
      }
    }
    this.unk = unk;
    this.addSpacePrefix = addSpacePrefix;
  }

  /** Reads the vocabulary and special-token settings from GGUF metadata, with llama.cpp's defaults. */
  static SpmTokenizer fromGguf(GgufReader r) {
    String[] tokens = readTokens(r);
    int n = tokens.length;
    float[] scores = new float[n];
    r.get("tokenizer.ggml.scores").ifPresent(v -> {
      List<?> l = v.asList();
      checkCount(r, "tokenizer.ggml.scores", l.size(), n);
      for (int i = 0; i < n; i++) {
        scores[i] = ((Number) l.get(i)).floatValue();
      }
    });
    int[] types = readTypes(r, tokens, true);
    int bos = tokenId(r, "tokenizer.ggml.bos_token_id", 1, n);
    int eos = tokenId(r, "tokenizer.ggml.eos_token_id", 2, n);
    int unk = tokenId(r, "tokenizer.ggml.unknown_token_id", 0, n);
    boolean addBos = r.get("tokenizer.ggml.add_bos_token").map(GgufValue::asBoolean).orElse(true);
    boolean addEos = r.get("tokenizer.ggml.add_eos_token").map(GgufValue::asBoolean).orElse(false);
    boolean addSpace = r.get("tokenizer.ggml.add_space_prefix").map(GgufValue::asBoolean).orElse(true);
    return new SpmTokenizer(tokens, scores, types, bos, eos, unk, addBos, addEos, addSpace,
        endOfGeneration(r, eos, tokens, types, END_OF_TURN));
  }

  /**
   * Every piece of plain text starts the input or follows a special token, so llama.cpp gives each one the space
   * prefix (when the model asks for it).
   */
  @Override
  void encodeText(String raw, List<Integer> out) {
    String text = (addSpacePrefix ? " " : "") + raw;
    text = text.replace(" ", SPACE);
    if (text.isEmpty()) {
      return;
    }
    // Symbols: one per Unicode code point (llama.cpp splits by UTF-8 sequence length, the same thing).
    int n = text.codePointCount(0, text.length());
    int[] start = new int[n];
    int[] len = new int[n];
    int[] prev = new int[n];
    int[] next = new int[n];
    int pos = 0;
    for (int s = 0; s < n; s++) {
      int cp = text.codePointAt(pos);
      start[s] = pos;
      len[s] = Character.charCount(cp);
      prev[s] = s - 1;
      next[s] = s + 1 < n ? s + 1 : -1;
      pos += len[s];
    }
    Map<String, int[]> revMerge = new HashMap<>();
    PriorityQueue<Bigram> queue = new PriorityQueue<>();
    final String t = text;
    for (int s = 1; s < n; s++) {
      tryAddBigram(t, s - 1, s, start, len, queue, revMerge);
    }
    while (!queue.isEmpty()) {
      Bigram bg = queue.poll();
      int l = bg.left;
      int r = bg.right;
      if (len[l] == 0 || len[r] == 0 || len[l] + len[r] != bg.size) {
        continue;
      }
      len[l] += len[r];
      len[r] = 0;
      next[l] = next[r];
      if (next[r] >= 0) {
        prev[next[r]] = l;
      }
      if (prev[l] >= 0) {
        tryAddBigram(t, prev[l], l, start, len, queue, revMerge);
      }
      if (next[l] >= 0) {
        tryAddBigram(t, l, next[l], start, len, queue, revMerge);
      }
    }
    for (int s = 0; s != -1; s = next[s]) {
      resegment(t.substring(start[s], start[s] + len[s]), revMerge, out);
    }
  }

  private void tryAddBigram(String text, int left, int right, int[] start, int[] len, PriorityQueue<Bigram> queue,
      Map<String, int[]> revMerge) {
    if (left < 0 || right < 0) {
      return;
    }
    String piece = text.substring(start[left], start[right] + len[right]);
    Integer id = ids.get(piece);
    if (id == null) {
      return;
    }
    queue.add(new Bigram(left, right, scores[id], len[left] + len[right]));
    revMerge.put(piece, new int[] {start[left], len[left], len[right]});
  }

  private void resegment(String piece, Map<String, int[]> revMerge, List<Integer> out) {
    Integer id = ids.get(piece);
    if (id != null) {
      out.add(id);
      return;
    }
    int[] m = revMerge.get(piece);
    if (m == null) {
      for (byte b : piece.getBytes(StandardCharsets.UTF_8)) {
        int bid = byteIds[b & 0xFF];
        out.add(bid >= 0 ? bid : unk);
      }
      return;
    }
    resegment(piece.substring(0, m[1]), revMerge, out);
    resegment(piece.substring(m[1], m[1] + m[2]), revMerge, out);
  }

  /** The bytes a token stands for in generated text (control tokens render as nothing). */
  @Override
  public byte[] pieceBytes(int id) {
    if (id < 0 || id >= tokens.length) {
      throw new IllegalArgumentException("token id " + id + " is outside the vocabulary of " + tokens.length);
    }
    switch (types[id]) {
      case BYTE:
        return new byte[] {(byte) Integer.parseInt(tokens[id].substring(3, 5), 16)};
      case CONTROL:
      case UNUSED:
        return new byte[0];
      case UNKNOWN:
        return "\u2585".getBytes(StandardCharsets.UTF_8);
      case USER_DEFINED:
        return tokens[id].getBytes(StandardCharsets.UTF_8);
      default:
        return tokens[id].replace(SPACE, " ").getBytes(StandardCharsets.UTF_8);
    }
  }

  private static final class Bigram implements Comparable<Bigram> {
    final int left;
    final int right;
    final float score;
    final int size;

    Bigram(int left, int right, float score, int size) {
      this.left = left;
      this.right = right;
      this.score = score;
      this.size = size;
    }

    @Override
    public int compareTo(Bigram o) {
      // Plain comparisons, not Float.compare: llama.cpp treats a -0.0 score as equal to 0.0.
      if (score > o.score) {
        return -1;
      }
      if (score < o.score) {
        return 1;
      }
      return Integer.compare(left, o.left);
    }
  }
}
