package dev.securetag.spark;

import dev.securetag.core.LlmClient;
import java.io.Serializable;

/**
 * Creates the QA generator's {@link LlmClient} inside a Spark task. LLM clients hold sockets and threads and cannot be
 * shipped to executors, so the pipeline ships this factory instead and calls it once per task (one client per
 * partition, closed when the partition is done). Capture only serializable values (URLs, model names, the name of an
 * environment variable holding a key) in the lambda, never a client.
 *
 * <pre>{@code
 * LlmFactory llm = () -> OllamaClient.builder().baseUrl("http://ollama.internal:11434").model("mistral").build();
 * }</pre>
 */
@FunctionalInterface
public interface LlmFactory extends Serializable {
  /** A new client; the pipeline closes it. */
  LlmClient create();
}
