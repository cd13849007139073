package dev.securetag.dataset;

import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * What a QA generation run did: chunks processed, LLM calls made and answered from the cache, retries, pairs
 * proposed and kept, every drop by {@link DropReason}, judge figures, and (offline) pairs per rule.
 *
 * @param chunks chunks given to the generator
 * @param chunksWithPairs chunks that yielded at least one kept pair
 * @param llmCalls requests actually sent (generation and judge), retries included
 * @param cachedResponses responses answered from the resumable cache instead of a call
 * @param retries repeated attempts after retriable failures
 * @param truncatedResponses responses whose JSON was cut off and kept only in its complete elements
 * @param pairsProposed pairs recovered from responses (or derived by rules) before filtering
 * @param pairsKept pairs returned
 * @param drops dropped pairs or responses by reason
 * @param judged pairs rated by the judge
 * @param meanJudgeScore mean rating of the judged pairs, 0 when none
 * @param rules kept pairs per offline rule ("section", "definition", "table-row"); empty for LLM generation
 */
public record GenerationReport(int chunks, int chunksWithPairs, int llmCalls, int cachedResponses, int retries,
    int truncatedResponses, int pairsProposed, int pairsKept, Map<DropReason, Integer> drops, int judged,
    double meanJudgeScore, Map<String, Integer> rules) {

  public GenerationReport {
    drops = drops.isEmpty() ? Map.of() : Map.copyOf(new EnumMap<>(drops));
    rules = Map.copyOf(rules);
  }

  /** Drops for one reason. */
  public int dropped(DropReason reason) {
    return drops.getOrDefault(reason, 0);
  }

  /** All drops. */
  public int totalDropped() {
    return drops.values().stream().mapToInt(Integer::intValue).sum();
  }

  /** A few lines for logs and the console. */
  public String format() {
    StringBuilder sb = new StringBuilder();
    sb.append(String.format(Locale.ROOT, "QA generation: %d chunks, %d with pairs; %d pairs kept of %d proposed%n",
        chunks, chunksWithPairs, pairsKept, pairsProposed));
    if (llmCalls > 0 || cachedResponses > 0) {
      sb.append(String.format(Locale.ROOT, "  LLM calls %d, from cache %d, retries %d, truncated responses %d%n",
          llmCalls, cachedResponses, retries, truncatedResponses));
    }
    if (judged > 0) {
      sb.append(String.format(Locale.ROOT, "  judged %d, mean score %.2f%n", judged, meanJudgeScore));
    }
    Map<DropReason, Integer> sorted = new EnumMap<>(DropReason.class);
    sorted.putAll(drops);
    sorted.forEach((k, v) -> sb.append(String.format(Locale.ROOT, "  dropped %-22s %d%n", k, v)));
    new LinkedHashMap<>(rules).forEach((k, v) -> sb.append(String.format(Locale.ROOT, "  rule %-12s %d%n", k, v)));
    return sb.toString();
  }

  @Override
  public String toString() {
    return format();
  }
}
