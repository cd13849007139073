package dev.securetag.gguf.runtime.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.securetag.core.internal.Json;
import dev.securetag.gguf.GgufFormatException;
import dev.securetag.gguf.GgufReader;
import dev.securetag.gguf.GgufValue;
import dev.securetag.gguf.GgufValueType;
import dev.securetag.gguf.GgufWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The GPT-2 / Llama-3 byte-level BPE tokenizer against ids from Hugging Face tokenizers on the same vocabulary. */
class Gpt2TokenizerTest {
  @TempDir
  Path tmp;

  private static JsonNode resource(String name) throws Exception {
    return Json.mapper().readTree(Files.readString(
        Path.of(Gpt2TokenizerTest.class.getResource("/runtime-fixtures/bpe/" + name).toURI())));
  }

  /** Writes the tokenizer.json vocabulary as GGUF metadata, the way the converter does for Llama-3 vocabularies. */
  private GgufReader gguf(boolean addBos, boolean withMerges) throws Exception {
    JsonNode tj = resource("tokenizer.json");
    JsonNode vocab = tj.path("model").path("vocab");
    String[] tokens = new String[vocab.size()];
    for (Iterator<Map.Entry<String, JsonNode>> it = vocab.fields(); it.hasNext();) {
      Map.Entry<String, JsonNode> e = it.next();
      tokens[e.getValue().asInt()] = e.getKey();
    }
    List<Long> types = new ArrayList<>();
    for (String t : tokens) {
      types.add(t.startsWith("<|") ? 3L : 1L);
    }
    List<String> merges = new ArrayList<>();
    tj.path("model").path("merges").forEach(m -> merges.add(m.asText()));
    GgufWriter w = GgufWriter.create()
        .put("general.architecture", GgufValue.string("llama"))
        .put("tokenizer.ggml.model", GgufValue.string("gpt2"))
        .put("tokenizer.ggml.pre", GgufValue.string("llama-bpe"))
        .put("tokenizer.ggml.tokens", GgufValue.array(GgufValueType.STRING, Arrays.asList(tokens)))
        .put("tokenizer.ggml.token_type", GgufValue.array(GgufValueType.INT32, types))
        .put("tokenizer.ggml.bos_token_id", GgufValue.uint32(vocab.path("<|begin_of_text|>").asInt()))
        .put("tokenizer.ggml.eos_token_id", GgufValue.uint32(vocab.path("<|end_of_text|>").asInt()))
        .put("tokenizer.ggml.add_bos_token", GgufValue.bool(addBos));
    if (withMerges) {
      w.put("tokenizer.ggml.merges", GgufValue.array(GgufValueType.STRING, merges));
    }
    Path f = tmp.resolve("vocab-" + addBos + withMerges + ".gguf");
    w.write(f);
    return GgufReader.open(f);
  }

  @Test
  void reproducesHuggingFaceTokenizerIdsAndRoundTrips() throws Exception {
    try (GgufReader r = gguf(false, true)) {
      Tokenizer tok = Tokenizer.fromGguf(r);
      assertThat(tok).isInstanceOf(Gpt2Tokenizer.class);
      for (JsonNode c : resource("expected.json")) {
        String text = c.path("text").asText();
        int[] want = new int[c.path("ids").size()];
        for (int i = 0; i < want.length; i++) {
          want[i] = c.path("ids").get(i).asInt();
        }
        int[] got = tok.encode(text, true, false);
        assertThat(got).as(text).containsExactly(want);
        assertThat(tok.decode(got)).isEqualTo(text);
      }
    }
  }

  @Test
  void addsBosAndParsesSpecialTokensAndStopsOnEndOfTurn() throws Exception {
    try (GgufReader r = gguf(true, true)) {
      Tokenizer tok = Tokenizer.fromGguf(r);
      int bos = tok.idOf("<|begin_of_text|>");
      assertThat(tok.encode("hi", true, false)[0]).isEqualTo(bos);
      int[] special = tok.encode("<|eot_id|>hi", false, true);
      assertThat(special[0]).isEqualTo(tok.idOf("<|eot_id|>"));
      assertThat(tok.encode("<|eot_id|>", false, false)).doesNotContain(tok.idOf("<|eot_id|>"));
      assertThat(tok.isEndOfGeneration(tok.idOf("<|eot_id|>"))).isTrue();
      assertThat(tok.isEndOfGeneration(tok.eos())).isTrue();
      assertThat(tok.pieceBytes(bos)).isEmpty();
    }
  }

  @Test
  void refusesVocabulariesWithoutMerges() throws Exception {
    try (GgufReader r = gguf(false, false)) {
      assertThatThrownBy(() -> Tokenizer.fromGguf(r)).isInstanceOf(GgufFormatException.class)
          .hasMessageContaining("tokenizer.ggml.merges");
    }
  }
}
