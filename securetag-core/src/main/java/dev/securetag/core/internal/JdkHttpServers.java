package dev.securetag.core.internal;

/** Settings for the JDK {@code com.sun.net.httpserver} servers securetag embeds (test fakes, local servers). */
public final class JdkHttpServers {
  private static final String NODELAY = "sun.net.httpserver.nodelay";

  private JdkHttpServers() {}

  /**
   * Turns on TCP_NODELAY for JDK HTTP servers unless the application decided otherwise. The JDK server writes
   * headers and body separately; with Nagle's algorithm and the client's delayed ACK every small reply then waits
   * about 40 ms, which dominates loopback latency and NDJSON token streaming. The JDK reads the property once, when
   * its server configuration class loads, so this must run before the first server is created.
   */
  public static void enableNoDelay() {
    if (System.getProperty(NODELAY) == null) {
      System.setProperty(NODELAY, "true");
    }
  }
}
