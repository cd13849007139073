package dev.securetag.examples;

import dev.securetag.core.ConsoleProgressBar;
import dev.securetag.core.LlmClient;
import dev.securetag.core.LlmRequest;
import dev.securetag.core.LlmResponse;
import dev.securetag.core.TextBlock;
import dev.securetag.core.TrainingExample;
import dev.securetag.dataset.DatasetPipeline;
import dev.securetag.dataset.JsonlWriter;
import dev.securetag.dataset.Language;
import dev.securetag.dataset.QaGenerator;
import dev.securetag.gguf.GgufOutType;
import dev.securetag.gguf.GgufQuantizer;
import dev.securetag.gguf.runtime.LocalLlmServer;
import dev.securetag.gguf.Modelfile;
import dev.securetag.gguf.runtime.PromptFormat;
import dev.securetag.pdf.CorpusReport;
import dev.securetag.pdf.OcrMode;
import dev.securetag.pdf.PdfCorpus;
import dev.securetag.testing.SampleCorpus;
import dev.securetag.runpod.DeploymentAssets;
import dev.securetag.runpod.OllamaClient;
import dev.securetag.runpod.OpenAiCompatibleClient;
import dev.securetag.runpod.RunPodClient;
import dev.securetag.runpod.RunPodLlmClient;
import dev.securetag.testing.FakeRunPodEndpoint;
import dev.securetag.testing.OllamaForwardingHandler;
import dev.securetag.train.LoraConfig;
import dev.securetag.train.QloraTrainer;
import dev.securetag.train.Scheduler;
import dev.securetag.testing.TinyLlamaFactory;
import dev.securetag.train.TrainingResult;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Optional;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The main job README's first command runs: the whole seed pipeline on the embedded default, each stage switchable
 * to the real backend by a flag.
 *
 * <ol>
 *   <li>extract the bundled sample PDFs (or {@code --pdfs DIR}) with {@link PdfCorpus}, OCR when Tesseract is there;</li>
 *   <li>chunk with the model's tokenizer and generate QA pairs with the offline generator (or {@code --llm});
 *       write train/validation JSONL and print {@code DatasetStats};</li>
 *   <li>write the embedded tiny model (or use {@code --base-model DIR}) and QLoRA-fine-tune it with
 *       {@link QloraTrainer}; save the PEFT adapter and the merged checkpoint;</li>
 *   <li>convert to GGUF Q8_0 and Q4_K_M with {@link GgufQuantizer}; write the Modelfile and RunPod worker assets;</li>
 *   <li>serve the Q4_K_M file with {@link LocalLlmServer} and ask it one training question through
 *       {@link RunPodClient} pointed at a fake RunPod endpoint that forwards to it (or the real endpoint with
 *       {@code --runpod-endpoint ID} and {@code RUNPOD_API_KEY});</li>
 *   <li>print where every artifact is and a one-screen summary.</li>
 * </ol>
 *
 * <pre>
 * ./mvnw -q -B install -DskipTests &amp;&amp; ./mvnw -q -B -pl examples exec:exec
 * ./mvnw -q -B -pl examples exec:exec -Dsecuretag.args="--help"
 * </pre>
 */
public final class SecuretagPipeline {

