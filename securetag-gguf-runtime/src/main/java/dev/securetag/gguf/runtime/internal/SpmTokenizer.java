package dev.securetag.gguf.runtime.internal;

import dev.securetag.core.UnsupportedFormatException;
import dev.securetag.gguf.GgufFormatException;
import dev.securetag.gguf.GgufReader;
import dev.securetag.gguf.GgufValue;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
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
public final class SpmTokenizer implements Tokenizer {
  /** SentencePiece / GGUF token types. */
  public static final int NORMAL = 1;
  public static final int UNKNOWN = 2;
  public static final int CONTROL = 3;
  public static final int USER_DEFINED = 4;
  public static final int UNUSED = 5;
  public static final int BYTE = 6;
  private static final String SPACE = "\u2581";

  private final String[] tokens;
  private final float[] scores;
  private final int[] types;
  private final Map<String, Integer> ids;
  private final int[] byteIds = new int[256];
  private final int bos;
  private final int eos;
  private final int unk;
  private final boolean addBos;
  private final boolean addEos;
  private final boolean addSpacePrefix;
  private final int[] endOfGeneration;
  private final List<String> specials;

  private SpmTokenizer(String[] tokens, float[] scores, int[] types, int bos, int eos, int unk, boolean addBos,
      boolean addEos, boolean addSpacePrefix, int[] endOfGeneration) {
    this.tokens = tokens;
    this.scores = scores;
    this.types = types;
    this.ids = new HashMap<>(tokens.length * 2);
    for (int i = 0; i < tokens.length; i++) {
      ids.putIfAbsent(tokens[i], i);
    }
    Arrays.fill(byteIds, -1);
    for (int b = 0; b < 256; b++) {
      Integer id = ids.get(String.format("<0x%02X>", b));
      if (id != null) {
        byteIds[b] = id;
      }
    }
    this.bos = bos;
    this.eos = eos;
    this.unk = unk;
    this.addBos = addBos;
    this.addEos = addEos;
    this.addSpacePrefix = addSpacePrefix;
    this.endOfGeneration = endOfGeneration;
    List<String> sp = new ArrayList<>();
    for (int i = 0; i < tokens.length; i++) {
      if ((types[i] == CONTROL || types[i] == USER_DEFINED) && !tokens[i].isEmpty()) {
        sp.add(tokens[i]);
      }
    }
    sp.sort(Comparator.comparingInt(String::length).reversed());
    this.specials = List.copyOf(sp);
  }

  /** Reads the vocabulary and special-token settings from GGUF metadata, with llama.cpp's defaults. */
  public static SpmTokenizer fromGguf(GgufReader r) {
    String where = r.file().toString();
    String model = r.get("tokenizer.ggml.model").map(GgufValue::asString)
        .orElseThrow(() -> new GgufFormatException(where + ": tokenizer.ggml.model", "missing key"));
    if (!model.equals("llama")) {
      throw new UnsupportedFormatException(where + ": tokenizer.ggml.model", "tokenizer model '" + model
          + "' is not supported by the CPU runtime (only the SentencePiece-style 'llama' tokenizer)");
    }
    List<?> toks = r.get("tokenizer.ggml.tokens").map(GgufValue::asList)
        .orElseThrow(() -> new GgufFormatException(where + ": tokenizer.ggml.tokens", "missing key"));
    int n = toks.size();
    String[] tokens = new String[n];
    for (int i = 0; i < n; i++) {
      tokens[i] = (String) toks.get(i);
    }
    float[] scores = new float[n];
    r.get("tokenizer.ggml.scores").ifPresent(v -> {
      List<?> l = v.asList();
      check(l.size() == n, where, "tokenizer.ggml.scores", l.size(), n);
      for (int i = 0; i < n; i++) {
        scores[i] = ((Number) l.get(i)).floatValue();
      }
    });
    int[] types = new int[n];
    Arrays.fill(types, NORMAL);
    r.get("tokenizer.ggml.token_type").ifPresentOrElse(v -> {
      List<?> l = v.asList();
      check(l.size() == n, where, "tokenizer.ggml.token_type", l.size(), n);
      for (int i = 0; i < n; i++) {
        types[i] = ((Number) l.get(i)).intValue();
      }
    }, () -> {
      for (int i = 0; i < n; i++) {
        if (tokens[i].matches("<0x[0-9A-F]{2}>")) {
          types[i] = BYTE;
        }
      }
    });
    int bos = id(r, "tokenizer.ggml.bos_token_id", 1, n);
    int eos = id(r, "tokenizer.ggml.eos_token_id", 2, n);
    int unk = id(r, "tokenizer.ggml.unknown_token_id", 0, n);
    boolean addBos = r.get("tokenizer.ggml.add_bos_token").map(GgufValue::asBoolean).orElse(true);
    boolean addEos = r.get("tokenizer.ggml.add_eos_token").map(GgufValue::asBoolean).orElse(false);
    boolean addSpace = r.get("tokenizer.ggml.add_space_prefix").map(GgufValue::asBoolean).orElse(true);
    List<Integer> eog = new ArrayList<>();
    eog.add(eos);
    r.get("tokenizer.ggml.eot_token_id").ifPresent(v -> eog.add((int) v.asLong()));
    r.get("tokenizer.ggml.eom_token_id").ifPresent(v -> eog.add((int) v.asLong()));
    for (int i = 0; i < n; i++) {
      if (types[i] == CONTROL && List.of("<|eot_id|>", "<|im_end|>", "<|end|>", "<|eom_id|>", "<end_of_turn>")
          .contains(tokens[i])) {
        eog.add(i);
      }
    }
    return new SpmTokenizer(tokens, scores, types, bos, eos, unk, addBos, addEos, addSpace,
        eog.stream().filter(i -> i >= 0 && i < n).distinct().mapToInt(Integer::intValue).toArray());
  }

