package dev.securetag.gguf.runtime.internal;

import dev.securetag.core.ChatMessage;
import dev.securetag.core.LlmClient;
import dev.securetag.core.LlmRequest;
import dev.securetag.core.LlmResponse;
import dev.securetag.core.RetryPolicy;
import dev.securetag.gguf.runtime.GenerationOptions;
import dev.securetag.gguf.runtime.GenerationResult;
import dev.securetag.gguf.runtime.GgufModel;
import dev.securetag.gguf.runtime.PromptFormat;
import dev.securetag.gguf.runtime.TokenListener;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * {@link LlmClient} over an in-process {@link GgufModel}: requests are rendered as a chat in the given
 * {@link PromptFormat} and sampled locally; streaming passes each piece of decoded text on as it is produced, and
 * multi-turn chats render the whole conversation. One attempt per call: nothing remote can fail transiently.
 */
public final class LocalLlmClient implements LlmClient {
  private final GgufModel model;
  private final String name;
  private final PromptFormat format;

  public LocalLlmClient(GgufModel model, String name, PromptFormat format) {
    this.model = model;
    this.name = name;
    this.format = format;
  }

  /** Maps the request's sampling fields onto {@link GenerationOptions}, keeping the runtime's defaults otherwise. */
  public static GenerationOptions options(LlmRequest request) {
    GenerationOptions.Builder b = GenerationOptions.builder();
    if (request == null) {
      return b.build();
    }
    request.temperature().ifPresent(b::temperature);
    request.topP().ifPresent(b::topP);
    request.maxTokens().ifPresent(b::maxTokens);
    request.seed().ifPresent(b::seed);
    b.addAllStop(request.stop());
    return b.build();
  }

  /** The request as chat messages (system first when present). */
  public static List<ChatMessage> messages(LlmRequest request) {
    List<ChatMessage> msgs = new ArrayList<>();
    request.system().ifPresent(s -> msgs.add(ChatMessage.system(s)));
    msgs.add(ChatMessage.user(request.prompt()));
    return msgs;
  }

  @Override
  public LlmResponse generate(LlmRequest request) {
    return run(messages(request), options(request), null);
  }

  @Override
  public LlmResponse generateStreaming(LlmRequest request, Consumer<String> onToken) {
    return run(messages(request), options(request), onToken);
  }

  /**
   * The reply to a whole conversation; {@code settings} (may be null) adds its system message in front when the
   * conversation has none, and its sampling options.
   */
  @Override
  public LlmResponse chat(List<ChatMessage> messages, LlmRequest settings, Consumer<String> onToken) {
    if (messages.isEmpty()) {
      throw new IllegalArgumentException("chat needs at least one message");
    }
    List<ChatMessage> msgs = new ArrayList<>();
    if (settings != null && settings.system().isPresent() && !messages.get(0).role().equals("system")) {
      msgs.add(ChatMessage.system(settings.system().get()));
    }
    msgs.addAll(messages);
    return run(msgs, options(settings), onToken);
  }

  private LlmResponse run(List<ChatMessage> messages, GenerationOptions options, Consumer<String> onToken) {
    long t0 = System.nanoTime();
    TokenListener listener = onToken == null ? TokenListener.NONE : (id, text) -> {
      if (!text.isEmpty()) {
        onToken.accept(text);
      }
    };
    GenerationResult r = model.chat(messages, format, options, listener);
    return LlmResponse.builder()
        .text(r.text())
        .model(name)
        .promptTokens(r.promptTokens())
        .completionTokens(r.tokens().size())
        .duration(Duration.ofNanos(System.nanoTime() - t0))
        .build();
  }

  @Override
  public RetryPolicy retryPolicy() {
    return RetryPolicy.none();
  }

  @Override
  public String modelName() {
    return name;
  }

  @Override
  public String toString() {
    return "LocalLlmClient[" + name + "]";
  }
}