  /** Command-line options; every one has an embedded default. */
  record Options(Path out, Path pdfs, String llm, String ollamaUrl, String openAiUrl, String llmModel,
      String runPodEndpoint, Path baseModel, int steps, int trainExamples, int threads, boolean quick,
      RunPodDeploy.Settings deploy) {

    static Options parse(String[] args) {
      Path out = Paths.get("target", "securetag-run");
      Path pdfs = null;
      String llm = "offline";
      String ollamaUrl = "http://127.0.0.1:11434";
      String openAiUrl = null;
      String llmModel = null;
      String runPodEndpoint = null;
      Path baseModel = null;
      int steps = 300;
      int trainExamples = 24;
      int threads = Math.max(1, Runtime.getRuntime().availableProcessors());
      boolean quick = false;
      RunPodDeploy.Flags deployFlags = new RunPodDeploy.Flags();
      for (int i = 0; i < args.length; i++) {
        switch (args[i]) {
          case "--out" -> out = Paths.get(value(args, ++i, "--out"));
          case "--pdfs" -> pdfs = Paths.get(value(args, ++i, "--pdfs"));
          case "--llm" -> llm = value(args, ++i, "--llm");
          case "--ollama" -> {
            ollamaUrl = value(args, ++i, "--ollama");
            llm = "ollama";
          }
          case "--openai-url" -> {
            openAiUrl = value(args, ++i, "--openai-url");
            llm = "openai";
          }
          case "--llm-model" -> llmModel = value(args, ++i, "--llm-model");
          case "--runpod-endpoint" -> runPodEndpoint = value(args, ++i, "--runpod-endpoint");
          case "--base-model" -> baseModel = Paths.get(value(args, ++i, "--base-model"));
          case "--steps" -> steps = positive(value(args, ++i, "--steps"), "--steps");
          case "--train-examples" -> trainExamples = positive(value(args, ++i, "--train-examples"), "--train-examples");
          case "--threads" -> threads = positive(value(args, ++i, "--threads"), "--threads");
          case "--quick" -> quick = true;
          case "--help", "-h" -> {
            usage(System.out);
            System.exit(0);
          }
          default -> {
            int last = deployFlags.consume(args, i);
            if (last < 0) {
              throw new IllegalArgumentException("unknown option " + args[i] + " (try --help)");
            }
            i = last;
          }
        }
      }
      if (!List.of("offline", "ollama", "openai", "runpod").contains(llm)) {
        throw new IllegalArgumentException("--llm must be offline, ollama, openai or runpod, was " + llm);
      }
      if (llm.equals("openai") && openAiUrl == null) {
        throw new IllegalArgumentException("--llm openai needs --openai-url URL");
      }
      if (llm.equals("runpod") && runPodEndpoint == null) {
        throw new IllegalArgumentException("--llm runpod needs --runpod-endpoint ID (and RUNPOD_API_KEY)");
      }
      if (quick) {
        steps = Math.min(steps, 120);
        trainExamples = Math.min(trainExamples, 4);
      }
      // Absolute, so the summary's paths work from wherever the user reads them (exec:exec runs in examples/).
      return new Options(out.toAbsolutePath(), pdfs, llm, ollamaUrl, openAiUrl, llmModel, runPodEndpoint, baseModel, steps,
          trainExamples, threads, quick, deployFlags.settings(MODEL_NAME));
    }

    private static String value(String[] args, int i, String flag) {
      if (i >= args.length) {
        throw new IllegalArgumentException(flag + " needs a value");
      }
      return args[i];
    }

    private static int positive(String v, String flag) {
      try {
        int n = Integer.parseInt(v);
        if (n > 0) {
          return n;
        }
      } catch (NumberFormatException e) {
        // reported below with the flag's name
      }
      throw new IllegalArgumentException(flag + " needs a positive integer, was " + v);
    }
  }

  /** What the run produced, for the summary and for tests. */
  record Outcome(Map<String, String> summary, CorpusReport corpus, DatasetPipeline.Result dataset,
      TrainingResult training, Path q8, Path q4, Path adapter, Path merged, String question, String expected,
      String answer) {}

  private static final String MODEL_NAME = "securetag-tiny";

  private final Options options;
  private final PrintStream out;
  private final Map<String, String> summary = new LinkedHashMap<>();

  SecuretagPipeline(Options options, PrintStream out) {
    this.options = options;
    this.out = out;
  }

  public static void main(String[] args) {
    Options options;
    try {
      options = Options.parse(args);
    } catch (IllegalArgumentException e) {
      System.err.println(e.getMessage());
      usage(System.err);
      System.exit(2);
      return;
    }
    new SecuretagPipeline(options, System.out).run();
  }

  static void usage(PrintStream s) {
    s.println("""
        usage: SecuretagPipeline [options]     (pass through Maven as -Dsecuretag.args="...")
          --out DIR              where artifacts go (default target/securetag-run)
          --pdfs DIR             PDFs to extract (default: the bundled sample corpus)
          --llm offline|ollama|openai|runpod   QA generator backend (default offline, no LLM)
          --ollama URL           Ollama base URL for QA generation (implies --llm ollama)
          --openai-url URL       OpenAI-compatible base URL (implies --llm openai; key from OPENAI_API_KEY)
          --llm-model NAME       model name for the QA generator backend
          --runpod-endpoint ID   RunPod endpoint for --llm runpod and for the final question (RUNPOD_API_KEY)
          --base-model DIR       Hugging Face Llama/Mistral checkpoint to fine-tune (default: embedded tiny model)
          --steps N              optimizer steps (default 300)
          --train-examples N     how many training pairs the demo fine-tune memorises (default 24)
          --threads N            worker threads (default: all cores)
          --quick                a smaller setting for CI (at most 120 steps on 4 pairs)""");
    s.println(RunPodDeploy.USAGE);
  }

