package dev.securetag.core.internal;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class JdkHttpServersTest {
  private static final String NODELAY = "sun.net.httpserver.nodelay";

  @Test
  void turnsOnNoDelayUnlessTheApplicationDecidedOtherwise() {
    String before = System.getProperty(NODELAY);
    try {
      System.clearProperty(NODELAY);
      JdkHttpServers.enableNoDelay();
      assertThat(System.getProperty(NODELAY)).isEqualTo("true");
      System.setProperty(NODELAY, "false");
      JdkHttpServers.enableNoDelay();
      assertThat(System.getProperty(NODELAY)).isEqualTo("false");
    } finally {
      if (before == null) {
        System.clearProperty(NODELAY);
      } else {
        System.setProperty(NODELAY, before);
      }
    }
  }
}
