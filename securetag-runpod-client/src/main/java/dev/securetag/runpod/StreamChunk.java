package dev.securetag.runpod;

import com.fasterxml.jackson.databind.JsonNode;
import dev.securetag.runpod.internal.OutputText;

/**
 * One partial output read from {@code /stream/{id}}: the value a generator handler yielded (a string, an object
 * or, for the Ollama worker, one NDJSON line as a string), with the job status reported alongside it.
 */
public record StreamChunk(JsonNode output, JobStatus status) {

  /** The text this chunk contributes, for the Ollama/vLLM chunk shapes (see {@link JobResult#outputText()}). */
  public String text() {
    return OutputText.text(output);
  }
}
