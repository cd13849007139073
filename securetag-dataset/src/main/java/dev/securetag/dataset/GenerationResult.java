package dev.securetag.dataset;

import dev.securetag.core.QaPair;
import dev.securetag.core.TrainingExample;
import java.util.List;

/** The pairs a generator produced, in chunk order, and the report of how they were obtained. */
public record GenerationResult(List<QaPair> pairs, GenerationReport report) {
  public GenerationResult {
    pairs = List.copyOf(pairs);
  }

  /** The pairs as Alpaca training examples with provenance metadata. */
  public List<TrainingExample> examples() {
    return pairs.stream().map(TrainingExample::fromQaPair).toList();
  }
}
