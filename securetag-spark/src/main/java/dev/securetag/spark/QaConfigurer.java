package dev.securetag.spark;

import dev.securetag.dataset.QaGenerator;
import java.io.Serializable;

/**
 * Sets the {@link QaGenerator} options (pairs per chunk, language, concurrency, rate limit, sampling, judge, ...) for
 * the generator each Spark task builds. It runs on the executors, so it must be serializable; the pipeline sets the
 * LLM and the response cache itself and overrides any cache set here.
 *
 * <pre>{@code
 * QaConfigurer qa = b -> b.pairsPerChunk(3).language(Language.AUTO).concurrency(8).requestsPerMinute(120);
 * }</pre>
 */
@FunctionalInterface
public interface QaConfigurer extends Serializable {
  void configure(QaGenerator.Builder builder);
}
