package dev.securetag.runpod;

import dev.securetag.core.internal.AtomicFiles;
import dev.securetag.runpod.internal.ResourceTemplate;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes a complete {@code docker build} context for a RunPod Serverless worker that serves a fine-tuned GGUF with
 * Ollama, plus the application side's compose file.
 *
 * <ul>
 *   <li>{@code Dockerfile} on {@code ollama/ollama}: with {@link ModelStorage#IMAGE} (default) a first stage creates
 *       the Ollama model from the GGUF at build time and the image carries only Ollama's model store; with
 *       {@link ModelStorage#NETWORK_VOLUME} the image holds no weights and the first worker creates the model on the
 *       volume ({@value #VOLUME_MODELS}) from the GGUF uploaded to {@value #VOLUME_GGUF_DIR}.</li>
 *   <li>{@code start.sh}: starts {@code ollama serve}, polls until it answers (no fixed sleep), runs
 *       {@code ollama create} only when the model is missing, then the handler; {@code --create-only} is the build
 *       step.</li>
 *   <li>{@code handler.py}: job input to the local Ollama. {@link HandlerMode#SYNC} (default) returns the seed's
 *       {@code {"response", "model", ...}} object, so {@code /runsync} clients reading {@code output.response} keep
 *       working; {@link HandlerMode#STREAM} is a generator with {@code return_aggregate_stream} whose
 *       {@code /runsync} output is a list (NDJSON line strings when the input streams, else one object).</li>
 *   <li>{@code Modelfile}, {@code test_input.json} (the SDK's local test mode), {@code README.md} (both storage modes,
 *       output shapes), {@code .dockerignore} and {@code docker-compose.yml} (securetag-app and the optional
 *       Ollama-API proxy, secrets from the environment).</li>
 * </ul>
 *
 * <pre>{@code
 * DeploymentAssets.builder()
 *     .modelName("securetag")
 *     .ggufFile(Path.of("out/gguf/securetag-q4_k_m.gguf"))       // hard-linked (or copied) beside the Dockerfile
 *     .modelfile(modelfile.render())                            // TEMPLATE/SYSTEM as the model was trained
 *     .build()
 *     .writeTo(Path.of("deploy/runpod"));
 * // then: docker build -t you/securetag-worker deploy/runpod
 * }</pre>
 *
 * The files are class-path templates ({@code dev/securetag/runpod/worker/*.template}) with validated placeholders;
 * text files are written atomically.
 */
public final class DeploymentAssets {
  private static final Logger LOG = LoggerFactory.getLogger(DeploymentAssets.class);

  public static final String DOCKERFILE = "Dockerfile";
  public static final String START_SCRIPT = "start.sh";
  public static final String HANDLER = "handler.py";
  public static final String MODELFILE = "Modelfile";
  public static final String COMPOSE = "docker-compose.yml";
  public static final String README = "README.md";
  public static final String TEST_INPUT = "test_input.json";
  public static final String DOCKERIGNORE = ".dockerignore";
  /** Where a network-volume worker looks for the GGUF (the volume is mounted at {@code /runpod-volume}). */
  public static final String VOLUME_GGUF_DIR = "/runpod-volume/securetag";
  /** Where a network-volume worker keeps Ollama's models. */
  public static final String VOLUME_MODELS = "/runpod-volume/ollama/models";

  private static final String TEMPLATES = "worker/";
  private static final Pattern MODEL_NAME = Pattern.compile("[a-z0-9][a-z0-9._-]*(:[A-Za-z0-9._-]+)?");
  private static final Pattern FILE_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]*\\.gguf");
  private static final Pattern VERSION = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]*");
  private static final Pattern IMAGE = Pattern.compile("[A-Za-z0-9${}:_./@-]+");

  /** Where the worker keeps the Ollama model. */
  public enum ModelStorage {
    /** Created at image build time and shipped in the image: no {@code ollama create} on cold starts. */
    IMAGE,
    /** Created by the first worker on the RunPod network volume; the image holds no weights. */
    NETWORK_VOLUME
  }

  /** How {@code handler.py} answers; see the class comment for the output shapes. */
  public enum HandlerMode {
    /** A plain handler: one {@code {"response", ...}} object per job. */
    SYNC,
    /** A generator with {@code return_aggregate_stream}: token streaming through {@code /stream}. */
    STREAM
  }

  private final String modelName;
  private final String ggufFileName;
  private final Path ggufPath;
  private final String modelfile;
  private final String ollamaImageTag;
  private final String runpodVersion;
  private final String appImage;
  private final String proxyImage;
  private final ModelStorage storage;
  private final HandlerMode handlerMode;

  private DeploymentAssets(Builder b, String ggufFileName) {
    this.modelName = b.modelName;
    this.ggufFileName = ggufFileName;
    this.ggufPath = b.ggufPath;
    this.ollamaImageTag = b.ollamaImageTag;
    this.runpodVersion = b.runpodVersion;
    this.appImage = b.appImage;
    this.proxyImage = b.proxyImage;
    this.storage = b.storage;
    this.handlerMode = b.handlerMode;
    this.modelfile = b.modelfile != null ? b.modelfile : defaultModelfile(b, ggufFileName);
  }

  public static Builder builder() {
    return new Builder();
  }

  /**
   * Writes every asset into {@code dir} (created if needed) and, when a GGUF path was given, places the GGUF beside
   * the Dockerfile: hard-linked when on the same file system, else copied (GGUFs are large). Returns the paths
   * written, the GGUF last.
   */
  public List<Path> writeTo(Path dir) {
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create deployment directory " + dir, e);
    }
    List<Path> written = new ArrayList<>();
    for (Map.Entry<String, String> f : files().entrySet()) {
      Path p = dir.resolve(f.getKey());
      AtomicFiles.writeString(p, f.getValue());
      written.add(p);
    }
    try {
      Files.setPosixFilePermissions(dir.resolve(START_SCRIPT), PosixFilePermissions.fromString("rwxr-xr-x"));
    } catch (UnsupportedOperationException | IOException e) {
      // Non-POSIX file systems: the Dockerfile runs chmod +x anyway.
    }
    Path target = dir.resolve(ggufFileName);
    if (ggufPath != null) {
      placeGguf(ggufPath, target);
      written.add(target);
    } else if (storage == ModelStorage.IMAGE && !Files.isRegularFile(target)) {
      LOG.warn("{} is not in {}: copy it there before docker build (or give DeploymentAssets.ggufFile(path))",
          ggufFileName, dir);
    }
    return written;
  }

  private static void placeGguf(Path source, Path target) {
    try {
      if (Files.exists(target) && Files.isSameFile(source, target)) {
        return;
      }
      Path tmp = target.resolveSibling("." + target.getFileName() + ".tmp");
      Files.deleteIfExists(tmp);
      try {
        Files.createLink(tmp, source);
      } catch (FileSystemException | UnsupportedOperationException e) {
        // Another file system (or no hard links): copy.
        Files.copy(source, tmp, StandardCopyOption.COPY_ATTRIBUTES);
      }
      Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot place GGUF " + source + " at " + target, e);
    }
  }

  /** File name to content of every text asset, in write order. */
  public Map<String, String> files() {
    Map<String, String> m = new LinkedHashMap<>();
    m.put(DOCKERFILE, dockerfile());
    m.put(START_SCRIPT, startScript());
    m.put(HANDLER, handler());
    m.put(MODELFILE, modelfile);
    m.put(TEST_INPUT, render("test_input.json", Map.of()));
    m.put(DOCKERIGNORE, dockerignore());
    m.put(README, readme());
    m.put(COMPOSE, compose());
    return m;
  }

  public String dockerfile() {
    Map<String, String> v = common();
    v.put("GGUF_FILE", ggufFileName);
    v.put("RUNPOD_VERSION", runpodVersion);
    v.put("HANDLER_MODE", handlerModeValue());
    if (storage == ModelStorage.IMAGE) {
      return render("Dockerfile.image", v);
    }
    v.put("VOLUME_GGUF", volumeGguf());
    v.put("VOLUME_MODELS", VOLUME_MODELS);
    return render("Dockerfile.volume", v);
  }

  public String startScript() {
    Map<String, String> v = new LinkedHashMap<>();
    v.put("MODEL_NAME", modelName);
    return render("start.sh", v);
  }

  public String handler() {
    Map<String, String> v = new LinkedHashMap<>();
    v.put("MODEL_NAME", modelName);
    v.put("HANDLER_MODE", handlerModeValue());
    return render("handler.py", v);
  }

  public String modelfile() {
    return modelfile;
  }

  public String compose() {
    Map<String, String> v = new LinkedHashMap<>();
    v.put("MODEL_NAME", modelName);
    v.put("APP_IMAGE", appImage);
    v.put("PROXY_IMAGE", proxyImage);
    return render("docker-compose.yml", v);
  }

  public String readme() {
    Map<String, String> v = common();
    v.put("GGUF_FILE", ggufFileName);
    v.put("RUNPOD_VERSION", runpodVersion);
    v.put("HANDLER_MODE", handlerModeValue());
    v.put("STORAGE", storage == ModelStorage.IMAGE ? "baked into the image" : "network volume");
    v.put("VOLUME_GGUF", volumeGguf());
    v.put("VOLUME_MODELS", VOLUME_MODELS);
    return render("README.md", v);
  }

  public String dockerignore() {
    return render("dockerignore", Map.of("GGUF_INCLUDE", storage == ModelStorage.IMAGE ? "!" + ggufFileName
        : "# " + ggufFileName + " goes onto the network volume, not into the image"));
  }

  /** The model storage this context was generated for. */
  public ModelStorage modelStorage() {
    return storage;
  }

  /** The handler mode baked into the image. */
  public HandlerMode handlerMode() {
    return handlerMode;
  }

  /** The GGUF's file name in the build context (and on the volume). */
  public String ggufFileName() {
    return ggufFileName;
  }

  private Map<String, String> common() {
    Map<String, String> v = new LinkedHashMap<>();
    v.put("MODEL_NAME", modelName);
    v.put("OLLAMA_TAG", ollamaImageTag);
    return v;
  }

  private String volumeGguf() {
    return VOLUME_GGUF_DIR + "/" + ggufFileName;
  }

  private String handlerModeValue() {
    return handlerMode.name().toLowerCase(Locale.ROOT);
  }

  private static String render(String name, Map<String, String> values) {
    String resource = TEMPLATES + name + ".template";
    return ResourceTemplate.render(resource, ResourceTemplate.load(DeploymentAssets.class, resource), values);
  }

  private static String defaultModelfile(Builder b, String ggufFileName) {
    StringBuilder sb = new StringBuilder();
    sb.append("# Generated by securetag DeploymentAssets.\n");
    sb.append("FROM ./").append(ggufFileName).append('\n');
    if (b.template != null) {
      sb.append("TEMPLATE \"\"\"").append(b.template).append("\"\"\"\n");
    }
    if (b.systemPrompt != null) {
      sb.append("SYSTEM \"\"\"").append(b.systemPrompt).append("\"\"\"\n");
    }
    b.parameters.forEach((k, v) -> sb.append("PARAMETER ").append(k).append(' ').append(v).append('\n'));
    return sb.toString();
  }

  /**
   * Configures {@link DeploymentAssets}; {@code modelName} and a GGUF ({@code ggufFile} or {@code ggufFileName}) are
   * required. Setters record values; {@link #build()} checks them.
   */
  public static final class Builder {
    private String modelName;
    private String ggufFileName;
    private Path ggufPath;
    private String modelfile;
    private String systemPrompt;
    private String template;
    private final Map<String, String> parameters = new LinkedHashMap<>();
    private String ollamaImageTag = "0.6.0";
    private String runpodVersion = "1.12.0";
    private String appImage = "${SECURETAG_APP_IMAGE:-securetag-app:latest}";
    private String proxyImage = "${SECURETAG_PROXY_IMAGE:-securetag-ollama-proxy:latest}";
    private ModelStorage storage = ModelStorage.IMAGE;
    private HandlerMode handlerMode = HandlerMode.SYNC;

    private Builder() {}

    /** The Ollama model name ({@code ollama create <name>}), lower case. */
    public Builder modelName(String v) {
      this.modelName = v;
      return this;
    }

    /** The GGUF file to serve; {@link #writeTo} places it beside the Dockerfile. Sets the file name unless given. */
    public Builder ggufFile(Path v) {
      this.ggufPath = v;
      return this;
    }

    /**
     * Old name of {@link #ggufFile(Path)}.
     *
     * @deprecated the GGUF file is {@code ggufFile} on every securetag builder
     */
    @Deprecated
    public Builder gguf(Path v) {
      return ggufFile(v);
    }

    /** The GGUF's file name in the build context (default: the name of {@link #ggufFile(Path)}). */
    public Builder ggufFileName(String v) {
      this.ggufFileName = v;
      return this;
    }

    /** A complete Modelfile to use instead of the generated one (its FROM should name the GGUF as {@code ./<file>}). */
    public Builder modelfile(String v) {
      this.modelfile = v;
      return this;
    }

    /** A SYSTEM line for the generated Modelfile: only one the model was fine-tuned with. */
    public Builder systemPrompt(String v) {
      this.systemPrompt = v;
      return this;
    }

    /** The Go prompt template the model was fine-tuned with (the GGUF's own chat template is used when unset). */
    public Builder template(String v) {
      this.template = v;
      return this;
    }

    /** A Modelfile {@code PARAMETER} (e.g. {@code num_ctx 8192}, {@code temperature 0.2}, {@code stop "<|im_end|>"}). */
    public Builder parameter(String name, String value) {
      parameters.put(Objects.requireNonNull(name, "name"), Objects.requireNonNull(value, "value"));
      return this;
    }

    /** Where the worker keeps the model (default {@link ModelStorage#IMAGE}). */
    public Builder modelStorage(ModelStorage v) {
      this.storage = v;
      return this;
    }

    /** How the handler answers (default {@link HandlerMode#SYNC}, the seed's {@code output.response}). */
    public Builder handlerMode(HandlerMode v) {
      this.handlerMode = v;
      return this;
    }

    /** Tag of the {@code ollama/ollama} base image (pin it for reproducible builds). */
    public Builder ollamaImageTag(String v) {
      this.ollamaImageTag = v;
      return this;
    }

    /** Version of the {@code runpod} Python package installed in the image. */
    public Builder runpodVersion(String v) {
      this.runpodVersion = v;
      return this;
    }

    /** Image of the application service in the compose file. */
    public Builder appImage(String v) {
      this.appImage = v;
      return this;
    }

    /** Image of the Ollama-API proxy service in the compose file. */
    public Builder proxyImage(String v) {
      this.proxyImage = v;
      return this;
    }

    /**
     * Checks the settings and builds the assets; the builder is left as it was.
     *
     * @throws IllegalArgumentException naming the first setting that is missing or invalid
     */
    public DeploymentAssets build() {
      if (modelName == null || !MODEL_NAME.matcher(modelName).matches()) {
        throw new IllegalArgumentException("DeploymentAssets.modelName must be a lower-case Ollama model name, got: "
            + modelName);
      }
      if (ggufPath != null && !Files.isRegularFile(ggufPath)) {
        throw new IllegalArgumentException("DeploymentAssets.ggufFile: no such file: " + ggufPath);
      }
      String fileName = ggufFileName != null ? ggufFileName
          : ggufPath != null ? ggufPath.getFileName().toString() : null;
      if (fileName == null || !FILE_NAME.matcher(fileName).matches()) {
        throw new IllegalArgumentException("DeploymentAssets.ggufFileName must be a plain file name ending in .gguf, got: "
            + fileName);
      }
      if (storage == null || handlerMode == null) {
        throw new IllegalArgumentException("DeploymentAssets.modelStorage and handlerMode must not be null");
      }
      if (!VERSION.matcher(ollamaImageTag).matches() || !VERSION.matcher(runpodVersion).matches()) {
        throw new IllegalArgumentException("DeploymentAssets image tag and runpod version must be plain version strings");
      }
      if (!IMAGE.matcher(appImage).matches() || !IMAGE.matcher(proxyImage).matches()) {
        throw new IllegalArgumentException("DeploymentAssets app and proxy images must be image references");
      }
      for (Map.Entry<String, String> p : parameters.entrySet()) {
        if (!p.getKey().matches("[a-z_]+") || p.getValue().contains("\n")) {
          throw new IllegalArgumentException("DeploymentAssets.parameter " + p.getKey() + " is not a valid Modelfile PARAMETER");
        }
      }
      if ((systemPrompt != null && systemPrompt.contains("\"\"\"")) || (template != null && template.contains("\"\"\""))) {
        throw new IllegalArgumentException("DeploymentAssets system prompt and template must not contain \"\"\"");
      }
      if (modelfile != null && !modelfile.lines().anyMatch(l -> l.strip().regionMatches(true, 0, "FROM ", 0, 5))) {
        throw new IllegalArgumentException("DeploymentAssets.modelfile has no FROM line");
      }
      return new DeploymentAssets(this, fileName);
    }
  }
}
