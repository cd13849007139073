package dev.securetag.runpod.testing;

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
  /** Any operation (fault injection only). */
  ANY
}
