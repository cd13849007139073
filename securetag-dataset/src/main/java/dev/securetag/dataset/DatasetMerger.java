package dev.securetag.dataset;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import dev.securetag.core.InvalidInputException;
import dev.securetag.core.ProgressListener;
import dev.securetag.core.TrainingExample;
import dev.securetag.core.internal.AtomicFiles;
import dev.securetag.core.internal.Json;
import dev.securetag.dataset.internal.RecordWriter;
import dev.securetag.dataset.internal.SchemaMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PushbackInputStream;
import java.io.UncheckedIOException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Combines existing datasets into one JSONL file (the "combine with existing datasets" step). Reads JSON-array
 * files and JSONL files, maps Alpaca, ShareGPT, OpenAI {@code messages}, prompt/completion and question/answer
 * records into {@link TrainingExample}s, skips malformed records and reports each as {@code file:line: reason},
 * optionally dedupes, and writes the result atomically in one {@link DatasetFormat}. Records are streamed one at a
 * time, so memory does not grow with the input (except the deduplicator's fingerprints, when enabled).
 *
 * <pre>{@code
 * DatasetMerger.Report r = DatasetMerger.builder()
 *     .input(Path.of("ours/train.jsonl")).input(Path.of("public/alpaca.json"))
 *     .build().merge(Path.of("combined.jsonl"));
 * }</pre>
 */
public final class DatasetMerger {
  private static final Logger LOG = LoggerFactory.getLogger(DatasetMerger.class);
  private static final int MAX_REPORTED_ISSUES = 1000;

  private final List<Path> inputs;
  private final DatasetFormat format;
  private final MetadataMode metadata;
  private final String systemPrompt;
  private final Deduplicator deduplicator;
  private final ProgressListener listener;

  /** One skipped record: where it is and why. */
  public record Issue(String location, String reason) {
    @Override
    public String toString() {
      return location + ": " + reason;
    }
  }

  /**
   * What a merge did. {@code issues} holds the first 1000 skipped records; {@code malformed} counts all of them.
   */
  public record Report(int filesRead, long recordsRead, long written, long malformed, long exactDuplicates,
      long nearDuplicates, Map<RecordSchema, Long> bySchema, List<Issue> issues) {
    public Report {
      bySchema = Map.copyOf(bySchema);
      issues = List.copyOf(issues);
    }
  }

  private DatasetMerger(Builder b) {
    this.inputs = List.copyOf(b.inputs);
    this.format = b.format;
    this.metadata = b.metadata;
    this.systemPrompt = b.systemPrompt;
    this.deduplicator = b.deduplicator;
    this.listener = b.listener;
  }

  public static Builder builder() {
    return new Builder();
  }

  /** Reads every input and writes the combined dataset to {@code output} (replaced atomically). */
  public Report merge(Path output) {
    Counters c = new Counters();
    Deduplicator.Session dedupe = deduplicator == null ? null : deduplicator.newSession();
    AtomicFiles.write(output, out -> {
      try (RecordWriter w = new RecordWriter(out, null, format, systemPrompt, metadata == MetadataMode.INLINE)) {
        for (Path in : inputs) {
          read(in, c, e -> {
            if (dedupe != null && dedupe.offer(e) != Deduplicator.Verdict.KEEP) {
              return;
            }
            try {
              w.write(e);
            } catch (IOException ex) {
              throw new UncheckedIOException(ex);
            }
            c.written++;
          });
          c.files++;
          listener.report("merge", c.files, inputs.size(), "files");
        }
      }
    });
    listener.onPhaseEnd("merge");
    Report r = new Report(c.files, c.read, c.written, c.malformed,
        dedupe == null ? 0 : dedupe.exactDuplicates(), dedupe == null ? 0 : dedupe.nearDuplicates(), c.bySchema,
        c.issues);
    LOG.info("merged {} records from {} files into {} ({} written, {} malformed skipped)", r.recordsRead(),
        r.filesRead(), output, r.written(), r.malformed());
    return r;
  }

  /**
   * Streams the records of one dataset file to {@code sink}; malformed records go to {@code issues} (which may be
   * null to ignore them). A file that cannot be opened is an {@link InvalidInputException}.
   */
  public static void read(Path file, Consumer<TrainingExample> sink, Consumer<Issue> issues) {
    Counters c = new Counters();
    c.issueSink = issues;
    read(file, c, sink);
  }

  /** Every well-formed record of one file, in order. */
  public static List<TrainingExample> readAll(Path file) {
    List<TrainingExample> out = new ArrayList<>();
    read(file, out::add, null);
    return out;
  }

  private static void read(Path file, Counters c, Consumer<TrainingExample> sink) {
    if (!Files.isRegularFile(file)) {
      throw new InvalidInputException(file.toString(), "dataset file not found");
    }
    String name = file.getFileName().toString();
    try (PushbackInputStream in = new PushbackInputStream(Files.newInputStream(file), 4)) {
      int first = skipBomAndWhitespace(in);
      if (first == '[') {
        readArray(in, name, c, sink);
      } else {
        readLines(in, name, c, sink);
      }
    } catch (IOException e) {
      throw new InvalidInputException(file.toString(), "cannot read dataset: " + e.getMessage(), e);
    }
  }

  /** Peeks the first significant byte (after a UTF-8 BOM and whitespace) and pushes it back. */
  private static int skipBomAndWhitespace(PushbackInputStream in) throws IOException {
    int b = in.read();
    if (b == 0xEF) {
      int b2 = in.read();
      int b3 = in.read();
      if (b2 != 0xBB || b3 != 0xBF) {
        if (b3 >= 0) {
          in.unread(b3);
        }
        if (b2 >= 0) {
          in.unread(b2);
        }
        in.unread(b);
        return b;
      }
      b = in.read();
    }
    // Whitespace before the first value is harmless to both readers; only its first non-blank byte matters.
    while (b == ' ' || b == '\t' || b == '\r' || b == '\n') {
      b = in.read();
    }
    if (b >= 0) {
      in.unread(b);
    }
    return b;
  }

  private static void readArray(InputStream in, String name, Counters c, Consumer<TrainingExample> sink)
      throws IOException {
    try (JsonParser p = Json.mapper().createParser(in)) {
      p.nextToken();
      while (true) {
        JsonToken t;
        int line;
        try {
          t = p.nextToken();
          line = p.currentTokenLocation().getLineNr();
          if (t == null) {
            c.issue(new Issue(name + ":" + p.currentLocation().getLineNr(), "unterminated JSON array"));
            return;
          }
          if (t == JsonToken.END_ARRAY) {
            return;
          }
          JsonNode node = p.readValueAsTree();
          accept(node, name + ":" + line, c, sink);
        } catch (JsonProcessingException e) {
          // Inside one JSON document there is no way to resynchronise after a syntax error: stop this file.
          c.issue(new Issue(name + ":" + e.getLocation().getLineNr(),
              "invalid JSON, rest of file skipped: " + e.getOriginalMessage()));
          return;
        }
      }
    }
  }

  private static void readLines(InputStream in, String name, Counters c, Consumer<TrainingExample> sink)
      throws IOException {
    var decoder = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPLACE)
        .onUnmappableCharacter(CodingErrorAction.REPLACE);
    try (BufferedReader r = new BufferedReader(new InputStreamReader(in, decoder), 1 << 16)) {
      String line;
      int n = 0;
      while ((line = r.readLine()) != null) {
        n++;
        if (line.isBlank()) {
          continue;
        }
        JsonNode node;
        try {
          node = Json.mapper().readTree(line);
        } catch (JsonProcessingException e) {
          c.issue(new Issue(name + ":" + n, "invalid JSON: " + e.getOriginalMessage()));
          continue;
        }
        accept(node, name + ":" + n, c, sink);
      }
    }
  }

  private static void accept(JsonNode node, String location, Counters c, Consumer<TrainingExample> sink) {
    c.read++;
    SchemaMapper.Mapped m = SchemaMapper.map(node);
    if (m.example() == null) {
      c.issue(new Issue(location, m.error()));
      return;
    }
    c.bySchema.merge(m.schema(), 1L, Long::sum);
    sink.accept(m.example());
  }

  private static final class Counters {
    int files;
    long read;
    long written;
    long malformed;
    final Map<RecordSchema, Long> bySchema = new EnumMap<>(RecordSchema.class);
    final List<Issue> issues = new ArrayList<>();
    Consumer<Issue> issueSink;

    void issue(Issue i) {
      malformed++;
      LOG.warn("skipping malformed record {}", i);
      if (issueSink != null) {
        issueSink.accept(i);
      } else if (issues.size() < MAX_REPORTED_ISSUES) {
        issues.add(i);
      }
    }
  }

  /** Configures a {@link DatasetMerger}. */
  public static final class Builder {
    private final List<Path> inputs = new ArrayList<>();
    private DatasetFormat format = DatasetFormat.ALPACA;
    private MetadataMode metadata = MetadataMode.INLINE;
    private String systemPrompt;
    private Deduplicator deduplicator;
    private ProgressListener listener = ProgressListener.NONE;

    private Builder() {}

    /** Adds an input file ({@code .json} array or JSONL); inputs are read in the order added. */
    public Builder input(Path file) {
      inputs.add(file);
      return this;
    }

    public Builder inputs(List<Path> files) {
      inputs.addAll(files);
      return this;
    }

    public Builder format(DatasetFormat format) {
      this.format = format;
      return this;
    }

    /** Metadata handling of the output; {@link MetadataMode#SIDECAR} is treated as {@link MetadataMode#NONE}. */
    public Builder metadata(MetadataMode metadata) {
      this.metadata = metadata;
      return this;
    }

    public Builder systemPrompt(String systemPrompt) {
      this.systemPrompt = systemPrompt;
      return this;
    }

    /** Dedupe across all inputs (none by default, so memory stays flat). */
    public Builder dedupe(Deduplicator deduplicator) {
      this.deduplicator = deduplicator;
      return this;
    }

    public Builder listener(ProgressListener listener) {
      this.listener = listener;
      return this;
    }

    public DatasetMerger build() {
      if (inputs.isEmpty()) {
        throw new IllegalStateException("DatasetMerger needs at least one input");
      }
      if (format == null || metadata == null || listener == null) {
        throw new IllegalArgumentException("format, metadata and listener must not be null");
      }
      return new DatasetMerger(this);
    }
  }
}
