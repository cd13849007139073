package dev.securetag.pdf.internal;

import java.awt.geom.Point2D;
import java.io.IOException;
import java.io.Writer;
import java.util.ArrayList;
import java.util.List;
import org.apache.pdfbox.contentstream.operator.DrawObject;
import org.apache.pdfbox.contentstream.operator.Operator;
import org.apache.pdfbox.contentstream.operator.OperatorProcessor;
import org.apache.pdfbox.cos.COSBase;
import org.apache.pdfbox.cos.COSName;
import org.apache.pdfbox.cos.COSNumber;
import org.apache.pdfbox.pdmodel.PDDocument;
import org.apache.pdfbox.pdmodel.PDPage;
import org.apache.pdfbox.pdmodel.common.PDRectangle;
import org.apache.pdfbox.pdmodel.font.PDFont;
import org.apache.pdfbox.pdmodel.font.PDFontDescriptor;
import org.apache.pdfbox.pdmodel.graphics.PDXObject;
import org.apache.pdfbox.pdmodel.graphics.image.PDImageXObject;
import org.apache.pdfbox.text.PDFTextStripper;
import org.apache.pdfbox.text.TextPosition;
import org.apache.pdfbox.util.Matrix;

/**
 * One content-stream pass per page that collects glyph geometry, drawn axis-aligned lines (for ruled tables) and
 * the area covered by images (for scan detection). Path operators are added to the text stripper so that the
 * page is parsed once instead of once for text and once for graphics.
 */
final class PageCollector extends PDFTextStripper {

  private static final Writer NULL_WRITER = Writer.nullWriter();

  private final List<Glyph> glyphs = new ArrayList<>();
  private final List<Edge> edges = new ArrayList<>();
  private final List<float[]> pending = new ArrayList<>();
  private float curX;
  private float curY;
  private float startX;
  private float startY;
  private double imageArea;
  private float cropLeft;
  private float cropTop;

  PageCollector() {
    setSortByPosition(false);
    setSuppressDuplicateOverlappingText(false);
    addOperator(new PathOp(this, "m"));
    addOperator(new PathOp(this, "l"));
    addOperator(new PathOp(this, "c"));
    addOperator(new PathOp(this, "v"));
    addOperator(new PathOp(this, "y"));
    addOperator(new PathOp(this, "h"));
    addOperator(new PathOp(this, "re"));
    for (String paint : new String[] {"S", "s", "f", "F", "f*", "B", "B*", "b", "b*"}) {
      addOperator(new PathOp(this, paint));
    }
    addOperator(new PathOp(this, "n"));
    addOperator(new ImageAwareDraw(this));
  }

  /** Receives each page as soon as its content stream has been processed. */
  interface PageSink {
    void accept(RawPage page);
  }

  private PageSink sink;
  private PDRectangle crop;
  private int lastDelivered;

  /**
   * Collects pages {@code from..to} (1-based) in one pass over the document, handing each to {@code sink}. Returns
   * the last page delivered; when a page's content stream throws, the exception propagates and the caller resumes
   * after that page.
   */
  int collect(PDDocument doc, int from, int to, PageSink sink) throws IOException {
    this.sink = sink;
    this.lastDelivered = from - 1;
    setStartPage(from);
    setEndPage(to);
    writeText(doc, NULL_WRITER);
    return lastDelivered;
  }

  /** The page after the last one delivered by the current or last {@link #collect} call. */
  int nextPage() {
    return lastDelivered + 1;
  }

  @Override
  protected void startPage(PDPage page) {
    glyphs.clear();
    edges.clear();
    pending.clear();
    imageArea = 0;
    crop = page.getCropBox();
    cropLeft = crop.getLowerLeftX();
    cropTop = crop.getUpperRightY();
  }

  @Override
  protected void endPage(PDPage page) {
    double pageArea = Math.max(1.0, (double) crop.getWidth() * crop.getHeight());
    lastDelivered = getCurrentPageNo();
    sink.accept(new RawPage(getCurrentPageNo(), crop.getWidth(), crop.getHeight(), List.copyOf(glyphs),
        List.copyOf(edges), Math.min(1.0, imageArea / pageArea)));
  }

  @Override
  protected void processTextPosition(TextPosition t) {
    String u = t.getUnicode();
    if (u == null || u.isEmpty()) {
      return;
    }
    float size = t.getFontSizeInPt();
    if (size <= 0) {
      size = t.getHeightDir();
    }
    float baseline = t.getYDirAdj();
    float height = t.getHeightDir() > 0 ? t.getHeightDir() : size * 0.7f;
    glyphs.add(new Glyph(u, t.getXDirAdj(), baseline - height, baseline, t.getWidthDirAdj(), size, isBold(t.getFont())));
  }

  private final java.util.Map<PDFont, Boolean> boldCache = new java.util.IdentityHashMap<>();

