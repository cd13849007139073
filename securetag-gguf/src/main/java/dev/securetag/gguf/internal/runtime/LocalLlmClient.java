package dev.securetag.gguf.internal.runtime;

import dev.securetag.core.LlmClient;
import dev.securetag.core.LlmRequest;
import dev.securetag.core.LlmResponse;
import dev.securetag.gguf.ChatMessage;
import dev.securetag.gguf.GenerationOptions;
import dev.securetag.gguf.GenerationResult;
import dev.securetag.gguf.GgufModel;
import dev.securetag.gguf.PromptFormat;
import dev.securetag.gguf.TokenListener;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** {@link LlmClient} over an in-process {@link GgufModel}: system + prompt rendered as a chat, sampled locally. */
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
    long t0 = System.nanoTime();
    GenerationResult r = model.chat(messages(request), format, options(request), TokenListener.NONE);
    return LlmResponse.builder()
        .text(r.text())
        .model(name)
        .promptTokens(r.promptTokens())
        .completionTokens(r.tokens().size())
        .duration(Duration.ofNanos(System.nanoTime() - t0))
        .build();
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
