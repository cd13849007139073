package dev.securetag.gguf.runtime.internal;

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

/**
 * What both GGUF tokenizers share: the vocabulary and its token types, BOS/EOS and end-of-generation ids read with
 * llama.cpp's rules, and {@code llama_tokenize}'s outer loop (BOS, special-token texts, EOS) around the model-specific
 * encoding of the plain text between special tokens.
 */
abstract class VocabTokenizer implements Tokenizer {
  /** SentencePiece / GGUF token types. */
  static final int NORMAL = 1;
  static final int UNKNOWN = 2;
  static final int CONTROL = 3;
  static final int USER_DEFINED = 4;
  static final int UNUSED = 5;
  static final int BYTE = 6;

  final String[] tokens;
  final int[] types;
  final Map<String, Integer> ids;
  final int bos;
  final int eos;
  private final boolean addBos;
  private final boolean addEos;
  private final int[] endOfGeneration;
  /** Control and user-defined token texts, longest first, as special-token parsing tries them. */
  private final List<String> specials;

  VocabTokenizer(String[] tokens, int[] types, int bos, int eos, boolean addBos, boolean addEos,
      int[] endOfGeneration) {
    this.tokens = tokens;
    this.types = types;
    this.ids = new HashMap<>(tokens.length * 2);
    for (int i = 0; i < tokens.length; i++) {
      ids.putIfAbsent(tokens[i], i);
    }
    this.bos = bos;
    this.eos = eos;
    this.addBos = addBos;
    this.addEos = addEos;
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

  /** {@code tokenizer.ggml.tokens}, required. */
  static String[] readTokens(GgufReader r) {
    List<?> toks = r.get("tokenizer.ggml.tokens").map(GgufValue::asList)
        .orElseThrow(() -> new GgufFormatException(r.file() + ": tokenizer.ggml.tokens", "missing key"));
    String[] tokens = new String[toks.size()];
    for (int i = 0; i < tokens.length; i++) {
      tokens[i] = (String) toks.get(i);
    }
    return tokens;
  }

  /**
   * {@code tokenizer.ggml.token_type}, one per token; without it every token is NORMAL, or with
   * {@code markBytePieces} the {@code <0xXX>} pieces are BYTE (as llama.cpp assumes for SentencePiece vocabularies).
   */
  static int[] readTypes(GgufReader r, String[] tokens, boolean markBytePieces) {
    int n = tokens.length;
    int[] types = new int[n];
    Arrays.fill(types, NORMAL);
    r.get("tokenizer.ggml.token_type").ifPresentOrElse(v -> {
      List<?> l = v.asList();
      checkCount(r, "tokenizer.ggml.token_type", l.size(), n);
      for (int i = 0; i < n; i++) {
        types[i] = ((Number) l.get(i)).intValue();
      }
    }, () -> {
      for (int i = 0; markBytePieces && i < n; i++) {
        if (tokens[i].matches("<0x[0-9A-F]{2}>")) {
          types[i] = BYTE;
        }
      }
    });
    return types;
  }

  static void checkCount(GgufReader r, String key, int got, int want) {
    if (got != want) {
      throw new GgufFormatException(r.file() + ": " + key, "has " + got + " entries, expected " + want);
    }
  }

  /** A token id from {@code key}, {@code dflt} when absent; an id past the vocabulary is a format error. */
  static int tokenId(GgufReader r, String key, int dflt, int n) {
    int id = r.get(key).map(v -> (int) v.asLong()).orElse(dflt);
    if (id >= n) {
      throw new GgufFormatException(r.file() + ": " + key, "token id " + id + " is outside the vocabulary of " + n);
    }
    return id;
  }

  /** EOS, the EOT/EOM ids of the metadata and the control tokens named {@code endOfTurnTexts}: what stops generation. */
  static int[] endOfGeneration(GgufReader r, int eos, String[] tokens, int[] types, List<String> endOfTurnTexts) {
    List<Integer> eog = new ArrayList<>();
    eog.add(eos);
    r.get("tokenizer.ggml.eot_token_id").ifPresent(v -> eog.add((int) v.asLong()));
    r.get("tokenizer.ggml.eom_token_id").ifPresent(v -> eog.add((int) v.asLong()));
    for (int i = 0; i < tokens.length; i++) {
      if (types[i] == CONTROL && endOfTurnTexts.contains(tokens[i])) {
        eog.add(i);
      }
    }
    return eog.stream().filter(i -> i >= 0 && i < tokens.length).distinct().mapToInt(Integer::intValue).toArray();
  }

  /**
   * Tokenizes like {@code llama_tokenize}: BOS first (and EOS last) when {@code addSpecial} and the model asks for
   * them; with {@code parseSpecial}, control/user-defined token texts in {@code text} become those tokens.
   */
  @Override
  public final int[] encode(String text, boolean addSpecial, boolean parseSpecial) {
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

  /** Appends the ids of plain text that holds no special token (it starts the input or follows a special token). */
  abstract void encodeText(String text, List<Integer> out);

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

  int tokenType(int id) {
    return types[id];
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
