package dev.securetag.gguf.internal;

import dev.securetag.core.InvalidInputException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Minimal reader of a SentencePiece {@code tokenizer.model} protobuf: only the repeated {@code pieces} field
 * (piece, score, type) is decoded; trainer and normalizer specs are skipped. Scores are kept bit for bit (including
 * {@code -0.0}) because llama.cpp's SPM tokenizer merges by score.
 */
public final class SentencePieceModel {
  /** SentencePiece piece types; same numbers as GGUF token types. */
  public static final int NORMAL = 1;
  public static final int UNKNOWN = 2;
  public static final int CONTROL = 3;
  public static final int USER_DEFINED = 4;
  public static final int UNUSED = 5;
  public static final int BYTE = 6;

  /** One vocabulary entry. */
  public record Piece(String piece, float score, int type) {}

  private final List<Piece> pieces;

  private SentencePieceModel(List<Piece> pieces) {
    this.pieces = List.copyOf(pieces);
  }

  /** The pieces in id order. */
  public List<Piece> pieces() {
    return pieces;
  }

  /** Parses {@code file}. */
  public static SentencePieceModel read(Path file) {
    byte[] b;
    try {
      b = Files.readAllBytes(file);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
    }
    return parse(b, file.toString());
  }

  /** Parses protobuf bytes; {@code location} names the source in errors. */
  public static SentencePieceModel parse(byte[] b, String location) {
    Proto p = new Proto(b, 0, b.length, location);
    List<Piece> pieces = new ArrayList<>();
    while (p.more()) {
      long tag = p.varint();
      int field = (int) (tag >>> 3);
      int wire = (int) (tag & 7);
      if (field == 1 && wire == 2) {
        int len = p.length();
        pieces.add(piece(new Proto(b, p.pos, p.pos + len, location + ": piece " + pieces.size())));
        p.pos += len;
      } else {
        p.skip(wire);
      }
    }
    if (pieces.isEmpty()) {
      throw new InvalidInputException(location, "no SentencePiece pieces found (not a tokenizer.model?)");
    }
    return new SentencePieceModel(pieces);
  }

  private static Piece piece(Proto p) {
    String text = null;
    float score = 0f;
    int type = NORMAL;
    while (p.more()) {
      long tag = p.varint();
      int field = (int) (tag >>> 3);
      int wire = (int) (tag & 7);
      if (field == 1 && wire == 2) {
        int len = p.length();
        text = new String(p.b, p.pos, len, StandardCharsets.UTF_8);
        p.pos += len;
      } else if (field == 2 && wire == 5) {
        score = Float.intBitsToFloat(p.fixed32());
      } else if (field == 3 && wire == 0) {
        type = (int) p.varint();
      } else {
        p.skip(wire);
      }
    }
    if (text == null) {
      throw new InvalidInputException(p.location, "piece without text");
    }
    return new Piece(text, score, type);
  }

  /** Bounds-checked protobuf wire reader. */
  private static final class Proto {
    final byte[] b;
    final int end;
    final String location;
    int pos;

    Proto(byte[] b, int start, int end, String location) {
      this.b = b;
      this.pos = start;
      this.end = end;
      this.location = location;
    }

    boolean more() {
      return pos < end;
    }

    private InvalidInputException truncated() {
      return new InvalidInputException(location + " (byte " + pos + ")", "truncated or corrupt protobuf");
    }

    long varint() {
      long v = 0;
      for (int shift = 0; shift < 64; shift += 7) {
        if (pos >= end) {
          throw truncated();
        }
        int x = b[pos++] & 0xFF;
        v |= (long) (x & 0x7F) << shift;
        if ((x & 0x80) == 0) {
          return v;
        }
      }
      throw truncated();
    }

    int length() {
      long len = varint();
      if (len < 0 || len > end - pos) {
        throw truncated();
      }
      return (int) len;
    }

    int fixed32() {
      if (end - pos < 4) {
        throw truncated();
      }
      int v = (b[pos] & 0xFF) | (b[pos + 1] & 0xFF) << 8 | (b[pos + 2] & 0xFF) << 16 | (b[pos + 3] & 0xFF) << 24;
      pos += 4;
      return v;
    }

    void skip(int wire) {
      switch (wire) {
        case 0 -> varint();
        case 1 -> {
          if (end - pos < 8) {
            throw truncated();
          }
          pos += 8;
        }
        case 2 -> {
          int len = length();
          pos += len;
        }
        case 5 -> fixed32();
        default -> throw new InvalidInputException(location + " (byte " + pos + ")", "unsupported wire type " + wire);
      }
    }
  }
}
