package dev.securetag.core;

/**
 * The smallest contract for "prompt in, text out" that the dataset generator needs. Implementations live in
 * securetag-runpod-client (Ollama, OpenAI-compatible, RunPod) and securetag-gguf (the local runtime), so that
 * securetag-dataset depends on no HTTP library.
 *
 * <p>Implementations are thread-safe. Failures are {@link RemoteServiceException}s whose
 * {@link SecuretagException#isRetriable()} tells callers whether to retry.
 */
public interface LlmClient extends AutoCloseable {

  /** Generates a completion for the request. */
  LlmResponse generate(LlmRequest request);

  /** Convenience: generate from a bare prompt and return the text. */
  default String generate(String prompt) {
    return generate(LlmRequest.of(prompt)).text();
  }

  /** The model this client talks to by default, used in cache keys and provenance. */
  String modelName();

  /** True when the backend honours {@link LlmRequest#jsonSchema()} (structured output). */
  default boolean supportsJsonSchema() {
    return false;
  }

  /** Releases connections or threads; idempotent. */
  @Override
  default void close() {}
}
