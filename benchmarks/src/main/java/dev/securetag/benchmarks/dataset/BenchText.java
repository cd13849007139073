package dev.securetag.benchmarks.dataset;

import dev.securetag.core.BlockKind;
import dev.securetag.core.SourceRef;
import dev.securetag.core.TextBlock;
import dev.securetag.core.TrainingExample;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/** Deterministic standards-like text and examples for the dataset benchmarks. */
final class BenchText {
  private static final String[] WORDS = ("the organization shall define approve publish communicate review"
      + " information security policy access control rights asset owner risk treatment plan incident response"
      + " la organización debe definir aprobar publicar revisar política de seguridad de la información control"
      + " acceso derechos activo propietario riesgo tratamiento plan respuesta incidentes requirement evidence"
      + " audit records logging monitoring backup cryptography supplier agreement").split(" ");

  private BenchText() {}

  static String sentence(SplittableRandom rnd) {
    int n = 8 + rnd.nextInt(20);
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < n; i++) {
      String w = WORDS[rnd.nextInt(WORDS.length)];
      sb.append(i == 0 ? Character.toUpperCase(w.charAt(0)) + w.substring(1) : w).append(' ');
    }
    return sb.toString().strip() + ".";
  }

  /** About {@code chars} characters of headings and paragraphs over several documents. */
  static List<TextBlock> blocks(long chars, long seed) {
    SplittableRandom rnd = new SplittableRandom(seed);
    List<TextBlock> out = new ArrayList<>();
    long total = 0;
    int doc = 0;
    int section = 0;
    while (total < chars) {
      if (section % 40 == 0) {
        doc++;
      }
      section++;
      String d = "standard-" + doc + ".pdf";
      String h = "A." + section + " Control " + section;
      out.add(TextBlock.builder().kind(BlockKind.HEADING).text(h).level(1).source(SourceRef.of(d, section)).build());
      int paragraphs = 1 + rnd.nextInt(5);
      for (int p = 0; p < paragraphs; p++) {
        StringBuilder sb = new StringBuilder();
        int sentences = 2 + rnd.nextInt(12);
        for (int s = 0; s < sentences; s++) {
          sb.append(sentence(rnd)).append(' ');
        }
        String text = sb.toString().strip();
        total += text.length();
        out.add(TextBlock.of(BlockKind.PARAGRAPH, text, SourceRef.of(d, section)));
      }
    }
    return out;
  }

  /** {@code n} examples; {@code dupShare} of them exact or near copies of earlier ones. */
  static List<TrainingExample> examples(int n, double dupShare, long seed) {
    SplittableRandom rnd = new SplittableRandom(seed);
    List<TrainingExample> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      if (i > 10 && rnd.nextDouble() < dupShare) {
        TrainingExample src = out.get(rnd.nextInt(i));
        String output = rnd.nextBoolean() ? src.output() : src.output() + " " + WORDS[rnd.nextInt(WORDS.length)];
        out.add(TrainingExample.builder().from(src).output(output).build());
        continue;
      }
      out.add(TrainingExample.builder()
          .instruction("What does control A." + i + " require? " + sentence(rnd))
          .output(sentence(rnd) + " " + sentence(rnd) + " " + sentence(rnd))
          .putMetadata("source", "standard-" + (i % 50) + ".pdf").putMetadata("page", 1 + i % 300)
          .build());
    }
    return out;
  }
}
