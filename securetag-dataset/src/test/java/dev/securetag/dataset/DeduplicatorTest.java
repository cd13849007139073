package dev.securetag.dataset;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.securetag.core.TrainingExample;
import dev.securetag.dataset.internal.MinHashLsh;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

class DeduplicatorTest {
  private static String words(Random rnd, int n) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < n; i++) {
      sb.append("w").append(rnd.nextInt(5000)).append(' ');
    }
    return sb.toString().trim();
  }

  @Test
  void defaultsAreDistilabelsAndBandLayoutFindsPairsAtThreshold() {
    Deduplicator d = Deduplicator.defaults();
    assertThat(d.bands()).isEqualTo(16);
    assertThat(d.toString()).contains("permutations=128").contains("threshold=0.9");
  }

  @Test
  void exactDuplicatesIgnoreCaseWhitespaceAndCompatibilityForms() {
    TrainingExample a = TrainingExample.builder().instruction("¿Qué es un activo?").output("Algo de valor.").build();
    TrainingExample b = TrainingExample.builder().instruction("¿QUÉ  es un\tactivo?").output("algo de valor.").build();
    TrainingExample c = TrainingExample.builder().instruction("¿Qué es un activo?").output("Ｏtra cosa.").build();
    Deduplicator.Result r = Deduplicator.builder().nearDuplicates(false).build().dedupe(List.of(a, b, c));
    assertThat(r.kept()).containsExactly(a, c);
    assertThat(r.exactDuplicates()).isEqualTo(1);
  }

  @Test
  void nearDuplicatesAboveThresholdAreRemovedAndDistinctTextsKept() {
    Random rnd = new Random(3);
    List<TrainingExample> ex = new ArrayList<>();
    int distinct = 300;
    for (int i = 0; i < distinct; i++) {
      String out = words(rnd, 120);
      ex.add(TrainingExample.builder().instruction("Q" + i).output(out).build());
      if (i % 3 == 0) {
        // One word changed at the end: 5-gram Jaccard about 0.96.
        ex.add(TrainingExample.builder().instruction("Q" + i).output(out + " extra").build());
      }
    }
    Deduplicator.Result r = Deduplicator.defaults().dedupe(ex);
    assertThat(r.nearDuplicates()).isEqualTo(100);
    assertThat(r.kept()).hasSize(distinct);
  }

  @Test
  void pairsWellBelowThresholdAreKept() {
    Random rnd = new Random(5);
    String base = words(rnd, 100);
    String half = base.substring(0, base.length() / 2) + " " + words(rnd, 50);
    Deduplicator.Result r = Deduplicator.defaults().dedupe(List.of(
        TrainingExample.builder().instruction("Q").output(base).build(),
        TrainingExample.builder().instruction("Q").output(half).build()));
    assertThat(r.kept()).hasSize(2);
  }

  @Test
  void signatureSimilarityEstimatesJaccard() {
    MinHashLsh lsh = new MinHashLsh(256, 32, 1, 0.9, 1);
    Set<String> a = new HashSet<>();
    StringBuilder sa = new StringBuilder();
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < 300; i++) {
      sa.append("t").append(i).append(' ');
      if (i >= 100) {
        sb.append("t").append(i).append(' ');
      }
      a.add("t" + i);
    }
    for (int i = 300; i < 400; i++) {
      sb.append("t").append(i).append(' ');
    }
    // |A ∩ B| = 200, |A ∪ B| = 400 → Jaccard 0.5 over unigram shingles.
    double est = MinHashLsh.similarity(lsh.signature(sa.toString()), lsh.signature(sb.toString()));
    assertThat(est).isBetween(0.4, 0.6);
    assertThat(a).hasSize(300);
  }

  @Test
  void streamingSessionCountsEachVerdict() {
    Deduplicator.Session s = Deduplicator.defaults().newSession();
    assertThat(s.offer("one two three four five six")).isEqualTo(Deduplicator.Verdict.KEEP);
    assertThat(s.offer("ONE two three four five six")).isEqualTo(Deduplicator.Verdict.EXACT_DUPLICATE);
    assertThat(s.offer("seven eight nine ten eleven")).isEqualTo(Deduplicator.Verdict.KEEP);
    assertThat(s.exactDuplicates()).isEqualTo(1);
    assertThat(s.nearDuplicates()).isZero();
  }

  @Test
  void rejectsBandsThatDoNotDividePermutations() {
    assertThatThrownBy(() -> Deduplicator.builder().bands(7).build()).isInstanceOf(IllegalArgumentException.class);
  }
}
