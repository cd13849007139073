package dev.securetag.runpod;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Real loopback servers that misbehave at the HTTP level, for testing that clients end in bounded time: one accepts
 * connections and reads requests but never writes a byte; the other answers with a valid but long HTTP response one
 * byte at a time, slowly enough that a read timeout never fires and only a whole-call limit can end the call.
 */
final class StallingServer implements AutoCloseable {
  private final ServerSocket listener;
  private final Duration perByte;
  private final ExecutorService pool = Executors.newCachedThreadPool(r -> {
    Thread t = new Thread(r, "stalling-server");
    t.setDaemon(true);
    return t;
  });
  private final Set<Socket> sockets = ConcurrentHashMap.newKeySet();
  private final AtomicInteger accepted = new AtomicInteger();
  private volatile boolean closed;

  private StallingServer(Duration perByte) throws IOException {
    this.perByte = perByte;
    this.listener = new ServerSocket();
    listener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 64);
    pool.execute(this::acceptLoop);
  }

  /** Accepts and reads, never answers. */
  static StallingServer silent() throws IOException {
    return new StallingServer(null);
  }

  /** Answers {@code 200} with a long JSON body, writing one byte (status line and headers included) per {@code perByte}. */
  static StallingServer trickling(Duration perByte) throws IOException {
    return new StallingServer(perByte);
  }

  /** A RunPod-style base URL ({@code http://127.0.0.1:port/v2}). */
  String baseUrl() {
    return "http://127.0.0.1:" + listener.getLocalPort() + "/v2";
  }

  /** Connections accepted so far. */
  int connections() {
    return accepted.get();
  }

  private void acceptLoop() {
    while (!closed) {
      try {
        Socket s = listener.accept();
        accepted.incrementAndGet();
        sockets.add(s);
        // Read everything the client sends so its writes never block; nothing is parsed.
        pool.execute(() -> discardInput(s));
        if (perByte != null) {
          pool.execute(() -> trickle(s));
        }
      } catch (IOException e) {
        return; // closed
      }
    }
  }

  private static void discardInput(Socket s) {
    byte[] buf = new byte[4096];
    try {
      InputStream in = s.getInputStream();
      while (in.read(buf) >= 0) {
        // discard
      }
    } catch (IOException e) {
      // closed
    }
  }

  private void trickle(Socket s) {
    String body = " ".repeat(4000) + "{\"id\":\"job-1\",\"status\":\"COMPLETED\",\"output\":{\"response\":\"late\"}}";
    String response = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " + body.length() + "\r\n\r\n"
        + body;
    try {
      OutputStream out = s.getOutputStream();
      for (byte b : response.getBytes(StandardCharsets.UTF_8)) {
        if (closed) {
          return;
        }
        out.write(b);
        out.flush();
        Thread.sleep(perByte.toMillis());
      }
    } catch (IOException | InterruptedException e) {
      // the client gave up, or we are closing
    }
  }

  @Override
  public void close() throws IOException {
    closed = true;
    listener.close();
    for (Socket s : sockets) {
      s.close();
    }
    pool.shutdownNow();
    try {
      pool.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
