package dev.securetag.dataset;

import dev.securetag.core.Chunk;
import dev.securetag.core.LlmClient;
import dev.securetag.core.LlmRequest;
import dev.securetag.core.LlmResponse;
import dev.securetag.core.ProgressListener;
import dev.securetag.core.QaPair;
import dev.securetag.core.RateLimiter;
import dev.securetag.core.RemoteServiceException;
import dev.securetag.core.RetryPolicy;
import dev.securetag.core.SecuretagException;
import dev.securetag.core.internal.DaemonThreads;
import dev.securetag.core.internal.Hashing;
import dev.securetag.dataset.internal.Grounding;
import dev.securetag.dataset.internal.PromptTemplates;
import dev.securetag.dataset.internal.QaResponseParser;
import dev.securetag.dataset.internal.RatingParser;
import dev.securetag.dataset.internal.ReportBuilder;
import dev.securetag.dataset.internal.ResponseCache;
import dev.securetag.dataset.internal.TextNormalizer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Generates question/answer pairs from chunks with an {@link LlmClient}: N requests in flight, an optional rate
 * limit (securetag-core's {@link RateLimiter}), retries of retriable failures, a per-request timeout, tolerant parsing
 * of whatever JSON the model returns, grounding checks, an optional LLM judge (keep ratings >= 7 at temperature 0.1,
 * as synthetic-data-kit does), and a resumable cache: every completed call is appended and fsynced to the cache file,
 * keyed by chunk, template, model and parameters, so killing the JVM and running again re-pays no completed call.
 * Every dropped pair or response is counted by {@link DropReason}.
 *
 * <p><b>Retries do not stack.</b> A client that retries by itself ({@link LlmClient#retryPolicy()} with more than one
 * attempt: securetag's Ollama, OpenAI-compatible and RunPod clients) gets exactly one call per request from this
 * generator, so a request costs at most the client's own attempts (3 for {@code OllamaClient}, 5 for
 * {@code RunPodLlmClient} by default) rather than their product with ours. Only a client that makes one attempt per
 * call (the local GGUF runtime, a hand-written client) is retried here, with {@link Builder#retryPolicy(RetryPolicy)}
 * (4 attempts by default, 1 s doubling to 30 s, Retry-After honoured up to 5 min); a request then costs at most that
 * many attempts. A call cut by {@code requestTimeout} counts as one failed attempt of this generator: for a retrying
 * client it is not repeated, so give such clients a request timeout above their own deadline.
 *
 * <pre>{@code
 * try (QaGenerator gen = QaGenerator.builder().llm(client).pairsPerChunk(3).language(Language.AUTO)
 *     .concurrency(8).cache(Path.of("work/qa-cache.jsonl")).build()) {
 *   GenerationResult r = gen.generate(chunks);
 *   System.out.println(r.report());
 * }
 * }</pre>
 */
public final class QaGenerator implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(QaGenerator.class);
  private static final String PHASE = "qa-generation";
  /** Retries for clients that make one attempt per call: 3 retries (synthetic-data-kit's), 1 s doubling to 30 s. */
  private static final RetryPolicy DEFAULT_RETRIES = RetryPolicy.builder().maxAttempts(4)
      .initialBackoff(Duration.ofSeconds(1)).maxBackoff(Duration.ofSeconds(30)).jitter(0.5)
      .maxRetryAfter(Duration.ofMinutes(5)).build();

  private final LlmClient llm;
  private final LlmClient judgeLlm;
  private final int pairsPerChunk;
  private final Language language;
  private final int concurrency;
  private final RetryPolicy llmRetries;
  private final RetryPolicy judgeRetries;
  private final Duration requestTimeout;
  private final Map<Language, String> templates;
  private final String systemPrompt;
  private final double temperature;
  private final double topP;
  private final int maxTokens;
  private final Long seed;
  private final double groundingThreshold;
  private final boolean judge;
  private final double judgeThreshold;
  private final double judgeTemperature;
  private final int judgeBatchSize;
  private final ProgressListener listener;
  private final RateLimiter rateLimiter;
  private final ResponseCache cache;
  private final ExecutorService callExecutor;
  private final AtomicBoolean closed = new AtomicBoolean();

  private QaGenerator(Builder b) {
    this.llm = b.llm;
    this.judgeLlm = b.judgeLlm != null ? b.judgeLlm : b.llm;
    this.pairsPerChunk = b.pairsPerChunk;
    this.language = b.language;
    this.concurrency = b.concurrency;
    RetryPolicy policy = b.effectiveRetryPolicy();
    this.llmRetries = retriesFor(llm, policy);
    this.judgeRetries = retriesFor(judgeLlm, policy);
    this.requestTimeout = b.requestTimeout;
    this.templates = Map.copyOf(b.templates);
    this.systemPrompt = b.systemPrompt;
    this.temperature = b.temperature;
    this.topP = b.topP;
    this.maxTokens = b.maxTokens;
    this.seed = b.seed;
    this.groundingThreshold = b.groundingThreshold;
    this.judge = b.judge;
    this.judgeThreshold = b.judgeThreshold;
    this.judgeTemperature = b.judgeTemperature;
    this.judgeBatchSize = b.judgeBatchSize;
    this.listener = b.listener;
    this.rateLimiter = RateLimiter.perMinute(b.requestsPerMinute);
    this.cache = b.cache == null ? null : ResponseCache.open(b.cache);
    this.callExecutor = DaemonThreads.cachedPool("securetag-llm-call");
  }

  /** Our policy for a client that makes one attempt per call; none for a client that retries by itself. */
  private static RetryPolicy retriesFor(LlmClient client, RetryPolicy ours) {
    RetryPolicy theirs = client.retryPolicy();
    if (theirs.maxAttempts() > 1) {
      LOG.debug("{} retries by itself ({} attempts); QaGenerator adds none", client.modelName(), theirs.maxAttempts());
      return RetryPolicy.none();
    }
    return ours;
  }

  /**
   * The most attempts (HTTP requests, for an HTTP client) one generation request can cost: the client's own attempts
   * when it retries by itself, else this generator's retry policy; never their product.
   */
  public int maxAttemptsPerRequest() {
    // One of the two factors is always 1 (see retriesFor).
    return llm.retryPolicy().maxAttempts() * llmRetries.maxAttempts();
  }

  public static Builder builder() {
    return new Builder();
  }

  /**
   * Generates pairs for every chunk; pairs come back in chunk order whatever the concurrency.
   *
   * @throws EmptyDatasetException when chunks were given but not a single pair survived (the report says why)
   */
  public GenerationResult generate(List<Chunk> chunks) {
    checkOpen();
    ReportBuilder report = new ReportBuilder();
    report.chunks(chunks.size());
    if (chunks.isEmpty()) {
      return new GenerationResult(List.of(), report.build());
    }
    ExecutorService pool = DaemonThreads.fixedPool("securetag-qa", Math.min(concurrency, chunks.size()));
    AtomicInteger done = new AtomicInteger();
    List<QaPair> out = new ArrayList<>();
    try {
      List<Future<List<QaPair>>> futures = new ArrayList<>();
      for (Chunk c : chunks) {
        futures.add(pool.submit(() -> {
          List<QaPair> pairs = process(c, report);
          listener.report(PHASE, done.incrementAndGet(), chunks.size(), "chunks");
          return pairs;
        }));
      }
      for (Future<List<QaPair>> f : futures) {
        out.addAll(f.get());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new SecuretagException("QA generation interrupted; completed calls are in the cache", e);
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof RuntimeException re) {
        throw re;
      }
      if (cause instanceof Error err) {
        throw err;
      }
      throw new SecuretagException("QA generation failed: " + cause, cause);
    } finally {
      pool.shutdownNow();
      listener.onPhaseEnd(PHASE);
    }
    GenerationReport r = report.build();
    LOG.info("{}", r.format().strip());
    if (out.isEmpty()) {
      throw new EmptyDatasetException("no question/answer pair survived from " + chunks.size() + " chunks", r);
    }
    return new GenerationResult(out, r);
  }

  private List<QaPair> process(Chunk chunk, ReportBuilder report) throws InterruptedException {
    Language lang = language.resolve(chunk.text());
    String template = templates.getOrDefault(lang, PromptTemplates.generation(lang));
    Map<String, String> values = new LinkedHashMap<>();
    values.put("count", String.valueOf(pairsPerChunk));
    values.put("section", chunk.source().section().isEmpty() ? "-" : chunk.source().section());
    values.put("document", chunk.source().document());
    values.put("language", lang == Language.ES ? "español" : "English");
    String prompt = PromptTemplates.render(template, values, chunk.text());
    boolean schema = llm.supportsJsonSchema();
    String key = Hashing.sha256Hex(String.join("\u0000", "gen-v1", chunk.id(),
        chunk.source().page() + "-" + chunk.source().lastPage(), Hashing.sha256Hex(template),
        Hashing.sha256Hex(systemPrompt == null ? "" : systemPrompt), llm.modelName(), lang.code(),
        String.valueOf(pairsPerChunk), String.valueOf(temperature), String.valueOf(topP), String.valueOf(maxTokens),
        String.valueOf(seed), String.valueOf(schema)));
    LlmRequest.Builder req = LlmRequest.builder().prompt(prompt).temperature(temperature).topP(topP)
        .maxTokens(maxTokens);
    if (systemPrompt != null) {
      req.system(systemPrompt);
    }
    if (seed != null) {
      req.seed(seed);
    }
    if (schema) {
      req.jsonSchema(PromptTemplates.pairsSchema());
    }
    String response;
    try {
      response = cachedCall(llm, key, req.build(), report);
    } catch (RemoteServiceException e) {
      report.drop(DropReason.REQUEST_FAILED);
      LOG.warn("chunk {} of {} p.{}: LLM request failed ({}): {}", chunk.index(), chunk.source().document(),
          chunk.source().page(), e.kind(), e.getMessage());
      return List.of();
    }
    QaResponseParser.Outcome o = QaResponseParser.parse(response);
    if (o.failure() != null) {
      report.drop(DropReason.PARSE_FAILURE);
      LOG.warn("chunk {} of {} p.{}: {}", chunk.index(), chunk.source().document(), chunk.source().page(),
          o.failure());
      return List.of();
    }
    if (o.truncated()) {
      report.truncated();
    }
    for (int i = 0; i < o.missingFields(); i++) {
      report.drop(DropReason.MISSING_FIELDS);
    }
    report.proposed(o.pairs().size() + o.missingFields());
    Set<String> vocabulary = Grounding.vocabulary(chunk.textWithContext());
    Set<String> questions = new HashSet<>();
    List<QaPair> kept = new ArrayList<>();
    for (QaResponseParser.RawPair p : o.pairs()) {
      String q = p.question() == null ? "" : p.question().strip();
      String a = p.answer() == null ? "" : p.answer().strip();
      DropReason reason = null;
      if (q.isEmpty()) {
        reason = DropReason.EMPTY_QUESTION;
      } else if (a.isEmpty()) {
        reason = DropReason.EMPTY_ANSWER;
      } else if (Grounding.copiesQuestion(q, a)) {
        reason = DropReason.ANSWER_COPIES_QUESTION;
      } else if (Grounding.overlap(a, vocabulary) < groundingThreshold) {
        reason = DropReason.NOT_GROUNDED;
      } else if (!questions.add(TextNormalizer.normalize(q))) {
        reason = DropReason.DUPLICATE_QUESTION;
      }
      if (reason != null) {
        report.drop(reason);
        continue;
      }
      kept.add(QaPair.builder().question(q).answer(a).source(chunk.source()).chunkId(chunk.id())
          .language(lang.code()).generator(llm.modelName()).build());
    }
    if (judge && !kept.isEmpty()) {
      kept = curate(chunk, lang, kept, report);
    }
    report.kept(kept.size());
    if (!kept.isEmpty()) {
      report.chunkWithPairs();
    }
    return kept;
  }

  /** Rates pairs in batches; a batch whose ratings cannot all be read is re-rated pair by pair. */
  private List<QaPair> curate(Chunk chunk, Language lang, List<QaPair> pairs, ReportBuilder report)
      throws InterruptedException {
    List<QaPair> out = new ArrayList<>();
    for (int from = 0; from < pairs.size(); from += judgeBatchSize) {
      List<QaPair> batch = pairs.subList(from, Math.min(pairs.size(), from + judgeBatchSize));
      Map<Integer, Double> ratings = rate(chunk, lang, batch, report);
      for (int i = 0; i < batch.size(); i++) {
        Double r = ratings.get(i + 1);
        if (r == null && batch.size() > 1) {
          r = rate(chunk, lang, List.of(batch.get(i)), report).get(1);
        }
        if (r == null) {
          report.drop(DropReason.JUDGE_FAILED);
          continue;
        }
        report.judged(r);
        if (r < judgeThreshold) {
          report.drop(DropReason.BELOW_JUDGE_THRESHOLD);
          continue;
        }
        out.add(QaPair.builder().from(batch.get(i)).judgeScore(r).build());
      }
    }
    return out;
  }

  private Map<Integer, Double> rate(Chunk chunk, Language lang, List<QaPair> batch, ReportBuilder report)
      throws InterruptedException {
    StringBuilder list = new StringBuilder();
    for (int i = 0; i < batch.size(); i++) {
      list.append(i + 1).append(". Q: ").append(batch.get(i).question()).append("\n   A: ")
          .append(batch.get(i).answer()).append('\n');
    }
    String template = PromptTemplates.judge(lang);
    String prompt = PromptTemplates.render(template, Map.of("pairs", list.toString().strip()), chunk.text());
    boolean schema = judgeLlm.supportsJsonSchema();
    String key = Hashing.sha256Hex(String.join("\u0000", "judge-v1", chunk.id(), Hashing.sha256Hex(template),
        judgeLlm.modelName(), String.valueOf(judgeTemperature), String.valueOf(schema),
        Hashing.sha256Hex(list.toString())));
    LlmRequest.Builder req = LlmRequest.builder().prompt(prompt).temperature(judgeTemperature).maxTokens(512);
    if (schema) {
      req.jsonSchema(PromptTemplates.ratingsSchema());
    }
    try {
      return RatingParser.parse(cachedCall(judgeLlm, key, req.build(), report), batch.size());
    } catch (RemoteServiceException e) {
      LOG.warn("judge request for chunk {} of {} failed ({}): {}", chunk.index(), chunk.source().document(),
          e.kind(), e.getMessage());
      return Map.of();
    }
  }

  private String cachedCall(LlmClient client, String key, LlmRequest request, ReportBuilder report)
      throws InterruptedException {
    if (cache != null) {
      var hit = cache.get(key);
      if (hit.isPresent()) {
        report.cached();
        return hit.get();
      }
    }
    String text = callWithRetries(client, client == llm ? llmRetries : judgeRetries, request, report);
    if (cache != null) {
      cache.put(key, text);
    }
    return text;
  }

  private String callWithRetries(LlmClient client, RetryPolicy retries, LlmRequest request, ReportBuilder report)
      throws InterruptedException {
    return retries.execute(attempt -> {
      rateLimiter.acquire();
      report.llmCall();
      return callOnce(client, request).text();
    }, (attempts, e, delay) -> report.retry());
  }

  /** One call bounded by the per-request timeout; a call that overruns is cancelled and reported as TIMEOUT. */
  private LlmResponse callOnce(LlmClient client, LlmRequest request) throws InterruptedException {
    Future<LlmResponse> f = callExecutor.submit(() -> client.generate(request));
    try {
      return f.get(requestTimeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      f.cancel(true);
      throw new RemoteServiceException(RemoteServiceException.Kind.TIMEOUT, 0,
          "no response within " + requestTimeout.toMillis() + " ms", null, e);
    } catch (InterruptedException e) {
      f.cancel(true);
      throw e;
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof RemoteServiceException rse) {
        throw rse;
      }
      // Anything else is a bug or a bad response in the client: not worth retrying, but never silently empty.
      throw new RemoteServiceException(RemoteServiceException.Kind.BAD_RESPONSE, 0,
          "LLM client failed: " + cause, null, cause);
    }
  }


  private void checkOpen() {
    if (closed.get()) {
      throw new IllegalStateException("QaGenerator is closed");
    }
  }

  /** Closes the cache file and stops call threads; the LLM client stays open (its owner closes it). */
  @Override
  public void close() {
    if (closed.compareAndSet(false, true)) {
      callExecutor.shutdownNow();
      if (cache != null) {
        cache.close();
      }
    }
  }

  @Override
  public String toString() {
    return "QaGenerator[model=" + llm.modelName() + ", pairsPerChunk=" + pairsPerChunk + ", concurrency="
        + concurrency + ", judge=" + judge + "]";
  }

  /** Configures a {@link QaGenerator}. */
  public static final class Builder {
    private LlmClient llm;
    private LlmClient judgeLlm;
    private int pairsPerChunk = 3;
    private Language language = Language.AUTO;
    private int concurrency = 4;
    private int requestsPerMinute;
    private RetryPolicy retryPolicy = DEFAULT_RETRIES;
    private Integer maxRetries;
    private Duration initialBackoff;
    private Duration maxBackoff;
    private Duration requestTimeout = Duration.ofSeconds(120);
    private Path cache;
    private final Map<Language, String> templates = new LinkedHashMap<>();
    private String systemPrompt;
    private double temperature = 0.7;
    private double topP = 0.95;
    private int maxTokens = 2048;
    private Long seed;
    private double groundingThreshold = 0.5;
    private boolean judge;
    private double judgeThreshold = 7.0;
    private double judgeTemperature = 0.1;
    private int judgeBatchSize = 5;
    private ProgressListener listener = ProgressListener.NONE;

    private Builder() {}

    /** The model to generate with (required). */
    public Builder llm(LlmClient llm) {
      this.llm = llm;
      return this;
    }

    /** Pairs to ask for per chunk (default 3). */
    public Builder pairsPerChunk(int pairsPerChunk) {
      this.pairsPerChunk = pairsPerChunk;
      return this;
    }

    /** Language of prompts and pairs; {@link Language#AUTO} (default) follows each chunk. */
    public Builder language(Language language) {
      this.language = language;
      return this;
    }

    /** Requests in flight at once (default 4). */
    public Builder concurrency(int concurrency) {
      this.concurrency = concurrency;
      return this;
    }

    /** Upper bound on requests per minute across all threads; 0 (default) is unlimited. */
    public Builder requestsPerMinute(int requestsPerMinute) {
      this.requestsPerMinute = requestsPerMinute;
      return this;
    }

    /**
     * How requests to a client that does not retry by itself are retried (default: 4 attempts, i.e. 3 retries as
     * synthetic-data-kit makes, 1 s doubling to 30 s with ±50 % jitter, Retry-After honoured up to 5 min). Clients that
     * retry by themselves ({@link LlmClient#retryPolicy()}) get no extra attempts whatever this says: see the class
     * documentation.
     */
    public Builder retryPolicy(RetryPolicy retryPolicy) {
      this.retryPolicy = retryPolicy;
      return this;
    }

    /**
     * Retries after a retriable failure.
     *
     * @deprecated use {@link #retryPolicy(RetryPolicy)}; {@code maxRetries(n)} is {@code maxAttempts(n + 1)}
     */
    @Deprecated
    public Builder maxRetries(int maxRetries) {
      this.maxRetries = maxRetries;
      return this;
    }

    /**
     * First backoff delay, doubled per retry up to {@code max}, with jitter.
     *
     * @deprecated use {@link #retryPolicy(RetryPolicy)} with {@code initialBackoff} and {@code maxBackoff}
     */
    @Deprecated
    public Builder backoff(Duration initial, Duration max) {
      this.initialBackoff = initial;
      this.maxBackoff = max;
      return this;
    }

    /** The policy with the deprecated setters applied on top; computed, the builder's fields stay as they are. */
    private RetryPolicy effectiveRetryPolicy() {
      RetryPolicy.Builder p = RetryPolicy.builder().from(retryPolicy);
      if (maxRetries != null) {
        p.maxAttempts(maxRetries + 1);
      }
      if (initialBackoff != null) {
        p.initialBackoff(initialBackoff).maxBackoff(maxBackoff);
      }
      return p.build();
    }

    /** Longest wait for one response before it counts as a (retriable) timeout (default 120 s). */
    public Builder requestTimeout(Duration requestTimeout) {
      this.requestTimeout = requestTimeout;
      return this;
    }

    /** Append-only cache file that makes runs resumable (none by default). */
    public Builder cache(Path cache) {
      this.cache = cache;
      return this;
    }

    /**
     * One prompt template for every language, with placeholders {@code {{text}}} (required), {@code {{count}}},
     * {@code {{section}}}, {@code {{document}}} and {@code {{language}}}, replaced literally.
     */
    public Builder promptTemplate(String template) {
      for (Language l : List.of(Language.EN, Language.ES)) {
        templates.put(l, template);
      }
      return this;
    }

    /** The template for one language ({@link Language#EN} or {@link Language#ES}). */
    public Builder promptTemplate(Language lang, String template) {
      templates.put(lang, template);
      return this;
    }

    public Builder systemPrompt(String systemPrompt) {
      this.systemPrompt = systemPrompt;
      return this;
    }

    /** Sampling temperature (default 0.7) and top-p (default 0.95), synthetic-data-kit's generation settings. */
    public Builder sampling(double temperature, double topP) {
      this.temperature = temperature;
      this.topP = topP;
      return this;
    }

    public Builder maxTokens(int maxTokens) {
      this.maxTokens = maxTokens;
      return this;
    }

    /** Sampling seed sent to backends that honour one. */
    public Builder seed(long seed) {
      this.seed = seed;
      return this;
    }

    /** Least share of an answer's content words that must occur in the chunk (default 0.5). */
    public Builder groundingThreshold(double groundingThreshold) {
      this.groundingThreshold = groundingThreshold;
      return this;
    }

    /** Rate every kept pair with an LLM judge and keep those at or above the threshold (off by default). */
    public Builder judge(boolean judge) {
      this.judge = judge;
      return this;
    }

    /** A separate model for the judge (default: the generating model); implies {@code judge(true)}. */
    public Builder judgeLlm(LlmClient judgeLlm) {
      this.judgeLlm = judgeLlm;
      this.judge = true;
      return this;
    }

    /** Lowest judge rating kept (default 7.0). */
    public Builder judgeThreshold(double judgeThreshold) {
      this.judgeThreshold = judgeThreshold;
      return this;
    }

    public Builder judgeTemperature(double judgeTemperature) {
      this.judgeTemperature = judgeTemperature;
      return this;
    }

    /** Pairs rated per judge request (default 5). */
    public Builder judgeBatchSize(int judgeBatchSize) {
      this.judgeBatchSize = judgeBatchSize;
      return this;
    }

    public Builder listener(ProgressListener listener) {
      this.listener = listener;
      return this;
    }

    public QaGenerator build() {
      if (llm == null) {
        throw new IllegalStateException("QaGenerator needs an llm");
      }
      if (pairsPerChunk < 1 || concurrency < 1 || judgeBatchSize < 1 || maxTokens < 1) {
        throw new IllegalArgumentException("pairsPerChunk, concurrency, judgeBatchSize and maxTokens must be >= 1");
      }
      if (retryPolicy == null) {
        throw new IllegalArgumentException("QaGenerator.retryPolicy must not be null");
      }
      if (maxRetries != null && maxRetries < 0) {
        throw new IllegalArgumentException("QaGenerator.maxRetries must be >= 0, was " + maxRetries);
      }
      if (initialBackoff != null && (maxBackoff == null || initialBackoff.isNegative()
          || maxBackoff.compareTo(initialBackoff) < 0)) {
        throw new IllegalArgumentException("QaGenerator.backoff needs 0 <= initial <= max");
      }
      if (requestTimeout == null || requestTimeout.isNegative() || requestTimeout.isZero()) {
        throw new IllegalArgumentException("QaGenerator.requestTimeout must be > 0");
      }
      if (!(groundingThreshold >= 0 && groundingThreshold <= 1)) {
        throw new IllegalArgumentException("groundingThreshold must be in [0, 1]");
      }
      if (!(judgeThreshold >= 1 && judgeThreshold <= 10)) {
        throw new IllegalArgumentException("judgeThreshold must be in [1, 10]");
      }
      if (templates.containsKey(Language.AUTO) || templates.containsKey(null)) {
        throw new IllegalArgumentException("QaGenerator.promptTemplate: a template is for EN or ES, not AUTO");
      }
      for (Map.Entry<Language, String> t : templates.entrySet()) {
        if (t.getValue() == null || !t.getValue().contains("{{text}}")) {
          throw new IllegalArgumentException("prompt template for " + t.getKey().name().toLowerCase(Locale.ROOT)
              + " must contain {{text}}");
        }
      }
      if (language == null || listener == null) {
        throw new IllegalArgumentException("language and listener must not be null");
      }
      return new QaGenerator(this);
    }
  }
}
