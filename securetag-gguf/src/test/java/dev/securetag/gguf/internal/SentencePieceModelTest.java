package dev.securetag.gguf.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.securetag.core.InvalidInputException;
import dev.securetag.core.internal.Json;
import dev.securetag.testfixtures.SharedFixtures;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class SentencePieceModelTest {

  private static Path model() {
    return SharedFixtures.path("tiny-llama/hf/tokenizer.model");
  }

  /** A token array of model-f16.gguf as gguf-py read it (metadata.json lists them in full for that file). */
  private static JsonNode ggufArray(String key) {
    JsonNode kvs = Json.readTree(SharedFixtures.readString("tiny-llama/expected/metadata.json"), "metadata.json")
        .get("files").get("model-f16.gguf").get("kvs");
    for (JsonNode kv : kvs) {
      if (kv.get("key").asText().equals(key)) {
        return kv.get("value");
      }
    }
    throw new IllegalArgumentException(key);
  }

  @Test
  void readsPiecesScoresAndTypesIncludingNegativeZero() {
    SentencePieceModel m = SentencePieceModel.read(model());
    JsonNode tokens = ggufArray("tokenizer.ggml.tokens");
    JsonNode scores = ggufArray("tokenizer.ggml.scores");
    JsonNode types = ggufArray("tokenizer.ggml.token_type");
    // llama.cpp's converter overrides score and type of the tokens in added_tokens_decoder (README, fact 2).
    Set<Integer> added = new HashSet<>();
    Json.readTree(SharedFixtures.readString("tiny-llama/hf/tokenizer_config.json"), "tokenizer_config.json")
        .path("added_tokens_decoder").fieldNames().forEachRemaining(id -> added.add(Integer.parseInt(id)));
    assertThat(m.pieces()).hasSize(tokens.size()).isNotEmpty();
    int byteCount = 0;
    for (int i = 0; i < tokens.size(); i++) {
      SentencePieceModel.Piece p = m.pieces().get(i);
      assertThat(p.piece()).as("piece %d", i).isEqualTo(tokens.get(i).asText());
      if (!added.contains(i)) {
        // Bitwise, so a score stored as -0.0 must stay -0.0.
        assertThat(Float.floatToRawIntBits(p.score())).as("score of piece %d", i)
            .isEqualTo(Float.floatToRawIntBits(Float.parseFloat(scores.get(i).asText())));
        assertThat(p.type()).as("type of piece %d", i).isEqualTo(types.get(i).asInt());
      }
      byteCount += p.type() == SentencePieceModel.BYTE ? 1 : 0;
    }
    assertThat(byteCount).as("byte-fallback pieces").isEqualTo(256);
  }

  @Test
  void rejectsTruncatedProtobufWithATypedError() throws Exception {
    byte[] b = Files.readAllBytes(model());
    for (int len : new int[] {1, 2, 100, b.length / 2, b.length - 5}) {
      byte[] cut = Arrays.copyOf(b, len);
      assertThatThrownBy(() -> SentencePieceModel.parse(cut, "tokenizer.model")).as("length %d", len)
          .isInstanceOf(InvalidInputException.class).hasMessageContaining("tokenizer.model");
    }
  }
}
