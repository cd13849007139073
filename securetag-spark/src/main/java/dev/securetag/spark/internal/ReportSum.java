package dev.securetag.spark.internal;

import dev.securetag.dataset.DropReason;
import dev.securetag.dataset.GenerationReport;
import java.util.EnumMap;
import java.util.Map;
import java.util.TreeMap;

/** Moves a {@link GenerationReport} into a {@link DocumentOutput} and adds the per-document reports back up. */
public final class ReportSum {
  private int chunks;
  private int chunksWithPairs;
  private int llmCalls;
  private int cachedResponses;
  private int retries;
  private int truncated;
  private int proposed;
  private int kept;
  private int judged;
  private double judgeSum;
  private final Map<DropReason, Integer> drops = new EnumMap<>(DropReason.class);
  private final Map<String, Integer> rules = new TreeMap<>();

  static void fill(DocumentOutput out, GenerationReport r) {
    out.chunksWithPairs = r.chunksWithPairs();
    out.llmCalls = r.llmCalls();
    out.cachedResponses = r.cachedResponses();
    out.retries = r.retries();
    out.truncatedResponses = r.truncatedResponses();
    out.pairsProposed = r.pairsProposed();
    out.pairsKept = r.pairsKept();
    out.judged = r.judged();
    out.judgeScoreSum = r.meanJudgeScore() * r.judged();
    r.drops().forEach((k, v) -> out.drops.put(k.name(), v));
    out.rules.putAll(r.rules());
  }

  public void add(DocumentOutput o) {
    chunks += o.chunks;
    chunksWithPairs += o.chunksWithPairs;
    llmCalls += o.llmCalls;
    cachedResponses += o.cachedResponses;
    retries += o.retries;
    truncated += o.truncatedResponses;
    proposed += o.pairsProposed;
    kept += o.pairsKept;
    judged += o.judged;
    judgeSum += o.judgeScoreSum;
    o.drops.forEach((k, v) -> drops.merge(DropReason.valueOf(k), v, Integer::sum));
    o.rules.forEach((k, v) -> rules.merge(k, v, Integer::sum));
  }

  public GenerationReport build() {
    return new GenerationReport(chunks, chunksWithPairs, llmCalls, cachedResponses, retries, truncated, proposed, kept,
        drops, judged, judged == 0 ? 0 : judgeSum / judged, rules);
  }
}
