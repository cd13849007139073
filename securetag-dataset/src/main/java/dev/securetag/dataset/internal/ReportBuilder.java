package dev.securetag.dataset.internal;

import dev.securetag.dataset.DropReason;
import dev.securetag.dataset.GenerationReport;
import java.util.EnumMap;
import java.util.Map;
import java.util.TreeMap;

/** Thread-safe accumulator for a {@link GenerationReport}. */
public final class ReportBuilder {
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

  public synchronized void chunks(int n) {
    chunks = n;
  }

  public synchronized void chunkWithPairs() {
    chunksWithPairs++;
  }

  public synchronized void llmCall() {
    llmCalls++;
  }

  public synchronized void cached() {
    cachedResponses++;
  }

  public synchronized void retry() {
    retries++;
  }

  public synchronized void truncated() {
    truncated++;
  }

  public synchronized void proposed(int n) {
    proposed += n;
  }

  public synchronized void kept(int n) {
    kept += n;
  }

  public synchronized void drop(DropReason reason) {
    drops.merge(reason, 1, Integer::sum);
  }

  public synchronized void judged(double score) {
    judged++;
    judgeSum += score;
  }

  public synchronized void rule(String rule) {
    rules.merge(rule, 1, Integer::sum);
  }

  public synchronized GenerationReport build() {
    return new GenerationReport(chunks, chunksWithPairs, llmCalls, cachedResponses, retries, truncated, proposed,
        kept, drops, judged, judged == 0 ? 0 : judgeSum / judged, rules);
  }
}
