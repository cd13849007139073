package dev.securetag.gguf.internal;

import com.fasterxml.jackson.databind.JsonNode;
import dev.securetag.core.InvalidInputException;
import dev.securetag.core.UnsupportedFormatException;
import dev.securetag.core.internal.Hashing;
import dev.securetag.core.internal.Json;
import dev.securetag.gguf.GgufValue;
import dev.securetag.gguf.GgufValueType;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds the {@code tokenizer.*} GGUF metadata the way llama.cpp's converter does: a SentencePiece vocabulary with
 * real scores from {@code tokenizer.model}, or a GPT-2 style BPE vocabulary with merges from {@code tokenizer.json}
 * (Llama 3), followed by special token ids, add-token flags and the chat template in the converter's key order.
 */
public final class TokenizerMetadata {
  private static final String[] SPECIAL_TYPES = {"bos", "eos", "unk", "sep", "pad", "cls", "mask"};
  private static final Map<String, String> ID_KEYS = Map.of(
      "bos", "tokenizer.ggml.bos_token_id",
      "eos", "tokenizer.ggml.eos_token_id",
      "unk", "tokenizer.ggml.unknown_token_id",
      "sep", "tokenizer.ggml.seperator_token_id",
      "pad", "tokenizer.ggml.padding_token_id",
      "cls", "tokenizer.ggml.cls_token_id",
      "mask", "tokenizer.ggml.mask_token_id");
  /** SHA-256 of the concatenated Split regexes of known pre-tokenizers (the method Ollama's converter uses). */
  private static final Map<String, String> PRE_BY_REGEX_HASH = Map.of(
      "d98f9631be1e9607a9848c26c1f9eac1aa9fc21ac6ba82a2fc0741af9780a48f", "llama-bpe",
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "default");

  private final Map<String, GgufValue> kvs = new LinkedHashMap<>();
  private int tokenCount;

  private TokenizerMetadata() {}

  /** The metadata, in the converter's key order. */
  public Map<String, GgufValue> kvs() {
    return kvs;
  }

  /** Number of tokens written. */
  public int tokenCount() {
    return tokenCount;
  }

  /**
   * Reads the tokenizer files of a Hugging Face checkpoint directory.
   *
   * @param vocabSize {@code config.json vocab_size}, or -1 when absent
   */
  public static TokenizerMetadata read(Path dir, int vocabSize) {
    TokenizerMetadata m = new TokenizerMetadata();
    JsonNode tokenizerJson = readJson(dir.resolve("tokenizer.json"));
    JsonNode tokenizerConfig = readJson(dir.resolve("tokenizer_config.json"));
    Path spm = dir.resolve("tokenizer.model");
    Integer nVocab;
    if (Files.exists(spm)) {
      m.sentencePiece(SentencePieceModel.read(spm), dir, tokenizerConfig, vocabSize);
      nVocab = m.tokenCount;
    } else if (tokenizerJson != null && isGpt2Bpe(tokenizerJson)) {
      m.gpt2(tokenizerJson, dir, vocabSize);
      nVocab = null;
    } else if (tokenizerJson != null) {
      throw new UnsupportedFormatException(dir.resolve("tokenizer.model").toString(),
          "a SentencePiece-style tokenizer.json needs tokenizer.model for its scores (without them llama.cpp's"
              + " tokenizer merges wrongly)");
    } else {
      throw new InvalidInputException(dir.toString(), "no tokenizer.model or tokenizer.json");
    }
    m.special(dir, tokenizerJson, tokenizerConfig, nVocab);
    return m;
  }

