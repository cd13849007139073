package dev.securetag.gguf.internal.runtime;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import dev.securetag.core.InvalidInputException;
import dev.securetag.core.Json;
import dev.securetag.gguf.ChatMessage;
import dev.securetag.gguf.GenerationOptions;
import dev.securetag.gguf.GenerationResult;
import dev.securetag.gguf.GgufModel;
import dev.securetag.gguf.GgufValue;
import dev.securetag.gguf.PromptFormat;
import dev.securetag.gguf.TokenListener;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The subset of Ollama's REST API a client of one local model needs: {@code /api/generate} and {@code /api/chat}
 * (NDJSON streaming by default, one JSON object with {@code "stream": false}), {@code /api/tags}, {@code /api/show},
 * {@code /api/ps}, {@code /api/version} and {@code GET /}. Field names, defaults and error bodies follow Ollama's
 * {@code api/types.go}; durations are nanoseconds. Generations run one at a time, as with
 * {@code OLLAMA_NUM_PARALLEL=1}.
 */
public final class OllamaApi implements HttpHandler {
  /** Version reported by {@code /api/version}: the Ollama API level this server speaks. */
  public static final String VERSION = "0.6.2";
  private static final Logger LOG = LoggerFactory.getLogger(OllamaApi.class);
  private static final ObjectMapper M = Json.mapper();

  private final GgufModel model;
  private final String name;
  private final PromptFormat format;
  private final ReentrantLock generation = new ReentrantLock(true);
  private volatile String digest;

  public OllamaApi(GgufModel model, String name, PromptFormat format) {
    this.model = model;
    this.name = name;
    this.format = format;
  }

  /** Ollama name normalisation: a missing tag means {@code latest}. */
  public static String withTag(String n) {
    return n.contains(":") ? n : n + ":latest";
  }

  @Override
  public void handle(HttpExchange ex) throws IOException {
    try (ex) {
      String path = ex.getRequestURI().getPath();
      String method = ex.getRequestMethod();
      switch (path) {
        case "/" -> {
          if (!method.equals("GET") && !method.equals("HEAD")) {
            error(ex, 405, "method not allowed");
            return;
          }
          byte[] body = "Ollama is running".getBytes(StandardCharsets.UTF_8);
          ex.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
          if (method.equals("HEAD")) {
            ex.sendResponseHeaders(200, -1);
          } else {
            ex.sendResponseHeaders(200, body.length);
            ex.getResponseBody().write(body);
          }
        }
        case "/api/version" -> {
          if (requireMethod(ex, "GET")) {
            json(ex, 200, M.createObjectNode().put("version", VERSION));
          }
        }
        case "/api/tags" -> {
          if (requireMethod(ex, "GET")) {
            ObjectNode out = M.createObjectNode();
            out.putArray("models").add(modelEntry());
            json(ex, 200, out);
          }
        }
        case "/api/ps" -> {
          if (requireMethod(ex, "GET")) {
            ObjectNode e = modelEntry();
            e.remove("modified_at");
            e.put("expires_at", DateTimeFormatter.ISO_OFFSET_DATE_TIME.format(now().plusYears(1)));
            e.put("size_vram", 0);
            ObjectNode out = M.createObjectNode();
            out.putArray("models").add(e);
            json(ex, 200, out);
          }
        }
        case "/api/show" -> {
          if (requireMethod(ex, "POST")) {
            JsonNode req = body(ex);
            if (req != null && checkModel(ex, req)) {
              json(ex, 200, show());
            }
          }
        }
        case "/api/generate" -> {
          if (requireMethod(ex, "POST")) {
            JsonNode req = body(ex);
            if (req != null && checkModel(ex, req)) {
              generate(ex, req);
            }
          }
        }
        case "/api/chat" -> {
          if (requireMethod(ex, "POST")) {
            JsonNode req = body(ex);
            if (req != null && checkModel(ex, req)) {
              chat(ex, req);
            }
          }
        }
        default -> error(ex, 404, "404 page not found");
      }
    } catch (IOException | UncheckedIOException e) {
      // The client went away mid-response; nothing left to tell it.
      LOG.debug("connection closed while answering {}: {}", ex.getRequestURI(), e.toString());
    }
  }

  private boolean requireMethod(HttpExchange ex, String method) throws IOException {
    if (ex.getRequestMethod().equals(method)) {
      return true;
    }
    ex.getResponseHeaders().set("Allow", method);
    error(ex, 405, "method " + ex.getRequestMethod() + " not allowed, use " + method);
    return false;
  }

