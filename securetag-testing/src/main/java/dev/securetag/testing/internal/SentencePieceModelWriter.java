package dev.securetag.testing.internal;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes the SentencePiece {@code tokenizer.model} protobuf for a Llama-style BPE vocabulary, and derives the
 * Hugging Face merges that make {@code tokenizer.json} tokenize exactly as that model does. Llama-2-style checkpoints
 * carry both files: llama.cpp's converter takes the piece scores from {@code tokenizer.model} (its tokenizer merges
 * the adjacent pair whose concatenation has the highest score), while Hugging Face's BPE applies merges by rank.
 * Giving every merged piece the score {@code -id} and listing every two-piece split of it as a merge, ranked by the
 * piece's id (what transformers' SentencePiece converter does), makes the two agree, so the model trained with DJL's
 * tokenizer sees the same token ids the GGUF runtime produces.
 */
public final class SentencePieceModelWriter {
  /** SentencePiece piece types (also GGUF token types). */
  static final int NORMAL = 1;
  static final int UNKNOWN = 2;
  static final int CONTROL = 3;
  static final int USER_DEFINED = 4;
  static final int BYTE = 6;

  private SentencePieceModelWriter() {}

  /** The piece type a vocabulary entry gets: {@code <unk>}, {@code <s>}/{@code </s>}, byte pieces, fillers, normal. */
  static int typeOf(String piece, int id) {
    if (id == 0) {
      return UNKNOWN;
    }
    if (id < 3) {
      return CONTROL;
    }
    if (piece.length() == 6 && piece.startsWith("<0x") && piece.endsWith(">")) {
      return BYTE;
    }
    if (piece.startsWith("<extra_") && piece.endsWith(">")) {
      return USER_DEFINED;
    }
    return NORMAL;
  }

  /** Score of a piece: {@code -id} for normal pieces (earlier merges win), 0 for the others, as SentencePiece writes. */
  static float scoreOf(String piece, int id) {
    return typeOf(piece, id) == NORMAL ? -id : 0f;
  }

  /** Serialises {@code ModelProto} with its {@code pieces} (field 1: piece, score, type) and a BPE trainer spec. */
  public static byte[] write(List<String> vocab) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (int id = 0; id < vocab.size(); id++) {
      String piece = vocab.get(id);
      ByteArrayOutputStream p = new ByteArrayOutputStream();
      byte[] text = piece.getBytes(StandardCharsets.UTF_8);
      tag(p, 1, 2);
      varint(p, text.length);
      p.writeBytes(text);
      tag(p, 2, 5);
      int bits = Float.floatToRawIntBits(scoreOf(piece, id));
      for (int i = 0; i < 4; i++) {
        p.write((bits >>> (8 * i)) & 0xff);
      }
      tag(p, 3, 0);
      varint(p, typeOf(piece, id));
      byte[] pb = p.toByteArray();
      tag(out, 1, 2);
      varint(out, pb.length);
      out.writeBytes(pb);
    }
    // trainer_spec (field 2): model_type BPE (3 = 2), vocab_size (4), byte_fallback (35 = true).
    ByteArrayOutputStream spec = new ByteArrayOutputStream();
    tag(spec, 3, 0);
    varint(spec, 2);
    tag(spec, 4, 0);
    varint(spec, vocab.size());
    tag(spec, 35, 0);
    varint(spec, 1);
    byte[] sb = spec.toByteArray();
    tag(out, 2, 2);
    varint(out, sb.length);
    out.writeBytes(sb);
    return out.toByteArray();
  }

  /**
   * Every split of every normal multi-character piece into two vocabulary pieces, ordered by the merged piece's id:
   * Hugging Face BPE with these merges reproduces SentencePiece's score-ordered merging.
   */
  public static List<String> mergesFor(List<String> vocab) {
    Map<String, Integer> ids = new HashMap<>();
    for (int i = 0; i < vocab.size(); i++) {
      ids.putIfAbsent(vocab.get(i), i);
    }
    List<String> merges = new ArrayList<>();
    for (int id = 0; id < vocab.size(); id++) {
      String piece = vocab.get(id);
      if (typeOf(piece, id) != NORMAL || piece.codePointCount(0, piece.length()) < 2) {
        continue;
      }
      List<int[]> splits = new ArrayList<>();
      for (int k = piece.offsetByCodePoints(0, 1); k < piece.length(); k = piece.offsetByCodePoints(k, 1)) {
        Integer l = ids.get(piece.substring(0, k));
        Integer r = ids.get(piece.substring(k));
        if (l != null && r != null && typeOf(piece.substring(0, k), l) == NORMAL && typeOf(piece.substring(k), r) == NORMAL) {
          splits.add(new int[] {k, l, r});
        }
      }
      // Within one piece, prefer the split whose parts are themselves older (lower ids), as transformers does.
      splits.sort((a, b) -> a[1] != b[1] ? Integer.compare(a[1], b[1]) : Integer.compare(a[2], b[2]));
      for (int[] s : splits) {
        merges.add(piece.substring(0, s[0]) + " " + piece.substring(s[0]));
      }
    }
    return merges;
  }

  private static void tag(ByteArrayOutputStream out, int field, int wire) {
    varint(out, ((long) field << 3) | wire);
  }

  private static void varint(ByteArrayOutputStream out, long v) {
    while ((v & ~0x7fL) != 0) {
      out.write((int) ((v & 0x7f) | 0x80));
      v >>>= 7;
    }
    out.write((int) v);
  }
}
