package dev.securetag.gguf;

import com.sun.net.httpserver.HttpServer;
import dev.securetag.core.LlmClient;
import dev.securetag.core.LlmRequest;
import dev.securetag.core.LlmResponse;
import dev.securetag.gguf.internal.runtime.LocalLlmClient;
import dev.securetag.gguf.internal.runtime.OllamaApi;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves a {@link GgufModel} with the Ollama REST API ({@code /api/generate}, {@code /api/chat}, {@code /api/tags},
 * {@code /api/show}, {@code /api/ps}, {@code /api/version}) on the JDK's built-in HTTP server, so any Ollama client
 * (securetag's own, langchain4j, curl) can talk to a local GGUF without Ollama installed. It is also an
 * {@link LlmClient} that answers in-process, for code that holds the server object.
 *
 * <pre>{@code
 * try (LocalLlmServer server = LocalLlmServer.builder()
 *     .modelFile(Path.of("model-q4_k_m.gguf")).modelName("securetag-tiny").port(11434).start()) {
 *   System.out.println("Ollama API at " + server.baseUri());
 *   String answer = server.generate("What does control A.5.1 require?");
 * }
 * }</pre>
 *
 * <p>Binds to the loopback address unless {@link Builder#host} says otherwise; there is no authentication, as with
 * a local Ollama.
 */
public final class LocalLlmServer implements LlmClient {
  private static final Logger LOG = LoggerFactory.getLogger(LocalLlmServer.class);
  private static final AtomicInteger SERVERS = new AtomicInteger();

  private final GgufModel model;
  private final boolean ownsModel;
  private final String name;
  private final HttpServer server;
  private final ExecutorService executor;
  private final LocalLlmClient client;
  private volatile boolean closed;

  private LocalLlmServer(Builder b, GgufModel model, boolean owns) throws IOException {
    this.model = model;
    this.ownsModel = owns;
    this.name = OllamaApi.withTag(b.modelName != null ? b.modelName : defaultName(model));
    this.client = new LocalLlmClient(model, name, b.format);
    InetAddress addr = b.host == null ? InetAddress.getLoopbackAddress() : InetAddress.getByName(b.host);
    this.server = HttpServer.create(new InetSocketAddress(addr, b.port), 64);
    int id = SERVERS.incrementAndGet();
    AtomicInteger n = new AtomicInteger();
    this.executor = Executors.newFixedThreadPool(b.httpThreads, r -> {
      Thread t = new Thread(r, "local-llm-server-" + id + "-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
    server.setExecutor(executor);
    server.createContext("/", new OllamaApi(model, name, b.format));
    server.start();
    LOG.info("serving {} as '{}' with the Ollama API at {}", model.file().getFileName(), name, baseUri());
  }

  private static String defaultName(GgufModel m) {
    String n = m.name().toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9._-]+", "-");
    return n.isEmpty() ? "local" : n;
  }

  public static Builder builder() {
    return new Builder();
  }

  /** Settings for {@link LocalLlmServer}. */
  public static final class Builder {
    private GgufModel model;
    private Path modelFile;
    private String modelName;
    private String host;
    private int port;
    private int httpThreads = 4;
    private PromptFormat format = PromptFormat.AUTO;

    private Builder() {}

    /** Serve an already loaded model; the server does not close it. */
    public Builder model(GgufModel model) {
      this.model = Objects.requireNonNull(model, "model");
      return this;
    }

    /** Load and serve this GGUF with default settings; the server closes it. */
    public Builder modelFile(Path file) {
      this.modelFile = Objects.requireNonNull(file, "file");
      return this;
    }

    /** Name clients use in {@code "model"} ({@code :latest} is implied); default from {@code general.name}. */
    public Builder modelName(String name) {
      if (name == null || name.isBlank()) {
        throw new IllegalArgumentException("model name must not be blank");
      }
      this.modelName = name;
      return this;
    }

    /** Interface to bind; default loopback. */
    public Builder host(String host) {
      this.host = Objects.requireNonNull(host, "host");
      return this;
    }

    /** TCP port; default 0 = any free port (see {@link LocalLlmServer#port()}). Ollama's is 11434. */
    public Builder port(int port) {
      if (port < 0 || port > 65535) {
        throw new IllegalArgumentException("port out of range: " + port);
      }
      this.port = port;
      return this;
    }

    /** Threads accepting requests; generations still run one at a time. Default 4. */
    public Builder httpThreads(int n) {
      if (n < 1) {
        throw new IllegalArgumentException("httpThreads must be >= 1");
      }
      this.httpThreads = n;
      return this;
    }

    /** How prompts and chat messages are rendered; default {@link PromptFormat#AUTO}. */
    public Builder promptFormat(PromptFormat format) {
      this.format = Objects.requireNonNull(format, "format");
      return this;
    }

    /**
     * Binds the port and starts serving.
     *
     * @throws UncheckedIOException when the port cannot be bound
     */
    public LocalLlmServer start() {
      if ((model == null) == (modelFile == null)) {
        throw new IllegalStateException("set exactly one of model(...) or modelFile(...)");
      }
      GgufModel m = model != null ? model : GgufModel.load(modelFile);
      try {
        return new LocalLlmServer(this, m, model == null);
      } catch (IOException e) {
        if (model == null) {
          m.close();
        }
        throw new UncheckedIOException("cannot start the server on " + (host == null ? "loopback" : host) + ":"
            + port + ": " + e.getMessage(), e);
      }
    }
  }

  /** The bound port. */
  public int port() {
    return server.getAddress().getPort();
  }

  /** {@code http://host:port}, the base URL an Ollama client needs. */
  public URI baseUri() {
    InetSocketAddress a = server.getAddress();
    String host = a.getAddress().getHostAddress();
    if (host.contains(":")) {
      host = "[" + host + "]";
    }
    return URI.create("http://" + host + ":" + a.getPort());
  }

  /** The served model. */
  public GgufModel model() {
    return model;
  }

  @Override
  public String modelName() {
    return name;
  }

  /** Generates in-process (no HTTP), exactly as {@code /api/generate} would. */
  @Override
  public LlmResponse generate(LlmRequest request) {
    if (closed) {
      throw new IllegalStateException("LocalLlmServer is closed");
    }
    return client.generate(request);
  }

  /** Stops the HTTP server (and the model when it was loaded by the builder); idempotent. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    server.stop(0);
    executor.shutdownNow();
    if (ownsModel) {
      model.close();
    }
  }

  @Override
  public String toString() {
    return "LocalLlmServer[" + name + " at " + baseUri() + "]";
  }
}
