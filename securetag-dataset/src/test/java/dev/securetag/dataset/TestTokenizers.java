package dev.securetag.dataset;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.securetag.core.internal.Json;
import dev.securetag.testfixtures.SharedFixtures;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Real tokenizer.json files for tests: one WordPiece vocabulary built here, and the tiny Llama BPE fixture. */
final class TestTokenizers {
  private TestTokenizers() {}

  /**
   * Writes a small but real WordPiece tokenizer (BERT pre-tokenizer, ## continuation pieces for every ASCII
   * letter and digit, a few whole words) so token counts differ from word counts in non-trivial ways.
   */
  static Path wordPiece(Path dir) {
    ObjectNode root = Json.object();
    root.put("version", "1.0");
    root.putNull("truncation");
    root.putNull("padding");
    ArrayNode added = root.putArray("added_tokens");
    ObjectNode unk = added.addObject();
    unk.put("id", 0).put("content", "[UNK]").put("single_word", false).put("lstrip", false)
        .put("rstrip", false).put("normalized", false).put("special", true);
    root.putNull("normalizer");
    root.putObject("pre_tokenizer").put("type", "BertPreTokenizer");
    root.putNull("post_processor");
    root.putNull("decoder");
    ObjectNode model = root.putObject("model");
    model.put("type", "WordPiece").put("unk_token", "[UNK]").put("continuing_subword_prefix", "##")
        .put("max_input_chars_per_word", 100);
    ObjectNode vocab = model.putObject("vocab");
    List<String> tokens = new ArrayList<>();
    tokens.add("[UNK]");
    String chars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    for (char c : chars.toCharArray()) {
      tokens.add(String.valueOf(c));
      tokens.add("##" + c);
    }
    for (char c : ".,;:!?()-'\"/|¿¡*#[]{}<>%&@_+=".toCharArray()) {
      tokens.add(String.valueOf(c));
    }
    for (String w : List.of("the", "of", "and", "security", "control", "information", "policy", "shall", "be",
        "de", "la", "seguridad", "el", "los", "debe", "##ing", "##tion", "##s", "##ed", "##er", "##es", "##al")) {
      if (!tokens.contains(w)) {
        tokens.add(w);
      }
    }
    for (int i = 0; i < tokens.size(); i++) {
      vocab.put(tokens.get(i), i);
    }
    Path file = dir.resolve("wordpiece-tokenizer.json");
    try {
      Files.writeString(file, Json.write(root));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return file;
  }

  /**
   * The tiny Llama SentencePiece-BPE tokenizer (byte fallback) of the reference fixtures, read in place through
   * {@link SharedFixtures}.
   */
  static Path tinyLlama() {
    return SharedFixtures.path("tiny-llama/hf/tokenizer.json");
  }
}
