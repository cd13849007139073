package dev.securetag.testing;

import dev.securetag.core.internal.AtomicFiles;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.pdfbox.pdmodel.PDDocument;
import org.apache.pdfbox.pdmodel.PDPage;
import org.apache.pdfbox.pdmodel.PDPageContentStream;
import org.apache.pdfbox.pdmodel.common.PDRectangle;
import org.apache.pdfbox.pdmodel.font.PDFont;
import org.apache.pdfbox.pdmodel.font.PDType1Font;
import org.apache.pdfbox.pdmodel.font.Standard14Fonts;
import org.apache.pdfbox.pdmodel.graphics.image.LosslessFactory;
import org.apache.pdfbox.pdmodel.graphics.image.PDImageXObject;
import org.apache.pdfbox.pdmodel.graphics.state.RenderingMode;
import org.apache.pdfbox.pdmodel.interactive.documentnavigation.destination.PDPageXYZDestination;
import org.apache.pdfbox.pdmodel.interactive.documentnavigation.outline.PDDocumentOutline;
import org.apache.pdfbox.pdmodel.interactive.documentnavigation.outline.PDOutlineItem;
import org.apache.pdfbox.rendering.ImageType;
import org.apache.pdfbox.rendering.PDFRenderer;

/**
 * A small flowing-layout PDF writer used to generate the bundled sample corpus, test documents and benchmark
 * input: headings (optionally bookmarked), wrapped paragraphs, bullets, one or two columns, ruled or borderless
 * tables that break across pages with a repeated header row, running header/footer with page numbers, and
 * image-only (scanned) pages. Not a general-purpose typesetter.
 */
public final class PdfLayoutWriter implements AutoCloseable {

  private static final float MARGIN = 54f;
  private static final float GUTTER = 24f;

  private final PDDocument doc;
  private final PDFont regular;
  private final PDFont bold;
  private final PDRectangle size = PDRectangle.LETTER;
  private final List<PDOutlineItem> outlineStack = new ArrayList<>();
  private PDDocumentOutline outline;
  private PDPage page;
  private PDPageContentStream cs;
  private float y;
  private int columns = 1;
  private int column;
  private float columnTop;
  private boolean hyphenate;
  private float bodySize = 10f;
  private String header;
  private String footer;
  private boolean closed;

  /** A writer over a new document using the given fonts (loaded into {@code doc}). */
  public PdfLayoutWriter(PDDocument doc, PDFont regular, PDFont bold) {
    this.doc = doc;
    this.regular = regular;
    this.bold = bold;
  }

  /** A writer over a new document with Helvetica and Helvetica-Bold (WinAnsi: Western European text). */
  public static PdfLayoutWriter standard14() {
    return new PdfLayoutWriter(new PDDocument(), new PDType1Font(Standard14Fonts.FontName.HELVETICA),
        new PDType1Font(Standard14Fonts.FontName.HELVETICA_BOLD));
  }

  public PDDocument document() {
    return doc;
  }

  /** Running header drawn on every text page at save time. */
  public PdfLayoutWriter header(String text) {
    this.header = text;
    return this;
  }

  /** Running footer; {@code %d} placeholders receive the page number and page count. */
  public PdfLayoutWriter footer(String format) {
    this.footer = format;
    return this;
  }

  /** Split long words at the end of a line with a hyphen. */
  public PdfLayoutWriter hyphenate(boolean on) {
    this.hyphenate = on;
    return this;
  }

  public PdfLayoutWriter bodySize(float pt) {
    this.bodySize = pt;
    return this;
  }

  /** Switches between one and two columns; the switch starts below the current position. */
  public PdfLayoutWriter columns(int n) {
    if (n != 1 && n != 2) {
      throw new IllegalArgumentException("columns must be 1 or 2");
    }
    ensurePage();
    if (column == 1) {
      y = Math.max(y, columnTop);
    }
    columns = n;
    column = 0;
    columnTop = y;
    return this;
  }

  private float colWidth() {
    float w = size.getWidth() - 2 * MARGIN;
    return columns == 1 ? w : (w - GUTTER) / 2f;
  }

  private float colX() {
    return MARGIN + column * (colWidth() + GUTTER);
  }

  private float bottomLimit() {
    return size.getHeight() - MARGIN - 10f;
  }

  private void ensurePage() {
    if (page == null) {
      newPage();
    }
  }

