package dev.securetag.spark.internal;

import dev.securetag.dataset.Language;
import dev.securetag.pdf.OcrMode;
import dev.securetag.spark.LlmFactory;
import dev.securetag.spark.QaConfigurer;
import java.io.Serializable;
import java.util.List;

/**
 * Everything a Spark task needs to turn PDFs into pairs, shipped to the executors with the task closure. Only plain
 * values and the user's serializable factories: engines (tokenizer, PDF reader, LLM client) are built on the executor.
 *
 * @param tokenizer path of {@code tokenizer.json} readable on every executor, or null for the estimate
 * @param cacheDir shared directory of the LLM response cache, or null for none
 * @param runId unique per application, so attempt files of two runs never share a name
 */
public record TaskSettings(String tokenizer, int maxTokens, int overlapTokens, Language language, OcrMode ocr,
    List<String> ocrLanguages, int pdfThreads, LlmFactory llm, QaConfigurer qa, String cacheDir, String runId)
    implements Serializable {
  private static final long serialVersionUID = 1L;

  public TaskSettings {
    ocrLanguages = List.copyOf(ocrLanguages);
  }
}
