package dev.securetag.pdf.internal;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.apache.commons.logging.impl.Slf4jLogFactory;

/**
 * The commons-logging factory this module registers (META-INF/services) so that PDFBox's warnings about the
 * documents it reads for a {@code PdfCorpus} do not flood the log: a real-world corpus makes PDFBox log thousands of
 * WARN lines ("No Unicode mapping for ...", "Format 4 cmap contains an invalid glyph index"). While a thread extracts
 * a document ({@link #capture}), PDFBox's and FontBox's WARN and ERROR messages go to DEBUG under their own logger
 * names and are counted; the extractor logs one summary line per document instead. Everything else, including PDFBox
 * used outside a {@code PdfCorpus}, goes to the same logging backend commons-logging would pick by itself (Log4j API
 * when present and not bridged to SLF4J, otherwise SLF4J). A factory named in the
 * {@code org.apache.commons.logging.LogFactory} system property takes precedence over this one.
 */
public final class PdfBoxLogFactory extends LogFactory {

  private static final ThreadLocal<Capture> CURRENT = new ThreadLocal<>();

  private final LogFactory delegate = standardFactory();

  /** Public for {@link java.util.ServiceLoader}. */
  public PdfBoxLogFactory() {}

  private static LogFactory standardFactory() {
    // commons-logging's own choice when no factory is configured.
    if (present("org.apache.logging.log4j.spi.ExtendedLogger") && !present("org.apache.logging.slf4j.SLF4JProvider")) {
      try {
        // By name: its class refers to the Log4j API, which is absent from most class paths.
        return (LogFactory) Class.forName("org.apache.commons.logging.impl.Log4jApiLogFactory")
            .getDeclaredConstructor().newInstance();
      } catch (ReflectiveOperationException | LinkageError e) {
        // fall through to SLF4J, which this module depends on
      }
    }
    return new Slf4jLogFactory();
  }

  private static boolean present(String cls) {
    try {
      Class.forName(cls, false, PdfBoxLogFactory.class.getClassLoader());
      return true;
    } catch (ClassNotFoundException | LinkageError e) {
      return false;
    }
  }

  /** PDFBox's problems while reading one document: how many, and the first message. */
  public static final class Capture {
    private final AtomicInteger count = new AtomicInteger();
    private final AtomicReference<String> first = new AtomicReference<>();

    void record(Object message) {
      count.incrementAndGet();
      first.compareAndSet(null, String.valueOf(message));
    }

    /** How many WARN/ERROR messages PDFBox logged for the document. */
    public int count() {
      return count.get();
    }

    /** The first of them, or null. */
    public String first() {
      return first.get();
    }
  }

  /**
   * Counts PDFBox's warnings on this thread into {@code capture} (and logs them at DEBUG) until the returned scope
   * is closed.
   */
  public static Scope capture(Capture capture) {
    Capture previous = CURRENT.get();
    CURRENT.set(capture);
    return () -> {
      if (previous == null) {
        CURRENT.remove();
      } else {
        CURRENT.set(previous);
      }
    };
  }

  /** Ends a {@link #capture}; closing it cannot fail. */
  public interface Scope extends AutoCloseable {
    @Override
    void close();
  }

  @Override
  public Log getInstance(Class<?> clazz) {
    return getInstance(clazz.getName());
  }

  @Override
  public Log getInstance(String name) {
    Log log = delegate.getInstance(name);
    return name.startsWith("org.apache.pdfbox.") || name.startsWith("org.apache.fontbox.") ? new QuietLog(log) : log;
  }

  @Override
  public Object getAttribute(String name) {
    return delegate.getAttribute(name);
  }

  @Override
  public String[] getAttributeNames() {
    return delegate.getAttributeNames();
  }

  @Override
  public void release() {
    delegate.release();
  }

  @Override
  public void removeAttribute(String name) {
    delegate.removeAttribute(name);
  }

  @Override
  public void setAttribute(String name, Object value) {
    delegate.setAttribute(name, value);
  }

  /** A PDFBox logger whose WARN and above are counted and demoted to DEBUG while a document is being extracted. */
  private static final class QuietLog implements Log {
    private final Log log;

    QuietLog(Log log) {
      this.log = log;
    }

    private boolean demote(Object message, Throwable t) {
      Capture c = CURRENT.get();
      if (c == null) {
        return false;
      }
      c.record(message);
      if (log.isDebugEnabled()) {
        if (t == null) {
          log.debug(message);
        } else {
          log.debug(message, t);
        }
      }
      return true;
    }

    @Override
    public void warn(Object message) {
      if (!demote(message, null)) {
        log.warn(message);
      }
    }

    @Override
    public void warn(Object message, Throwable t) {
      if (!demote(message, t)) {
        log.warn(message, t);
      }
    }

    @Override
    public void error(Object message) {
      if (!demote(message, null)) {
        log.error(message);
      }
    }

    @Override
    public void error(Object message, Throwable t) {
      if (!demote(message, t)) {
        log.error(message, t);
      }
    }

    @Override
    public void fatal(Object message) {
      if (!demote(message, null)) {
        log.fatal(message);
      }
    }

    @Override
    public void fatal(Object message, Throwable t) {
      if (!demote(message, t)) {
        log.fatal(message, t);
      }
    }

    @Override
    public boolean isWarnEnabled() {
      return CURRENT.get() != null || log.isWarnEnabled();
    }

    @Override
    public boolean isErrorEnabled() {
      return CURRENT.get() != null || log.isErrorEnabled();
    }

    @Override
    public boolean isFatalEnabled() {
      return CURRENT.get() != null || log.isFatalEnabled();
    }

    @Override
    public void debug(Object message) {
      log.debug(message);
    }

    @Override
    public void debug(Object message, Throwable t) {
      log.debug(message, t);
    }

    @Override
    public void info(Object message) {
      log.info(message);
    }

    @Override
    public void info(Object message, Throwable t) {
      log.info(message, t);
    }

    @Override
    public void trace(Object message) {
      log.trace(message);
    }

    @Override
    public void trace(Object message, Throwable t) {
      log.trace(message, t);
    }

    @Override
    public boolean isDebugEnabled() {
      return log.isDebugEnabled();
    }

    @Override
    public boolean isInfoEnabled() {
      return log.isInfoEnabled();
    }

    @Override
    public boolean isTraceEnabled() {
      return log.isTraceEnabled();
    }
  }
}
