package dev.securetag.dataset;

import dev.securetag.core.TrainingExample;
import dev.securetag.core.internal.AtomicFiles;
import dev.securetag.core.internal.Hashing;
import dev.securetag.core.internal.Streams;
import dev.securetag.dataset.internal.RecordWriter;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes training examples as JSONL datasets: Alpaca (default, with a {@code metadata} key), ShareGPT or
 * OpenAI-chat records; UTF-8, one object per line, each file replaced atomically. {@link #write} also removes
 * duplicates (exact and MinHash near-duplicates) and makes a seeded, reproducible train/validation split by
 * document, section or example, assigning each group by a stable hash so no document leaks across the split.
 *
 * <pre>{@code
 * JsonlWriter writer = JsonlWriter.builder().format(DatasetFormat.ALPACA).validationRatio(0.1).seed(42).build();
 * JsonlWriter.Result r = writer.write(examples, Path.of("out"));  // out/train.jsonl, out/validation.jsonl
 * }</pre>
 */
public final class JsonlWriter {
  private static final Logger LOG = LoggerFactory.getLogger(JsonlWriter.class);

  private final DatasetFormat format;
  private final MetadataMode metadata;
  private final String systemPrompt;
  private final double validationRatio;
  private final long seed;
  private final SplitBy splitBy;
  private final Deduplicator deduplicator;
  private final String trainName;
  private final String validationName;

  /** What {@link #write} produced: the files, the examples in each split, and what dedupe removed. */
  public record Result(Path trainFile, Path validationFile, List<TrainingExample> train,
      List<TrainingExample> validation, int inputCount, int exactDuplicates, int nearDuplicates, long bytes) {
    public Result {
      train = List.copyOf(train);
      validation = List.copyOf(validation);
    }

    /** Examples written to both files. */
    public int written() {
      return train.size() + validation.size();
    }

    /** The splits by name, for {@link DatasetStats}. */
    public Map<String, List<TrainingExample>> splits() {
      Map<String, List<TrainingExample>> m = new LinkedHashMap<>();
      m.put("train", train);
      m.put("validation", validation);
      return m;
    }
  }

  private JsonlWriter(Builder b) {
    this.format = b.format;
    this.metadata = b.metadata;
    this.systemPrompt = b.systemPrompt;
    this.validationRatio = b.validationRatio;
    this.seed = b.seed;
    this.splitBy = b.splitBy;
    this.deduplicator = b.deduplicator;
    this.trainName = b.trainName;
    this.validationName = b.validationName;
  }

  public static Builder builder() {
    return new Builder();
  }

  /**
   * Dedupes, splits and writes {@code examples} into {@code dir}/train.jsonl and {@code dir}/validation.jsonl
   * (validation is written, possibly empty, whenever the ratio is above 0).
   */
  public Result write(Collection<TrainingExample> examples, Path dir) {
    List<TrainingExample> input = List.copyOf(examples);
    List<TrainingExample> kept = input;
    int exact = 0;
    int near = 0;
    if (deduplicator != null) {
      Deduplicator.Result d = deduplicator.dedupe(input);
      kept = d.kept();
      exact = d.exactDuplicates();
      near = d.nearDuplicates();
    }
    List<TrainingExample> train = new ArrayList<>();
    List<TrainingExample> validation = new ArrayList<>();
    split(kept, train, validation);
    Path trainFile = dir.resolve(trainName);
    long bytes = writeFile(train, trainFile);
    Path validationFile = null;
    if (validationRatio > 0) {
      validationFile = dir.resolve(validationName);
      bytes += writeFile(validation, validationFile);
    }
    LOG.info("wrote {} train + {} validation examples to {} ({} exact and {} near duplicates removed)",
        train.size(), validation.size(), dir, exact, near);
    return new Result(trainFile, validationFile, train, validation, input.size(), exact, near, bytes);
  }

  /** Writes {@code examples} as they are (no dedupe, no split) to {@code file}, atomically; returns bytes written. */
  public long writeFile(Iterable<TrainingExample> examples, Path file) {
    long[] size = new long[1];
    ByteArrayOutputStream sidecarBuf = metadata == MetadataMode.SIDECAR ? new ByteArrayOutputStream() : null;
    AtomicFiles.write(file, out -> {
      Streams.CountingOutputStream counting = new Streams.CountingOutputStream(out);
      try (RecordWriter w = new RecordWriter(counting, sidecarBuf, format, systemPrompt,
          metadata == MetadataMode.INLINE)) {
        for (TrainingExample e : examples) {
          w.write(e);
        }
      }
      size[0] = counting.count();
    });
    if (sidecarBuf != null) {
      AtomicFiles.write(sidecarPath(file), sidecarBuf.toByteArray());
    }
    return size[0];
  }

  /** {@code train.jsonl} → {@code train.metadata.jsonl}. */
  public static Path sidecarPath(Path file) {
    String name = file.getFileName().toString();
    String base = name.endsWith(".jsonl") ? name.substring(0, name.length() - 6) : name;
    return file.resolveSibling(base + ".metadata.jsonl");
  }

  /** One record as its JSONL line (without the newline), in this writer's format. */
  public String line(TrainingExample e) {
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    try (RecordWriter w = new RecordWriter(buf, null, format, systemPrompt, metadata == MetadataMode.INLINE)) {
      w.write(e);
    } catch (IOException ex) {
      throw new IllegalStateException("in-memory write failed", ex);
    }
    String s = buf.toString(StandardCharsets.UTF_8);
    return s.substring(0, s.length() - 1);
  }

  private void split(List<TrainingExample> kept, List<TrainingExample> train, List<TrainingExample> validation) {
    if (validationRatio <= 0) {
      train.addAll(kept);
      return;
    }
    Map<String, List<TrainingExample>> groups = new TreeMap<>();
    for (TrainingExample e : kept) {
      groups.computeIfAbsent(groupKey(e), k -> new ArrayList<>()).add(e);
    }
    Map<String, Boolean> inValidation = new LinkedHashMap<>();
    for (String key : groups.keySet()) {
      inValidation.put(key, bucket(key) < validationRatio);
    }
    long valGroups = inValidation.values().stream().filter(v -> v).count();
    if (groups.size() >= 2 && (valGroups == 0 || valGroups == groups.size())) {
      // Too few groups for per-group hashing to give both splits something: rank the groups by the same hash and
      // send the lowest-ranked ones to validation until the ratio is reached, keeping at least one on each side.
      List<String> ranked = new ArrayList<>(groups.keySet());
      ranked.sort((x, y) -> Double.compare(bucket(x), bucket(y)));
      int target = (int) Math.round(validationRatio * kept.size());
      int taken = 0;
      inValidation.replaceAll((k, v) -> false);
      for (int i = 0; i < ranked.size() - 1 && (taken == 0 || taken < target); i++) {
        inValidation.put(ranked.get(i), true);
        taken += groups.get(ranked.get(i)).size();
      }
    } else if (groups.size() == 1) {
      LOG.warn("all {} examples share one {} group: nothing can go to validation without leakage", kept.size(),
          splitBy.name().toLowerCase());
    }
    for (TrainingExample e : kept) {
      (inValidation.get(groupKey(e)) ? validation : train).add(e);
    }
  }

  private String groupKey(TrainingExample e) {
    Object source = e.metadata().get("source");
    return switch (splitBy) {
      case DOCUMENT -> source == null ? contentKey(e) : "doc:" + source;
      case SECTION -> source == null ? contentKey(e) : "sec:" + source + "\u0000" + e.metadata().getOrDefault("section", "");
      case EXAMPLE -> contentKey(e);
    };
  }

  private static String contentKey(TrainingExample e) {
    return "ex:" + e.instruction() + "\u0000" + e.input() + "\u0000" + e.output();
  }

  /** A stable value in [0, 1) for a group: the first 8 bytes of SHA-256(seed:key). */
  private double bucket(String key) {
    String hex = Hashing.sha256Hex(seed + ":" + key);
    long v = Long.parseUnsignedLong(hex.substring(0, 13), 16);
    return v / (double) (1L << 52);
  }

  /** Configures a {@link JsonlWriter}. */
  public static final class Builder {
    private DatasetFormat format = DatasetFormat.ALPACA;
    private MetadataMode metadata = MetadataMode.INLINE;
    private String systemPrompt;
    private double validationRatio = 0.1;
    private long seed = 42;
    private SplitBy splitBy = SplitBy.DOCUMENT;
    private Deduplicator deduplicator = Deduplicator.defaults();
    private String trainName = "train.jsonl";
    private String validationName = "validation.jsonl";

    private Builder() {}

    public Builder format(DatasetFormat format) {
      this.format = format;
      return this;
    }

    public Builder metadata(MetadataMode metadata) {
      this.metadata = metadata;
      return this;
    }

    /** System message for the ShareGPT and OpenAI-chat formats (none by default). */
    public Builder systemPrompt(String systemPrompt) {
      this.systemPrompt = systemPrompt;
      return this;
    }

    /** Share of examples for validation, in [0, 1); 0 writes only the train file (default 0.1). */
    public Builder validationRatio(double validationRatio) {
      this.validationRatio = validationRatio;
      return this;
    }

    public Builder seed(long seed) {
      this.seed = seed;
      return this;
    }

    public Builder splitBy(SplitBy splitBy) {
      this.splitBy = splitBy;
      return this;
    }

    /** The deduplicator to apply before splitting, or null for none (default: exact + near duplicates). */
    public Builder dedupe(Deduplicator deduplicator) {
      this.deduplicator = deduplicator;
      return this;
    }

    public Builder fileNames(String train, String validation) {
      this.trainName = train;
      this.validationName = validation;
      return this;
    }

    public JsonlWriter build() {
      if (!(validationRatio >= 0 && validationRatio < 1)) {
        throw new IllegalArgumentException("validationRatio must be in [0, 1), was " + validationRatio);
      }
      if (format == null || metadata == null || splitBy == null) {
        throw new IllegalArgumentException("format, metadata and splitBy must not be null");
      }
      if (trainName.equals(validationName) || trainName.contains("/") || validationName.contains("/")) {
        throw new IllegalArgumentException("train and validation file names must differ and be plain names");
      }
      return new JsonlWriter(this);
    }
  }
}
