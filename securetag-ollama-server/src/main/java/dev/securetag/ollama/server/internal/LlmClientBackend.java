package dev.securetag.ollama.server.internal;

import com.fasterxml.jackson.databind.JsonNode;
import dev.securetag.core.ChatMessage;
import dev.securetag.core.LlmClient;
import dev.securetag.core.LlmRequest;
import dev.securetag.core.LlmResponse;
import dev.securetag.core.RemoteServiceException;
import dev.securetag.core.internal.Hashing;
import dev.securetag.core.ollama.OllamaChatRequest;
import dev.securetag.core.ollama.OllamaChunk;
import dev.securetag.core.ollama.OllamaGenerateRequest;
import dev.securetag.core.ollama.OllamaMessage;
import dev.securetag.core.ollama.OllamaModelDetails;
import dev.securetag.core.ollama.OllamaModelInfo;
import dev.securetag.core.ollama.OllamaShowResponse;
import dev.securetag.ollama.server.OllamaBackend;
import dev.securetag.ollama.server.OllamaReply;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link OllamaBackend} of any {@link LlmClient}: {@code /api/generate} becomes an {@link LlmRequest} (prompt,
 * system, model, {@code format} as JSON mode or schema, and the options {@code temperature}, {@code top_p},
 * {@code num_predict}, {@code seed}, {@code stop}) served by {@link LlmClient#generate} or
 * {@link LlmClient#generateStreaming}; {@code /api/chat} goes to {@link LlmClient#chat}. What an {@code LlmClient}
 * cannot express is refused rather than ignored: {@code raw} prompts and a token {@code context} (400). A caller that
 * hangs up ends a streaming generation at its next piece. Failures of a remote client become a fixed message per kind
 * (the remote text may echo anything back) with a status like the RunPod proxy's.
 */
public final class LlmClientBackend implements OllamaBackend {
  private static final Logger LOG = LoggerFactory.getLogger(LlmClientBackend.class);

  private final LlmClient client;
  private final String model;
  private final String modifiedAt = Instant.now().toString();

  public LlmClientBackend(LlmClient client, String model) {
    this.client = client;
    this.model = model;
  }

  @Override
  public String model() {
    return model;
  }

  @Override
  public OllamaModelInfo describe() {
    return new OllamaModelInfo(model, model, modifiedAt, null, Hashing.sha256Hex(model),
        new OllamaModelDetails(null, null, null, null, null, null));
  }

  @Override
  public OllamaShowResponse show() {
    List<String> capabilities = new ArrayList<>(List.of("completion"));
    return new OllamaShowResponse("# served by securetag OllamaServer over " + client.getClass().getSimpleName()
        + "\nFROM " + model + "\n", "", "", OllamaModelDetails.format(null), null, capabilities);
  }

  @Override
  public void generate(OllamaGenerateRequest req, OllamaReply reply) throws IOException {
    if (Boolean.TRUE.equals(req.raw())) {
      throw new IllegalArgumentException("raw prompts are not supported: this model's client applies its own template");
    }
    if (req.context() != null && !req.context().isNull()) {
      throw new IllegalArgumentException("context is not supported by this model's client; send the conversation to "
          + "/api/chat instead");
    }
    String prompt = req.prompt() == null ? "" : req.prompt();
    if (prompt.isEmpty()) {
      // Ollama answers an empty prompt by loading the model: nothing to generate.
      reply.json(200, done(reply, "", "load", null, 0));
      return;
    }
    LlmRequest.Builder b = settings(req.model(), req.format(), req.options()).prompt(prompt);
    if (req.system() != null) {
      b.system(req.system());
    }
    LlmRequest request = b.build();
    long t0 = System.nanoTime();
    LlmResponse r = run(reply, onToken -> onToken == null ? client.generate(request)
        : client.generateStreaming(request, onToken));
    if (r != null) {
      finish(reply, r, t0);
    }
  }

  @Override
  public void chat(OllamaChatRequest req, OllamaReply reply) throws IOException {
    if (req.messages() == null) {
      throw new IllegalArgumentException("messages is required");
    }
    if (req.messages().isEmpty()) {
      reply.json(200, done(reply, "", "load", null, 0));
      return;
    }
    List<ChatMessage> messages = new ArrayList<>();
    for (OllamaMessage m : req.messages()) {
      messages.add(m.toChatMessage());
    }
    LlmRequest settings = settings(req.model(), req.format(), req.options()).prompt("").build();
    long t0 = System.nanoTime();
    LlmResponse r;
    try {
      r = run(reply, onToken -> client.chat(messages, settings, onToken));
    } catch (UnsupportedOperationException e) {
      throw new IllegalArgumentException(e.getMessage(), e);
    }
    if (r != null) {
      finish(reply, r, t0);
    }
  }

  /** The call, streaming each piece when the caller asked for a stream; null when it failed and was answered. */
  private LlmResponse run(OllamaReply reply, java.util.function.Function<Consumer<String>, LlmResponse> call)
      throws IOException {
    Consumer<String> onToken = null;
    if (reply.streaming()) {
      // The stream starts with the first piece, so a failure before it still gets its own status.
      onToken = text -> {
        if (reply.callerGone()) {
          throw new CancellationException("the caller hung up");
        }
        if (text.isEmpty()) {
          return;
        }
        String now = Instant.now().toString();
        try {
          reply.line(reply.chat() ? OllamaChunk.chatPiece(model, now, text) : OllamaChunk.generatePiece(model, now, text));
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      };
    }
    try {
      return call.apply(onToken);
    } catch (RemoteServiceException e) {
      LOG.warn("{} failed for {}: {}", client.getClass().getSimpleName(), model, e.getMessage());
      int status = switch (e.kind()) {
        case INVALID_REQUEST -> 400;
        case RATE_LIMITED -> 429;
        case TIMEOUT -> 504;
        case NOT_FOUND -> 404;
        default -> 502;
      };
      e.retryAfter().ifPresent(d -> {
        if (!reply.started()) {
          reply.header("Retry-After", Long.toString(Math.max(1, (d.toMillis() + 999) / 1000)));
        }
      });
      reply.error(status, "the model service failed (" + e.kind().name().toLowerCase(java.util.Locale.ROOT) + ")",
          "upstream_" + e.kind().name().toLowerCase(java.util.Locale.ROOT));
      return null;
    }
  }

  private void finish(OllamaReply reply, LlmResponse r, long t0) throws IOException {
    OllamaChunk done = done(reply, reply.streaming() ? "" : r.text(), "stop", r, System.nanoTime() - t0);
    if (reply.streaming()) {
      reply.line(done);
    } else {
      reply.json(200, done);
    }
  }

  private OllamaChunk done(OllamaReply reply, String text, String reason, LlmResponse r, long nanos) {
    Integer promptTokens = r == null ? null : r.promptTokens().isPresent() ? r.promptTokens().getAsInt() : null;
    Integer evalTokens = r == null ? null : r.completionTokens().isPresent() ? r.completionTokens().getAsInt() : null;
    return new OllamaChunk(model, Instant.now().toString(), reply.chat() ? null : text,
        reply.chat() ? OllamaMessage.of("assistant", text) : null, null, true, reason, null, nanos, 0L, promptTokens,
        null, evalTokens, null, null, null);
  }

  /** A request builder with the model, format and options of an Ollama request. */
  private static LlmRequest.Builder settings(String model, JsonNode format, JsonNode options) {
    LlmRequest.Builder b = LlmRequest.builder();
    if (model != null && !model.isEmpty()) {
      b.model(model);
    }
    if (format != null && !format.isNull()) {
      if (format.isTextual() && format.asText().equals("json")) {
        b.jsonMode(true);
      } else if (format.isObject()) {
        b.jsonSchema(format);
      } else if (!(format.isTextual() && format.asText().isEmpty())) {
        throw new IllegalArgumentException("format must be \"json\" or a JSON schema");
      }
    }
    JsonNode o = options == null ? null : options;
    if (o != null && o.isObject()) {
      if (o.hasNonNull("temperature")) {
        b.temperature(o.get("temperature").asDouble());
      }
      if (o.hasNonNull("top_p")) {
        b.topP(o.get("top_p").asDouble());
      }
      if (o.hasNonNull("num_predict") && o.get("num_predict").asInt() > 0) {
        b.maxTokens(o.get("num_predict").asInt());
      }
      if (o.hasNonNull("seed")) {
        b.seed(o.get("seed").asLong());
      }
      JsonNode stop = o.path("stop");
      if (stop.isArray()) {
        stop.forEach(s -> b.addStop(s.asText()));
      } else if (stop.isTextual()) {
        b.addStop(stop.asText());
      }
    }
    return b;
  }
}
