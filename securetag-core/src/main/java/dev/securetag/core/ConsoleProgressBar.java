package dev.securetag.core;

import java.io.PrintStream;
import java.time.Duration;
import java.util.Locale;
import java.util.function.LongSupplier;

/**
 * Draws progress as a bar redrawn in place ({@code \r}) when output is a terminal, and falls back to one plain log
 * line per phase every {@code interval} (plus one at the end) when it is not, so CI logs stay readable.
 *
 * <pre>{@code
 * try (ConsoleProgressBar bar = ConsoleProgressBar.create()) {
 *   PdfCorpus.builder().add(dir).listener(bar).build().forEach(...);
 * }
 * }</pre>
 */
public final class ConsoleProgressBar implements ProgressListener, AutoCloseable {
  private static final int WIDTH = 30;

  private final PrintStream out;
  private final boolean terminal;
  private final long intervalNanos;
  private final LongSupplier clock;
  private long phaseStartNanos;
  private String currentPhase;
  private long lastPrintNanos;
  private boolean lineOpen;
  private boolean closed;

  private ConsoleProgressBar(PrintStream out, boolean terminal, Duration interval, LongSupplier clock) {
    this.out = out;
    this.terminal = terminal;
    this.intervalNanos = interval.toNanos();
    this.clock = clock;
    this.phaseStartNanos = clock.getAsLong();
    this.lastPrintNanos = Long.MIN_VALUE;
  }

  /** A bar on {@code System.err}; in-place drawing only when a console is attached and TERM is not "dumb". */
  public static ConsoleProgressBar create() {
    String term = System.getenv("TERM");
    boolean tty = System.console() != null && term != null && !term.equals("dumb") && System.getenv("CI") == null;
    return new ConsoleProgressBar(System.err, tty, Duration.ofSeconds(10), System::nanoTime);
  }

  /** A bar with explicit output, terminal mode, log interval and clock (nanoseconds), for embedding and tests. */
  public static ConsoleProgressBar create(PrintStream out, boolean terminal, Duration interval, LongSupplier nanoClock) {
    return new ConsoleProgressBar(out, terminal, interval, nanoClock);
  }

  /** True when drawing in place. */
  public boolean isTerminal() {
    return terminal;
  }

  @Override
  public synchronized void onProgress(Progress p) {
    if (closed) {
      return;
    }
    long now = clock.getAsLong();
    boolean newPhase = !p.phase().equals(currentPhase);
    boolean finished = p.total() > 0 && p.done() >= p.total();
    if (newPhase) {
      endLine();
      currentPhase = p.phase();
      phaseStartNanos = now;
      lastPrintNanos = Long.MIN_VALUE;
    }
    if (terminal) {
      // Redrawing more than ~10 times a second only costs CPU.
      if (!finished && lastPrintNanos != Long.MIN_VALUE && now - lastPrintNanos < 100_000_000L) {
        return;
      }
      out.print('\r' + render(p, now) + "\u001b[K");
      out.flush();
      lineOpen = true;
    } else {
      if (!finished && lastPrintNanos != Long.MIN_VALUE && now - lastPrintNanos < intervalNanos) {
        return;
      }
      out.println(render(p, now));
    }
    lastPrintNanos = now;
  }

  @Override
  public synchronized void onPhaseEnd(String phase) {
    if (phase.equals(currentPhase)) {
      endLine();
      currentPhase = null;
    }
  }

  private void endLine() {
    if (lineOpen) {
      out.println();
      lineOpen = false;
    }
  }

  String render(Progress p, long now) {
    StringBuilder sb = new StringBuilder();
    sb.append(p.phase()).append(' ');
    double f = p.fraction();
    if (terminal && f >= 0) {
      int filled = (int) Math.round(f * WIDTH);
      sb.append('[').append("#".repeat(filled)).append(" ".repeat(WIDTH - filled)).append("] ");
    }
    sb.append(p.done());
    if (p.total() > 0) {
      sb.append('/').append(p.total());
    }
    sb.append(' ').append(p.unit());
    if (f >= 0) {
      sb.append(String.format(Locale.ROOT, " (%.0f%%)", f * 100));
    }
    double secs = (now - phaseStartNanos) / 1e9;
    if (secs > 0 && p.done() > 0) {
      sb.append(String.format(Locale.ROOT, " %.1f %s/s", p.done() / secs, p.unit()));
    }
    if (!p.detail().isEmpty()) {
      sb.append(' ').append(p.detail());
    }
    return sb.toString();
  }

  @Override
  public synchronized void close() {
    if (!closed) {
      endLine();
      out.flush();
      closed = true;
    }
  }
}
