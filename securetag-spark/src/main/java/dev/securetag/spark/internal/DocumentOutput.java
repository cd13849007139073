package dev.securetag.spark.internal;

import java.io.Serializable;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * What one task sent back for one PDF: its pairs as JSON (small, unlike the PDF), counts for the generation report,
 * and the typed extraction error when the document could not be read. Plain serializable fields only, so Spark's
 * default serializer moves it without registration.
 */
public final class DocumentOutput implements Serializable {
  private static final long serialVersionUID = 1L;

  /** The input path as Spark listed it (the sort key that gives every run the same order). */
  public String path;
  /** The file name, as in {@code SourceRef.document()}. */
  public String document;
  public int pages;
  public int blocks;
  public int chunks;
  /** {@code QaPair}s as JSON, in chunk order. */
  public List<String> pairs = List.of();
  /** Generation report counters: see {@link ReportSum}. */
  public int chunksWithPairs;
  public int llmCalls;
  public int cachedResponses;
  public int retries;
  public int truncatedResponses;
  public int pairsProposed;
  public int pairsKept;
  public int judged;
  public double judgeScoreSum;
  public HashMap<String, Integer> drops = new HashMap<>();
  public HashMap<String, Integer> rules = new HashMap<>();
  /** {@code PdfErrorKind} name when extraction failed, else null. */
  public String errorKind;
  public String error;
  public boolean skipped;
  /** Most PDFs this task held at once while producing this output (1 by construction). */
  public int documentsInMemory;
  public long extractMillis;
  public long generateMillis;

  public Map<String, Integer> drops() {
    return drops;
  }
}