  /** Runs every stage. */
  Outcome run() {
    long start = System.nanoTime();
    try (ConsoleProgressBar bar = ConsoleProgressBar.create()) {
      Files.createDirectories(options.out());
      summary.put("java", System.getProperty("java.version") + " (" + Runtime.getRuntime().availableProcessors() + " cores)");

      // 1. PDFs -> text blocks
      Path pdfDir = options.pdfs() != null ? options.pdfs() : samplePdfs();
      List<TextBlock> blocks = new ArrayList<>();
      CorpusReport corpus;
      Optional<String> noOcr;
      try (PdfCorpus pdf = PdfCorpus.builder().add(pdfDir).ocr(OcrMode.AUTO).languages("spa", "eng")
          .threads(options.threads()).listener(bar).build()) {
        corpus = pdf.forEach(blocks::add);
        noOcr = pdf.ocrUnavailableReason();
      }
      section("1. PDF extraction");
      out.println(corpus.summary());
      String skipped = corpus.skipped().isEmpty() ? ""
          : ", " + corpus.skipped().size() + " skipped: OCR unavailable";
      summary.put("pages", corpus.pages() + " pages, " + corpus.blocks() + " blocks, " + corpus.tables() + " tables, "
          + corpus.ocrPages() + " OCR'd, " + corpus.failures().size() + " failed" + skipped);
      if (noOcr.isPresent() && (corpus.ocrUnavailablePages() > 0)) {
        // Scanned pages are optional input for the demo: say how to get them, and carry on with the rest.
        summary.put("ocr", corpus.ocrUnavailablePages() + " scanned page(s) not read: " + noOcr.get());
      }

      // 3a. the base model first: the chunker counts tokens with its tokenizer
      Path base = options.baseModel() != null ? options.baseModel() : tinyBase(blocks);

      // 2. dataset
      DatasetPipeline.Result dataset;
      try (LlmClient llm = qaBackend()) {
        DatasetPipeline.Builder dp = DatasetPipeline.builder().outputDir(options.out().resolve("dataset"))
            .tokenizer(base.resolve("tokenizer.json")).maxTokens(256).overlapTokens(32).language(Language.AUTO)
            .listener(bar);
        if (llm != null) {
          dp.qaGenerator(QaGenerator.builder().llm(llm).language(Language.AUTO).concurrency(4)
              .cache(options.out().resolve("dataset/qa-cache.jsonl")).listener(bar).build());
        }
        dataset = dp.build().run(blocks);
      }
      section("2. Dataset");
      out.println(dataset.stats().format());
      summary.put("chunks", String.valueOf(dataset.chunks().size()));
      summary.put("pairs", dataset.files().written() + " (" + dataset.files().train().size() + " train, "
          + dataset.files().validation().size() + " validation)");

      // 3b. fine-tune on a subset small enough to memorise in minutes on a CPU
      List<TrainingExample> demo = demoSubset(dataset.files().train(), options.trainExamples());
      Path demoFile = options.out().resolve("dataset/demo-train.jsonl");
      JsonlWriter.builder().build().writeFile(demo, demoFile);
      Path trainDir = options.out().resolve("training");
      Path merged = options.out().resolve("merged-model");
      TrainingResult training;
      try (QloraTrainer trainer = QloraTrainer.builder().baseModel(base).trainData(demoFile)
          .validationData(dataset.files().validationFile()).outputDir(trainDir)
          .lora(LoraConfig.builder().r(16).alpha(32).dropout(0.0).addTargetModules(LoraConfig.ALL_LINEAR).build())
          .epochs(1000).maxSteps(options.steps()).batchSize(Math.min(8, demo.size())).gradientAccumulation(1)
          .learningRate(3e-3).warmupSteps(Math.min(20, options.steps() / 10)).scheduler(Scheduler.COSINE)
          .maxSeqLength(256).seed(42).evalSteps(Math.max(50, options.steps() / 3))
          // One resumable checkpoint at the end: with a handful of examples every step is an epoch.
          .checkpointEachEpoch(false).checkpointSteps(options.steps()).listener(bar).build()) {
        training = trainer.train();
        trainer.mergeAndSave(merged);
      }
      section("3. Fine-tuning");
      out.printf(Locale.ROOT, "steps %d, loss %.4f -> %.4f, %.0f tokens/s, %s%n", training.steps(),
          training.stepLosses().get(0), training.finalLoss(), training.tokensPerSecond(), training.wallTime());
      summary.put("final loss", String.format(Locale.ROOT, "%.4f after %d steps (%.0f tokens/s)", training.finalLoss(),
          training.steps(), training.tokensPerSecond()));

      // 4. GGUF + Modelfile + worker assets
      Path ggufDir = options.out().resolve("gguf");
      Path q8 = GgufQuantizer.builder().baseModel(merged).outType(GgufOutType.Q8_0).threads(options.threads()).listener(bar)
          .name(MODEL_NAME).build().write(ggufDir.resolve(MODEL_NAME + "-q8_0.gguf")).file();
      Path q4 = GgufQuantizer.builder().baseModel(merged).outType(GgufOutType.Q4_K_M).threads(options.threads())
          .listener(bar).name(MODEL_NAME).build().write(ggufDir.resolve(MODEL_NAME + "-q4_k_m.gguf")).file();
      Modelfile modelfile = modelfile(q4.getFileName().toString());
      modelfile.write(ggufDir.resolve("Modelfile"));
      // A complete docker build context: the GGUF linked beside the Dockerfile, the model created at build time.
      Path deploy = options.out().resolve("deploy/runpod");
      DeploymentAssets.builder().modelName(MODEL_NAME).ggufFile(q4).modelfile(modelfile.render()).build().writeTo(deploy);
      section("4. GGUF");
      out.println(q8 + "  " + size(q8));
      out.println(q4 + "  " + size(q4));
      if (options.deploy() != null) {
        section("4b. RunPod serverless endpoint");
        summary.put("endpoint", RunPodDeploy.run(options.deploy(), System.getenv(), out));
      }

      // 5. ask a training question through RunPod
      TrainingExample probe = demo.get(0);
      String answer;
      try (LocalLlmServer server = LocalLlmServer.builder().ggufFile(q4).modelName(MODEL_NAME)
          .promptFormat(PromptFormat.INSTRUCTION).port(0).start()) {
        answer = askThroughRunPod(server, probe.instruction());
      }
      section("5. Answer from the fine-tuned model (Q4_K_M, via RunPod)");
      out.println("Q: " + probe.instruction());
      out.println("A: " + answer);
      boolean memorised = normalise(answer).startsWith(normalise(probe.output()))
          || normalise(probe.output()).startsWith(normalise(answer)) && answer.length() > 20;
      summary.put("question", probe.instruction());
      summary.put("answer", abbreviate(answer, 160));
      summary.put("memorised", memorised ? "yes (matches the training answer)" : "no (trained answer: "
          + abbreviate(probe.output(), 80) + ")");

      // 6. summary
      summary.put("dataset", dataset.files().trainFile() + ", " + dataset.files().validationFile());
      summary.put("adapter", training.adapterDir().toString());
      summary.put("merged model", merged.toString());
      summary.put("gguf", q8.getFileName() + " " + size(q8) + ", " + q4.getFileName() + " " + size(q4));
      summary.put("deploy", deploy.toString());
      summary.put("time", Duration.ofNanos(System.nanoTime() - start).toSeconds() + " s");
      printSummary();
      return new Outcome(summary, corpus, dataset, training, q8, q4, training.adapterDir(), merged,
          probe.instruction(), probe.output(), answer);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * The Modelfile for a model this pipeline fine-tuned: the trainer's Alpaca layout as {@code TEMPLATE} (which also
   * overrides any chat template the base model's GGUF carries) and no {@code SYSTEM}, because training used none.
   */
  public static Modelfile modelfile(String ggufFileName) {
    return Modelfile.builder().from("./" + ggufFileName).template(Modelfile.ALPACA_TEMPLATE)
        .parameter("temperature", 0.2).parameter("stop", "### Instruction:").build();
  }

  /** The bundled sample PDFs: committed under examples/sample-pdfs, regenerated if absent. */
  private Path samplePdfs() {
    for (Path candidate : List.of(Paths.get("sample-pdfs"), Paths.get("examples", "sample-pdfs"))) {
      if (Files.isDirectory(candidate)) {
        return candidate;
      }
    }
    Path dir = options.out().resolve("sample-pdfs");
    SampleCorpus.writeTo(dir);
    return dir;
  }

  /**
   * The embedded base model, cached across runs: a random tiny Llama whose tokenizer is trained on the built-in
   * security vocabulary plus the extracted corpus, so answers take few tokens.
   */
  private Path tinyBase(List<TextBlock> blocks) {
    Path dir = options.out().resolve("base-model");
    if (Files.exists(dir.resolve("config.json")) && Files.exists(dir.resolve("tokenizer.model"))) {
      return dir;
    }
    StringBuilder corpus = new StringBuilder(TinyLlamaFactory.defaultCorpus());
    blocks.forEach(b -> corpus.append('\n').append(b.text()));
    TinyLlamaFactory.Builder f = TinyLlamaFactory.builder().corpus(corpus.toString()).seed(42);
    if (!options.quick()) {
      f.hiddenSize(128).layers(4).heads(4).kvHeads(2).intermediateSize(256).vocabSize(1024).maxPositions(512);
    }
    return f.build().writeTo(dir);
  }

  /** The QA generator's LLM for --llm, or null for the offline rules. */
  private LlmClient qaBackend() {
    return switch (options.llm()) {
      case "ollama" -> OllamaClient.builder().baseUrl(options.ollamaUrl())
          .model(options.llmModel() != null ? options.llmModel() : "llama3.1").build();
      case "openai" -> OpenAiCompatibleClient.builder().baseUrl(options.openAiUrl())
          .apiKey(System.getenv().getOrDefault("OPENAI_API_KEY", ""))
          .model(options.llmModel() != null ? options.llmModel() : "gpt-4o-mini").build();
      case "runpod" -> RunPodLlmClient.builder().runPod(RunPodClient.builder().endpointId(options.runPodEndpoint())
          .apiKey(requireEnv("RUNPOD_API_KEY")).build()).shareRunPod(false)
          .model(options.llmModel() != null ? options.llmModel() : "securetag").build();
      default -> null;
    };
  }

  /**
   * Submits the question as a RunPod job. With --runpod-endpoint it goes to the real endpoint; otherwise to an
   * in-process fake endpoint whose worker forwards the job to the local server, exactly as the Ollama worker image
   * forwards to Ollama.
   */
  private String askThroughRunPod(LocalLlmServer server, String question) {
    LlmRequest request = LlmRequest.builder().prompt(question).temperature(0.0).maxTokens(160).seed(42)
        .addStop("### Instruction:").build();
    if (options.runPodEndpoint() != null) {
      try (RunPodLlmClient llm = RunPodLlmClient.builder().runPod(RunPodClient.builder()
          .endpointId(options.runPodEndpoint()).apiKey(requireEnv("RUNPOD_API_KEY")).build())
          .shareRunPod(false).model(MODEL_NAME).build()) {
        return llm.generate(request).text().strip();
      }
    }
    String key = "local-demo-key";
    try (FakeRunPodEndpoint endpoint = FakeRunPodEndpoint.builder().apiKey(key)
        .handler(OllamaForwardingHandler.forwardingTo(server.baseUri().toString(), MODEL_NAME)).build();
        RunPodLlmClient llm = RunPodLlmClient.builder().runPod(RunPodClient.builder().endpointId(endpoint.endpointId())
            .apiKey(key).baseUrl(endpoint.baseUrl()).build()).shareRunPod(false).model(MODEL_NAME).build()) {
      LlmResponse response = llm.generate(request);
      return response.text().strip();
    }
  }

  /** The first {@code n} training examples with distinct, short answers: a set a tiny model can memorise. */
  static List<TrainingExample> demoSubset(List<TrainingExample> train, int n) {
    List<TrainingExample> picked = new ArrayList<>();
    java.util.Set<String> seen = new java.util.HashSet<>();
    Stream.of(true, false).forEach(shortOnly -> {
      for (TrainingExample e : train) {
        if (picked.size() >= n) {
          return;
        }
        if ((!shortOnly || e.output().length() <= 240) && seen.add(e.instruction())) {
          picked.add(e);
        }
      }
    });
    if (picked.isEmpty()) {
      throw new IllegalStateException("the dataset has no training examples to fine-tune on");
    }
    return picked;
  }

  private static String requireEnv(String name) {
    String v = System.getenv(name);
    if (v == null || v.isBlank()) {
      throw new IllegalArgumentException(name + " must be set in the environment");
    }
    return v;
  }

  static String normalise(String s) {
    return s.strip().replaceAll("\\s+", " ").toLowerCase(Locale.ROOT);
  }

  private static String abbreviate(String s, int max) {
    String one = s.strip().replaceAll("\\s+", " ");
    return one.length() <= max ? one : one.substring(0, max - 3) + "...";
  }

  private static String size(Path p) {
    try {
      long b = Files.size(p);
      return b >= 1 << 20 ? String.format(Locale.ROOT, "%.1f MB", b / 1048576.0)
          : String.format(Locale.ROOT, "%.0f KB", b / 1024.0);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private void section(String title) {
    out.println();
    out.println("== " + title);
  }

  private void printSummary() {
    int width = summary.keySet().stream().mapToInt(String::length).max().orElse(0);
    section("securetag summary");
    summary.forEach((k, v) -> out.printf(Locale.ROOT, "  %-" + width + "s  %s%n", k, v));
  }
}
