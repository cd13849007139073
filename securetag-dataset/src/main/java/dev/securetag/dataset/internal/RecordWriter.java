package dev.securetag.dataset.internal;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonGenerator;
import dev.securetag.core.TrainingExample;
import dev.securetag.core.internal.Json;
import dev.securetag.dataset.DatasetFormat;
import java.io.IOException;
import java.io.OutputStream;
import java.util.Map;

/**
 * Streams training examples as JSONL in one of the {@link DatasetFormat}s: UTF-8 without BOM, one compact object
 * per line, {@code \n} line ends, keys in the documented order.
 */
public final class RecordWriter implements AutoCloseable {
  private final JsonGenerator gen;
  private final JsonGenerator sidecar;
  private final DatasetFormat format;
  private final String system;
  private final boolean inlineMetadata;

  /**
   * @param sidecarOut where metadata lines go, or null
   * @param system system message for the chat formats, or null
   */
  public RecordWriter(OutputStream out, OutputStream sidecarOut, DatasetFormat format, String system,
      boolean inlineMetadata) throws IOException {
    this.gen = Json.mapper().createGenerator(out, JsonEncoding.UTF8);
    gen.setRootValueSeparator(null);
    this.sidecar = sidecarOut == null ? null : Json.mapper().createGenerator(sidecarOut, JsonEncoding.UTF8);
    if (sidecar != null) {
      sidecar.setRootValueSeparator(null);
    }
    this.format = format;
    this.system = system == null || system.isBlank() ? null : system;
    this.inlineMetadata = inlineMetadata;
  }

  public void write(TrainingExample e) throws IOException {
    gen.writeStartObject();
    switch (format) {
      case ALPACA -> {
        gen.writeStringField("instruction", e.instruction());
        gen.writeStringField("input", e.input());
        gen.writeStringField("output", e.output());
      }
      case SHAREGPT -> {
        gen.writeArrayFieldStart("conversations");
        if (system != null) {
          turn("from", "system", "value", system);
        }
        turn("from", "human", "value", userText(e));
        turn("from", "gpt", "value", e.output());
        gen.writeEndArray();
      }
      case OPENAI_CHAT -> {
        gen.writeArrayFieldStart("messages");
        if (system != null) {
          turn("role", "system", "content", system);
        }
        turn("role", "user", "content", userText(e));
        turn("role", "assistant", "content", e.output());
        gen.writeEndArray();
      }
      default -> throw new IllegalStateException("unknown format " + format);
    }
    Map<String, Object> meta = e.metadata();
    if (inlineMetadata && !meta.isEmpty()) {
      gen.writeFieldName("metadata");
      gen.writeObject(meta);
    }
    gen.writeEndObject();
    gen.writeRaw('\n');
    if (sidecar != null) {
      sidecar.writeObject(meta);
      sidecar.writeRaw('\n');
    }
  }

  /** Instruction, then the context after a blank line when there is one (chat formats have no input field). */
  private static String userText(TrainingExample e) {
    return e.input().isEmpty() ? e.instruction() : e.instruction() + "\n\n" + e.input();
  }

  private void turn(String roleKey, String role, String textKey, String text) throws IOException {
    gen.writeStartObject();
    gen.writeStringField(roleKey, role);
    gen.writeStringField(textKey, text);
    gen.writeEndObject();
  }

  @Override
  public void close() throws IOException {
    gen.flush();
    if (sidecar != null) {
      sidecar.flush();
    }
  }
}
