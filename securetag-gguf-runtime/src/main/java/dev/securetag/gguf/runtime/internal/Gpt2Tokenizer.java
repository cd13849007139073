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
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * llama.cpp's byte-level BPE tokenizer ({@code tokenizer.ggml.model = "gpt2"}): text is split by the pre-tokenizer
 * regex named by {@code tokenizer.ggml.pre}, each piece's UTF-8 bytes are mapped to GPT-2's printable byte alphabet,
 * and adjacent symbols are merged by merge rank (lowest first, leftmost on ties). With the Llama-3 pre-tokenizer a
 * piece that is itself a token is not merged further ({@code ignore_merges}).
 */
public final class Gpt2Tokenizer implements Tokenizer {
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

  private final String[] tokens;
  private final int[] types;
  private final Map<String, Integer> ids;
  private final Map<String, Integer> ranks;
  private final Pattern pre;
  private final boolean ignoreMerges;
  private final int bos;
  private final int eos;
  private final boolean addBos;
  private final boolean addEos;
  private final int[] endOfGeneration;
  private final List<String> specials;

  private Gpt2Tokenizer(String[] tokens, int[] types, List<String> merges, Pattern pre, boolean ignoreMerges, int bos,
      int eos, boolean addBos, boolean addEos, int[] endOfGeneration) {
    this.tokens = tokens;
    this.types = types;
    this.ids = new HashMap<>(tokens.length * 2);
    for (int i = 0; i < tokens.length; i++) {
      ids.putIfAbsent(tokens[i], i);
    }
    this.ranks = new HashMap<>(merges.size() * 2);
    for (int i = 0; i < merges.size(); i++) {
      ranks.putIfAbsent(merges.get(i), i);
    }
    this.pre = pre;
    this.ignoreMerges = ignoreMerges;
    this.bos = bos;
    this.eos = eos;
    this.addBos = addBos;
    this.addEos = addEos;
    this.endOfGeneration = endOfGeneration;
    List<String> sp = new ArrayList<>();
    for (int i = 0; i < tokens.length; i++) {
      if ((types[i] == SpmTokenizer.CONTROL || types[i] == SpmTokenizer.USER_DEFINED) && !tokens[i].isEmpty()) {
        sp.add(tokens[i]);
      }
    }
    sp.sort(Comparator.comparingInt(String::length).reversed());
    this.specials = List.copyOf(sp);
  }

  /** Reads vocabulary, merges and pre-tokenizer from GGUF metadata, with llama.cpp's defaults. */
  public static Gpt2Tokenizer fromGguf(GgufReader r) {
    String where = r.file().toString();
    List<?> toks = r.get("tokenizer.ggml.tokens").map(GgufValue::asList)
        .orElseThrow(() -> new GgufFormatException(where + ": tokenizer.ggml.tokens", "missing key"));
    int n = toks.size();
    String[] tokens = new String[n];
    for (int i = 0; i < n; i++) {
      tokens[i] = (String) toks.get(i);
    }
    int[] types = new int[n];
    Arrays.fill(types, SpmTokenizer.NORMAL);
    r.get("tokenizer.ggml.token_type").ifPresent(v -> {
      List<?> l = v.asList();
      if (l.size() != n) {
        throw new GgufFormatException(where + ": tokenizer.ggml.token_type", "has " + l.size()
            + " entries, expected " + n);
      }
      for (int i = 0; i < n; i++) {
        types[i] = ((Number) l.get(i)).intValue();
      }
    });
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
    int bos = id(r, "tokenizer.ggml.bos_token_id", n);
    int eos = id(r, "tokenizer.ggml.eos_token_id", n);
    boolean addBos = r.get("tokenizer.ggml.add_bos_token").map(GgufValue::asBoolean).orElse(llama3) && bos >= 0;
    boolean addEos = r.get("tokenizer.ggml.add_eos_token").map(GgufValue::asBoolean).orElse(false) && eos >= 0;
    List<Integer> eog = new ArrayList<>();
    if (eos >= 0) {
      eog.add(eos);
    }
    r.get("tokenizer.ggml.eot_token_id").ifPresent(v -> eog.add((int) v.asLong()));
    r.get("tokenizer.ggml.eom_token_id").ifPresent(v -> eog.add((int) v.asLong()));
    for (int i = 0; i < n; i++) {
      if (types[i] == SpmTokenizer.CONTROL && List.of("<|eot_id|>", "<|im_end|>", "<|end|>", "<|eom_id|>",
          "<|end_of_text|>", "<|endoftext|>").contains(tokens[i])) {
        eog.add(i);
      }
    }
    return new Gpt2Tokenizer(tokens, types, merges, pre, llama3, bos, eos, addBos, addEos,
        eog.stream().filter(i -> i >= 0 && i < n).distinct().mapToInt(Integer::intValue).toArray());
  }

  private static int id(GgufReader r, String key, int n) {
    int id = r.get(key).map(v -> (int) v.asLong()).orElse(-1);
    if (id >= n) {
      throw new GgufFormatException(r.file() + ": " + key, "token id " + id + " is outside the vocabulary of " + n);
    }
    return id;
  }

  @Override
  public int[] encode(String text, boolean addSpecial, boolean parseSpecial) {
    List<Integer> out = new ArrayList<>();
    if (addSpecial && addBos) {
      out.add(bos);
    }
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
        encodeText(text.substring(start, i), out);
      }
      out.add(ids.get(match));
      i += match.length();
      start = i;
    }
    if (start < text.length()) {
      encodeText(text.substring(start), out);
    }
    if (addSpecial && addEos) {
      out.add(eos);
    }
    return out.stream().mapToInt(Integer::intValue).toArray();
  }

  private void encodeText(String text, List<Integer> out) {
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
    if (t == SpmTokenizer.CONTROL || t == SpmTokenizer.UNUSED) {
      return new byte[0];
    }
    if (t == SpmTokenizer.USER_DEFINED) {
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

  @Override
  public String decode(int[] idsToDecode) {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    for (int id : idsToDecode) {
      b.writeBytes(pieceBytes(id));
    }
    return b.toString(StandardCharsets.UTF_8);
  }

  @Override
  public String token(int id) {
    return tokens[id];
  }

  @Override
  public int idOf(String token) {
    Integer id = ids.get(token);
    return id == null ? -1 : id;
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

  @Override
  public boolean isEndOfGeneration(int id) {
    for (int e : endOfGeneration) {
      if (e == id) {
        return true;
      }
    }
    return false;
  }
}