  /** Starts a new page. */
  public PdfLayoutWriter newPage() {
    closeStream();
    page = new PDPage(size);
    doc.addPage(page);
    try {
      cs = new PDPageContentStream(doc, page);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    y = MARGIN + 12f;
    column = 0;
    columnTop = y;
    return this;
  }

  private void closeStream() {
    if (cs != null) {
      try {
        cs.close();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      cs = null;
    }
  }

  /** Makes room for {@code h} points, moving to the next column or page when needed. */
  private void need(float h) {
    ensurePage();
    if (y + h <= bottomLimit()) {
      return;
    }
    if (columns == 2 && column == 0) {
      column = 1;
      y = columnTop;
      return;
    }
    newPage();
  }

  /** Continues in the next column (or on a new page from the last column). */
  public PdfLayoutWriter nextColumn() {
    ensurePage();
    if (columns == 2 && column == 0) {
      column = 1;
      y = columnTop;
    } else {
      newPage();
    }
    return this;
  }

  public PdfLayoutWriter space(float pt) {
    ensurePage();
    y += pt;
    return this;
  }

  /** A heading; {@code outlineLevel > 0} also adds a bookmark at that level. */
  public PdfLayoutWriter heading(String text, float fontSize, int outlineLevel) {
    List<String> lines = wrap(text, bold, fontSize, colWidth(), false);
    need(fontSize * 1.3f * lines.size() + fontSize * 2.5f);
    y += fontSize * 0.6f;
    if (outlineLevel > 0) {
      bookmark(text, outlineLevel);
    }
    for (String l : lines) {
      y += fontSize * 1.25f;
      show(bold, fontSize, colX(), y, l);
    }
    y += fontSize * 0.5f;
    return this;
  }

  private void bookmark(String title, int level) {
    if (outline == null) {
      outline = new PDDocumentOutline();
      doc.getDocumentCatalog().setDocumentOutline(outline);
    }
    PDOutlineItem item = new PDOutlineItem();
    item.setTitle(title);
    PDPageXYZDestination dest = new PDPageXYZDestination();
    dest.setPage(page);
    dest.setTop((int) (size.getHeight() - y));
    item.setDestination(dest);
    while (outlineStack.size() >= level) {
      outlineStack.remove(outlineStack.size() - 1);
    }
    if (outlineStack.isEmpty()) {
      outline.addLast(item);
    } else {
      outlineStack.get(outlineStack.size() - 1).addLast(item);
    }
    outlineStack.add(item);
  }

  /** A wrapped paragraph in the body font. */
  public PdfLayoutWriter paragraph(String text) {
    return lines(wrap(text, regular, bodySize, colWidth(), hyphenate));
  }

  /** A paragraph whose line breaks are given exactly. */
  public PdfLayoutWriter lines(List<String> lines) {
    float lead = bodySize * 1.3f;
    for (String l : lines) {
      need(lead);
      y += lead;
      show(regular, bodySize, colX(), y, l);
    }
    y += bodySize * 0.8f;
    return this;
  }

  /** A bullet item with a hanging indent. */
  public PdfLayoutWriter bullet(String marker, String text) {
    float indent = 14f;
    List<String> lines = wrap(text, regular, bodySize, colWidth() - indent, hyphenate);
    float lead = bodySize * 1.3f;
    for (int i = 0; i < lines.size(); i++) {
      need(lead);
      y += lead;
      if (i == 0) {
        show(regular, bodySize, colX(), y, marker);
      }
      show(regular, bodySize, colX() + indent, y, lines.get(i));
    }
    y += bodySize * 0.4f;
    return this;
  }

  /**
   * A table; the first row is the header (bold, repeated after a page break). Widths are fractions of the column
   * width. Cell text wraps inside its cell.
   */
  public PdfLayoutWriter table(List<List<String>> rows, float[] widths, boolean ruled) {
    ensurePage();
    float fs = bodySize - 1f;
    float lead = fs * 1.25f;
    float pad = 3f;
    float total = colWidth();
    float[] xs = new float[widths.length + 1];
    xs[0] = colX();
    for (int i = 0; i < widths.length; i++) {
      xs[i + 1] = xs[i] + widths[i] * total;
    }
    y += 4f;
    for (int r = 0; r < rows.size(); r++) {
      float h = rowHeight(rows.get(r), widths, total, fs, lead, pad, r == 0);
      float keep = r == 0 && rows.size() > 1 ? rowHeight(rows.get(1), widths, total, fs, lead, pad, false) : 0f;
      if (y + h + keep > bottomLimit()) {
        newPage();
        y += 4f;
        if (r > 0) {
          drawRow(rows.get(0), xs, fs, lead, pad, true, ruled, rowHeight(rows.get(0), widths, total, fs, lead, pad,
              true));
        }
      }
      drawRow(rows.get(r), xs, fs, lead, pad, r == 0, ruled, h);
    }
    y += bodySize;
    return this;
  }

  private float rowHeight(List<String> row, float[] widths, float total, float fs, float lead, float pad,
      boolean header) {
    int maxLines = 1;
    for (int c = 0; c < row.size(); c++) {
      maxLines = Math.max(maxLines, wrap(row.get(c), header ? bold : regular, fs, widths[c] * total - 2 * pad,
          false).size());
    }
    return maxLines * lead + 2 * pad + 2f;
  }

  private void drawRow(List<String> row, float[] xs, float fs, float lead, float pad, boolean header, boolean ruled,
      float h) {
    float top = y;
    for (int c = 0; c < row.size(); c++) {
      List<String> lines = wrap(row.get(c), header ? bold : regular, fs, xs[c + 1] - xs[c] - 2 * pad, false);
      float ly = top + pad;
      for (String l : lines) {
        ly += lead;
        show(header ? bold : regular, fs, xs[c] + pad, ly - 2f, l);
      }
    }
    if (ruled) {
      try {
        cs.setLineWidth(0.6f);
        float pt = size.getHeight() - top;
        float pb = size.getHeight() - (top + h);
        cs.moveTo(xs[0], pt);
        cs.lineTo(xs[xs.length - 1], pt);
        cs.moveTo(xs[0], pb);
        cs.lineTo(xs[xs.length - 1], pb);
        for (float x : xs) {
          cs.moveTo(x, pt);
          cs.lineTo(x, pb);
        }
        cs.stroke();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    y = top + h;
  }

  /** Adds a page that is only an image (a scan), optionally under an invisible text layer. */
  public PdfLayoutWriter imagePage(BufferedImage image, List<String> invisibleText) {
    closeStream();
    page = new PDPage(size);
    doc.addPage(page);
    try (PDPageContentStream c = new PDPageContentStream(doc, page)) {
      PDImageXObject img = LosslessFactory.createFromImage(doc, image);
      c.drawImage(img, 0, 0, size.getWidth(), size.getHeight());
      if (!invisibleText.isEmpty()) {
        c.beginText();
        c.setRenderingMode(RenderingMode.NEITHER);
        c.setFont(regular, 11f);
        c.setLeading(15f);
        c.newLineAtOffset(MARGIN, size.getHeight() - MARGIN - 20f);
        for (String l : invisibleText) {
          c.showText(l);
          c.newLine();
        }
        c.endText();
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    page = null;
    return this;
  }

  /**
   * Renders lines of text (Helvetica, {@code fontSize} pt, on a Letter page) to a 300-dpi gray image, as a scanner
   * would produce from the printed page.
   */
  public static BufferedImage renderScan(List<String> lines, float fontSize) {
    // Helvetica is not embedded: PDFBox renders it with a system substitute (Arial, Liberation Sans, Nimbus Sans)
    // when one is installed, else with the Liberation Sans it ships. The bundled sample PDFs were generated with the
    // latter, so a machine with one of those system fonts renders a slightly different scan image.
    try (PdfLayoutWriter w = standard14()) {
      w.bodySize(fontSize);
      for (String l : lines) {
        if (l.isEmpty()) {
          w.space(fontSize);
        } else {
          w.paragraph(l);
        }
      }
      w.closeStream();
      return new PDFRenderer(w.doc).renderImageWithDPI(0, 300, ImageType.GRAY);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private void show(PDFont font, float fs, float x, float yTop, String text) {
    ensurePage();
    try {
      cs.beginText();
      cs.setFont(font, fs);
      cs.newLineAtOffset(x, size.getHeight() - yTop);
      cs.showText(text);
      cs.endText();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static float width(PDFont f, float fs, String s) {
    try {
      return f.getStringWidth(s) / 1000f * fs;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Greedy word wrap; with {@code hyphenate}, a long word that does not fit is split with a hyphen. */
  static List<String> wrap(String text, PDFont f, float fs, float max, boolean hyphenate) {
    List<String> out = new ArrayList<>();
    StringBuilder line = new StringBuilder();
    for (String word : text.split(" ")) {
      String candidate = line.length() == 0 ? word : line + " " + word;
      if (width(f, fs, candidate) <= max) {
        line.setLength(0);
        line.append(candidate);
        continue;
      }
      if (hyphenate && word.length() >= 8 && word.chars().allMatch(Character::isLetter)) {
        String prefix = line.length() == 0 ? "" : line + " ";
        int cut = 0;
        for (int k = word.length() - 4; k >= 4; k--) {
          if (width(f, fs, prefix + word.substring(0, k) + "-") <= max) {
            cut = k;
            break;
          }
        }
        if (cut > 0) {
          out.add(prefix + word.substring(0, cut) + "-");
          line.setLength(0);
          line.append(word.substring(cut));
          continue;
        }
      }
      if (line.length() > 0) {
        out.add(line.toString());
      }
      line.setLength(0);
      line.append(word);
    }
    if (line.length() > 0) {
      out.add(line.toString());
    }
    return out;
  }

  private void decorate() throws IOException {
    int n = doc.getNumberOfPages();
    for (int i = 0; i < n; i++) {
      PDPage p = doc.getPage(i);
      if (header == null && footer == null) {
        return;
      }
      try (PDPageContentStream c = new PDPageContentStream(doc, p, PDPageContentStream.AppendMode.APPEND, true)) {
        if (header != null) {
          c.beginText();
          c.setFont(regular, 8f);
          c.newLineAtOffset(MARGIN, size.getHeight() - 30f);
          c.showText(header);
          c.endText();
        }
        if (footer != null) {
          String f = String.format(footer, i + 1, n);
          c.beginText();
          c.setFont(regular, 8f);
          c.newLineAtOffset((size.getWidth() - width(regular, 8f, f)) / 2f, 28f);
          c.showText(f);
          c.endText();
        }
      }
    }
  }

  /** Adds the running header/footer and writes the document atomically. */
  public void save(Path target) {
    try {
      closeStream();
      decorate();
      AtomicFiles.write(target, doc::save);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + target, e);
    }
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      closeStream();
      doc.close();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
