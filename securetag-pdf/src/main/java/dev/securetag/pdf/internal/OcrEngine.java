package dev.securetag.pdf.internal;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import net.sourceforge.tess4j.Tesseract;
import net.sourceforge.tess4j.TesseractException;
import org.apache.pdfbox.pdmodel.PDDocument;
import org.apache.pdfbox.rendering.ImageType;
import org.apache.pdfbox.rendering.PDFRenderer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tesseract OCR through Tess4J, one {@link Tesseract} per thread (instances are not thread-safe). Pages are
 * rendered at 300 dpi in gray. Availability (native library and traineddata for every language) is probed once;
 * when it fails, {@link #unavailableReason()} says why and callers report pages as unreadable instead of failing.
 */
public final class OcrEngine {

  private static final Logger LOG = LoggerFactory.getLogger(OcrEngine.class);

  /** Render resolution for OCR. */
  public static final int DPI = 300;

  private static final String[] TESSDATA_DIRS = {
    "/usr/share/tesseract-ocr/5/tessdata", "/usr/share/tesseract-ocr/4.00/tessdata", "/usr/share/tessdata",
    "/usr/local/share/tessdata", "/opt/homebrew/share/tessdata"
  };

  /** What a user installs to get OCR for {@code languages}; appended to every "unavailable" reason. */
  public static String installHint(List<String> languages) {
    return "install Tesseract with the language data (Debian/Ubuntu: apt-get install tesseract-ocr tesseract-ocr-"
        + String.join(" tesseract-ocr-", languages) + "; macOS: brew install tesseract tesseract-lang) or point "
        + "TESSDATA_PREFIX at a tessdata directory";
  }

  private final List<String> languages;
  private final Path datapath;
  private final String unavailable;
  private final ThreadLocal<Tesseract> perThread;

  private OcrEngine(List<String> languages, Path datapath, String unavailable) {
    this.languages = List.copyOf(languages);
    this.datapath = datapath;
    this.unavailable = unavailable;
    this.perThread = ThreadLocal.withInitial(this::newTesseract);
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
    // Every reason names the languages asked for, so a report says what was missing whichever part is absent.
    String wanted = "OCR languages " + String.join("+", languages);
    Path dir = tessdata != null ? (Files.isDirectory(tessdata) ? tessdata : null) : findTessdata();
    if (dir == null) {
      String where = tessdata != null ? "tessdata directory " + tessdata + " does not exist"
          : "no tessdata directory found";
      return new OcrEngine(languages, null, "Tesseract is not installed for " + wanted + " (" + where + "): "
          + installHint(languages));
    }
    List<String> missing = new ArrayList<>();
    for (String lang : languages) {
      if (!Files.isRegularFile(dir.resolve(lang + ".traineddata"))) {
        missing.add(lang);
      }
    }
    if (!missing.isEmpty()) {
      return new OcrEngine(languages, dir, "traineddata missing in " + dir + " for " + missing + " (" + wanted
          + "): " + installHint(languages));
    }
    OcrEngine probe = new OcrEngine(languages, dir, null);
    String reason = probe.probe();
    return reason == null ? probe
        : new OcrEngine(languages, dir, reason + " (" + wanted + "): " + installHint(languages));
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

  private String probe() {
    try {
      BufferedImage tiny = new BufferedImage(32, 32, BufferedImage.TYPE_BYTE_GRAY);
      perThread.get().doOCR(tiny);
      return null;
    } catch (LinkageError e) {
      // JNA reports a missing libtesseract/liblept as UnsatisfiedLinkError or NoClassDefFoundError.
      LOG.warn("Tesseract native library not available: {}", e.toString());
      return "Tesseract native library not loadable: " + e.getMessage();
    } catch (TesseractException e) {
      return "Tesseract failed to initialise: " + e.getMessage();
    }
  }

  private Tesseract newTesseract() {
    Tesseract t = new Tesseract();
    if (datapath != null) {
      t.setDatapath(datapath.toString());
    }
    t.setLanguage(String.join("+", languages));
    t.setPageSegMode(3);
    t.setVariable("user_defined_dpi", String.valueOf(DPI));
    return t;
  }

  /** Empty when OCR can run; otherwise why not. */
  public Optional<String> unavailableReason() {
    return Optional.ofNullable(unavailable);
  }

  /** The language list, e.g. spa+eng. */
  public List<String> languages() {
    return languages;
  }

  /** Renders page {@code pageNo} (1-based) at 300 dpi and recognises it. */
  public String ocrPage(PDDocument doc, int pageNo) throws IOException, TesseractException {
    if (unavailable != null) {
      throw new IllegalStateException("OCR unavailable: " + unavailable);
    }
    BufferedImage img = new PDFRenderer(doc).renderImageWithDPI(pageNo - 1, DPI, ImageType.GRAY);
    return perThread.get().doOCR(img);
  }
}
