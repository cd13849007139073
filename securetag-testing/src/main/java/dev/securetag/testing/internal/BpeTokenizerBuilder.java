package dev.securetag.testing.internal;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.securetag.core.internal.Json;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * Trains a small Llama-style (SentencePiece-like, "legacy" layout) BPE tokenizer on a text and writes it in Hugging
 * Face {@code tokenizer.json} form: {@code <unk>}=0, {@code <s>}=1, {@code </s>}=2, the 256 byte-fallback pieces,
 * the corpus characters, then merges learned greedily by pair frequency until the vocabulary is full.
 */
public final class BpeTokenizerBuilder {
  private static final String SPACE = "\u2581";

  private final List<String> vocab = new ArrayList<>();
  private final List<String> merges = new ArrayList<>();

  private BpeTokenizerBuilder() {}

  /** Trains a vocabulary of exactly {@code vocabSize} entries on {@code corpus}. */
  public static BpeTokenizerBuilder train(String corpus, int vocabSize) {
    if (vocabSize < 259 + 96) {
      throw new IllegalArgumentException("vocabSize must be >= 355 (specials, bytes and ASCII), was " + vocabSize);
    }
    BpeTokenizerBuilder b = new BpeTokenizerBuilder();
    b.vocab.add("<unk>");
    b.vocab.add("<s>");
    b.vocab.add("</s>");
    for (int i = 0; i < 256; i++) {
      b.vocab.add(String.format("<0x%02X>", i));
    }
    TreeSet<String> chars = new TreeSet<>();
    chars.add(SPACE);
    for (char c = 33; c < 127; c++) {
      chars.add(String.valueOf(c));
    }
    String norm = SPACE + corpus.replace(" ", SPACE);
    norm.codePoints().filter(cp -> cp != ' ' && !Character.isISOControl(cp))
        .forEach(cp -> chars.add(new String(Character.toChars(cp))));
    for (String c : chars) {
      if (b.vocab.size() < vocabSize) {
        b.vocab.add(c);
      }
    }
    // Words are maximal runs that start at a ▁ (or line start); merges never cross a word start.
    Map<String, Integer> wordCounts = new HashMap<>();
    for (String line : norm.split("\n")) {
      int start = 0;
      for (int i = 1; i <= line.length(); i++) {
        if (i == line.length() || line.startsWith(SPACE, i)) {
          if (i > start) {
            wordCounts.merge(line.substring(start, i), 1, Integer::sum);
          }
          start = i;
        }
      }
    }
    List<List<String>> words = new ArrayList<>();
    List<Integer> counts = new ArrayList<>();
    java.util.Set<String> known = new java.util.HashSet<>(b.vocab);
    for (Map.Entry<String, Integer> e : new java.util.TreeMap<>(wordCounts).entrySet()) {
      List<String> syms = new ArrayList<>();
      e.getKey().codePoints().forEach(cp -> syms.add(new String(Character.toChars(cp))));
      words.add(syms);
      counts.add(e.getValue());
    }
    while (b.vocab.size() < vocabSize) {
      Map<String, Integer> pairs = new LinkedHashMap<>();
      for (int w = 0; w < words.size(); w++) {
        List<String> s = words.get(w);
        for (int i = 0; i + 1 < s.size(); i++) {
          if (known.contains(s.get(i)) && known.contains(s.get(i + 1))) {
            pairs.merge(s.get(i) + " " + s.get(i + 1), counts.get(w), Integer::sum);
          }
        }
      }
      String best = null;
      int bestCount = 1;
      for (Map.Entry<String, Integer> e : pairs.entrySet()) {
        if (e.getValue() > bestCount || (e.getValue() == bestCount && best != null && e.getKey().compareTo(best) < 0)) {
          best = e.getKey();
          bestCount = e.getValue();
        }
      }
      if (best == null) {
        break;
      }
      String[] ab = best.split(" ", 2);
      String merged = ab[0] + ab[1];
      if (known.contains(merged)) {
        // The merged piece already exists (a corpus character); record the merge but no new entry.
        b.merges.add(best);
      } else {
        b.merges.add(best);
        b.vocab.add(merged);
        known.add(merged);
      }
      for (List<String> s : words) {
        for (int i = 0; i + 1 < s.size(); i++) {
          if (s.get(i).equals(ab[0]) && s.get(i + 1).equals(ab[1])) {
            s.set(i, merged);
            s.remove(i + 1);
          }
        }
      }
    }
    int filler = 0;
    while (b.vocab.size() < vocabSize) {
      b.vocab.add("<extra_" + filler++ + ">");
    }
    return b;
  }

