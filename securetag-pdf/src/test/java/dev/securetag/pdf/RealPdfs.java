package dev.securetag.pdf;

import dev.securetag.core.BlockKind;
import dev.securetag.core.TextBlock;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.pdfbox.Loader;
import org.apache.pdfbox.pdmodel.PDDocument;
import org.apache.pdfbox.pdmodel.interactive.documentnavigation.outline.PDDocumentOutline;
import org.apache.pdfbox.pdmodel.interactive.documentnavigation.outline.PDOutlineItem;
import org.apache.pdfbox.pdmodel.interactive.documentnavigation.outline.PDOutlineNode;

/**
 * The real-PDF test set in {@code src/test/resources/realpdf} (provenance in its README.md): file access, word F1
 * against the committed {@code pdftotext} output, and a section-path check against the document's own outline.
 */
final class RealPdfs {

  private RealPdfs() {}

  /** The directory holding the test set. */
  static Path dir() {
    try {
      return Path.of(RealPdfs.class.getResource("/realpdf/README.md").toURI()).getParent();
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  static Path pdf(String name) {
    return dir().resolve(name);
  }

  /** What poppler's pdftotext 22.12 extracted from the file (generated once, committed next to it). */
  static String pdftotext(String pdfName) {
    try {
      return Files.readString(dir().resolve(pdfName.replaceFirst("\\.pdf$", ".pdftotext.txt")), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** All block texts, one block per line. */
  static String text(List<TextBlock> blocks) {
    StringBuilder sb = new StringBuilder();
    for (TextBlock b : blocks) {
      sb.append(b.text()).append('\n');
    }
    return sb.toString();
  }

  /**
   * Words, lower-cased: runs of letters and digits, and each Han or kana character on its own (Chinese and Japanese
   * are not written with spaces).
   */
  static List<String> words(String s) {
    List<String> out = new ArrayList<>();
    StringBuilder cur = new StringBuilder();
    s.toLowerCase(Locale.ROOT).codePoints().forEach(cp -> {
      Character.UnicodeScript sc = Character.UnicodeScript.of(cp);
      if (sc == Character.UnicodeScript.HAN || sc == Character.UnicodeScript.HIRAGANA
          || sc == Character.UnicodeScript.KATAKANA) {
        if (cur.length() > 0) {
          out.add(cur.toString());
          cur.setLength(0);
        }
        out.add(new String(Character.toChars(cp)));
      } else if (Character.isLetterOrDigit(cp)) {
        cur.appendCodePoint(cp);
      } else if (cur.length() > 0) {
        out.add(cur.toString());
        cur.setLength(0);
      }
    });
    if (cur.length() > 0) {
      out.add(cur.toString());
    }
    return out;
  }

  /** Bag-of-words F1 of {@code actual} against {@code reference}. */
  static double wordF1(String reference, String actual) {
    List<String> ref = words(reference);
    List<String> got = words(actual);
    if (ref.isEmpty() || got.isEmpty()) {
      return 0;
    }
    Map<String, Integer> counts = new HashMap<>();
    for (String w : ref) {
      counts.merge(w, 1, Integer::sum);
    }
    int hit = 0;
    for (String w : got) {
      Integer n = counts.get(w);
      if (n != null && n > 0) {
        hit++;
        counts.put(w, n - 1);
      }
    }
    double p = (double) hit / got.size();
    double r = (double) hit / ref.size();
    return p + r == 0 ? 0 : 2 * p * r / (p + r);
  }

  /** Share of the words of {@code actual} that occur in {@code reference} (precision, as a bag of words). */
  static double wordPrecision(String reference, String actual) {
    List<String> got = words(actual);
    if (got.isEmpty()) {
      return 1;
    }
    Map<String, Integer> counts = new HashMap<>();
    for (String w : words(reference)) {
      counts.merge(w, 1, Integer::sum);
    }
    int hit = 0;
    for (String w : got) {
      Integer n = counts.get(w);
      if (n != null && n > 0) {
        hit++;
        counts.put(w, n - 1);
      }
    }
    return (double) hit / got.size();
  }

  /** Outcome of {@link #sectionCheck}. */
  record SectionCheck(int correct, int checked, List<String> wrong) {
    double share() {
      return checked == 0 ? 1 : (double) correct / checked;
    }
  }

  /**
   * Checks the section path of every body block against the document's outline, independently of how the extractor
   * uses it: walking the blocks in order, a HEADING block whose text is an outline title (its number allowed in front)
   * or a block that is exactly such a title moves "the current section" to that outline entry; every other block
   * must then carry the entry's title path.
   */
  static SectionCheck sectionCheck(Path pdf, List<TextBlock> blocks) throws IOException {
    List<List<String>> entries = new ArrayList<>();
    try (PDDocument doc = Loader.loadPDF(pdf.toFile())) {
      PDDocumentOutline outline = doc.getDocumentCatalog().getDocumentOutline();
      if (outline != null) {
        walk(outline, new ArrayList<>(), entries);
      }
    }
    int next = 0;
    List<String> current = null;
    int correct = 0;
    int checked = 0;
    List<String> wrong = new ArrayList<>();
    for (TextBlock b : blocks) {
      String k = key(b.text());
      boolean matched = false;
      for (int i = next; i < Math.min(entries.size(), next + 4); i++) {
        List<String> e = entries.get(i);
        String t = key(e.get(e.size() - 1));
        boolean heading = b.kind() == BlockKind.HEADING && (k.startsWith(t) || k.replaceFirst("^[0-9]+", "")
            .startsWith(t));
        if (!t.isEmpty() && (k.equals(t) || heading)) {
          current = e;
          next = i + 1;
          matched = true;
          break;
        }
      }
      if (matched || current == null || b.kind() == BlockKind.HEADING) {
        continue;
      }
      checked++;
      List<String> got = b.source().sectionPath().stream().map(RealPdfs::key).toList();
      List<String> want = current.stream().map(RealPdfs::key).toList();
      if (got.equals(want)) {
        correct++;
      } else if (wrong.size() < 10) {
        wrong.add("p." + b.source().page() + " expected " + current + " got " + b.source().sectionPath() + ": "
            + b.text().substring(0, Math.min(60, b.text().length())));
      }
    }
    return new SectionCheck(correct, checked, wrong);
  }

  private static String key(String s) {
    return s.toLowerCase(Locale.ROOT).replaceAll("[^\\p{L}\\p{N}]+", "");
  }

  private static void walk(PDOutlineNode node, List<String> path, List<List<String>> out) {
    for (PDOutlineItem item : node.children()) {
      List<String> p = new ArrayList<>(path);
      p.add(item.getTitle() == null ? "" : item.getTitle().trim().replaceAll("\\s+", " "));
      out.add(p);
      walk(item, p, out);
    }
  }
}
