package dev.securetag.ollama.server;

import dev.securetag.core.ollama.OllamaChatRequest;
import dev.securetag.core.ollama.OllamaGenerateRequest;
import dev.securetag.core.ollama.OllamaModelInfo;
import dev.securetag.core.ollama.OllamaRunningModel;
import dev.securetag.core.ollama.OllamaShowResponse;
import java.io.IOException;
import java.util.List;

/**
 * What an {@link OllamaServer} serves: one model's metadata and its generations. The server owns everything else of
 * the Ollama API (routes, methods, API key, bounded and typed request bodies, JSON error bodies, the admission queue,
 * NDJSON streaming, disconnect detection, shutdown); a backend only answers requests that are already parsed, for
 * a model it {@linkplain #serves serves}, within a free generation slot.
 *
 * <p>{@link OllamaServer.Builder#client} serves any {@link dev.securetag.core.LlmClient} with the built-in backend;
 * implement this interface for what an {@code LlmClient} cannot express (the local GGUF runtime's raw prompts and
 * token context, the RunPod proxy's job relay). Implementations are called from several threads at once.
 */
public interface OllamaBackend {

  /** The model's name as {@code /api/tags} lists it (with its tag, e.g. {@code securetag:latest}). */
  String model();

  /** Whether {@code requested} names this backend's model; by default equal up to Ollama's implied {@code :latest}. */
  default boolean serves(String requested) {
    return withTag(requested).equals(withTag(model()));
  }

  /**
   * Whether generations for model names this backend does not {@linkplain #serves serve} are still passed to it
   * (false by default: the server answers 404). The RunPod proxy says yes: its remote worker decides.
   */
  default boolean generatesForAnyModel() {
    return false;
  }

  /** The model's {@code /api/tags} entry. */
  OllamaModelInfo describe();

  /** The models loaded in memory for {@code /api/ps}; none by default (a remote backend loads nothing here). */
  default List<OllamaRunningModel> running() {
    return List.of();
  }

  /** The {@code /api/show} reply. */
  OllamaShowResponse show();

  /**
   * Answers {@code POST /api/generate} through {@code reply}. An {@link IllegalArgumentException} thrown before the
   * reply started becomes a 400 with its message; an {@link IOException} means the caller is gone.
   */
  void generate(OllamaGenerateRequest request, OllamaReply reply) throws IOException;

  /** Answers {@code POST /api/chat} through {@code reply}, with the same error rules as {@link #generate}. */
  void chat(OllamaChatRequest request, OllamaReply reply) throws IOException;

  /** Ollama's name normalisation: a name without a tag means {@code :latest}. */
  static String withTag(String name) {
    return name.contains(":") ? name : name + ":latest";
  }
}
