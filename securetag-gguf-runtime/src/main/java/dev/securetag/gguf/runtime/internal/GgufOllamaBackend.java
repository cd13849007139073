package dev.securetag.gguf.runtime.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.IntNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.securetag.core.ChatMessage;
import dev.securetag.core.internal.Hashing;
import dev.securetag.core.internal.Json;
import dev.securetag.core.ollama.OllamaChatRequest;
import dev.securetag.core.ollama.OllamaChunk;
import dev.securetag.core.ollama.OllamaGenerateRequest;
import dev.securetag.core.ollama.OllamaMessage;
import dev.securetag.core.ollama.OllamaModelDetails;
import dev.securetag.core.ollama.OllamaModelInfo;
import dev.securetag.core.ollama.OllamaRunningModel;
import dev.securetag.core.ollama.OllamaShowResponse;
import dev.securetag.gguf.GgufValue;
import dev.securetag.gguf.GgufValueType;
import dev.securetag.gguf.runtime.GenerationOptions;
import dev.securetag.gguf.runtime.GenerationResult;
import dev.securetag.gguf.runtime.GgufModel;
import dev.securetag.gguf.runtime.PromptFormat;
import dev.securetag.gguf.runtime.TokenListener;
import dev.securetag.ollama.server.OllamaBackend;
import dev.securetag.ollama.server.OllamaReply;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CancellationException;

/**
 * The local runtime's {@link OllamaBackend}: one {@link GgufModel}, rendered with a {@link PromptFormat}. Beyond what
 * the generic {@code LlmClient} backend offers, it serves what only an in-process model can: {@code raw} prompts,
 * the token {@code context} of a previous reply (returned in every generate reply), the {@code top_k} and
 * {@code min_p} options, and Ollama's exact counts and durations (prompt and generation timed separately). Field
 * names, defaults and the {@code load} replies to empty prompts follow Ollama's {@code api/types.go}; durations are
 * nanoseconds. A caller that hangs up stops its generation at the next token, streaming or not.
 */
public final class GgufOllamaBackend implements OllamaBackend {
  private final GgufModel model;
  private final String name;
  private final PromptFormat format;
  private volatile String digest;

  public GgufOllamaBackend(GgufModel model, String name, PromptFormat format) {
    this.model = model;
    this.name = OllamaBackend.withTag(name);
    this.format = format;
  }

  @Override
  public String model() {
    return name;
  }

