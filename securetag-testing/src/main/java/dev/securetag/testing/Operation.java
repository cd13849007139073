package dev.securetag.testing;

/** The queue-endpoint operations {@link FakeRunPodEndpoint} serves, for fault injection and request counts. */
public enum Operation {
  RUN,
  RUNSYNC,
  STATUS,
  STATUS_SYNC,
  STREAM,
  CANCEL,
  RETRY,
  PURGE_QUEUE,
  HEALTH,
  /** The OpenAI-compatible route {@code /openai/v1/*} of vLLM-style workers. */
  OPENAI,
  /** Any operation (fault injection only). */
  ANY
}
