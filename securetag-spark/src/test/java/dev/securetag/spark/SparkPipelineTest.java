package dev.securetag.spark;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.securetag.core.InvalidInputException;
import dev.securetag.core.LlmClient;
import dev.securetag.core.LlmRequest;
import dev.securetag.core.LlmResponse;
import dev.securetag.core.RemoteServiceException;
import dev.securetag.core.TextBlock;
import dev.securetag.dataset.DatasetPipeline;
import dev.securetag.dataset.Language;
import dev.securetag.dataset.QaGenerator;
import dev.securetag.pdf.CorpusReport;
import dev.securetag.pdf.OcrMode;
import dev.securetag.pdf.PdfCorpus;
import dev.securetag.testing.SampleCorpus;
import dev.securetag.runpod.OllamaClient;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import mockwebserver3.MockWebServer;
import org.apache.spark.TaskContext;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SparkPipelineTest {
  /** Two executor threads, and up to 3 attempts per task so that a failed task is retried as on a cluster. */
  private static final String MASTER = "local[2,3]";

  @TempDir
  static Path shared;
  static Path corpus;
  static SparkSession spark;

  @BeforeAll
  static void startSpark() {
    corpus = shared.resolve("corpus");
    SampleCorpus.writeTo(corpus);
    spark = SparkSession.builder().master(MASTER).appName("securetag-spark-test")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .getOrCreate();
  }

  @AfterAll
  static void stopSpark() {
    if (spark != null) {
      spark.stop();
    }
  }

  private static List<TextBlock> singleMachineBlocks(OcrMode ocr) {
    List<TextBlock> blocks = new ArrayList<>();
    try (PdfCorpus pdf = PdfCorpus.builder().add(corpus).ocr(ocr).languages("spa", "eng").threads(2).build()) {
      CorpusReport r = pdf.forEach(blocks::add);
      assertThat(r.documents()).hasSize(SampleCorpus.FILES.size());
    }
    return blocks;
  }

  @Test
  void writesTheSameTrainAndValidationFilesAsTheSingleMachinePipeline(@TempDir Path tmp) throws IOException {
    // given the bundled corpus run through the embedded single-machine pipeline (offline rules)
    DatasetPipeline.Result local = DatasetPipeline.builder().outputDir(tmp.resolve("local")).maxTokens(256)
        .overlapTokens(32).build().run(singleMachineBlocks(OcrMode.AUTO));

    // when the same corpus runs on Spark with two executor threads
    SparkPipeline.Result distributed = SparkPipeline.builder().input(corpus.toString()).output(tmp.resolve("spark"))
        .maxTokens(256).overlapTokens(32).partitions(2).build().run(spark);

    // then both write byte-identical datasets
    assertThat(distributed.files().written()).isEqualTo(local.files().written()).isPositive();
    assertThat(Files.readString(distributed.files().trainFile()))
        .isEqualTo(Files.readString(local.files().trainFile()));
    assertThat(Files.readString(distributed.files().validationFile()))
        .isEqualTo(Files.readString(local.files().validationFile()));
    assertThat(distributed.chunks()).isEqualTo(local.chunks().size());
    assertThat(distributed.generation().pairsKept()).isEqualTo(local.generation().report().pairsKept());
    assertThat(distributed.generation().rules()).isEqualTo(local.generation().report().rules());
    assertThat(distributed.documents()).extracting(SparkPipeline.DocumentSummary::document)
        .containsExactlyElementsOf(SampleCorpus.FILES.stream().sorted().toList());
    assertThat(distributed.failures()).isEmpty();
    // and every task streamed its PDFs one at a time
    assertThat(distributed.maxDocumentsInMemoryPerTask()).isEqualTo(1);
  }

  // ------------------------------------------------------------------ LLM generation and task retries

  /** Task attempts whose simulated executor loss has happened: their LLM client sends nothing more. */
  static final Set<Long> LOST_ATTEMPTS = ConcurrentHashMap.newKeySet();
  static final AtomicBoolean INJECTED = new AtomicBoolean();
  static final AtomicInteger CALLS_BEFORE_LOSS = new AtomicInteger();

  /** The real HTTP client, refusing to send once its task attempt has been "lost". */
  record GuardedLlm(LlmClient delegate, long attempt) implements LlmClient {
    @Override
    public LlmResponse generate(LlmRequest request) {
      if (LOST_ATTEMPTS.contains(attempt)) {
        throw new RemoteServiceException(RemoteServiceException.Kind.INVALID_REQUEST, "executor lost");
      }
      return delegate.generate(request);
    }

    @Override
    public String modelName() {
      return delegate.modelName();
    }

    @Override
    public void close() {
      delegate.close();
    }
  }

  static LlmFactory guardedOllama(String baseUrl) {
    return () -> new GuardedLlm(OllamaClient.builder().baseUrl(baseUrl).model("fake-llm").build(),
        TaskContext.get().taskAttemptId());
  }

  /**
   * On the first attempt of a task, fails it right after the LLM answered its second chunk of a document with more
   * chunks, as if the executor died there; the attempt sends nothing more (one request in flight at a time).
   */
  static QaConfigurer failFirstAttemptAfterTwoCalls() {
    return b -> {
      TaskContext ctx = TaskContext.get();
      long attempt = ctx.taskAttemptId();
      boolean first = ctx.attemptNumber() == 0;
      AtomicInteger done = new AtomicInteger();
      b.language(Language.AUTO).concurrency(1).listener(p -> {
        if (first && p.phase().equals("qa-generation") && done.incrementAndGet() == 2 && p.total() > 2
            && INJECTED.compareAndSet(false, true)) {
          LOST_ATTEMPTS.add(attempt);
          CALLS_BEFORE_LOSS.set(2);
          throw new IllegalStateException("simulated executor loss after 2 LLM calls");
        }
      });
    };
  }

  @Test
  void llmPairsMatchTheSingleMachinePipelineAndARetriedTaskRepeatsNoLlmCall(@TempDir Path tmp) throws Exception {
    FakeLlmServer llm = new FakeLlmServer();
    try (MockWebServer server = new MockWebServer()) {
      server.setDispatcher(llm);
      server.start();
      String url = server.url("/").toString();

      // given the single-machine pipeline generating with the LLM
      DatasetPipeline.Result local;
      try (OllamaClient client = OllamaClient.builder().baseUrl(url).model("fake-llm").build();
          QaGenerator gen = QaGenerator.builder().llm(client).language(Language.AUTO)
              .cache(tmp.resolve("local-cache.jsonl")).build()) {
        local = DatasetPipeline.builder().outputDir(tmp.resolve("local")).maxTokens(256).overlapTokens(32)
            .qaGenerator(gen).build().run(singleMachineBlocks(OcrMode.OFF));
      }
      int chunksWithLlm = local.chunks().size();
      assertThat(llm.total.get()).isEqualTo(chunksWithLlm);
      llm.reset();

      // when Spark runs it with the cache on shared storage and one task dies after two LLM calls
      SparkPipeline.Result distributed = SparkPipeline.builder().input(corpus.toString())
          .output(tmp.resolve("spark")).cacheDir(tmp.resolve("shared-cache")).ocr(OcrMode.OFF)
          .maxTokens(256).overlapTokens(32).partitions(2)
          .llm(guardedOllama(url)).qa(failFirstAttemptAfterTwoCalls())
          .build().run(spark);

      // then the task was retried and not one LLM call was made twice
      assertThat(INJECTED).isTrue();
      assertThat(llm.repeats()).isZero();
      assertThat(llm.total.get()).isEqualTo(distributed.chunks()).isEqualTo(chunksWithLlm);
      assertThat(distributed.generation().cachedResponses()).isGreaterThanOrEqualTo(CALLS_BEFORE_LOSS.get());
      assertThat(distributed.generation().llmCalls() + distributed.generation().cachedResponses())
          .isEqualTo(chunksWithLlm);
      // and the pairs are exactly the single-machine ones
      assertThat(distributed.files().written()).isEqualTo(local.files().written()).isPositive();
      assertThat(Files.readString(distributed.files().trainFile()))
          .isEqualTo(Files.readString(local.files().trainFile()));
      assertThat(Files.readString(distributed.files().validationFile()))
          .isEqualTo(Files.readString(local.files().validationFile()));

      // when the whole job runs again over the same cache
      llm.reset();
      SparkPipeline.Result again = SparkPipeline.builder().input(corpus.toString()).output(tmp.resolve("again"))
          .cacheDir(tmp.resolve("shared-cache")).ocr(OcrMode.OFF).maxTokens(256).overlapTokens(32).partitions(3)
          .llm(guardedOllama(url)).qa(b -> b.language(Language.AUTO)).build().run(spark);

      // then every response comes from the cache, whatever the new partitioning
      assertThat(llm.total.get()).isZero();
      assertThat(again.generation().cachedResponses()).isEqualTo(chunksWithLlm);
      assertThat(Files.readString(again.files().trainFile())).isEqualTo(Files.readString(local.files().trainFile()));
    }
  }

  // ------------------------------------------------------------------ bad input

  @Test
  void reportsACorruptPdfAndGoesOnWithTheRest(@TempDir Path tmp) throws IOException {
    Path dir = tmp.resolve("mixed");
    Files.createDirectories(dir);
    Files.copy(corpus.resolve("iso27001-policy.pdf"), dir.resolve("iso27001-policy.pdf"));
    Files.writeString(dir.resolve("broken.pdf"), "%PDF-1.7\nthis is not a PDF body\n");
    Files.writeString(dir.resolve("notes.txt"), "not a pdf, ignored");

    SparkPipeline.Result r = SparkPipeline.builder().input(dir.toString()).output(tmp.resolve("out"))
        .ocr(OcrMode.OFF).build().run(spark);

    assertThat(r.documents()).extracting(SparkPipeline.DocumentSummary::document)
        .containsExactly("broken.pdf", "iso27001-policy.pdf");
    assertThat(r.failures()).singleElement().satisfies(f -> {
      assertThat(f.document()).isEqualTo("broken.pdf");
      assertThat(f.errorKind()).isPresent();
      assertThat(f.error().orElseThrow()).contains("broken.pdf").doesNotContain("securetag-spark-");
    });
    assertThat(r.files().written()).isPositive();
  }

  @Test
  void failsWithATypedErrorNamingAnInputThatMatchesNothing(@TempDir Path tmp) {
    String glob = tmp.resolve("nothing-here/*.pdf").toString();
    assertThatThrownBy(() -> SparkPipeline.builder().input(glob).output(tmp.resolve("out")).build().run(spark))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("nothing-here");
  }

  @Test
  void builderRejectsMissingInputOrOutput() {
    assertThatThrownBy(() -> SparkPipeline.builder().output(Path.of("x")).build())
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("input");
    assertThatThrownBy(() -> SparkPipeline.builder().input("/tmp/a.pdf").build())
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("output");
    assertThatThrownBy(() -> SparkPipeline.builder().input("/a.pdf,/b.pdf").output(Path.of("x")).build())
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("one path per input");
  }
}