  private boolean isBold(PDFont font) {
    if (font == null) {
      return false;
    }
    return boldCache.computeIfAbsent(font, PageCollector::boldFont);
  }

  private static boolean boldFont(PDFont font) {
    String name = font.getName();
    if (name != null) {
      String n = name.toLowerCase(java.util.Locale.ROOT);
      if (n.contains("bold") || n.contains("black") || n.contains("heavy") || n.contains("semibold")) {
        return true;
      }
    }
    PDFontDescriptor d = font.getFontDescriptor();
    return d != null && (d.isForceBold() || d.getFontWeight() >= 600);
  }

  private void point(float x, float y, float[] out) {
    Matrix ctm = getGraphicsState().getCurrentTransformationMatrix();
    Point2D.Float p = ctm.transformPoint(x, y);
    out[0] = p.x - cropLeft;
    out[1] = cropTop - p.y;
  }

  private void segment(float x0, float y0, float x1, float y1) {
    pending.add(new float[] {x0, y0, x1, y1});
  }

  private void paint(boolean keep) {
    if (keep) {
      for (float[] s : pending) {
        float dx = Math.abs(s[2] - s[0]);
        float dy = Math.abs(s[3] - s[1]);
        if (dy < 1f && dx >= 1f) {
          float y = (s[1] + s[3]) / 2f;
          edges.add(new Edge(Math.min(s[0], s[2]), y, Math.max(s[0], s[2]), y));
        } else if (dx < 1f && dy >= 1f) {
          float x = (s[0] + s[2]) / 2f;
          edges.add(new Edge(x, Math.min(s[1], s[3]), x, Math.max(s[1], s[3])));
        }
      }
    }
    pending.clear();
  }

  private static float num(List<COSBase> ops, int i) {
    return i < ops.size() && ops.get(i) instanceof COSNumber n ? n.floatValue() : 0f;
  }

  /** Tracks path construction and painting in page space. */
  private static final class PathOp extends OperatorProcessor {
    private final PageCollector c;
    private final String name;
    private final float[] a = new float[2];
    private final float[] b = new float[2];

    PathOp(PageCollector c, String name) {
      super(c);
      this.c = c;
      this.name = name;
    }

    @Override
    public void process(Operator operator, List<COSBase> ops) {
      switch (name) {
        case "m" -> {
          c.point(num(ops, 0), num(ops, 1), a);
          c.curX = a[0];
          c.curY = a[1];
          c.startX = a[0];
          c.startY = a[1];
        }
        case "l" -> {
          c.point(num(ops, 0), num(ops, 1), a);
          c.segment(c.curX, c.curY, a[0], a[1]);
          c.curX = a[0];
          c.curY = a[1];
        }
        case "c" -> moveTo(num(ops, 4), num(ops, 5));
        case "v", "y" -> moveTo(num(ops, 2), num(ops, 3));
        case "h" -> {
          c.segment(c.curX, c.curY, c.startX, c.startY);
          c.curX = c.startX;
          c.curY = c.startY;
        }
        case "re" -> {
          float x = num(ops, 0);
          float y = num(ops, 1);
          float w = num(ops, 2);
          float h = num(ops, 3);
          c.point(x, y, a);
          c.point(x + w, y + h, b);
          c.segment(a[0], a[1], b[0], a[1]);
          c.segment(b[0], a[1], b[0], b[1]);
          c.segment(b[0], b[1], a[0], b[1]);
          c.segment(a[0], b[1], a[0], a[1]);
          c.curX = a[0];
          c.curY = a[1];
          c.startX = a[0];
          c.startY = a[1];
        }
        case "n" -> c.paint(false);
        default -> c.paint(true);
      }
    }

    private void moveTo(float x, float y) {
      c.point(x, y, a);
      c.curX = a[0];
      c.curY = a[1];
    }

    @Override
    public String getName() {
      return name;
    }
  }

  /** Measures image XObjects and hands form XObjects to PDFBox's own handler. */
  private static final class ImageAwareDraw extends OperatorProcessor {
    private final PageCollector c;
    private final DrawObject forms;

    ImageAwareDraw(PageCollector c) {
      super(c);
      this.c = c;
      this.forms = new DrawObject(c);
    }

    @Override
    public void process(Operator operator, List<COSBase> ops) throws IOException {
      if (!ops.isEmpty() && ops.get(0) instanceof COSName name && c.getResources() != null) {
        PDXObject x = c.getResources().getXObject(name);
        if (x instanceof PDImageXObject) {
          Matrix m = c.getGraphicsState().getCurrentTransformationMatrix();
          c.imageArea += Math.abs((double) m.getScaleX() * m.getScaleY() - (double) m.getShearX() * m.getShearY());
          return;
        }
      }
      forms.process(operator, ops);
    }

    @Override
    public String getName() {
      return "Do";
    }
  }
}