  @Override
  public OllamaModelInfo describe() {
    try {
      return new OllamaModelInfo(name, name, DateTimeFormatter.ISO_OFFSET_DATE_TIME.format(
          Files.getLastModifiedTime(model.ggufFile()).toInstant().atOffset(ZoneOffset.UTC)), Files.size(model.ggufFile()),
          digest(), details());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + model.ggufFile(), e);
    }
  }

  @Override
  public List<OllamaRunningModel> running() {
    return List.of(OllamaRunningModel.of(describe(), DateTimeFormatter.ISO_OFFSET_DATE_TIME.format(now().plusYears(1)),
        0));
  }

  @Override
  public OllamaShowResponse show() {
    ObjectNode info = Json.object();
    for (var e : model.metadata().entrySet()) {
      GgufValue v = e.getValue();
      if (v.type() == GgufValueType.ARRAY) {
        continue;
      }
      info.set(e.getKey(), Json.mapper().valueToTree(v.value()));
    }
    info.put("general.parameter_count", model.parameterCount());
    return new OllamaShowResponse("FROM " + model.ggufFile(), "", model.chatTemplate().orElse("{{ .Prompt }}"), details(),
        info, List.of("completion"));
  }

  @Override
  public void generate(OllamaGenerateRequest req, OllamaReply reply) throws IOException {
    String prompt = req.prompt() == null ? "" : req.prompt();
    boolean raw = Boolean.TRUE.equals(req.raw());
    boolean hasContext = req.context() != null && !req.context().isNull();
    if (raw && (req.system() != null || req.template() != null || hasContext)) {
      throw new IllegalArgumentException("raw mode does not support template, system, or context");
    }
    if (prompt.isEmpty() && !hasContext) {
      reply.json(200, chunk(reply, "", "load", null, null, 0));
      return;
    }
    GenerationOptions opts = options(req.options());
    List<Integer> ctx = new ArrayList<>();
    if (hasContext) {
      req.context().forEach(n -> ctx.add(n.asInt()));
    }
    int[] promptIds;
    if (raw) {
      promptIds = model.tokenize(prompt, true, false);
    } else if (ctx.isEmpty()) {
      List<ChatMessage> msgs = new ArrayList<>();
      if (req.system() != null) {
        msgs.add(ChatMessage.system(req.system()));
      }
      msgs.add(ChatMessage.user(prompt));
      promptIds = model.chatTokens(msgs, format);
    } else {
      promptIds = model.tokenize(prompt, false, false);
    }
    int[] tokens = new int[ctx.size() + promptIds.length];
    for (int i = 0; i < ctx.size(); i++) {
      tokens[i] = ctx.get(i);
    }
    System.arraycopy(promptIds, 0, tokens, ctx.size(), promptIds.length);
    run(reply, tokens, opts);
  }

  @Override
  public void chat(OllamaChatRequest req, OllamaReply reply) throws IOException {
    if (req.messages() == null) {
      throw new IllegalArgumentException("messages must be an array");
    }
    if (req.messages().isEmpty()) {
      reply.json(200, chunk(reply, "", "load", null, null, 0));
      return;
    }
    List<ChatMessage> list = new ArrayList<>();
    for (OllamaMessage m : req.messages()) {
      list.add(new ChatMessage(m.role() == null ? "" : m.role(), m.content() == null ? "" : m.content()));
    }
    run(reply, model.chatTokens(list, format), options(req.options()));
  }

  private void run(OllamaReply reply, int[] tokens, GenerationOptions opts) throws IOException {
    long t0 = System.nanoTime();
    TokenListener listener = (id, text) -> {
      if (reply.callerGone()) {
        throw new CancellationException("the caller hung up");
      }
      if (!reply.streaming() || text.isEmpty()) {
        return;
      }
      String now = DateTimeFormatter.ISO_OFFSET_DATE_TIME.format(now());
      try {
        reply.line(reply.chat() ? OllamaChunk.chatPiece(name, now, text) : OllamaChunk.generatePiece(name, now, text));
      } catch (IOException e) {
        throw new UncheckedIOException("client disconnected", e);
      }
    };
    if (reply.streaming()) {
      reply.startStream();
    }
    GenerationResult r = model.generate(tokens, opts, listener);
    OllamaChunk done = chunk(reply, reply.streaming() ? "" : r.text(), r.doneReason().ollamaName(), r, tokens,
        System.nanoTime() - t0);
    if (reply.streaming()) {
      reply.line(done);
    } else {
      reply.json(200, done);
    }
  }

  /** A final reply: a {@code load} one when {@code r} is null, else with counts, durations and (generate) context. */
  private OllamaChunk chunk(OllamaReply reply, String text, String reason, GenerationResult r, int[] prompt,
      long totalNanos) {
    JsonNode context = null;
    if (r != null && !reply.chat()) {
      var arr = JsonNodeFactory.instance.arrayNode();
      for (int t : prompt) {
        arr.add(IntNode.valueOf(t));
      }
      r.tokens().forEach(arr::add);
      context = arr;
    }
    String created = DateTimeFormatter.ISO_OFFSET_DATE_TIME.format(now());
    return new OllamaChunk(name, created, reply.chat() ? null : text,
        reply.chat() ? OllamaMessage.of("assistant", text) : null, null, true, reason, context,
        r == null ? null : totalNanos, r == null ? null : 0L, r == null ? null : r.promptTokens(),
        r == null ? null : r.promptEvalNanos(), r == null ? null : r.tokens().size(), r == null ? null : r.evalNanos(),
        null, null);
  }

  /** Ollama's sampling {@code options}, over the runtime's defaults (no token limit unless {@code num_predict}). */
  static GenerationOptions options(JsonNode o) {
    GenerationOptions.Builder b = GenerationOptions.builder().maxTokens(-1);
    if (o == null || !o.isObject()) {
      return b.build();
    }
    if (o.hasNonNull("temperature")) {
      b.temperature(o.get("temperature").asDouble());
    }
    if (o.hasNonNull("top_p")) {
      b.topP(o.get("top_p").asDouble());
    }
    if (o.hasNonNull("top_k")) {
      b.topK(o.get("top_k").asInt());
    }
    if (o.hasNonNull("min_p")) {
      b.minP(o.get("min_p").asDouble());
    }
    if (o.hasNonNull("seed")) {
      b.seed(o.get("seed").asLong());
    }
    if (o.hasNonNull("num_predict")) {
      int n = o.get("num_predict").asInt();
      b.maxTokens(n <= 0 ? -1 : n);
    }
    JsonNode stop = o.path("stop");
    if (stop.isArray()) {
      stop.forEach(s -> b.addStop(s.asText()));
    } else if (stop.isTextual()) {
      b.addStop(stop.asText());
    }
    return b.build();
  }

  private static OffsetDateTime now() {
    return OffsetDateTime.now(ZoneOffset.UTC);
  }

  private String digest() {
    String d = digest;
    if (d == null) {
      d = Hashing.sha256Hex(model.ggufFile());
      digest = d;
    }
    return d;
  }

  private OllamaModelDetails details() {
    return new OllamaModelDetails("", "gguf", model.architecture(), List.of(model.architecture()),
        parameterSize(model.parameterCount()), quantizationLevel());
  }

  private String quantizationLevel() {
    long ft = model.metadata().containsKey("general.file_type")
        ? model.metadata().get("general.file_type").asLong() : -1;
    return switch ((int) ft) {
      case 0 -> "F32";
      case 1 -> "F16";
      case 2 -> "Q4_0";
      case 3 -> "Q4_1";
      case 7 -> "Q8_0";
      case 8 -> "Q5_0";
      case 9 -> "Q5_1";
      case 14 -> "Q4_K_S";
      case 15 -> "Q4_K_M";
      case 16 -> "Q5_K_S";
      case 17 -> "Q5_K_M";
      case 18 -> "Q6_K";
      case 32 -> "BF16";
      default -> model.weightType().name();
    };
  }

  static String parameterSize(long n) {
    if (n >= 1_000_000_000L) {
      return String.format(Locale.ROOT, "%.1fB", n / 1e9);
    }
    if (n >= 1_000_000L) {
      return String.format(Locale.ROOT, "%.1fM", n / 1e6);
    }
    return String.format(Locale.ROOT, "%.1fK", n / 1e3);
  }
}
