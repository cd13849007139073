package dev.securetag.dataset;

import dev.securetag.core.Chunk;
import dev.securetag.core.SourceRef;
import java.util.ArrayList;
import java.util.List;

/** Deterministic chunks for generator tests; each carries a marker "CHUNK-n" the fake servers key on. */
final class TestChunks {
  private TestChunks() {}

  static Chunk english(int n) {
    String text = "CHUNK-" + n + " Control A.5." + n + " requires that access rights to information are reviewed"
        + " by asset owners at planned intervals. The organization shall keep records of every review.";
    return Chunk.builder().text(text).source(SourceRef.builder().document("iso27001.pdf").page(10 + n)
        .sectionPath(List.of("A.5 Organizational controls", "A.5." + n + " Access rights")).build())
        .index(n).tokenCount(40).build();
  }

  static Chunk spanish(int n) {
    String text = "CHUNK-" + n + " La medida op.acc." + n + " exige que los derechos de acceso de los usuarios se"
        + " revisen periódicamente. El responsable de la seguridad debe conservar los registros de la revisión.";
    return Chunk.builder().text(text).source(SourceRef.builder().document("ens.pdf").page(5 + n)
        .sectionPath(List.of("op.acc Control de acceso")).build()).index(n).tokenCount(40).build();
  }

  static List<Chunk> english(int from, int count) {
    List<Chunk> out = new ArrayList<>();
    for (int i = from; i < from + count; i++) {
      out.add(english(i));
    }
    return out;
  }

  /** A well-formed model answer for chunk n: two grounded pairs. */
  static String goodAnswer(int n) {
    return "[{\"question\": \"What does control A.5." + n + " require?\", \"answer\": \"Access rights to"
        + " information must be reviewed by asset owners at planned intervals.\"},"
        + " {\"question\": \"What records does A.5." + n + " ask for?\", \"answer\": \"The organization shall keep"
        + " records of every review.\"}]";
  }

  /** The marker number in a prompt, or -1. */
  static int marker(String prompt) {
    int at = prompt.indexOf("CHUNK-");
    if (at < 0) {
      return -1;
    }
    int end = at + 6;
    while (end < prompt.length() && Character.isDigit(prompt.charAt(end))) {
      end++;
    }
    return Integer.parseInt(prompt.substring(at + 6, end));
  }
}
