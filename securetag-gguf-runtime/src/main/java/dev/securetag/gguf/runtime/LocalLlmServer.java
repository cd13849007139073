package dev.securetag.gguf.runtime;

import dev.securetag.core.ChatMessage;
import dev.securetag.core.LlmClient;
import dev.securetag.core.LlmRequest;
import dev.securetag.core.LlmResponse;
import dev.securetag.core.RetryPolicy;
import dev.securetag.gguf.runtime.internal.GgufOllamaBackend;
import dev.securetag.gguf.runtime.internal.LocalLlmClient;
import dev.securetag.ollama.server.OllamaServer;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves a {@link GgufModel} with the Ollama REST API ({@code /api/generate}, {@code /api/chat}, {@code /api/tags},
 * {@code /api/show}, {@code /api/ps}, {@code /api/version}), so any Ollama client (securetag's own, langchain4j, curl)
 * can talk to a local GGUF without Ollama installed. It is securetag-ollama-server's {@link OllamaServer} with the
 * runtime's backend (raw prompts, token context, {@code top_k}/{@code min_p}, Ollama's counts and durations), and also
 * an {@link LlmClient} that answers in-process, for code that holds the server object.
 *
 * <pre>{@code
 * try (LocalLlmServer server = LocalLlmServer.builder()
 *     .ggufFile(Path.of("model-q4_k_m.gguf")).modelName("securetag-tiny").port(11434).start()) {
 *   System.out.println("Ollama API at " + server.baseUri());
 *   String answer = server.generate("What does control A.5.1 require?");
 * }
 * }</pre>
 *
 * <p>Binds to the loopback address unless {@link Builder#bindAddress} says otherwise; set an {@link Builder#apiKey} when
 * binding elsewhere (a local Ollama has none). Request bodies are capped ({@link Builder#maxBodyBytes}). Generations
 * run one at a time, later ones wait in line (as with {@code OLLAMA_NUM_PARALLEL=1}); a caller that hangs up leaves
 * the line, or stops its generation at the next token.
 */
public final class LocalLlmServer implements LlmClient {
  private static final Logger LOG = LoggerFactory.getLogger(LocalLlmServer.class);

  private final GgufModel model;
  private final boolean ownsModel;
  private final String name;
  private final OllamaServer server;
  private final LocalLlmClient client;
  private volatile boolean closed;

  private LocalLlmServer(Builder b, GgufModel model, boolean owns, InetAddress bind) {
    this.model = model;
    this.ownsModel = owns;
    GgufOllamaBackend backend = new GgufOllamaBackend(model, b.modelName != null ? b.modelName : defaultName(model),
        b.format);
    this.name = backend.model();
    this.client = new LocalLlmClient(model, name, b.format);
    OllamaServer.Builder sb = OllamaServer.builder().backend(backend).name("local-llm-server").bindAddress(bind)
        .port(b.port).maxBodyBytes(b.maxBodyBytes).maxConnections(b.maxConnections).concurrency(1)
        .admissionWait(b.admissionWait).shutdownGrace(Duration.ZERO);
    if (b.apiKey != null) {
      sb.apiKey(b.apiKey);
    }
    this.server = sb.build();
    LOG.info("serving {} as '{}' with the Ollama API at {}", model.ggufFile().getFileName(), name, baseUri());
  }

  private static String defaultName(GgufModel m) {
    String n = m.name().toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9._-]+", "-");
    return n.isEmpty() ? "local" : n;
  }

  public static Builder builder() {
    return new Builder();
  }

  /**
   * Settings for {@link LocalLlmServer}; exactly one of {@link #model} or {@link #ggufFile} is required. Setters only
   * record values; {@link #start()} checks them and names the first one out of range.
   */
  public static final class Builder {
    private GgufModel model;
    private Path ggufFile;
    private String modelName;
    private String host;
    private InetAddress bindAddress;
    private int port;
    private String apiKey;
    private int maxConnections = 64;
    private long maxBodyBytes = 10L * 1024 * 1024;
    private Duration admissionWait = ChronoUnit.FOREVER.getDuration();
    private PromptFormat format = PromptFormat.AUTO;

    private Builder() {}

    /** Serve an already loaded model; the server does not close it. */
    public Builder model(GgufModel model) {
      this.model = model;
      return this;
    }

    /** Load and serve this GGUF file with default settings; the server closes it. */
    public Builder ggufFile(Path file) {
      this.ggufFile = file;
      return this;
    }

    /**
     * Old name of {@link #ggufFile(Path)}.
     *
     * @deprecated the GGUF file is {@code ggufFile} on every securetag builder; use {@link #ggufFile(Path)}
     */
    @Deprecated
    public Builder modelFile(Path file) {
      return ggufFile(file);
    }

    /** Name clients use in {@code "model"} ({@code :latest} is implied); default from {@code general.name}. */
    public Builder modelName(String name) {
      this.modelName = name;
      return this;
    }

    /** Address to bind; default loopback. Binding elsewhere exposes the model: set an {@link #apiKey}. */
    public Builder bindAddress(InetAddress address) {
      this.bindAddress = address;
      return this;
    }

    /**
     * Host name or address to bind, resolved by {@link #start()}.
     *
     * @deprecated the bind address is {@code bindAddress} on every securetag server; use
     *     {@link #bindAddress(InetAddress)}
     */
    @Deprecated
    public Builder host(String host) {
      this.host = host;
      return this;
    }

    /** TCP port; default 0 = any free port (see {@link LocalLlmServer#port()}). Ollama's is 11434. */
    public Builder port(int port) {
      this.port = port;
      return this;
    }

    /**
     * The API key callers must present as {@code Authorization: Bearer <key>} (none by default, as with a local
     * Ollama). Never logged or echoed.
     */
    public Builder apiKey(String apiKey) {
      this.apiKey = apiKey;
      return this;
    }

    /**
     * Open connections served at once (default 64: the one generating, those waiting for it and idle keep-alive
     * ones); further connections get 503 and are closed. Each open connection holds one thread.
     */
    public Builder maxConnections(int n) {
      this.maxConnections = n;
      return this;
    }

    /**
     * Old name of {@link #maxConnections(int)}: the threads that served requests. Each connection now has its own
     * thread, so this caps the connections served at once; generations still run one at a time.
     *
     * @deprecated use {@link #maxConnections(int)}
     */
    @Deprecated
    public Builder httpThreads(int n) {
      return maxConnections(n);
    }

    /** Largest accepted request body (default 10 MB); larger gets 413 before it is read. */
    public Builder maxBodyBytes(long bytes) {
      this.maxBodyBytes = bytes;
      return this;
    }

    /**
     * How long a generation waits for the one running before it gets 503 with Retry-After (default: as long as it
     * takes, like Ollama's queue).
     */
    public Builder admissionWait(Duration wait) {
      this.admissionWait = wait;
      return this;
    }

    /** How prompts and chat messages are rendered; default {@link PromptFormat#AUTO}. */
    public Builder promptFormat(PromptFormat format) {
      this.format = format;
      return this;
    }

    /**
     * Checks the settings, loads the model if needed, binds the port and starts serving.
     *
     * @throws IllegalStateException when neither or both of {@code model} and {@code ggufFile} are set
     * @throws IllegalArgumentException naming the first other setting out of range
     * @throws UncheckedIOException when the port cannot be bound
     */
    public LocalLlmServer start() {
      if ((model == null) == (ggufFile == null)) {
        throw new IllegalStateException("LocalLlmServer needs exactly one of model(...) or ggufFile(...)");
      }
      if (modelName != null && modelName.isBlank()) {
        throw new IllegalArgumentException("LocalLlmServer.modelName must not be blank");
      }
      if (host != null && bindAddress != null) {
        throw new IllegalArgumentException("LocalLlmServer: set bindAddress or the deprecated host, not both");
      }
      if (port < 0 || port > 65535) {
        throw new IllegalArgumentException("LocalLlmServer.port out of range: " + port);
      }
      if (apiKey != null && apiKey.isBlank()) {
        throw new IllegalArgumentException("LocalLlmServer.apiKey must not be blank when set");
      }
      if (maxConnections < 1) {
        throw new IllegalArgumentException("LocalLlmServer.maxConnections must be >= 1, got " + maxConnections);
      }
      if (maxBodyBytes < 1) {
        throw new IllegalArgumentException("LocalLlmServer.maxBodyBytes must be positive, got " + maxBodyBytes);
      }
      if (admissionWait == null || admissionWait.isNegative()) {
        throw new IllegalArgumentException("LocalLlmServer.admissionWait must be zero or positive");
      }
      if (format == null) {
        throw new IllegalArgumentException("LocalLlmServer.promptFormat must not be null");
      }
      InetAddress bind;
      try {
        bind = bindAddress != null ? bindAddress
            : host != null ? InetAddress.getByName(host) : InetAddress.getLoopbackAddress();
      } catch (UnknownHostException e) {
        throw new IllegalArgumentException("LocalLlmServer.host cannot be resolved: " + host, e);
      }
      GgufModel m = model != null ? model : GgufModel.load(ggufFile);
      try {
        return new LocalLlmServer(this, m, model == null, bind);
      } catch (RuntimeException e) {
        if (model == null) {
          m.close();
        }
        throw e;
      }
    }
  }

  /** The bound port. */
  public int port() {
    return server.port();
  }

  /** {@code http://host:port}, the base URL an Ollama client needs. */
  public URI baseUri() {
    return server.baseUri();
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
    ensureOpen();
    return client.generate(request);
  }

  /** Generates in-process, streaming each piece of text to {@code onToken}. */
  @Override
  public LlmResponse generateStreaming(LlmRequest request, Consumer<String> onToken) {
    ensureOpen();
    return client.generateStreaming(request, onToken);
  }

  /** A multi-turn chat in-process, rendered with the server's prompt format. */
  @Override
  public LlmResponse chat(List<ChatMessage> messages, LlmRequest settings, Consumer<String> onToken) {
    ensureOpen();
    return client.chat(messages, settings, onToken);
  }

  /** In-process generation makes one attempt: nothing remote can fail transiently. */
  @Override
  public RetryPolicy retryPolicy() {
    return client.retryPolicy();
  }

  private void ensureOpen() {
    if (closed) {
      throw new IllegalStateException("LocalLlmServer is closed");
    }
  }

  /**
   * Stops the HTTP server (a generation still running stops at its next token) and closes the model when it was
   * loaded by the builder; idempotent.
   */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    server.close();
    if (ownsModel) {
      model.close();
    }
  }

  @Override
  public String toString() {
    return "LocalLlmServer[" + name + " at " + baseUri() + "]";
  }
}
