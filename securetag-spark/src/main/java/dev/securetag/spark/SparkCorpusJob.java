package dev.securetag.spark;

import dev.securetag.dataset.Language;
import dev.securetag.pdf.OcrMode;
import dev.securetag.runpod.OllamaClient;
import dev.securetag.runpod.OpenAiCompatibleClient;
import java.nio.file.Path;
import java.util.Locale;

/**
 * The {@code spark-submit} entry point of {@link SparkPipeline}: PDFs in, train/validation JSONL out, with the offline
 * rules or an Ollama / OpenAI-compatible model for QA generation.
 *
 * <pre>
 * spark-submit --class dev.securetag.spark.SparkCorpusJob --master spark://master:7077 securetag-spark-all.jar \
 *   --input 'hdfs:///corpora/standards/*.pdf' --output /mnt/shared/dataset --cache /mnt/shared/qa-cache \
 *   --llm ollama --llm-url http://ollama.internal:11434 --llm-model mistral --pairs 3 --concurrency 8
 * </pre>
 *
 * Without {@code --master} (a plain {@code java} run) it uses the embedded {@code local[*]} Spark.
 */
public final class SparkCorpusJob {
  private SparkCorpusJob() {}

  public static void main(String[] args) {
    SparkPipeline.Builder b = SparkPipeline.builder();
    String llm = "offline";
    String url = null;
    String model = null;
    int pairs = 3;
    int concurrency = 4;
    boolean hasInput = false;
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      switch (a) {
        case "--input" -> {
          b.input(value(args, ++i, a));
          hasInput = true;
        }
        case "--output" -> b.output(Path.of(value(args, ++i, a)));
        case "--cache" -> b.cacheDir(Path.of(value(args, ++i, a)));
        case "--tokenizer" -> b.tokenizer(Path.of(value(args, ++i, a)));
        case "--max-tokens" -> b.maxTokens(Integer.parseInt(value(args, ++i, a)));
        case "--overlap-tokens" -> b.overlapTokens(Integer.parseInt(value(args, ++i, a)));
        case "--language" -> b.language(Language.valueOf(value(args, ++i, a).toUpperCase(Locale.ROOT)));
        case "--ocr" -> b.ocr(OcrMode.valueOf(value(args, ++i, a).toUpperCase(Locale.ROOT)));
        case "--partitions" -> b.partitions(Integer.parseInt(value(args, ++i, a)));
        case "--llm" -> llm = value(args, ++i, a);
        case "--llm-url" -> url = value(args, ++i, a);
        case "--llm-model" -> model = value(args, ++i, a);
        case "--pairs" -> pairs = Integer.parseInt(value(args, ++i, a));
        case "--concurrency" -> concurrency = Integer.parseInt(value(args, ++i, a));
        case "--help", "-h" -> {
          System.out.println(USAGE);
          return;
        }
        default -> throw new IllegalArgumentException("unknown option " + a + "\n" + USAGE);
      }
    }
    if (!hasInput) {
      throw new IllegalArgumentException("--input is required\n" + USAGE);
    }
    final String baseUrl = url;
    final String modelName = model;
    switch (llm) {
      case "offline" -> { }
      case "ollama" -> b.llm(() -> OllamaClient.builder().baseUrl(baseUrl != null ? baseUrl : "http://127.0.0.1:11434")
          .model(modelName != null ? modelName : "llama3.1").build());
      // The key is read from the executor's environment: it never travels inside the task closure.
      case "openai" -> b.llm(() -> OpenAiCompatibleClient.builder().baseUrl(require(baseUrl, "--llm-url"))
          .apiKey(System.getenv().getOrDefault("OPENAI_API_KEY", ""))
          .model(modelName != null ? modelName : "gpt-4o-mini").build());
      default -> throw new IllegalArgumentException("--llm must be offline, ollama or openai, was " + llm);
    }
    final int p = pairs;
    final int c = concurrency;
    b.qa(q -> q.pairsPerChunk(p).concurrency(c));
    SparkPipeline.Result r = b.build().run();
    System.out.println(r.generation().format());
    System.out.println(r.stats().format());
    r.failures().forEach(f -> System.out.println("failed: " + f.path() + ": " + f.error().orElse("")));
    System.out.println("wrote " + r.files().trainFile() + " and " + r.files().validationFile() + " in "
        + r.time().toSeconds() + " s");
  }

  private static final String USAGE = """
      usage: SparkCorpusJob --input PATH|GLOB [--input ...] --output DIR [options]
        --cache DIR            LLM response cache on storage every executor mounts (default OUTPUT/qa-cache)
        --tokenizer FILE       tokenizer.json readable on driver and executors (default: estimate)
        --max-tokens N --overlap-tokens N --language auto|en|es --ocr auto|off|always --partitions N
        --llm offline|ollama|openai  --llm-url URL  --llm-model NAME  --pairs N  --concurrency N
          (openai reads OPENAI_API_KEY from each executor's environment)""";

  private static String value(String[] args, int i, String flag) {
    if (i >= args.length) {
      throw new IllegalArgumentException(flag + " needs a value");
    }
    return args[i];
  }

  private static String require(String v, String flag) {
    if (v == null) {
      throw new IllegalArgumentException(flag + " is required for this --llm");
    }
    return v;
  }
}