  private JsonNode body(HttpExchange ex) throws IOException {
    byte[] bytes;
    try (InputStream in = ex.getRequestBody()) {
      bytes = in.readAllBytes();
    }
    try {
      JsonNode n = M.readTree(bytes);
      if (n == null || !n.isObject()) {
        error(ex, 400, "request body must be a JSON object");
        return null;
      }
      return n;
    } catch (JsonProcessingException e) {
      error(ex, 400, "invalid JSON: " + e.getOriginalMessage());
      return null;
    }
  }

  private boolean checkModel(HttpExchange ex, JsonNode req) throws IOException {
    String m = req.path("model").asText(req.path("name").asText(""));
    if (m.isEmpty()) {
      error(ex, 400, "model is required");
      return false;
    }
    if (!withTag(m).equals(withTag(name))) {
      error(ex, 404, "model '" + m + "' not found");
      return false;
    }
    return true;
  }

  private GenerationOptions options(JsonNode req) {
    JsonNode o = req.path("options");
    GenerationOptions.Builder b = GenerationOptions.builder().maxTokens(-1);
    if (o.has("temperature")) {
      b.temperature(o.get("temperature").asDouble());
    }
    if (o.has("top_p")) {
      b.topP(o.get("top_p").asDouble());
    }
    if (o.has("top_k")) {
      b.topK(o.get("top_k").asInt());
    }
    if (o.has("min_p")) {
      b.minP(o.get("min_p").asDouble());
    }
    if (o.has("seed")) {
      b.seed(o.get("seed").asLong());
    }
    if (o.has("num_predict")) {
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

  private void generate(HttpExchange ex, JsonNode req) throws IOException {
    String prompt = req.path("prompt").asText("");
    boolean raw = req.path("raw").asBoolean(false);
    if (raw && (req.hasNonNull("system") || req.hasNonNull("template") || req.hasNonNull("context"))) {
      error(ex, 400, "raw mode does not support template, system, or context");
      return;
    }
    if (prompt.isEmpty() && !req.hasNonNull("context")) {
      ObjectNode done = chunk();
      done.put("response", "").put("done", true).put("done_reason", "load");
      json(ex, 200, done);
      return;
    }
    int[] tokens;
    try {
      GenerationOptions opts = options(req);
      List<Integer> ctx = new ArrayList<>();
      req.path("context").forEach(n -> ctx.add(n.asInt()));
      int[] promptIds;
      if (raw) {
        promptIds = model.tokenize(prompt, true, false);
      } else {
        List<ChatMessage> msgs = new ArrayList<>();
        if (req.hasNonNull("system")) {
          msgs.add(ChatMessage.system(req.get("system").asText()));
        }
        msgs.add(ChatMessage.user(prompt));
        promptIds = ctx.isEmpty() ? model.chatTokens(msgs, format)
            : model.tokenize(prompt, false, false);
      }
      tokens = new int[ctx.size() + promptIds.length];
      for (int i = 0; i < ctx.size(); i++) {
        tokens[i] = ctx.get(i);
      }
      System.arraycopy(promptIds, 0, tokens, ctx.size(), promptIds.length);
      run(ex, req, tokens, opts, false);
    } catch (IllegalArgumentException | InvalidInputException e) {
      error(ex, 400, e.getMessage());
    }
  }

  private void chat(HttpExchange ex, JsonNode req) throws IOException {
    JsonNode msgs = req.path("messages");
    if (!msgs.isArray() || msgs.isEmpty()) {
      if (msgs.isArray()) {
        ObjectNode done = chunk();
        done.putObject("message").put("role", "assistant").put("content", "");
        done.put("done", true).put("done_reason", "load");
        json(ex, 200, done);
      } else {
        error(ex, 400, "messages must be an array");
      }
      return;
    }
    try {
      List<ChatMessage> list = new ArrayList<>();
      for (JsonNode m : msgs) {
        list.add(new ChatMessage(m.path("role").asText(""), m.path("content").asText("")));
      }
      run(ex, req, model.chatTokens(list, format), options(req), true);
    } catch (IllegalArgumentException | InvalidInputException e) {
      error(ex, 400, e.getMessage());
    }
  }

  private void run(HttpExchange ex, JsonNode req, int[] tokens, GenerationOptions opts, boolean chat)
      throws IOException {
    boolean stream = req.path("stream").asBoolean(true);
    long t0 = System.nanoTime();
    generation.lock();
    try {
      if (!stream) {
        GenerationResult r = model.generate(tokens, opts, TokenListener.NONE);
        json(ex, 200, finalChunk(r, tokens, chat, r.text(), t0));
        return;
      }
      ex.getResponseHeaders().set("Content-Type", "application/x-ndjson");
      ex.sendResponseHeaders(200, 0);
      OutputStream out = ex.getResponseBody();
      try {
        GenerationResult r = model.generate(tokens, opts, (id, text) -> {
          if (text.isEmpty()) {
            return;
          }
          ObjectNode c = chunk();
          if (chat) {
            c.putObject("message").put("role", "assistant").put("content", text);
          } else {
            c.put("response", text);
          }
          c.put("done", false);
          line(out, c);
        });
        line(out, finalChunk(r, tokens, chat, "", t0));
      } catch (RuntimeException e) {
        if (e instanceof UncheckedIOException) {
          throw e;
        }
        // Mid-stream failures keep status 200 and report an error line, as Ollama does.
        LOG.warn("generation failed: {}", e.toString());
        line(out, M.createObjectNode().put("error", e.getMessage() == null ? e.toString() : e.getMessage()));
      }
    } finally {
      generation.unlock();
    }
  }

  private ObjectNode finalChunk(GenerationResult r, int[] prompt, boolean chat, String text, long t0) {
    ObjectNode c = chunk();
    if (chat) {
      c.putObject("message").put("role", "assistant").put("content", text);
    } else {
      c.put("response", text);
    }
    c.put("done", true).put("done_reason", r.doneReason().ollamaName());
    if (!chat) {
      ArrayNode ctx = c.putArray("context");
      for (int t : prompt) {
        ctx.add(t);
      }
      r.tokens().forEach(ctx::add);
    }
    c.put("total_duration", System.nanoTime() - t0)
        .put("load_duration", 0)
        .put("prompt_eval_count", r.promptTokens())
        .put("prompt_eval_duration", r.promptEvalNanos())
        .put("eval_count", r.tokens().size())
        .put("eval_duration", r.evalNanos());
    return c;
  }

  private ObjectNode chunk() {
    ObjectNode c = M.createObjectNode();
    c.put("model", withTag(name));
    c.put("created_at", DateTimeFormatter.ISO_OFFSET_DATE_TIME.format(now()));
    return c;
  }

  private static OffsetDateTime now() {
    return OffsetDateTime.now(ZoneOffset.UTC);
  }

  private ObjectNode modelEntry() throws IOException {
    ObjectNode e = M.createObjectNode();
    e.put("name", withTag(name));
    e.put("model", withTag(name));
    e.put("modified_at", DateTimeFormatter.ISO_OFFSET_DATE_TIME.format(
        Files.getLastModifiedTime(model.file()).toInstant().atOffset(ZoneOffset.UTC)));
    e.put("size", Files.size(model.file()));
    e.put("digest", digest());
    e.set("details", details());
    return e;
  }

  private String digest() {
    String d = digest;
    if (d == null) {
      d = dev.securetag.core.Hashing.sha256Hex(model.file());
      digest = d;
    }
    return d;
  }

  private ObjectNode details() {
    ObjectNode d = M.createObjectNode();
    d.put("parent_model", "");
    d.put("format", "gguf");
    d.put("family", model.architecture());
    d.putArray("families").add(model.architecture());
    d.put("parameter_size", parameterSize(model.parameterCount()));
    d.put("quantization_level", quantizationLevel());
    return d;
  }

  private ObjectNode show() {
    ObjectNode s = M.createObjectNode();
    s.put("modelfile", "FROM " + model.file());
    s.put("parameters", "");
    s.put("template", model.chatTemplate().orElse("{{ .Prompt }}"));
    s.set("details", details());
    ObjectNode info = s.putObject("model_info");
    for (var e : model.metadata().entrySet()) {
      GgufValue v = e.getValue();
      if (v.type() == dev.securetag.gguf.GgufValueType.ARRAY) {
        continue;
      }
      info.set(e.getKey(), M.valueToTree(v.value()));
    }
    info.put("general.parameter_count", model.parameterCount());
    s.putArray("capabilities").add("completion");
    return s;
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

  private static void line(OutputStream out, JsonNode n) {
    try {
      out.write(M.writeValueAsBytes(n));
      out.write('\n');
      out.flush();
    } catch (IOException e) {
      throw new UncheckedIOException("client disconnected", e);
    }
  }

  private static void json(HttpExchange ex, int status, JsonNode body) throws IOException {
    byte[] bytes = M.writeValueAsBytes(body);
    ex.getResponseHeaders().set("Content-Type", "application/json; charset=utf-8");
    ex.sendResponseHeaders(status, bytes.length);
    ex.getResponseBody().write(bytes);
  }

  private static void error(HttpExchange ex, int status, String message) throws IOException {
    json(ex, status, M.createObjectNode().put("error", message));
  }
}
