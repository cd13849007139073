package dev.securetag.core;

import java.util.List;
import java.util.function.Consumer;

/**
 * "Prompt in, text out" for every model securetag talks to, so that securetag-dataset depends on no HTTP library:
 * one-shot {@link #generate(LlmRequest)}, token streaming and multi-turn {@link #chat}. Implementations live in
 * securetag-runpod-client (Ollama, OpenAI-compatible, RunPod) and securetag-gguf-runtime (the local runtime);
 * securetag-ollama-server serves any of them with the Ollama API.
 *
 * <p>Implementations are thread-safe. Failures are {@link RemoteServiceException}s whose
 * {@link SecuretagException#isRetriable()} tells callers whether to retry; {@link #retryPolicy()} says whether the
 * client already retries by itself, so callers do not multiply attempts.
 */
public interface LlmClient extends AutoCloseable {

  /** Generates a completion for the request. */
  LlmResponse generate(LlmRequest request);

  /** Convenience: generate from a bare prompt and return the text. */
  default String generate(String prompt) {
    return generate(LlmRequest.of(prompt)).text();
  }

  /**
   * Generates a completion, passing each piece of text to {@code onToken} as it is produced. The default, for
   * clients that cannot stream, calls {@link #generate(LlmRequest)} and passes the whole text once.
   */
  default LlmResponse generateStreaming(LlmRequest request, Consumer<String> onToken) {
    LlmResponse r = generate(request);
    if (!r.text().isEmpty()) {
      onToken.accept(r.text());
    }
    return r;
  }

  /**
   * Multi-turn chat: the reply to {@code messages} (oldest first). {@code settings} (may be null) supplies model,
   * system message, sampling and format; its prompt is ignored. Streams to {@code onToken} when it is not null.
   *
   * <p>The default serves a conversation of at most one system message followed by one user message through
   * {@link #generate(LlmRequest)}; clients of chat APIs override it, and others throw
   * {@link UnsupportedOperationException} for longer conversations rather than inventing a transcript format.
   */
  default LlmResponse chat(List<ChatMessage> messages, LlmRequest settings, Consumer<String> onToken) {
    if (messages.isEmpty()) {
      throw new IllegalArgumentException("chat needs at least one message");
    }
    ChatMessage last = messages.get(messages.size() - 1);
    boolean single = last.role().equals("user") && (messages.size() == 1
        || (messages.size() == 2 && messages.get(0).role().equals("system")));
    if (!single) {
      throw new UnsupportedOperationException(getClass().getSimpleName() + " has no chat API: it serves one user "
          + "message (optionally after one system message), got " + messages.size() + " messages");
    }
    LlmRequest.Builder b = LlmRequest.builder();
    if (settings != null) {
      b.from(settings);
    }
    b.prompt(last.content());
    if (messages.size() == 2) {
      b.system(messages.get(0).content());
    }
    LlmRequest request = b.build();
    return onToken == null ? generate(request) : generateStreaming(request, onToken);
  }

  /** {@link #chat(List, LlmRequest, Consumer)} without streaming. */
  default LlmResponse chat(List<ChatMessage> messages, LlmRequest settings) {
    return chat(messages, settings, null);
  }

  /** The model this client talks to by default, used in cache keys and provenance. */
  String modelName();

  /** True when the backend honours {@link LlmRequest#jsonSchema()} (structured output). */
  default boolean supportsJsonSchema() {
    return false;
  }

  /**
   * The retries this client performs by itself within one call ({@link RetryPolicy#none()} when it makes one attempt,
   * the default). Callers that retry on their own add attempts only for clients that do not.
   */
  default RetryPolicy retryPolicy() {
    return RetryPolicy.none();
  }

  /** Releases connections or threads; idempotent. */
  @Override
  default void close() {}
}
