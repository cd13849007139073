package dev.securetag.ollama.server;

import dev.securetag.core.internal.Json;
import dev.securetag.core.ollama.OllamaError;
import dev.securetag.ollama.server.internal.BlockingHttpServer.Exchange;
import java.io.IOException;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * How an {@link OllamaBackend} answers one {@code /api/generate} or {@code /api/chat} request: one JSON object
 * ({@link #json}), or an NDJSON stream ({@link #line}, one object per line, flushed at once) that ends with the
 * {@code done} object, or an error in Ollama's shape (status and body before anything was sent, an error line after).
 * It also tells the backend when the caller hangs up, even while nothing is being written ({@link #onCallerGone}), so a
 * backend can stop work nobody will read. Used by the request's thread only; the disconnect callbacks run elsewhere.
 */
public final class OllamaReply {
  private static final byte[] NEWLINE = {'\n'};

  private final Exchange exchange;
  private final boolean chat;
  private final boolean streaming;
  private final List<Runnable> onGone = new ArrayList<>();
  private volatile boolean gone;
  private OutputStream stream;

  OllamaReply(Exchange exchange, boolean chat, boolean streaming) {
    this.exchange = exchange;
    this.chat = chat;
    this.streaming = streaming;
  }

  /** True for {@code /api/chat}, false for {@code /api/generate}. */
  public boolean chat() {
    return chat;
  }

  /** Whether the caller asked for a stream ({@code "stream"} absent or true, as in Ollama). */
  public boolean streaming() {
    return streaming;
  }

  /** Whether the caller hung up. */
  public boolean callerGone() {
    return gone || exchange.callerGone();
  }

  /**
   * Runs {@code action} (on another thread) when the caller hangs up, or at once when it already has. Works while
   * the backend has nothing to write: the connection is watched from the moment the request was read.
   */
  public void onCallerGone(Runnable action) {
    boolean now;
    synchronized (onGone) {
      now = gone;
      if (!now) {
        onGone.add(action);
      }
    }
    if (now) {
      action.run();
    }
  }

  /** Called by the server's connection watcher. */
  void markGone() {
    List<Runnable> actions;
    synchronized (onGone) {
      if (gone) {
        return;
      }
      gone = true;
      actions = List.copyOf(onGone);
    }
    for (Runnable r : actions) {
      r.run();
    }
  }

  /** Whether the status line was sent (after which only stream lines can follow). */
  public boolean started() {
    return exchange.responseStarted();
  }

  /** Sets a response header; only before the reply started. */
  public void header(String name, String value) {
    exchange.responseHeader(name, value);
  }

  /** Sends status 200 with {@code application/x-ndjson}, so the caller sees the reply begin; idempotent. */
  public void startStream() throws IOException {
    if (stream == null) {
      exchange.responseHeader("Content-Type", "application/x-ndjson");
      exchange.sendResponseHeaders(200, 0);
      stream = exchange.responseBody();
    }
  }

  /**
   * Writes {@code value} (an Ollama wire type or a JSON tree) as one NDJSON line and flushes it, starting the stream
   * if needed.
   *
   * @throws IOException when the caller is gone
   */
  public void line(Object value) throws IOException {
    startStream();
    stream.write(Json.mapper().writeValueAsBytes(value));
    stream.write(NEWLINE);
    stream.flush();
  }

  /** Writes each of {@code values} as an NDJSON line and flushes once (a batch that arrived together). */
  public void lines(Collection<?> values) throws IOException {
    if (values.isEmpty()) {
      return;
    }
    startStream();
    for (Object v : values) {
      stream.write(Json.mapper().writeValueAsBytes(v));
      stream.write(NEWLINE);
    }
    stream.flush();
  }

  /** Answers with one JSON object and {@code status}; only before the reply started. */
  public void json(int status, Object value) throws IOException {
    OllamaServer.send(exchange, status, Json.mapper().writeValueAsBytes(value));
  }

  /**
   * Reports a failure: Ollama's {@code {"error": ..}} body (plus securetag's {@code error_kind}) with {@code status}
   * before the reply started, an error line of the stream after (Ollama keeps status 200 then).
   */
  public void error(int status, String message, String kind) throws IOException {
    OllamaError e = new OllamaError(message, kind);
    if (started()) {
      if (stream != null) {
        line(e);
      }
      return;
    }
    json(status, e);
  }
}
