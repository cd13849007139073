package dev.securetag.ollama.server;

import dev.securetag.core.LlmClient;
import dev.securetag.core.LlmRequest;
import dev.securetag.core.LlmResponse;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

/**
 * A deterministic language model for the server tests: it answers "echo: " + the prompt (with the system message in
 * brackets when there is one), streams it word by word, honours {@code maxTokens} as a word limit and can be told to
 * pause between words or to hold every generation until released. It overrides neither {@code chat} nor the retry
 * policy, so the server's use of {@link LlmClient}'s defaults is what the tests see.
 */
final class EchoModel implements LlmClient {
  final AtomicInteger calls = new AtomicInteger();
  final AtomicInteger wordsEmitted = new AtomicInteger();
  final AtomicReference<LlmRequest> last = new AtomicReference<>();
  volatile long pauseMillis;
  volatile CountDownLatch hold;

  @Override
  public LlmResponse generate(LlmRequest request) {
    return generateStreaming(request, t -> { });
  }

  @Override
  public LlmResponse generateStreaming(LlmRequest request, Consumer<String> onToken) {
    calls.incrementAndGet();
    last.set(request);
    CountDownLatch h = hold;
    if (h != null) {
      try {
        h.await(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    String text = "echo: " + request.system().map(s -> "[" + s + "] ").orElse("") + request.prompt();
    String[] words = text.split(" ");
    int limit = request.maxTokens().orElse(words.length);
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < Math.min(limit, words.length); i++) {
      String piece = (i == 0 ? "" : " ") + words[i];
      out.append(piece);
      onToken.accept(piece);
      wordsEmitted.incrementAndGet();
      if (pauseMillis > 0) {
        try {
          Thread.sleep(pauseMillis);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          break;
        }
      }
    }
    return LlmResponse.builder().text(out.toString()).model("echo").promptTokens(words.length)
        .completionTokens(Math.min(limit, words.length)).build();
  }

  @Override
  public String modelName() {
    return "echo";
  }
}