  /** Vocabulary size. */
  public int size() {
    return vocab.size();
  }

  /** The tokenizer.json text. */
  public String tokenizerJson() {
    ObjectNode root = Json.object();
    root.put("version", "1.0");
    root.putNull("truncation");
    root.putNull("padding");
    ArrayNode added = root.putArray("added_tokens");
    for (int i = 0; i < 3; i++) {
      ObjectNode t = added.addObject();
      t.put("id", i);
      t.put("content", vocab.get(i));
      t.put("single_word", false);
      t.put("lstrip", false);
      t.put("rstrip", false);
      t.put("normalized", false);
      t.put("special", true);
    }
    ObjectNode normalizer = root.putObject("normalizer");
    normalizer.put("type", "Sequence");
    ArrayNode ns = normalizer.putArray("normalizers");
    ns.addObject().put("type", "Prepend").put("prepend", SPACE);
    ObjectNode rep = ns.addObject().put("type", "Replace");
    rep.putObject("pattern").put("String", " ");
    rep.put("content", SPACE);
    root.putNull("pre_tokenizer");
    ObjectNode post = root.putObject("post_processor");
    post.put("type", "TemplateProcessing");
    ArrayNode single = post.putArray("single");
    single.addObject().putObject("SpecialToken").put("id", "<s>").put("type_id", 0);
    single.addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
    ArrayNode pair = post.putArray("pair");
    pair.addObject().putObject("SpecialToken").put("id", "<s>").put("type_id", 0);
    pair.addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
    pair.addObject().putObject("SpecialToken").put("id", "<s>").put("type_id", 1);
    pair.addObject().putObject("Sequence").put("id", "B").put("type_id", 1);
    ObjectNode st = post.putObject("special_tokens").putObject("<s>");
    st.put("id", "<s>");
    st.putArray("ids").add(1);
    st.putArray("tokens").add("<s>");
    ObjectNode dec = root.putObject("decoder");
    dec.put("type", "Sequence");
    ArrayNode ds = dec.putArray("decoders");
    ObjectNode d1 = ds.addObject().put("type", "Replace");
    d1.putObject("pattern").put("String", SPACE);
    d1.put("content", " ");
    ds.addObject().put("type", "ByteFallback");
    ds.addObject().put("type", "Fuse");
    ds.addObject().put("type", "Strip").put("content", " ").put("start", 1).put("stop", 0);
    ObjectNode model = root.putObject("model");
    model.put("type", "BPE");
    model.putNull("dropout");
    model.put("unk_token", "<unk>");
    model.putNull("continuing_subword_prefix");
    model.putNull("end_of_word_suffix");
    model.put("fuse_unk", true);
    model.put("byte_fallback", true);
    model.put("ignore_merges", false);
    ObjectNode v = model.putObject("vocab");
    for (int i = 0; i < vocab.size(); i++) {
      v.put(vocab.get(i), i);
    }
    ArrayNode m = model.putArray("merges");
    // Derived from the vocabulary rather than the training order, so that tokenization equals the
    // SentencePiece model written beside it (see SentencePieceModelWriter).
    SentencePieceModelWriter.mergesFor(vocab).forEach(m::add);
    return Json.write(root);
  }

  /** The SentencePiece {@code tokenizer.model} for this vocabulary (llama.cpp's converter reads its scores). */
  public byte[] sentencePieceModel() {
    return SentencePieceModelWriter.write(vocab);
  }

  /** tokenizer_config.json for a Llama tokenizer with these specials. */
  public String tokenizerConfigJson(int maxLength) {
    ObjectNode c = Json.object();
    c.put("add_bos_token", true);
    c.put("add_eos_token", false);
    ObjectNode dec = c.putObject("added_tokens_decoder");
    for (int i = 0; i < 3; i++) {
      ObjectNode t = dec.putObject(String.valueOf(i));
      t.put("content", vocab.get(i));
      t.put("lstrip", false);
      t.put("normalized", false);
      t.put("rstrip", false);
      t.put("single_word", false);
      t.put("special", true);
    }
    c.put("bos_token", "<s>");
    c.put("eos_token", "</s>");
    c.put("unk_token", "<unk>");
    c.putNull("pad_token");
    c.put("clean_up_tokenization_spaces", false);
    c.put("legacy", true);
    c.put("model_max_length", maxLength);
    c.put("tokenizer_class", "LlamaTokenizer");
    return Json.write(c);
  }
}
