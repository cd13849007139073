package dev.securetag.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Runs the JShell scripts under examples/jshell exactly as README tells users to, so they cannot rot. */
class JshellScriptsTest {

  static String runScript(String script) throws IOException, InterruptedException {
    return runScript(script, null);
  }

  static String runScript(String script, Path work) throws IOException, InterruptedException {
    Path module = Paths.get("").toAbsolutePath();
    String cp = Files.readString(module.resolve("target/jshell-classpath.txt")).trim()
        + java.io.File.pathSeparator + module.resolve("target/classes");
    Path jshell = Paths.get(System.getProperty("java.home"), "bin", "jshell");
    ProcessBuilder pb = new ProcessBuilder(List.of(jshell.toString(), "--class-path", cp,
        "-R--add-modules=jdk.incubator.vector", "--add-modules", "jdk.incubator.vector",
        module.resolve("jshell").resolve(script).toString()));
    pb.redirectErrorStream(true);
    pb.environment().put("OPT_OUT_TRACKING", "true");
    pb.environment().put("OMP_THREAD_LIMIT", "1");
    if (work != null) {
      pb.environment().put("SECURETAG_WORK", work.toString());
    }
    Process p = pb.start();
    byte[] out = p.getInputStream().readAllBytes();
    assertThat(p.waitFor(5, TimeUnit.MINUTES)).isTrue();
    String text = new String(out, StandardCharsets.UTF_8);
    assertThat(p.exitValue()).as(text).isZero();
    assertThat(text).as("jshell reported an error").doesNotContain("|  Error:").doesNotContain("Exception");
    return text;
  }

  @Test
  void stageScriptsRunThePipelineFromPdfsToARunPodAnswer(@TempDir Path work) throws Exception {
    String pdf = runScript("pdf-to-jsonl.jsh", work);
    assertThat(pdf).contains("extracted: 7 pages").containsPattern("pairs: [1-9][0-9]*");
    assertThat(work.resolve("dataset/train.jsonl")).isNotEmptyFile();

    String train = runScript("finetune.jsh", work);
    assertThat(train).containsPattern("loss [0-9.]+ -> [0-9.]+ in 20 steps");
    assertThat(work.resolve("training/adapter/adapter_model.safetensors")).exists();

    String gguf = runScript("to-gguf.jsh", work);
    assertThat(gguf).contains("wrote model-q8_0.gguf", "wrote model-q4_k_m.gguf", "FROM ./model-q4_k_m.gguf");

    String call = runScript("call-runpod.jsh", work);
    assertThat(call).contains("health: ").containsPattern("answer from securetag\\S*: \\S");
  }

  @Test
  void coreBasicsScriptPrintsAlpacaRecord() throws Exception {
    String out = runScript("core-basics.jsh");
    assertThat(out).contains("section: A.5 Organizational controls > A.5.1 Policies for information security");
    assertThat(out).contains("alpaca: {\"instruction\":\"What does A.5.1 require?\",\"input\":\"\",\"output\":"
        + "\"Information security policy shall be defined and approved.\",\"metadata\":{\"source\":\"iso27001.pdf\",\"page\":12");
  }
}
