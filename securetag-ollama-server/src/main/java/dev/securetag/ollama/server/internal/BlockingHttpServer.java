package dev.securetag.ollama.server.internal;

import dev.securetag.core.internal.DaemonThreads;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A small blocking HTTP/1.1 server, one thread per connection, for the Ollama proxy. It exists because the JDK's
 * {@code com.sun.net.httpserver} cannot tell that a caller hung up while the handler has nothing to write: the
 * socket is not watched during an exchange. Here a handler that has consumed its request body can ask for the
 * connection to be watched ({@link Exchange#watchForDisconnect(Runnable)}): a background read that returns EOF or
 * fails means the caller is gone (the same technique as Go's {@code net/http} background read, with the same caveat:
 * a client that half-closes its sending side after the request looks like one that left).
 *
 * <p>Supports keep-alive, {@code Content-Length} and chunked request bodies, {@code Expect: 100-continue}, fixed,
 * chunked (streaming) and empty responses, HEAD, HTTP/1.0 callers, header and idle limits, and a cap on open
 * connections (beyond it new connections get 503 and are closed).
 */
public final class BlockingHttpServer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(BlockingHttpServer.class);
  private static final int MAX_LINE = 16 * 1024;
  private static final int MAX_HEADER_BYTES = 64 * 1024;
  private static final int MAX_HEADERS = 128;
  private static final int DRAIN_LIMIT = 64 * 1024;
  private static final int WATCH_SLICE_MS = 100;
  /** How long an idle keep-alive connection is kept (the JDK server's default too). */
  static final int IDLE_TIMEOUT_MS = 30_000;
  /** Longest pause while a request's head or body is arriving. */
  static final int READ_TIMEOUT_MS = 30_000;

  /** Handles one request; must send a response (or the server answers 500). */
  @FunctionalInterface
  public interface Handler {
    void handle(Exchange exchange) throws IOException;
  }

  private final ServerSocket listener;
  private final Handler handler;
  private final ExecutorService connections;
  private final ExecutorService watchers;
  private final Semaphore slots;
  private final Set<Socket> open = ConcurrentHashMap.newKeySet();
  private final Thread acceptor;
  private volatile boolean stopped;

  private BlockingHttpServer(ServerSocket listener, int maxConnections, String name, Handler handler) {
    this.listener = listener;
    this.handler = handler;
    this.slots = new Semaphore(maxConnections);
    this.connections = DaemonThreads.cachedPool(name);
    this.watchers = DaemonThreads.cachedPool(name + "-watch");
    this.acceptor = DaemonThreads.thread(name + "-accept", this::acceptLoop);
  }

  /**
   * Binds and starts serving.
   *
   * @param maxConnections open connections served at once; further ones get 503 and are closed
   */
  public static BlockingHttpServer start(InetSocketAddress address, int backlog, int maxConnections, String name,
      Handler handler) throws IOException {
    if (maxConnections < 1) {
      throw new IllegalArgumentException("maxConnections must be >= 1");
    }
    ServerSocket ss = new ServerSocket();
    try {
      ss.setReuseAddress(true);
      ss.bind(address, backlog);
    } catch (IOException e) {
      ss.close();
      throw e;
    }
    BlockingHttpServer server = new BlockingHttpServer(ss, maxConnections, name, handler);
    server.acceptor.start();
    return server;
  }

  public InetSocketAddress address() {
    return (InetSocketAddress) listener.getLocalSocketAddress();
  }

  /** Connections open right now (idle keep-alive ones included). */
  public int openConnections() {
    return open.size();
  }

  private void acceptLoop() {
    while (!stopped) {
      Socket s;
      try {
        s = listener.accept();
      } catch (IOException e) {
        if (!stopped) {
          LOG.debug("accept failed: {}", e.getMessage());
          pauseAfterAcceptFailure();
        }
        continue;
      }
      if (!slots.tryAcquire()) {
        refuse(s);
        continue;
      }
      open.add(s);
      try {
        connections.execute(() -> serve(s));
      } catch (RejectedExecutionException e) {
        open.remove(s);
        slots.release();
        closeQuietly(s);
      }
    }
  }

  /** A persistent accept failure (e.g. out of file descriptors) must not turn the acceptor into a busy loop. */
  private static void pauseAfterAcceptFailure() {
    try {
      Thread.sleep(50);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Over the connection cap: a short 503 instead of leaving the caller hanging in the backlog. */
  private static void refuse(Socket s) {
    try (s) {
      byte[] body = "{\"error\":\"server busy: too many open connections, please try again\"}"
          .getBytes(StandardCharsets.UTF_8);
      String head = "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nContent-Type: application/json; charset=utf-8\r\n"
          + "Content-Length: " + body.length + "\r\nConnection: close\r\n\r\n";
      s.setSoTimeout(1000);
      OutputStream out = s.getOutputStream();
      out.write(head.getBytes(StandardCharsets.ISO_8859_1));
      out.write(body);
      out.flush();
      s.shutdownOutput();
    } catch (IOException e) {
      LOG.debug("could not refuse connection: {}", e.getMessage());
    }
  }

  private void serve(Socket s) {
    Exchange ex = null;
    try {
      s.setTcpNoDelay(true);
      Connection c = new Connection(s);
      while (!stopped) {
        s.setSoTimeout(IDLE_TIMEOUT_MS);
        if (!c.in.awaitData()) {
          return; // closed or idle too long between requests
        }
        s.setSoTimeout(READ_TIMEOUT_MS);
        try {
          ex = c.readRequest();
        } catch (BadRequest e) {
          c.sendError(e.status, e.getMessage());
          lingeringClose(s);
          return;
        }
        try {
          handler.handle(ex);
        } catch (IOException e) {
          LOG.debug("connection failed while handling {} {}: {}", ex.method, ex.path, e.getMessage());
          ex.broken = true;
        } catch (RuntimeException e) {
          LOG.warn("handler failed on {} {}", ex.method, ex.path, e);
          ex.failedWith500();
        }
        boolean reusable = ex.finish();
        ex = null;
        if (!reusable) {
          return;
        }
      }
    } catch (SocketTimeoutException e) {
      LOG.debug("caller too slow: {}", e.getMessage());
    } catch (IOException e) {
      LOG.debug("connection closed: {}", e.getMessage());
    } finally {
      if (ex != null) {
        ex.stopWatching();
      }
      closeQuietly(s);
      open.remove(s);
      slots.release();
    }
  }

  /** Stops accepting, closes every connection (in-flight exchanges fail on their next I/O) and the threads. */
  @Override
  public void close() {
    if (stopped) {
      return;
    }
    stopped = true;
    try {
      listener.close();
    } catch (IOException e) {
      LOG.debug("closing listener: {}", e.getMessage());
    }
    for (Socket s : open) {
      closeQuietly(s);
    }
    connections.shutdownNow();
    watchers.shutdownNow();
    try {
      acceptor.join(2000);
      connections.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * Closes after an early error reply without resetting the connection: closing with unread request bytes makes TCP
   * send a reset, which can destroy the reply before the caller reads it.
   */
  private static void lingeringClose(Socket s) {
    try {
      s.shutdownOutput();
      s.setSoTimeout(500);
      InputStream in = s.getInputStream();
      byte[] buf = new byte[8192];
      long left = 256 * 1024;
      int n;
      while (left > 0 && (n = in.read(buf)) >= 0) {
        left -= n;
      }
    } catch (IOException e) {
      // timed out or reset: close anyway
    }
  }

  private static void closeQuietly(Socket s) {
    try {
      s.close();
    } catch (IOException e) {
      // already gone
    }
  }

  private static final class BadRequest extends IOException {
    private static final long serialVersionUID = 1L;
    final int status;

    BadRequest(int status, String message) {
      super(message);
      this.status = status;
    }
  }

  // ------------------------------------------------------------------ connection input

  /** The socket's input with our own buffer, so a watcher's read-ahead of a pipelined request is kept, not lost. */
  private static final class ConnInput {
    private final InputStream raw;
    private final byte[] buf = new byte[8192];
    private int pos;
    private int lim;

    ConnInput(InputStream raw) {
      this.raw = raw;
    }

    boolean buffered() {
      return pos < lim;
    }

    /** Reads more bytes into an empty buffer; -1 at EOF. */
    int fill() throws IOException {
      int n = raw.read(buf, 0, buf.length);
      if (n > 0) {
        pos = 0;
        lim = n;
      }
      return n;
    }

    /** Blocks until a byte is available (true) or the peer closed (false); an idle timeout also ends it (false). */
    boolean awaitData() throws IOException {
      if (buffered()) {
        return true;
      }
      try {
        return fill() > 0;
      } catch (SocketTimeoutException e) {
        return false;
      }
    }

    int read() throws IOException {
      if (!buffered() && fill() <= 0) {
        return -1;
      }
      return buf[pos++] & 0xff;
    }

    int read(byte[] b, int off, int len) throws IOException {
      if (len == 0) {
        return 0;
      }
      if (!buffered()) {
        if (len >= buf.length) {
          return raw.read(b, off, len);
        }
        if (fill() <= 0) {
          return -1;
        }
      }
      int n = Math.min(len, lim - pos);
      System.arraycopy(buf, pos, b, off, n);
      pos += n;
      return n;
    }

    /** One CRLF- (or LF-) terminated line as ISO-8859-1; null at EOF before any byte. */
    String readLine(int max) throws IOException {
      StringBuilder sb = new StringBuilder(64);
      while (true) {
        int b = read();
        if (b < 0) {
          if (sb.length() == 0) {
            return null;
          }
          throw new BadRequest(400, "connection closed inside a header line");
        }
        if (b == '\n') {
          int len = sb.length();
          if (len > 0 && sb.charAt(len - 1) == '\r') {
            sb.setLength(len - 1);
          }
          return sb.toString();
        }
        if (sb.length() >= max) {
          throw new BadRequest(431, "header line longer than " + max + " bytes");
        }
        sb.append((char) b);
      }
    }
  }

  private final class Connection {
    final Socket socket;
    final ConnInput in;
    final OutputStream out;

    Connection(Socket socket) throws IOException {
      this.socket = socket;
      this.in = new ConnInput(socket.getInputStream());
      this.out = new BufferedOutputStream(socket.getOutputStream(), 8192);
    }

    Exchange readRequest() throws IOException {
      String line = in.readLine(MAX_LINE);
      while (line != null && line.isEmpty()) {
        line = in.readLine(MAX_LINE); // RFC 9112 2.2: ignore empty lines before a request line
      }
      if (line == null) {
        throw new BadRequest(400, "connection closed before the request line");
      }
      String[] parts = line.split(" ");
      if (parts.length != 3) {
        throw new BadRequest(400, "malformed request line");
      }
      String method = parts[0];
      String target = parts[1];
      String version = parts[2];
      if (!version.equals("HTTP/1.1") && !version.equals("HTTP/1.0")) {
        throw new BadRequest(505, "unsupported HTTP version");
      }
      if (method.isEmpty() || !method.chars().allMatch(ch -> ch > 32 && ch < 127)) {
        throw new BadRequest(400, "malformed method");
      }
      String path;
      try {
        URI uri = new URI(target);
        path = uri.getPath() == null || uri.getPath().isEmpty() ? "/" : uri.getPath();
      } catch (URISyntaxException e) {
        throw new BadRequest(400, "malformed request target");
      }
      Map<String, List<String>> headers = new LinkedHashMap<>();
      int total = line.length();
      while (true) {
        String h = in.readLine(MAX_LINE);
        if (h == null) {
          throw new BadRequest(400, "connection closed inside the headers");
        }
        if (h.isEmpty()) {
          break;
        }
        total += h.length();
        int colon = h.indexOf(':');
        if (colon <= 0 || total > MAX_HEADER_BYTES || headers.size() >= MAX_HEADERS) {
          throw new BadRequest(colon <= 0 ? 400 : 431, colon <= 0 ? "malformed header" : "request headers too large");
        }
        String name = h.substring(0, colon).trim().toLowerCase(Locale.ROOT);
        headers.computeIfAbsent(name, k -> new ArrayList<>()).add(h.substring(colon + 1).trim());
      }
      boolean http11 = version.equals("HTTP/1.1");
      String connection = String.join(",", headers.getOrDefault("connection", List.of())).toLowerCase(Locale.ROOT);
      boolean keepAlive = http11 ? !connection.contains("close") : connection.contains("keep-alive");
      List<String> te = headers.get("transfer-encoding");
      List<String> cl = headers.get("content-length");
      RequestBody body;
      if (te != null) {
        if (!String.join(",", te).trim().equalsIgnoreCase("chunked")) {
          throw new BadRequest(501, "unsupported transfer-encoding");
        }
        if (cl != null) {
          throw new BadRequest(400, "both transfer-encoding and content-length");
        }
        body = new ChunkedBody(in);
      } else if (cl != null) {
        long len;
        try {
          len = Long.parseLong(cl.get(0).trim());
          for (String other : cl) {
            if (Long.parseLong(other.trim()) != len) {
              throw new BadRequest(400, "conflicting content-length");
            }
          }
        } catch (NumberFormatException e) {
          throw new BadRequest(400, "invalid content-length");
        }
        if (len < 0) {
          throw new BadRequest(400, "invalid content-length");
        }
        body = new FixedBody(in, len);
      } else {
        body = new FixedBody(in, 0);
      }
      boolean expectContinue = http11 && headers.getOrDefault("expect", List.of()).stream()
          .anyMatch(v -> v.equalsIgnoreCase("100-continue"));
      return new Exchange(this, method, target, path, http11, keepAlive, headers, body, expectContinue);
    }

    /** A minimal error reply on a connection that is closed right after. */
    void sendError(int status, String message) {
      try {
        byte[] body = ("{\"error\":\"" + message.replace("\"", "'") + "\"}").getBytes(StandardCharsets.UTF_8);
        String head = "HTTP/1.1 " + status + " " + reason(status) + "\r\nContent-Type: application/json; charset=utf-8\r\n"
            + "Content-Length: " + body.length + "\r\nConnection: close\r\n\r\n";
        out.write(head.getBytes(StandardCharsets.ISO_8859_1));
        out.write(body);
        out.flush();
      } catch (IOException e) {
        LOG.debug("could not send {}: {}", status, e.getMessage());
      }
    }
  }

  // ------------------------------------------------------------------ request bodies

  private abstract static class RequestBody extends InputStream {
    Runnable beforeFirstRead;

    /** True when the whole body (and, for chunked, its trailer) has been read. */
    abstract boolean complete();

    void beforeRead() throws IOException {
      Runnable r = beforeFirstRead;
      if (r != null) {
        beforeFirstRead = null;
        r.run();
      }
    }

    @Override
    public int read() throws IOException {
      byte[] one = new byte[1];
      int n = read(one, 0, 1);
      return n < 0 ? -1 : one[0] & 0xff;
    }

    /** Reads and discards up to {@code limit} bytes; true when the body is then complete. */
    boolean drain(long limit) throws IOException {
      byte[] b = new byte[8192];
      long left = limit;
      while (!complete() && left > 0) {
        int n = read(b, 0, (int) Math.min(b.length, left));
        if (n < 0) {
          break;
        }
        left -= n;
      }
      return complete();
    }
  }

  private static final class FixedBody extends RequestBody {
    private final ConnInput in;
    private long remaining;

    FixedBody(ConnInput in, long length) {
      this.in = in;
      this.remaining = length;
    }

    @Override
    boolean complete() {
      return remaining == 0;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      if (remaining == 0) {
        return -1;
      }
      beforeRead();
      int n = in.read(b, off, (int) Math.min(len, remaining));
      if (n < 0) {
        throw new IOException("caller closed the connection inside the request body");
      }
      remaining -= n;
      return n;
    }

    @Override
    public int available() {
      return in.buffered() ? (int) Math.min(remaining, in.lim - in.pos) : 0;
    }
  }

  private static final class ChunkedBody extends RequestBody {
    private final ConnInput in;
    private long chunkLeft;
    private boolean done;

    ChunkedBody(ConnInput in) {
      this.in = in;
    }

    @Override
    boolean complete() {
      return done;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      if (done) {
        return -1;
      }
      beforeRead();
      if (chunkLeft == 0) {
        String sizeLine = in.readLine(MAX_LINE);
        if (sizeLine == null) {
          throw new IOException("caller closed the connection inside a chunked body");
        }
        int semi = sizeLine.indexOf(';');
        String hex = (semi >= 0 ? sizeLine.substring(0, semi) : sizeLine).trim();
        try {
          chunkLeft = Long.parseLong(hex, 16);
        } catch (NumberFormatException e) {
          throw new BadRequest(400, "malformed chunk size");
        }
        if (chunkLeft < 0) {
          throw new BadRequest(400, "malformed chunk size");
        }
        if (chunkLeft == 0) {
          String trailer;
          do {
            trailer = in.readLine(MAX_LINE);
          } while (trailer != null && !trailer.isEmpty());
          done = true;
          return -1;
        }
      }
      int n = in.read(b, off, (int) Math.min(len, chunkLeft));
      if (n < 0) {
        throw new IOException("caller closed the connection inside a chunk");
      }
      chunkLeft -= n;
      if (chunkLeft == 0) {
        String crlf = in.readLine(MAX_LINE);
        if (crlf == null || !crlf.isEmpty()) {
          throw new BadRequest(400, "malformed chunk terminator");
        }
      }
      return n;
    }
  }

  // ------------------------------------------------------------------ exchange

  /** One request and its response. Used by a single handler thread (the disconnect callback runs elsewhere). */
  public final class Exchange {
    private final Connection conn;
    private final String method;
    private final String target;
    private final String path;
    private final boolean http11;
    private final boolean keepAlive;
    private final Map<String, List<String>> requestHeaders;
    private final RequestBody body;
    private final Map<String, String> responseHeaders = new LinkedHashMap<>();
    private ResponseBody responseBody;
    private boolean headersSent;
    private boolean closeAfter;
    boolean broken;
    private final boolean expectContinue;
    private boolean continueSent;
    private volatile boolean gone;
    private volatile boolean watchStop;
    private Future<?> watcher;

    private Exchange(Connection conn, String method, String target, String path, boolean http11, boolean keepAlive,
        Map<String, List<String>> requestHeaders, RequestBody body, boolean expectContinue) {
      this.conn = conn;
      this.method = method;
      this.target = target;
      this.path = path;
      this.http11 = http11;
      this.keepAlive = keepAlive;
      this.requestHeaders = requestHeaders;
      this.body = body;
      this.expectContinue = expectContinue;
      if (expectContinue) {
        body.beforeFirstRead = this::sendContinue;
      }
    }

    public String method() {
      return method;
    }

    /** The decoded path, e.g. {@code /api/generate}. */
    public String path() {
      return path;
    }

    /** The request target as sent. */
    public String target() {
      return target;
    }

    /** The first value of a request header (case-insensitive name), or null. */
    public String requestHeader(String name) {
      List<String> v = requestHeaders.get(name.toLowerCase(Locale.ROOT));
      return v == null || v.isEmpty() ? null : v.get(0);
    }

    /** The request body; ends at the end of this request's body. */
    public InputStream requestBody() {
      return body;
    }

    /** Sets a response header (before {@link #sendResponseHeaders}). */
    public void responseHeader(String name, String value) {
      responseHeaders.put(name, value);
    }

    public boolean responseStarted() {
      return headersSent;
    }

    /**
     * Sends the status line and headers. {@code length > 0}: exactly that many body bytes follow; {@code 0}: a
     * streamed body of unknown length (chunked, flushed chunk by chunk); {@code -1}: no body.
     */
    public void sendResponseHeaders(int status, long length) throws IOException {
      if (headersSent) {
        throw new IllegalStateException("response headers already sent");
      }
      headersSent = true;
      boolean head = method.equals("HEAD");
      StringBuilder sb = new StringBuilder(256);
      sb.append("HTTP/1.1 ").append(status).append(' ').append(reason(status)).append("\r\n");
      sb.append("Date: ").append(DateTimeFormatter.RFC_1123_DATE_TIME.format(ZonedDateTime.now(ZoneOffset.UTC)))
          .append("\r\n");
      responseHeaders.forEach((k, v) -> sb.append(k).append(": ").append(v).append("\r\n"));
      boolean streamed = length == 0;
      if (length > 0) {
        sb.append("Content-Length: ").append(length).append("\r\n");
      } else if (length < 0) {
        if (status >= 200 && status != 204 && status != 304) {
          sb.append("Content-Length: 0\r\n");
        }
      } else if (http11) {
        sb.append("Transfer-Encoding: chunked\r\n");
      } else {
        closeAfter = true; // HTTP/1.0: the end of the body is the end of the connection
      }
      if (!keepAlive || closeAfter) {
        closeAfter = true;
        sb.append("Connection: close\r\n");
      }
      sb.append("\r\n");
      conn.out.write(sb.toString().getBytes(StandardCharsets.ISO_8859_1));
      if (head || length < 0) {
        // HEAD: whatever the handler writes is dropped; no-body replies (-1) must not write at all.
        responseBody = new ResponseBody(conn.out, 0, false, true, head);
        conn.out.flush();
      } else if (streamed) {
        responseBody = new ResponseBody(conn.out, -1, http11, false, false);
        conn.out.flush(); // the caller should see the status before the first (possibly slow) chunk
      } else {
        responseBody = new ResponseBody(conn.out, length, false, false, false);
      }
    }

    /** The body stream, after {@link #sendResponseHeaders}. */
    public OutputStream responseBody() {
      if (!headersSent) {
        throw new IllegalStateException("send the response headers first");
      }
      return responseBody;
    }

    /**
     * Watches the connection for the caller hanging up and runs {@code onGone} (on another thread) when it does.
     * Call it once the request body has been read to its end; the watch stops when the exchange ends. Does nothing
     * when the body is unread or the caller already pipelined its next request (there is then nothing to watch).
     */
    public void watchForDisconnect(Runnable onGone) {
      if (watcher != null || !body.complete() || conn.in.buffered() || stopped) {
        return;
      }
      try {
        watcher = watchers.submit(() -> watch(onGone));
      } catch (RejectedExecutionException e) {
        LOG.debug("server stopping; not watching {} {}", method, path);
      }
    }

    /** Whether the watch saw the caller hang up. */
    public boolean callerGone() {
      return gone;
    }

    private void watch(Runnable onGone) {
      try {
        conn.socket.setSoTimeout(WATCH_SLICE_MS);
        while (!watchStop) {
          try {
            if (conn.in.fill() < 0) {
              markGone(onGone);
            }
            return; // EOF, or bytes of a pipelined request, kept in the buffer for the next exchange
          } catch (SocketTimeoutException e) {
            // still connected and quiet; look again unless the exchange ended
          }
        }
      } catch (IOException e) {
        if (!watchStop) {
          markGone(onGone); // reset by the peer
        }
      }
    }

    private void markGone(Runnable onGone) {
      gone = true;
      try {
        watchers.execute(onGone);
      } catch (RejectedExecutionException e) {
        onGone.run();
      }
    }

    /** Ends the watch; returns once the watcher no longer reads the socket. */
    void stopWatching() {
      watchStop = true;
      Future<?> w = watcher;
      if (w == null) {
        return;
      }
      try {
        w.get(WATCH_SLICE_MS * 20L, TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        broken = true;
      } catch (ExecutionException | TimeoutException e) {
        broken = true;
      }
    }

    private void sendContinue() {
      if (headersSent) {
        return;
      }
      continueSent = true;
      try {
        conn.out.write("HTTP/1.1 100 Continue\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
        conn.out.flush();
      } catch (IOException e) {
        broken = true;
      }
    }

    void failedWith500() {
      if (!headersSent) {
        try {
          byte[] b = "{\"error\":\"internal server error\"}".getBytes(StandardCharsets.UTF_8);
          responseHeader("Content-Type", "application/json; charset=utf-8");
          sendResponseHeaders(500, b.length);
          responseBody.write(b);
        } catch (IOException e) {
          broken = true;
        }
      } else {
        broken = true; // mid-response: the framing can no longer be trusted
      }
    }

    /** Completes the response and says whether the connection can carry another request. */
    boolean finish() {
      stopWatching();
      if (gone) {
        return false;
      }
      if (!broken && !headersSent) {
        LOG.warn("handler sent no response to {} {}", method, path);
        failedWith500();
      }
      if (broken) {
        return false;
      }
      try {
        if (!responseBody.finish()) {
          return false;
        }
        conn.out.flush();
        if (!body.complete()) {
          // A caller still waiting for 100 Continue never sends the body; otherwise skip a small unread rest.
          if ((expectContinue && !continueSent) || !body.drain(DRAIN_LIMIT)) {
            return false;
          }
        }
      } catch (IOException e) {
        return false;
      }
      return !closeAfter && !stopped;
    }
  }

  /** Frames the response body: fixed length, chunked, unframed (HTTP/1.0 streaming) or none. */
  private static final class ResponseBody extends OutputStream {
    private final OutputStream out;
    private final long fixed;
    private final boolean chunked;
    private final boolean none;
    private final boolean discard;
    private final byte[] chunk;
    private int chunkLen;
    private long written;
    private boolean finished;

    ResponseBody(OutputStream out, long fixed, boolean chunked, boolean none, boolean discard) {
      this.out = out;
      this.fixed = fixed;
      this.chunked = chunked;
      this.none = none;
      this.discard = discard;
      this.chunk = chunked ? new byte[8192] : null;
    }

    @Override
    public void write(int b) throws IOException {
      write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      if (finished) {
        throw new IOException("response already complete");
      }
      if (none) {
        if (len > 0 && !discard) {
          throw new IOException("this response has no body");
        }
        return;
      }
      if (chunked) {
        while (len > 0) {
          int n = Math.min(len, chunk.length - chunkLen);
          System.arraycopy(b, off, chunk, chunkLen, n);
          chunkLen += n;
          off += n;
          len -= n;
          if (chunkLen == chunk.length) {
            emitChunk();
          }
        }
        return;
      }
      if (fixed > 0 && written + len > fixed) {
        throw new IOException("response body longer than its Content-Length");
      }
      out.write(b, off, len);
      written += len;
    }

    private void emitChunk() throws IOException {
      if (chunkLen == 0) {
        return;
      }
      out.write((Integer.toHexString(chunkLen) + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
      out.write(chunk, 0, chunkLen);
      out.write('\r');
      out.write('\n');
      chunkLen = 0;
    }

    @Override
    public void flush() throws IOException {
      if (chunked && !finished) {
        emitChunk();
      }
      out.flush();
    }

    /** Handlers may close the body; the exchange completes it. */
    @Override
    public void close() throws IOException {
      flush();
    }

    /** Writes the end of the body; false when the framing is broken (short fixed body). */
    boolean finish() throws IOException {
      if (finished) {
        return true;
      }
      finished = true;
      if (chunked) {
        emitChunk();
        out.write("0\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
        return true;
      }
      return none || fixed < 0 || written == fixed;
    }
  }

  private static String reason(int status) {
    switch (status) {
      case 100: return "Continue";
      case 200: return "OK";
      case 204: return "No Content";
      case 400: return "Bad Request";
      case 401: return "Unauthorized";
      case 403: return "Forbidden";
      case 404: return "Not Found";
      case 405: return "Method Not Allowed";
      case 408: return "Request Timeout";
      case 413: return "Payload Too Large";
      case 429: return "Too Many Requests";
      case 431: return "Request Header Fields Too Large";
      case 500: return "Internal Server Error";
      case 501: return "Not Implemented";
      case 502: return "Bad Gateway";
      case 503: return "Service Unavailable";
      case 504: return "Gateway Timeout";
      case 505: return "HTTP Version Not Supported";
      default: return status < 300 ? "OK" : "Error";
    }
  }
}
