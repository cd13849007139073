package dev.securetag.pdf.internal;

import com.sun.jna.Pointer;
import com.sun.jna.ptr.PointerByReference;
import java.awt.image.BufferedImage;
import java.awt.image.ComponentSampleModel;
import java.awt.image.DataBufferByte;
import java.io.IOException;
import java.lang.Character.UnicodeScript;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import net.sourceforge.tess4j.ITessAPI;
import net.sourceforge.tess4j.ITessAPI.TessBaseAPI;
import net.sourceforge.tess4j.TessAPI;
import net.sourceforge.tess4j.TesseractException;
import org.apache.pdfbox.pdmodel.PDDocument;
import org.apache.pdfbox.rendering.ImageType;
import org.apache.pdfbox.rendering.PDFRenderer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tesseract OCR through Tess4J's C API binding. Each thread keeps one initialised Tesseract per language set
 * (initialising spa+eng costs about as much as reading a small page, and instances are not thread-safe); pages are
 * rendered at 300 dpi in gray. Recognition returns lines with their word confidences so that callers can gate the
 * output. Availability (native library, traineddata) is probed once per language set; when it fails,
 * {@link #unavailableReason()} says why and callers report pages instead of failing.
 */
public final class OcrEngine implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(OcrEngine.class);

  /** Render resolution for OCR. */
  public static final int DPI = 300;

  /** Words recognised with a lower confidence (0-100) are left out of a line's text. */
  static final float MIN_WORD_CONFIDENCE = 50f;

  private static final String[] TESSDATA_DIRS = {
    "/usr/share/tesseract-ocr/5/tessdata", "/usr/share/tesseract-ocr/4.00/tessdata", "/usr/share/tessdata",
    "/usr/local/share/tessdata", "/opt/homebrew/share/tessdata"
  };

  /** What a user installs to get OCR for {@code languages}; appended to every "unavailable" reason. */
  public static String installHint(List<String> languages) {
    return "install Tesseract with the language data (Debian/Ubuntu: apt-get install tesseract-ocr tesseract-ocr-"
        + String.join(" tesseract-ocr-", languages).replace('_', '-') + "; macOS: brew install tesseract "
        + "tesseract-lang) or point TESSDATA_PREFIX at a tessdata directory";
  }

  /** One recognised text line: its text, the mean word confidence (0-100) weighted by letters, its letters. */
  public record Line(String text, float confidence, int letters, boolean paragraphStart, int height) {}

  private static final String NULL_DEVICE =
      System.getProperty("os.name", "").toLowerCase(java.util.Locale.ROOT).startsWith("windows") ? "NUL" : "/dev/null";

  private final List<String> languages;
  private final Path datapath;
  private final String unavailable;
  private final Map<String, Optional<String>> unavailableBySet = new ConcurrentHashMap<>();
  private final ThreadLocal<Map<String, TessBaseAPI>> handles = ThreadLocal.withInitial(HashMap::new);
  private final List<TessBaseAPI> allHandles = new CopyOnWriteArrayList<>();
  private volatile boolean closed;

  private OcrEngine(List<String> languages, Path datapath, String unavailable) {
    this.languages = List.copyOf(languages);
    this.datapath = datapath;
    this.unavailable = unavailable;
  }

  /** Finds tessdata and checks that the native library loads; never throws for a missing Tesseract. */
  public static OcrEngine create(List<String> languages) {
    return create(languages, null);
  }

  /**
   * Like {@link #create(List)}, with an explicit tessdata directory instead of the search ({@code TESSDATA_PREFIX},
   * then the usual install locations) when {@code tessdata} is not null.
   */
  public static OcrEngine create(List<String> languages, Path tessdata) {
    Path dir = tessdata != null ? (Files.isDirectory(tessdata) ? tessdata : null) : findTessdata();
    String missing = missingReason(languages, dir, tessdata);
    if (missing != null) {
      return new OcrEngine(languages, dir, missing);
    }
    OcrEngine probe = new OcrEngine(languages, dir, null);
    String reason = probe.probe(languages);
    if (reason == null) {
      return probe;
    }
    probe.close();
    return new OcrEngine(languages, dir, reason + " (OCR languages " + String.join("+", languages) + "): "
        + installHint(languages));
  }

  private static String missingReason(List<String> languages, Path dir, Path explicit) {
    // Every reason names the languages asked for, so a report says what was missing whichever part is absent.
    String wanted = "OCR languages " + String.join("+", languages);
    if (dir == null) {
      String where = explicit != null ? "tessdata directory " + explicit + " does not exist"
          : "no tessdata directory found";
      return "Tesseract is not installed for " + wanted + " (" + where + "): " + installHint(languages);
    }
    List<String> missing = new ArrayList<>();
    for (String lang : languages) {
      if (!Files.isRegularFile(dir.resolve(lang + ".traineddata"))) {
        missing.add(lang);
      }
    }
    if (!missing.isEmpty()) {
      return "traineddata missing in " + dir + " for " + missing + " (" + wanted + "): " + installHint(missing);
    }
    return null;
  }

  private static Path findTessdata() {
    String env = System.getenv("TESSDATA_PREFIX");
    if (env != null && !env.isBlank()) {
      Path p = Path.of(env);
      if (Files.isDirectory(p.resolve("tessdata"))) {
        return p.resolve("tessdata");
      }
      if (Files.isDirectory(p)) {
        return p;
      }
    }
    for (String d : TESSDATA_DIRS) {
      Path p = Path.of(d);
      if (Files.isDirectory(p)) {
        return p;
      }
    }
    return null;
  }

  private String probe(List<String> langs) {
    try {
      BufferedImage tiny = new BufferedImage(32, 32, BufferedImage.TYPE_BYTE_GRAY);
      recognize(tiny, langs);
      return null;
    } catch (LinkageError e) {
      // JNA reports a missing libtesseract/liblept as UnsatisfiedLinkError or NoClassDefFoundError.
      LOG.warn("Tesseract native library not available: {}", e.toString());
      return "Tesseract native library not loadable: " + e.getMessage();
    } catch (TesseractException | RuntimeException e) {
      return "Tesseract failed to initialise: " + e.getMessage();
    }
  }

  /** Empty when OCR can run with the configured languages; otherwise why not. */
  public Optional<String> unavailableReason() {
    return Optional.ofNullable(unavailable);
  }

  /** Empty when OCR can run with {@code langs} (e.g. a script's languages); otherwise why not, with the hint. */
  public Optional<String> unavailableReason(List<String> langs) {
    if (langs.equals(languages) || unavailable != null && unavailable.startsWith("Tesseract is not installed")) {
      return unavailableReason();
    }
    return unavailableBySet.computeIfAbsent(String.join("+", langs), k -> {
      String missing = missingReason(langs, datapath, null);
      return Optional.ofNullable(missing != null ? missing : unavailable != null ? unavailable : probe(langs));
    });
  }

  /** The configured language list, e.g. spa+eng. */
  public List<String> languages() {
    return languages;
  }

  /** Renders page {@code pageNo} (1-based) at 300 dpi in gray. Uses the document: call on its thread. */
  public static BufferedImage render(PDDocument doc, int pageNo) throws IOException {
    return new PDFRenderer(doc).renderImageWithDPI(pageNo - 1, DPI, ImageType.GRAY);
  }

  /** Renders page {@code pageNo} (1-based) and recognises it with the configured languages. */
  public String ocrPage(PDDocument doc, int pageNo) throws IOException, TesseractException {
    StringBuilder sb = new StringBuilder();
    for (Line l : recognize(render(doc, pageNo), languages)) {
      if (l.paragraphStart() && sb.length() > 0) {
        sb.append('\n');
      }
      sb.append(l.text()).append('\n');
    }
    return sb.toString();
  }

  /**
   * Recognises a gray page image with {@code langs}: its text lines in reading order, each with the mean confidence
   * of its words weighted by their letters.
   */
  public List<Line> recognize(BufferedImage img, List<String> langs) throws TesseractException {
    if (closed) {
      throw new IllegalStateException("OCR engine is closed");
    }
    TessAPI api = TessAPI.INSTANCE;
    TessBaseAPI h = handle(api, String.join("+", langs));
    api.TessBaseAPISetPageSegMode(h, ITessAPI.TessPageSegMode.PSM_AUTO);
    setImage(api, h, img);
    try {
      if (api.TessBaseAPIRecognize(h, null) != 0) {
        throw new TesseractException("recognition failed");
      }
      return lines(api, h);
    } finally {
      api.TessBaseAPIClear(h);
    }
  }

  /**
   * The page's script as Tesseract's orientation-and-script detection sees it, or UNKNOWN when its model
   * (osd.traineddata) is not installed or it cannot tell.
   */
  public UnicodeScript detectScript(BufferedImage img) {
    if (closed || unavailable != null || datapath == null
        || !Files.isRegularFile(datapath.resolve("osd.traineddata"))) {
      return UnicodeScript.UNKNOWN;
    }
    TessAPI api = TessAPI.INSTANCE;
    try {
      TessBaseAPI h = handle(api, "osd");
      api.TessBaseAPISetPageSegMode(h, ITessAPI.TessPageSegMode.PSM_OSD_ONLY);
      setImage(api, h, img);
      // OSD reads the resolution from the image, not from user_defined_dpi.
      api.TessBaseAPISetSourceResolution(h, DPI);
      IntBuffer degrees = IntBuffer.allocate(1);
      FloatBuffer orientConf = FloatBuffer.allocate(1);
      FloatBuffer scriptConf = FloatBuffer.allocate(1);
      PointerByReference name = new PointerByReference();
      try {
        if (api.TessBaseAPIDetectOrientationScript(h, degrees, orientConf, name, scriptConf) != 1
            || name.getValue() == null) {
          return UnicodeScript.UNKNOWN;
        }
        return Scripts.fromOsdName(name.getValue().getString(0));
      } finally {
        api.TessBaseAPIClear(h);
      }
    } catch (TesseractException | RuntimeException e) {
      LOG.debug("script detection failed: {}", e.toString());
      return UnicodeScript.UNKNOWN;
    }
  }

  private TessBaseAPI handle(TessAPI api, String langs) throws TesseractException {
    Map<String, TessBaseAPI> mine = handles.get();
    TessBaseAPI h = mine.get(langs);
    if (h == null) {
      h = api.TessBaseAPICreate();
      String dir = datapath == null ? null : datapath.toString();
      if (api.TessBaseAPIInit2(h, dir, langs, ITessAPI.TessOcrEngineMode.OEM_DEFAULT) != 0) {
        api.TessBaseAPIDelete(h);
        throw new TesseractException("cannot initialise Tesseract for " + langs + " with tessdata " + dir);
      }
      api.TessBaseAPISetVariable(h, "user_defined_dpi", String.valueOf(DPI));
      // Tesseract prints its diagnostics ("Detected 270 diacritics", OSD's "Invalid resolution 0 dpi") straight to
      // stderr, once per page; what matters reaches the caller through confidences and page issues instead.
      api.TessBaseAPISetVariable(h, "debug_file", NULL_DEVICE);
      mine.put(langs, h);
      allHandles.add(h);
    }
    return h;
  }

  private static void setImage(TessAPI api, TessBaseAPI h, BufferedImage img) {
    BufferedImage gray = img;
    if (img.getType() != BufferedImage.TYPE_BYTE_GRAY) {
      gray = new BufferedImage(img.getWidth(), img.getHeight(), BufferedImage.TYPE_BYTE_GRAY);
      gray.getGraphics().drawImage(img, 0, 0, null);
    }
    byte[] px = ((DataBufferByte) gray.getRaster().getDataBuffer()).getData();
    int stride = gray.getSampleModel() instanceof ComponentSampleModel c ? c.getScanlineStride() : gray.getWidth();
    ByteBuffer buf = ByteBuffer.allocateDirect(px.length);
    buf.put(px).flip();
    api.TessBaseAPISetImage(h, buf, gray.getWidth(), gray.getHeight(), 1, stride);
  }

  private static List<Line> lines(TessAPI api, TessBaseAPI h) {
    List<Line> out = new ArrayList<>();
    ITessAPI.TessResultIterator it = api.TessBaseAPIGetIterator(h);
    if (it == null) {
      return out;
    }
    try {
      ITessAPI.TessPageIterator pi = api.TessResultIteratorGetPageIterator(it);
      api.TessPageIteratorBegin(pi);
      StringBuilder text = new StringBuilder();
      double weighted = 0;
      double plain = 0;
      int letters = 0;
      int words = 0;
      boolean paraStart = true;
      int height = 0;
      IntBuffer l = IntBuffer.allocate(1);
      IntBuffer t = IntBuffer.allocate(1);
      IntBuffer r = IntBuffer.allocate(1);
      IntBuffer b = IntBuffer.allocate(1);
      do {
        if (words == 0) {
          paraStart = out.isEmpty() || api.TessPageIteratorIsAtBeginningOf(pi, ITessAPI.TessPageIteratorLevel.RIL_PARA) == 1;
          if (api.TessPageIteratorBoundingBox(pi, ITessAPI.TessPageIteratorLevel.RIL_TEXTLINE, l, t, r, b) == 1) {
            height = b.get(0) - t.get(0);
          }
        }
        Pointer p = api.TessResultIteratorGetUTF8Text(it, ITessAPI.TessPageIteratorLevel.RIL_WORD);
        if (p != null) {
          String w = p.getString(0, "UTF-8");
          api.TessDeleteText(p);
          float conf = api.TessResultIteratorConfidence(it, ITessAPI.TessPageIteratorLevel.RIL_WORD);
          int n = (int) w.codePoints().filter(Character::isLetter).count();
          // A word read with so little confidence is almost never the printed word: leave it out of the text, but
          // count it in the line's confidence, which decides whether the line is kept at all.
          if (conf >= MIN_WORD_CONFIDENCE) {
            if (text.length() > 0) {
              text.append(' ');
            }
            text.append(w);
          }
          weighted += (double) conf * n;
          plain += conf;
          letters += n;
          words++;
        }
        boolean lineEnd = api.TessPageIteratorIsAtFinalElement(pi, ITessAPI.TessPageIteratorLevel.RIL_TEXTLINE,
            ITessAPI.TessPageIteratorLevel.RIL_WORD) == 1;
        if (lineEnd && words > 0) {
          float conf = (float) (letters > 0 ? weighted / letters : plain / words);
          String s = text.toString().trim();
          if (!s.isEmpty() || letters > 0) {
            out.add(new Line(s, conf, letters, paraStart, height));
          }
          text.setLength(0);
          weighted = 0;
          plain = 0;
          letters = 0;
          words = 0;
        }
      } while (api.TessPageIteratorNext(pi, ITessAPI.TessPageIteratorLevel.RIL_WORD) == 1);
      if (words > 0 && !text.toString().isBlank()) {
        out.add(new Line(text.toString().trim(), (float) (letters > 0 ? weighted / letters : plain / words), letters,
            paraStart, height));
      }
    } finally {
      api.TessResultIteratorDelete(it);
    }
    return out;
  }

  /**
   * Frees the native Tesseract instances. Call only when no thread is recognising any more (after the worker pool
   * has stopped). Idempotent.
   */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    if (allHandles.isEmpty()) {
      return;
    }
    TessAPI api = TessAPI.INSTANCE;
    for (TessBaseAPI h : allHandles) {
      api.TessBaseAPIEnd(h);
      api.TessBaseAPIDelete(h);
    }
    allHandles.clear();
  }
}