  private static JsonNode readJson(Path f) {
    if (!Files.exists(f)) {
      return null;
    }
    try {
      return Json.readTree(Files.readString(f), f.toString());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + f + ": " + e.getMessage(), e);
    }
  }

  private static boolean isGpt2Bpe(JsonNode tj) {
    JsonNode model = tj.path("model");
    return "BPE".equals(model.path("type").asText()) && !model.path("byte_fallback").asBoolean(false);
  }

  static boolean looksSpecial(String t) {
    return t.equals("<pad>") || t.equals("<mask>") || t.equals("<2mass>") || t.equals("[@BOS@]")
        || (t.startsWith("<|") && t.endsWith("|>"))
        || (t.startsWith("<\uFF5C") && t.endsWith("\uFF5C>"))
        || (t.startsWith("<unused") && t.endsWith(">"));
  }

  private void sentencePiece(SentencePieceModel sp, Path dir, JsonNode tokenizerConfig, int vocabSize) {
    int n = vocabSize > 0 ? vocabSize : sp.pieces().size();
    String[] tokens = new String[n];
    float[] scores = new float[n];
    int[] types = new int[n];
    for (int i = 0; i < n; i++) {
      tokens[i] = "[PAD" + i + "]";
      scores[i] = -10000f;
      types[i] = SentencePieceModel.UNUSED;
    }
    for (int id = 0; id < sp.pieces().size() && id < n; id++) {
      SentencePieceModel.Piece p = sp.pieces().get(id);
      tokens[id] = p.piece();
      scores[id] = p.score();
      // The converter maps only these four SentencePiece types; USER_DEFINED pieces become NORMAL.
      types[id] = switch (p.type()) {
        case SentencePieceModel.UNKNOWN, SentencePieceModel.CONTROL, SentencePieceModel.UNUSED,
            SentencePieceModel.BYTE -> p.type();
        default -> SentencePieceModel.NORMAL;
      };
    }
    JsonNode added = readJson(dir.resolve("added_tokens.json"));
    if (added != null) {
      for (Iterator<Map.Entry<String, JsonNode>> it = added.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        int id = e.getValue().asInt(-1);
        if (id >= 0 && id < n) {
          tokens[id] = e.getKey();
          scores[id] = -1000f;
          types[id] = SentencePieceModel.USER_DEFINED;
        }
      }
    }
    if (tokenizerConfig != null) {
      for (Iterator<Map.Entry<String, JsonNode>> it = tokenizerConfig.path("added_tokens_decoder").fields();
          it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        int id;
        try {
          id = Integer.parseInt(e.getKey());
        } catch (NumberFormatException ex) {
          throw new InvalidInputException("tokenizer_config.json: added_tokens_decoder." + e.getKey(),
              "token id is not an integer", ex);
        }
        if (id < 0 || id >= n) {
          continue;
        }
        String content = e.getValue().path("content").asText();
        if (e.getValue().path("special").asBoolean(false) || looksSpecial(content)) {
          types[id] = SentencePieceModel.CONTROL;
        } else {
          content = content.replace("\u2581", " ");
          types[id] = SentencePieceModel.USER_DEFINED;
        }
        scores[id] = -1000f;
        tokens[id] = content;
      }
    }
    kvs.put("tokenizer.ggml.model", GgufValue.string("llama"));
    kvs.put("tokenizer.ggml.pre", GgufValue.string("default"));
    putVocab(tokens, scores, types);
  }

  private void putVocab(String[] tokens, float[] scores, int[] types) {
    kvs.put("tokenizer.ggml.tokens", GgufValue.array(GgufValueType.STRING, Arrays.asList(tokens)));
    if (scores != null) {
      List<Float> s = new ArrayList<>(scores.length);
      for (float f : scores) {
        s.add(f);
      }
      kvs.put("tokenizer.ggml.scores", GgufValue.array(GgufValueType.FLOAT32, s));
    }
    List<Integer> t = new ArrayList<>(types.length);
    for (int x : types) {
      t.add(x);
    }
    kvs.put("tokenizer.ggml.token_type", GgufValue.array(GgufValueType.INT32, t));
    tokenCount = tokens.length;
  }

  private void gpt2(JsonNode tj, Path dir, int vocabSize) {
    Map<Integer, String> reverse = new HashMap<>();
    int maxId = -1;
    for (Iterator<Map.Entry<String, JsonNode>> it = tj.path("model").path("vocab").fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      int id = e.getValue().asInt();
      reverse.put(id, e.getKey());
      maxId = Math.max(maxId, id);
    }
    Map<Integer, JsonNode> addedById = new HashMap<>();
    for (JsonNode a : tj.path("added_tokens")) {
      int id = a.path("id").asInt();
      addedById.put(id, a);
      reverse.put(id, a.path("content").asText());
      maxId = Math.max(maxId, id);
    }
    int n = vocabSize > 0 ? vocabSize : maxId + 1;
    String[] tokens = new String[n];
    int[] types = new int[n];
    for (int i = 0; i < n; i++) {
      String tok = reverse.get(i);
      if (tok == null) {
        tokens[i] = "[PAD" + i + "]";
        types[i] = SentencePieceModel.UNUSED;
      } else if (addedById.containsKey(i)) {
        tokens[i] = tok;
        boolean special = addedById.get(i).path("special").asBoolean(false) || looksSpecial(tok);
        types[i] = special ? SentencePieceModel.CONTROL : SentencePieceModel.USER_DEFINED;
      } else {
        tokens[i] = tok;
        types[i] = SentencePieceModel.NORMAL;
      }
    }
    kvs.put("tokenizer.ggml.model", GgufValue.string("gpt2"));
    kvs.put("tokenizer.ggml.pre", GgufValue.string(preTokenizer(tj, dir)));
    putVocab(tokens, null, types);
    List<String> merges = new ArrayList<>();
    for (JsonNode mg : tj.path("model").path("merges")) {
      if (mg.isTextual()) {
        merges.add(mg.asText());
      } else if (mg.isArray() && mg.size() == 2) {
        merges.add(mg.get(0).asText().replace(" ", "\u0120") + " " + mg.get(1).asText().replace(" ", "\u0120"));
      } else {
        throw new InvalidInputException(dir.resolve("tokenizer.json") + ": model.merges", "unexpected merge " + mg);
      }
    }
    if (merges.isEmpty()) {
      throw new InvalidInputException(dir.resolve("tokenizer.json") + ": model.merges",
          "a BPE tokenizer needs merges (llama.cpp refuses to load it without)");
    }
    kvs.put("tokenizer.ggml.merges", GgufValue.array(GgufValueType.STRING, merges));
  }

  private static String preTokenizer(JsonNode tj, Path dir) {
    StringBuilder regexes = new StringBuilder();
    JsonNode pre = tj.path("pre_tokenizer");
    List<JsonNode> parts = new ArrayList<>();
    if ("Sequence".equals(pre.path("type").asText())) {
      pre.path("pretokenizers").forEach(parts::add);
    } else if (!pre.isMissingNode() && !pre.isNull()) {
      parts.add(pre);
    }
    for (JsonNode p : parts) {
      if ("Split".equals(p.path("type").asText()) && p.path("pattern").has("Regex")) {
        regexes.append(p.path("pattern").path("Regex").asText());
      }
    }
    String hash = Hashing.sha256Hex(regexes.toString());
    String name = PRE_BY_REGEX_HASH.get(hash);
    if (name == null) {
      throw new UnsupportedFormatException(dir.resolve("tokenizer.json") + ": pre_tokenizer",
          "unknown BPE pre-tokenizer (regex sha256 " + hash + "); llama.cpp would not know how to split text");
    }
    return name;
  }

  private void special(Path dir, JsonNode tj, JsonNode tcIn, Integer nVocab) {
    Map<String, Object> tc = new HashMap<>();
    if (tcIn != null) {
      for (String typ : SPECIAL_TYPES) {
        JsonNode e = tcIn.get(typ + "_token");
        if (e != null && e.isTextual()) {
          tc.put(typ, e.asText());
        } else if (e != null && e.isObject() && e.path("content").isTextual()) {
          tc.put(typ, e.path("content").asText());
        }
      }
    }
    Map<String, Boolean> addFlags = new LinkedHashMap<>();
    if (tj != null) {
      if (!tc.containsKey("bos") && tc.containsKey("cls")) {
        tc.put("bos", tc.get("cls"));
      }
      if (!tc.containsKey("eos") && tc.containsKey("sep")) {
        tc.put("eos", tc.get("sep"));
      }
      JsonNode pp = tj.path("post_processor");
      List<JsonNode> procs = new ArrayList<>();
      if (pp.has("processors")) {
        pp.path("processors").forEach(procs::add);
      } else if (pp.isObject()) {
        procs.add(pp);
      }
      for (JsonNode proc : procs) {
        if ("TemplateProcessing".equals(proc.path("type").asText())) {
          template(proc, tc, addFlags);
        }
      }
    }
    Map<String, Long> ids = new LinkedHashMap<>();
    if (tj != null) {
      for (String typ : SPECIAL_TYPES) {
        Object content = tc.get(typ);
        if (content == null) {
          continue;
        }
        for (JsonNode a : tj.path("added_tokens")) {
          if (content.equals(a.path("content").asText())) {
            setId(ids, typ, a.path("id").asLong(-1), nVocab);
            break;
          }
        }
      }
    }
    JsonNode config = readJson(dir.resolve("config.json"));
    if (config != null) {
      for (String typ : SPECIAL_TYPES) {
        JsonNode v = config.get(typ + "_token_id");
        if (v != null && v.isIntegralNumber()) {
          setId(ids, typ, v.asLong(), nVocab);
        }
      }
    }
    if (tcIn != null) {
      for (String typ : SPECIAL_TYPES) {
        JsonNode v = tcIn.get("add_" + typ + "_token");
        if (v != null && v.isBoolean()) {
          addFlags.put(typ, v.asBoolean());
        }
      }
    }
    ids.forEach((typ, id) -> kvs.put(ID_KEYS.get(typ), GgufValue.uint32(id)));
    addFlags.forEach((typ, v) -> {
      if (typ.equals("bos") || typ.equals("eos") || typ.equals("sep")) {
        kvs.put("tokenizer.ggml.add_" + typ + "_token", GgufValue.bool(v));
      }
    });
    chatTemplate(dir, tcIn);
  }

  private static void setId(Map<String, Long> ids, String typ, long id, Integer nVocab) {
    if (id >= 0 && (nVocab == null || id < nVocab) && !ids.containsKey(typ)) {
      ids.put(typ, id);
    }
  }

  private static void template(JsonNode proc, Map<String, Object> tc, Map<String, Boolean> addFlags) {
    JsonNode single = proc.path("single");
    JsonNode pair = proc.path("pair");
    String first = null;
    String last = null;
    if (single.size() > 1) {
      first = textOrNull(single.get(0).path("SpecialToken").path("id"));
      if (first != null) {
        tc.put("bos", first);
        addFlags.put("bos", true);
      }
      last = textOrNull(single.get(single.size() - 1).path("SpecialToken").path("id"));
      if (last != null) {
        tc.put("eos", last);
        addFlags.put("eos", true);
      }
    }
    if (pair.size() > 0) {
      int start = first != null && first.equals(textOrNull(pair.get(0).path("SpecialToken").path("id"))) ? 1 : 0;
      int stop = last != null && last.equals(textOrNull(pair.get(pair.size() - 1).path("SpecialToken").path("id")))
          ? pair.size() - 1 : pair.size();
      if (stop - start >= 2) {
        String a = textOrNull(pair.get(start).path("Sequence").path("id"));
        String b = textOrNull(pair.get(stop - 1).path("Sequence").path("id"));
        if ("A".equals(a) && "B".equals(b) && stop - start > 2) {
          String mid = textOrNull(pair.get(start + 1).path("SpecialToken").path("id"));
          boolean addSep = mid != null && (mid.equals(tc.get("sep")) || mid.equals(tc.get("eos"))) && last == null;
          addFlags.put("sep", addSep);
        }
      }
    }
  }

  private static String textOrNull(JsonNode n) {
    return n != null && n.isTextual() ? n.asText() : null;
  }

  private void chatTemplate(Path dir, JsonNode tc) {
    Path jinja = dir.resolve("chat_template.jinja");
    if (Files.exists(jinja)) {
      try {
        kvs.put("tokenizer.chat_template", GgufValue.string(Files.readString(jinja)));
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read " + jinja + ": " + e.getMessage(), e);
      }
      return;
    }
    if (tc == null) {
      return;
    }
    JsonNode t = tc.get("chat_template");
    if (t != null && t.isTextual()) {
      kvs.put("tokenizer.chat_template", GgufValue.string(t.asText()));
    } else if (t != null && t.isArray()) {
      List<String> names = new ArrayList<>();
      for (JsonNode e : t) {
        String name = e.path("name").asText();
        String tmpl = e.path("template").asText();
        if (name.equals("default")) {
          kvs.put("tokenizer.chat_template", GgufValue.string(tmpl));
        } else {
          kvs.put("tokenizer.chat_template." + name, GgufValue.string(tmpl));
          names.add(name);
        }
      }
      if (!names.isEmpty()) {
        kvs.put("tokenizer.chat_templates", GgufValue.array(GgufValueType.STRING, names));
      }
    }
  }
}
