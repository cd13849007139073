package dev.securetag.gguf.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.securetag.core.InvalidInputException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class SentencePieceModelTest {

  private static Path model() throws URISyntaxException {
    return Path.of(SentencePieceModelTest.class.getResource("/tiny-llama/hf/tokenizer.model").toURI());
  }

  @Test
  void readsPiecesScoresAndTypesIncludingNegativeZero() throws Exception {
    SentencePieceModel m = SentencePieceModel.read(model());
    assertThat(m.pieces()).hasSize(512);
    assertThat(m.pieces().get(0)).isEqualTo(new SentencePieceModel.Piece("<unk>", 0f, SentencePieceModel.UNKNOWN));
    assertThat(m.pieces().get(3).piece()).isEqualTo("<0x00>");
    assertThat(m.pieces().get(3).type()).isEqualTo(SentencePieceModel.BYTE);
    assertThat(Float.floatToRawIntBits(m.pieces().get(259).score())).isEqualTo(0x80000000);
  }

  @Test
  void rejectsTruncatedProtobufWithATypedError() throws Exception {
    byte[] b = Files.readAllBytes(model());
    for (int len : new int[] {1, 2, 100, 3000, b.length - 5}) {
      byte[] cut = Arrays.copyOf(b, len);
      assertThatThrownBy(() -> SentencePieceModel.parse(cut, "tokenizer.model")).as("length %d", len)
          .isInstanceOf(InvalidInputException.class).hasMessageContaining("tokenizer.model");
    }
  }
}
