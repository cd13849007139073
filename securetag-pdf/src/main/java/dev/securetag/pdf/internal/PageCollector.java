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
import org.apache.pdfbox.pdmodel.font.PDSimpleFont;
import org.apache.pdfbox.pdmodel.font.PDTrueTypeFont;
import org.apache.pdfbox.pdmodel.font.PDType1CFont;
import org.apache.pdfbox.pdmodel.font.PDType1Font;
import org.apache.pdfbox.pdmodel.graphics.state.PDGraphicsState;
import org.apache.pdfbox.pdmodel.graphics.state.PDTextState;
import org.apache.pdfbox.pdmodel.font.encoding.GlyphList;
import org.apache.pdfbox.pdmodel.graphics.PDXObject;
import org.apache.pdfbox.pdmodel.graphics.image.PDImageXObject;
import org.apache.pdfbox.text.PDFTextStripper;
import org.apache.pdfbox.text.TextPosition;
import org.apache.pdfbox.util.Matrix;
import org.apache.pdfbox.util.Vector;

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
  private float cropHeight;
  private boolean cropAtOrigin;
  private final java.util.Map<PDFont, FontInfo> fontInfos = new java.util.IdentityHashMap<>();
  private FontInfo lastInfo;

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
    cropHeight = crop.getHeight();
    cropAtOrigin = Float.compare(cropLeft, 0) == 0 && Float.compare(crop.getLowerLeftY(), 0) == 0;
  }

  private FontInfo info(PDFont font) throws IOException {
    FontInfo info = lastInfo;
    if (info == null || info.font != font) {
      info = fontInfos.get(font);
      if (info == null) {
        info = new FontInfo(font, computeFontHeight(font), isBold(font), isMono(font));
        fontInfos.put(font, info);
      }
      lastInfo = info;
    }
    return info;
  }

  /**
   * PDFBox's {@code PDFStreamEngine.showText}, for horizontal one-byte fonts (Type 1, CFF, TrueType), with each
   * code's displacement looked up once per font instead of once per glyph (PDFBox boxes the code, looks the width up
   * in a map and allocates a vector every time). The text-matrix arithmetic is PDFBox's, expression for expression.
   */
  @Override
  protected void showText(byte[] string) throws IOException {
    PDGraphicsState state = getGraphicsState();
    PDTextState textState = state.getTextState();
    PDFont font = textState.getFont();
    if (!(font instanceof PDType1Font || font instanceof PDType1CFont || font instanceof PDTrueTypeFont)
        || font.isVertical()) {
      super.showText(string);
      return;
    }
    FontInfo info = info(font);
    float fontSize = textState.getFontSize();
    float horizontalScaling = textState.getHorizontalScaling() / 100f;
    float charSpacing = textState.getCharacterSpacing();
    Matrix parameters = new Matrix(fontSize * horizontalScaling, 0, 0, fontSize, 0, textState.getRise());
    Matrix textMatrix = state.getTextMatrix();
    for (byte b : string) {
      int code = b & 0xff;
      float wordSpacing = 0;
      if (code == 32) {
        wordSpacing += textState.getWordSpacing();
      }
      Matrix ctm = state.getCurrentTransformationMatrix();
      Matrix textRenderingMatrix = parameters.multiply(textMatrix).multiply(ctm);
      Vector w = info.displacement(code);
      showGlyph(textRenderingMatrix, font, code, w);
      float tx = (w.getX() * fontSize + charSpacing + wordSpacing) * horizontalScaling;
      textMatrix.translate(tx, 0);
    }
  }

  /**
   * PDFBox's {@code LegacyPDFStreamEngine.showGlyph} spends most of its time on values this collector never reads
   * (the font's space width looked up per glyph, two matrix products, a full {@code TextPosition}). For the common
   * case (crop box at the origin, horizontal font, upright left-to-right glyph) the same position, width, height,
   * size and Unicode are computed here with PDFBox's own float arithmetic, so the glyphs are bit-identical; every
   * other glyph goes through PDFBox's path unchanged.
   */
  @Override
  protected void showGlyph(Matrix trm, PDFont font, int code, Vector displacement) throws IOException {
    float a = trm.getScaleX();
    float b = trm.getShearY();
    float c = trm.getShearX();
    float d = trm.getScaleY();
    // TextPosition.getDir() == 0 exactly when this holds; other directions need its rotated getters.
    boolean upright = d > 0 && Math.abs(b) < a && Math.abs(c) < d && a > 0;
    if (!cropAtOrigin || !upright || font.isVertical()) {
      super.showGlyph(trm, font, code, displacement);
      return;
    }
    var state = getGraphicsState();
    Matrix ctm = state.getCurrentTransformationMatrix();
    float fontSize = state.getTextState().getFontSize();
    float horizontalScaling = state.getTextState().getHorizontalScaling() / 100f;
    Matrix tm = getTextMatrix();
    float tx = displacement.getX() * fontSize * horizontalScaling;
    float ty = displacement.getY() * fontSize;
    // Translation row of translate(tx, ty) x textMatrix x ctm, in Matrix.multiply's evaluation order.
    float m6 = tx * tm.getValue(0, 0) + ty * tm.getValue(1, 0) + 1f * tm.getValue(2, 0);
    float m7 = tx * tm.getValue(0, 1) + ty * tm.getValue(1, 1) + 1f * tm.getValue(2, 1);
    float m8 = tx * tm.getValue(0, 2) + ty * tm.getValue(1, 2) + 1f * tm.getValue(2, 2);
    float nextX = m6 * ctm.getValue(0, 0) + m7 * ctm.getValue(1, 0) + m8 * ctm.getValue(2, 0);
    if (!Float.isFinite(nextX) || !Float.isFinite(m6) || !Float.isFinite(m7)) {
      super.showGlyph(trm, font, code, displacement);
      return;
    }
    FontInfo info = info(font);
    float heightDir = Math.abs(info.height * trm.getScalingFactorY());
    String unicode = info.unicode(code);
    if (unicode == null || unicode.isEmpty()) {
      return;
    }
    float x = trm.getTranslateX();
    float width = Math.abs(nextX - x);
    float size = (int) (fontSize * tm.getScalingFactorX());
    if (size <= 0) {
      size = heightDir;
    }
    float baseline = cropHeight - trm.getTranslateY();
    float height = heightDir > 0 ? heightDir : size * 0.7f;
    glyphs.add(new Glyph(unicode, x, baseline - height, baseline, width, size, info.bold, info.mono));
  }

  /**
   * Per-font values that do not change from glyph to glyph. Glyphs of a simple font map a one-byte code to the same
   * Unicode every time, so those lookups (encoding name, then glyph list) are done once per code.
   */
  private static final class FontInfo {
    private static final String NONE = new String("");

    final PDFont font;
    final float height;
    final boolean bold;
    final boolean mono;
    private final String[] byCode;
    private final Vector[] displacements = new Vector[256];

    FontInfo(PDFont font, float height, boolean bold, boolean mono) {
      this.font = font;
      this.height = height;
      this.bold = bold;
      this.mono = mono;
      this.byCode = font instanceof PDSimpleFont ? new String[256] : null;
    }

    /** The glyph's Unicode as LegacyPDFStreamEngine maps it, or null when PDFBox would skip the glyph. */
    String unicode(int code) throws IOException {
      if (byCode == null || code < 0 || code > 255) {
        return map(code);
      }
      String u = byCode[code];
      if (u == null) {
        u = map(code);
        byCode[code] = u == null ? NONE : u;
        return u;
      }
      return u == NONE ? null : u;
    }

    /** PDFBox's displacement of a one-byte code (the font caches the width itself, so it never changes). */
    Vector displacement(int code) throws IOException {
      Vector v = displacements[code];
      if (v == null) {
        v = font.getDisplacement(code);
        displacements[code] = v;
      }
      return v;
    }

    private String map(int code) throws IOException {
      String u = font.toUnicode(code, Glyphs.LIST);
      if (u == null && font instanceof PDSimpleFont) {
        u = String.valueOf((char) code);
      }
      return u;
    }
  }

  /** PDFBox's glyph list plus its additional Unicode mappings, as LegacyPDFStreamEngine loads them. */
  private static final class Glyphs {
    static final GlyphList LIST = load();

    private static GlyphList load() {
      String path = "/org/apache/pdfbox/resources/glyphlist/additional.txt";
      try (java.io.InputStream in = GlyphList.class.getResourceAsStream(path)) {
        return new GlyphList(GlyphList.getAdobeGlyphList(), in);
      } catch (IOException e) {
        throw new java.io.UncheckedIOException("cannot read PDFBox resource " + path, e);
      }
    }
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
    glyphs.add(new Glyph(u, t.getXDirAdj(), baseline - height, baseline, t.getWidthDirAdj(), size, isBold(t.getFont()),
        isMono(t.getFont())));
  }

  private final java.util.Map<PDFont, Boolean> boldCache = new java.util.IdentityHashMap<>();

  private boolean isBold(PDFont font) {
    if (font == null) {
      return false;
    }
    return boldCache.computeIfAbsent(font, PageCollector::boldFont);
  }

  private final java.util.Map<PDFont, Boolean> monoCache = new java.util.IdentityHashMap<>();

  private boolean isMono(PDFont font) {
    if (font == null) {
      return false;
    }
    return monoCache.computeIfAbsent(font, PageCollector::monoFont);
  }

  private static final java.util.regex.Pattern MONO_NAME = java.util.regex.Pattern.compile(
      "(?i).*(mono|courier|typewriter|consol|menlo|inconsolata|sourcecodepro|lmtt|cmtt|txtt|pcrr|pcrb|sfmono).*");

  /** A fixed-pitch font: code and console output are set in one. */
  private static boolean monoFont(PDFont font) {
    String name = font.getName();
    if (name != null && MONO_NAME.matcher(name).matches()) {
      return true;
    }
    PDFontDescriptor d = font.getFontDescriptor();
    return d != null && d.isFixedPitch();
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