  private static void check(boolean ok, String where, String key, int got, int want) {
    if (!ok) {
      throw new GgufFormatException(where + ": " + key, "has " + got + " entries, expected " + want);
    }
  }

  private static int id(GgufReader r, String key, int dflt, int n) {
    int id = r.get(key).map(v -> (int) v.asLong()).orElse(dflt);
    if (id >= n) {
      throw new GgufFormatException(r.file() + ": " + key, "token id " + id + " is outside the vocabulary of " + n);
    }
    return id;
  }

  @Override
  public int vocabSize() {
    return tokens.length;
  }

  @Override
  public int bos() {
    return bos;
  }

  @Override
  public int eos() {
    return eos;
  }

  /** Tokens that end generation (EOS, EOT and the usual end-of-turn control tokens). */
  @Override
  public boolean isEndOfGeneration(int id) {
    for (int e : endOfGeneration) {
      if (e == id) {
        return true;
      }
    }
    return false;
  }

  /** The vocabulary string of a token (with U+2581 for spaces). */
  @Override
  public String token(int id) {
    return tokens[id];
  }

  public int tokenType(int id) {
    return types[id];
  }

  /** The id of a token text, or -1. */
  @Override
  public int idOf(String token) {
    Integer id = ids.get(token);
    return id == null ? -1 : id;
  }

  /**
   * Tokenizes like {@code llama_tokenize}: BOS first (and EOS last) when {@code addSpecial} and the model asks for
   * them; with {@code parseSpecial}, control/user-defined token texts in {@code text} become those tokens.
   */
  @Override
  public int[] encode(String text, boolean addSpecial, boolean parseSpecial) {
    List<Integer> out = new ArrayList<>();
    if (addSpecial && addBos) {
      out.add(bos);
    }
    boolean prevSpecial = true;
    int start = 0;
    int i = 0;
    while (parseSpecial && i < text.length()) {
      String match = null;
      for (String s : specials) {
        if (text.startsWith(s, i)) {
          match = s;
          break;
        }
      }
      if (match == null) {
        i++;
        continue;
      }
      if (i > start) {
        encodeText(text.substring(start, i), prevSpecial, out);
      }
      out.add(ids.get(match));
      prevSpecial = true;
      i += match.length();
      start = i;
    }
    if (start < text.length()) {
      encodeText(text.substring(start), prevSpecial, out);
    }
    if (addSpecial && addEos) {
      out.add(eos);
    }
    return out.stream().mapToInt(Integer::intValue).toArray();
  }

  private void encodeText(String raw, boolean prevSpecial, List<Integer> out) {
    String text = (addSpacePrefix && prevSpecial ? " " : "") + raw;
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

  /** Decodes a token sequence to text (invalid UTF-8 replaced with U+FFFD). */
  @Override
  public String decode(int[] ids) {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    for (int id : ids) {
      b.writeBytes(pieceBytes(id));
    }
    return b.toString(StandardCharsets.UTF_8);
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
