package dev.securetag.gguf.runtime.internal;

import dev.securetag.core.UnsupportedFormatException;
import dev.securetag.gguf.GgufFormatException;
import dev.securetag.gguf.GgufReader;
import dev.securetag.gguf.GgufValue;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * llama.cpp's byte-level BPE tokenizer ({@code tokenizer.ggml.model = "gpt2"}): text is split by the pre-tokenizer
 * regex named by {@code tokenizer.ggml.pre}, each piece's UTF-8 bytes are mapped to GPT-2's printable byte alphabet,
 * and adjacent symbols are merged by merge rank (lowest first, leftmost on ties). With the Llama-3 pre-tokenizer a
 * piece that is itself a token is not merged further ({@code ignore_merges}).
 */
final class Gpt2Tokenizer extends VocabTokenizer {
  /** Llama-3's pre-tokenizer ({@code llama-bpe}). */
  static final Pattern LLAMA3 = Pattern.compile(
      "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*"
          + "|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+", Pattern.UNICODE_CHARACTER_CLASS);
  /** GPT-2's original pre-tokenizer ({@code default}). */
  static final Pattern GPT2 = Pattern.compile(
      "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+",
      Pattern.UNICODE_CHARACTER_CLASS);
  private static final char[] BYTE_TO_CHAR = new char[256];
  private static final Map<Character, Integer> CHAR_TO_BYTE = new HashMap<>();

  static {
    int n = 0;
    for (int b = 0; b < 256; b++) {
      boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      BYTE_TO_CHAR[b] = printable ? (char) b : (char) (256 + n++);
      CHAR_TO_BYTE.put(BYTE_TO_CHAR[b], b);
    }
  }

  private static final List<String> END_OF_TURN = List.of("<|eot_id|>", "<|im_end|>", "<|end|>", "<|eom_id|>",
      "<|end_of_text|>", "<|endoftext|>");

  private final Map<String, Integer> ranks;
  private final Pattern pre;
  private final boolean ignoreMerges;

  private Gpt2Tokenizer(String[] tokens, int[] types, List<String> merges, Pattern pre, boolean ignoreMerges, int bos,
      int eos, boolean addBos, boolean addEos, int[] endOfGeneration) {
    super(tokens, types, bos, eos, addBos, addEos, endOfGeneration);
    this.ranks = new HashMap<>(merges.size() * 2);
    for (int i = 0; i < merges.size(); i++) {
      ranks.putIfAbsent(merges.get(i), i);
    }
    this.pre = pre;
    this.ignoreMerges = ignoreMerges;
  }

  /** Reads vocabulary, merges and pre-tokenizer from GGUF metadata, with llama.cpp's defaults. */
  static Gpt2Tokenizer fromGguf(GgufReader r) {
    String where = r.file().toString();
    String[] tokens = readTokens(r);
    int n = tokens.length;
    int[] types = readTypes(r, tokens, false);
    List<String> merges = new ArrayList<>();
    r.get("tokenizer.ggml.merges").orElseThrow(() -> new GgufFormatException(where + ": tokenizer.ggml.merges",
        "cannot find tokenizer merges (required for gpt2 vocabularies)")).asList()
        .forEach(m -> merges.add((String) m));
    String preName = r.get("tokenizer.ggml.pre").map(GgufValue::asString).orElse("default");
    Pattern pre;
    boolean llama3;
    switch (preName) {
      case "llama-bpe", "llama3", "llama-v3" -> {
        pre = LLAMA3;
        llama3 = true;
      }
      case "default", "gpt2", "" -> {
        pre = GPT2;
        llama3 = false;
      }
      default -> throw new UnsupportedFormatException(where + ": tokenizer.ggml.pre", "pre-tokenizer '" + preName
          + "' is not supported by the CPU runtime (llama-bpe or default)");
    }
    int bos = tokenId(r, "tokenizer.ggml.bos_token_id", -1, n);
    int eos = tokenId(r, "tokenizer.ggml.eos_token_id", -1, n);
    boolean addBos = r.get("tokenizer.ggml.add_bos_token").map(GgufValue::asBoolean).orElse(llama3) && bos >= 0;
    boolean addEos = r.get("tokenizer.ggml.add_eos_token").map(GgufValue::asBoolean).orElse(false) && eos >= 0;
    return new Gpt2Tokenizer(tokens, types, merges, pre, llama3, bos, eos, addBos, addEos,
        endOfGeneration(r, eos, tokens, types, END_OF_TURN));
  }

  @Override
  void encodeText(String text, List<Integer> out) {
    Matcher m = pre.matcher(text);
    while (m.find()) {
      byte[] bytes = m.group().getBytes(StandardCharsets.UTF_8);
      StringBuilder sb = new StringBuilder(bytes.length);
      for (byte b : bytes) {
        sb.append(BYTE_TO_CHAR[b & 0xFF]);
      }
      String word = sb.toString();
      Integer whole = ids.get(word);
      if (ignoreMerges && whole != null) {
        out.add(whole);
        continue;
      }
      List<String> sym = new ArrayList<>();
      word.codePoints().forEach(cp -> sym.add(new String(Character.toChars(cp))));
      while (sym.size() > 1) {
        int best = -1;
        int bestRank = Integer.MAX_VALUE;
        for (int k = 0; k + 1 < sym.size(); k++) {
          Integer rank = ranks.get(sym.get(k) + " " + sym.get(k + 1));
          if (rank != null && rank < bestRank) {
            bestRank = rank;
            best = k;
          }
        }
        if (best < 0) {
          break;
        }
        sym.set(best, sym.get(best) + sym.remove(best + 1));
      }
      for (String s : sym) {
        Integer id = ids.get(s);
        if (id != null) {
          out.add(id);
        } else {
          // Not in the vocabulary even as single byte symbols: llama.cpp drops such bytes too.
          for (int k = 0; k < s.length(); k++) {
            Integer b = ids.get(String.valueOf(s.charAt(k)));
            if (b != null) {
              out.add(b);
            }
          }
        }
      }
    }
  }

  @Override
  public byte[] pieceBytes(int id) {
    if (id < 0 || id >= tokens.length) {
      throw new IllegalArgumentException("token id " + id + " is outside the vocabulary of " + tokens.length);
    }
    int t = types[id];
    if (t == CONTROL || t == UNUSED) {
      return new byte[0];
    }
    if (t == USER_DEFINED) {
      return tokens[id].getBytes(StandardCharsets.UTF_8);
    }
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    String s = tokens[id];
    for (int k = 0; k < s.length(); k++) {
      Integer v = CHAR_TO_BYTE.get(s.charAt(k));
      if (v != null) {
        b.write(v);
      } else {
        b.writeBytes(String.valueOf(s.charAt(k)).getBytes(StandardCharsets.UTF_8));
      }
    }
    return b.toByteArray();
  }
}
