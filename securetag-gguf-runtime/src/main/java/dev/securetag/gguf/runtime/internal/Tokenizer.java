package dev.securetag.gguf.runtime.internal;

import dev.securetag.core.UnsupportedFormatException;
import dev.securetag.gguf.GgufFormatException;
import dev.securetag.gguf.GgufReader;
import dev.securetag.gguf.GgufValue;

/** A vocabulary from GGUF metadata that turns text into token ids and ids back into bytes, as llama.cpp does. */
public interface Tokenizer {

  /** The tokenizer {@code tokenizer.ggml.model} names: {@code llama} (SentencePiece-style) or {@code gpt2} (BPE). */
  static Tokenizer fromGguf(GgufReader r) {
    String model = r.get("tokenizer.ggml.model").map(GgufValue::asString)
        .orElseThrow(() -> new GgufFormatException(r.file() + ": tokenizer.ggml.model", "missing key"));
    return switch (model) {
      case "llama" -> SpmTokenizer.fromGguf(r);
      case "gpt2" -> Gpt2Tokenizer.fromGguf(r);
      default -> throw new UnsupportedFormatException(r.file() + ": tokenizer.ggml.model", "tokenizer model '"
          + model + "' is not supported by the CPU runtime (llama or gpt2)");
    };
  }

  /** Tokenizes like {@code llama_tokenize(add_special, parse_special)}. */
  int[] encode(String text, boolean addSpecial, boolean parseSpecial);

  /** The bytes a token stands for in generated text (control tokens render as nothing). */
  byte[] pieceBytes(int id);

  /** Decodes ids to text (invalid UTF-8 replaced with U+FFFD). */
  String decode(int[] ids);

  /** The vocabulary string of a token. */
  String token(int id);

  /** The id of a token text, or -1. */
  int idOf(String token);

  int vocabSize();

  /** BOS id, or -1 when the vocabulary has none. */
  int bos();

  /** EOS id, or -1 when the vocabulary has none. */
  int eos();

  /** True for EOS and the other end-of-turn tokens that stop generation. */
  boolean isEndOfGeneration(int id);
}
