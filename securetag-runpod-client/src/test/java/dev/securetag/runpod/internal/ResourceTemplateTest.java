package dev.securetag.runpod.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.securetag.runpod.DeploymentAssets;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ResourceTemplateTest {

  @Test
  void replacesEveryPlaceholderVerbatim() {
    assertThat(ResourceTemplate.render("t", "FROM x:@@TAG@@ # @@TAG@@ $1 \\", Map.of("TAG", "$0.6\\1")))
        .isEqualTo("FROM x:$0.6\\1 # $0.6\\1 $1 \\");
    assertThat(ResourceTemplate.placeholders("@@B@@ @@A_1@@ @@lower@@ @@B@@")).containsExactly("A_1", "B");
  }

  @Test
  void refusesAPlaceholderWithoutValueAndAValueWithoutPlaceholder() {
    assertThatThrownBy(() -> ResourceTemplate.render("Dockerfile", "FROM @@IMAGE@@", Map.of()))
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("Dockerfile uses @@IMAGE@@");
    assertThatThrownBy(() -> ResourceTemplate.render("start.sh", "echo", Map.of("MODEL_NAME", "m")))
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("start.sh has no placeholder for [MODEL_NAME]");
  }

  @Test
  void loadsTemplatesFromTheClassPathAndNamesAMissingOne() {
    assertThat(ResourceTemplate.load(DeploymentAssets.class, "worker/start.sh.template")).startsWith("#!/usr/bin/env bash");
    assertThatThrownBy(() -> ResourceTemplate.load(DeploymentAssets.class, "worker/nope.template"))
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("worker/nope.template");
  }
}
