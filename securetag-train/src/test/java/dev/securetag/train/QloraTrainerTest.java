package dev.securetag.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import dev.securetag.core.InvalidInputException;
import dev.securetag.core.TrainingExample;
import dev.securetag.core.internal.Json;
import dev.securetag.testing.TinyLlamaFactory;
import dev.securetag.train.internal.DecoderForward;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class QloraTrainerTest {
  static final String[][] QA = {
      {"What does ISMS stand for?", "Information security management system."},
      {"Which triad does security protect?", "Confidentiality, integrity and availability."},
      {"How often are access rights reviewed?", "At regular intervals."},
      {"What protects remote access?", "Multi-factor authentication."},
      {"When are critical patches applied?", "Within fourteen days."},
      {"What must backups be?", "Maintained and regularly tested."},
      {"What do logs record?", "Activities, exceptions and faults."},
      {"What reduces fraud risk?", "Segregation of duties."},
      {"What happens at termination?", "Access rights are removed."},
      {"Where is data encrypted?", "At rest and in transit."},
      {"Who demonstrates leadership?", "Top management."},
      {"What covers key management?", "The cryptography policy."},
      {"What is evaluated for vulnerabilities?", "The exposure of the organization."},
      {"What secures networks?", "Managed and controlled devices."},
      {"What is a risk assessment for?", "To identify and evaluate risks."},
      {"Which standard defines an ISMS?", "ISO 27001."},
      {"Which law protects EU personal data?", "The GDPR."},
      {"Which standard covers card data?", "PCI DSS."},
      {"What is tested by penetration tests?", "Security controls."},
      {"What prepares incident response?", "Defined roles and responsibilities."}};

  @TempDir static Path shared;
  static Path base;

  @TempDir Path tmp;

  @BeforeAll
  static void createBase() {
    base = TinyLlamaFactory.builder().hiddenSize(64).layers(2).heads(4).kvHeads(2).intermediateSize(128)
        .vocabSize(512).seed(21).build().writeTo(shared.resolve("base"));
  }

  static Path jsonl(Path file, int from, int to) throws IOException {
    List<String> lines = new ArrayList<>();
    for (int i = from; i < to; i++) {
      lines.add(Json.write(TrainingExample.builder().instruction(QA[i][0]).output(QA[i][1]).build()));
    }
    Files.write(file, lines);
    return file;
  }

  private QloraTrainer.Builder small(Path data, String out) {
    return QloraTrainer.builder().baseModel(base).trainData(data).outputDir(tmp.resolve(out))
        .lora(LoraConfig.builder().r(4).alpha(8).build()).learningRate(1e-3).batchSize(2).seed(5)
        .checkpointEachEpoch(false);
  }

  @Test
  void memorisesTwentyQaPairsAndGreedyGenerationReproducesTheAnswers() throws IOException {
    Path data = jsonl(tmp.resolve("qa.jsonl"), 0, 20);
    try (QloraTrainer t = QloraTrainer.builder().baseModel(base).trainData(data).outputDir(tmp.resolve("mem"))
        .lora(LoraConfig.builder().r(16).alpha(32).targetModules(List.of(LoraConfig.ALL_LINEAR)).build())
        .learningRate(3e-3).warmupSteps(10).scheduler(Scheduler.COSINE).epochs(60).batchSize(5).seed(1)
        .checkpointEachEpoch(false).build()) {
      TrainingResult r = t.train();
      assertThat(r.finalLoss()).isLessThan(0.05);
      assertThat(r.adapterDir().resolve("adapter_model.safetensors")).exists();
      LlamaModel m = t.model();
      int correct = 0;
      for (String[] qa : QA) {
        String got = m.generate(PromptTemplate.prompt(qa[0], ""), GenerationConfig.greedy(40));
        if (got.equals(qa[1])) {
          correct++;
        }
      }
      assertThat(correct).isEqualTo(QA.length);
    }
  }

  @Test
  void resumedRunReproducesTheUninterruptedLossCurveStepForStep() throws IOException {
    Path data = jsonl(tmp.resolve("d.jsonl"), 0, 10);
    List<Double> full;
    try (QloraTrainer t = small(data, "full").epochs(2).warmupSteps(2).build()) {
      full = t.train().stepLosses();
    }
    assertThat(full).hasSize(10);
    Path out = tmp.resolve("interrupted");
    class Interrupt extends RuntimeException {}
    try (QloraTrainer t = small(data, "interrupted").epochs(2).warmupSteps(2).checkpointSteps(3)
        .listener(p -> {
          if (p.phase().equals("train") && p.done() == 7) {
            throw new Interrupt();
          }
        }).build()) {
      assertThatThrownBy(t::train).isInstanceOf(Interrupt.class);
    }
    assertThat(out.resolve("checkpoint-6/trainer_state.json")).exists();
    try (QloraTrainer t = small(data, "interrupted").epochs(2).warmupSteps(2).checkpointSteps(3).build()) {
      TrainingResult r = t.resume(out.resolve("checkpoint-6"));
      assertThat(r.stepLosses()).hasSize(10);
      for (int i = 0; i < 10; i++) {
        // libtorch's CPU kernels are not bitwise reproducible run to run; 1e-5 relative is far below a step's change.
        assertThat(r.stepLosses().get(i)).as("step %d", i + 1).isCloseTo(full.get(i),
            org.assertj.core.data.Percentage.withPercentage(1e-3));
      }
    }
  }

  /** The uninterrupted run of {@link TrainChildMain#settings}, computed once for the kill tests. */
  private static List<Double> uninterrupted;

  private static synchronized List<Double> uninterruptedLosses(Path data) {
    if (uninterrupted == null) {
      try (QloraTrainer t = TrainChildMain.settings(base, data, shared.resolve("uninterrupted")).build()) {
        uninterrupted = t.train().stepLosses();
      }
      assertThat(uninterrupted).hasSize(10);
    }
    return uninterrupted;
  }

  private static Path killData() throws IOException {
    Path data = shared.resolve("kill.jsonl");
    return Files.exists(data) ? data : jsonl(data, 0, 10);
  }

  /**
   * Every {@code checkpoint-N} directory under {@code out} is complete and readable, with N = its global step; returns
   * the steps in ascending order. Temporary {@code .checkpoint-*} directories are not checkpoints.
   */
  private static List<Integer> completeCheckpoints(Path out) throws IOException {
    List<Integer> steps = new ArrayList<>();
    try (var dirs = Files.list(out)) {
      for (Path d : dirs.filter(p -> p.getFileName().toString().startsWith("checkpoint-")).toList()) {
        int step = Integer.parseInt(d.getFileName().toString().substring("checkpoint-".length()));
        var st = Json.readTree(Files.readString(d.resolve("trainer_state.json")), d + "/trainer_state.json");
        assertThat(st.get("global_step").asInt()).as(d.toString()).isEqualTo(step);
        assertThat(st.get("step_losses")).as(d.toString()).hasSize(step);
        assertThat(Json.readTree(Files.readString(d.resolve("adapter_config.json")), "adapter_config").get("r").asInt())
            .isEqualTo(4);
        int adapterTensors;
        try (var ad = dev.securetag.core.SafetensorsReader.open(d.resolve("adapter_model.safetensors"))) {
          adapterTensors = ad.names().size();
          for (String n : ad.names()) {
            assertThat(ad.readFloats(n)).as("%s %s", d, n).isNotEmpty();
          }
        }
        try (var opt = dev.securetag.core.SafetensorsReader.open(d.resolve("optimizer.safetensors"))) {
          assertThat(opt.names()).as(d.toString()).hasSize(2 * adapterTensors);
          for (String n : opt.names()) {
            assertThat(opt.readFloats(n)).as("%s %s", d, n).isNotEmpty();
          }
        }
        steps.add(step);
      }
    }
    steps.sort(null);
    return steps;
  }

  /** Resumes from {@code checkpoint-<step>} in this JVM; the whole loss curve must equal the uninterrupted run's. */
  private static void resumeAndCompare(Path data, Path out, int step) throws IOException {
    List<Double> full = uninterruptedLosses(data);
    try (QloraTrainer t = TrainChildMain.settings(base, data, out).build()) {
      TrainingResult r = t.resume(out.resolve("checkpoint-" + step));
      assertThat(r.stepLosses()).hasSize(full.size());
      for (int i = 0; i < full.size(); i++) {
        // Steps up to the checkpoint were computed by the killed JVM, the rest here; same 1e-5 relative bar as above.
        assertThat(r.stepLosses().get(i)).as("step %d", i + 1).isCloseTo(full.get(i),
            org.assertj.core.data.Percentage.withPercentage(1e-3));
      }
    }
    assertThat(completeCheckpoints(out)).containsExactly(2, 4, 6, 8, 10);
    try (var left = Files.list(out)) {
      assertThat(left.map(p -> p.getFileName().toString())).as("no temporary checkpoint left")
          .noneMatch(n -> n.startsWith("."));
    }
  }

  @Test
  void killDashNineMidTrainingThenResumeRepeatsTheUninterruptedLossCurve() throws Exception {
    Path data = killData();
    Path out = tmp.resolve("killed");
    int exit;
    try (ChildJvm child = ChildJvm.start("512m", TrainChildMain.class, base.toString(), data.toString(),
        out.toString())) {
      child.awaitLine("STEP 5", 120, java.util.concurrent.TimeUnit.SECONDS);
      exit = child.kill9();
    }
    assertThat(exit).as("killed by SIGKILL").isEqualTo(137);
    assertThat(out.resolve("adapter")).as("the run did not finish").doesNotExist();
    List<Integer> steps = completeCheckpoints(out);
    // Killed somewhere in step 6 (or just after writing checkpoint-6): 2 and 4 are on disk, perhaps 6.
    assertThat(steps).startsWith(2, 4).hasSizeBetween(2, 3);
    resumeAndCompare(data, out, steps.get(steps.size() - 1));
  }

  @org.junit.jupiter.params.ParameterizedTest
  @org.junit.jupiter.params.provider.ValueSource(strings = {"adapter-written", "before-rename"})
  void killDashNineDuringACheckpointWriteLeavesOnlyCompleteCheckpointsAndResumes(String stage) throws Exception {
    Path data = killData();
    Path out = tmp.resolve("killed-" + stage);
    Path partial = out.resolve(".checkpoint-6.tmp");
    int exit;
    try (ChildJvm child = ChildJvm.start("512m", TrainChildMain.class, base.toString(), data.toString(),
        out.toString(), stage, "6")) {
      child.awaitLine("PAUSED " + stage + " 6", 120, java.util.concurrent.TimeUnit.SECONDS);
      // The child is inside the write of checkpoint-6: some of its files exist, under the temporary name only.
      assertThat(partial.resolve("adapter_model.safetensors")).exists();
      if (stage.equals("adapter-written")) {
        assertThat(partial.resolve("optimizer.safetensors")).doesNotExist();
        assertThat(partial.resolve("trainer_state.json")).doesNotExist();
      } else {
        assertThat(partial.resolve("trainer_state.json")).exists();
      }
      exit = child.kill9();
    }
    assertThat(exit).as("killed by SIGKILL").isEqualTo(137);
    assertThat(out.resolve("checkpoint-6")).doesNotExist();
    assertThat(completeCheckpoints(out)).containsExactly(2, 4);
    resumeAndCompare(data, out, 4);
  }

  @Test
  void evaluatesEachEpochAndStopsEarlyWhenValidationLossStopsImproving() throws IOException {
    Path train = jsonl(tmp.resolve("t.jsonl"), 0, 6);
    Path val = jsonl(tmp.resolve("v.jsonl"), 6, 9);
    // minDelta 100 means no evaluation after the first can count as an improvement.
    try (QloraTrainer t = small(train, "early").validationData(val).epochs(5).earlyStopping(1, 100)
        .sampleGenerations(1).build()) {
      TrainingResult r = t.train();
      assertThat(r.stoppedEarly()).isTrue();
      assertThat(r.evalLosses()).hasSize(2);
      assertThat(r.steps()).isEqualTo(6);
      assertThat(r.finalPerplexity().orElseThrow()).isCloseTo(Math.exp(r.evalLosses().get(1)),
          org.assertj.core.data.Offset.offset(1e-9));
    }
  }

  @Test
  void packingSharesRowsWithoutChangingTheLoss() throws IOException {
    Path data = jsonl(tmp.resolve("p.jsonl"), 0, 6);
    double unpackedLoss;
    int unpackedTokens;
    try (QloraTrainer t = small(data, "unpacked").batchSize(6).maxSteps(1).build()) {
      unpackedTokens = t.trainSequences().stream().mapToInt(QloraTrainer.Seq::lossTokens).sum();
      unpackedLoss = t.train().stepLosses().get(0);
    }
    try (QloraTrainer t = small(data, "packed").packing(true).maxSeqLength(128).batchSize(6).maxSteps(1).build()) {
      assertThat(t.trainSequences().size()).isLessThan(6);
      assertThat(t.trainSequences()).allSatisfy(s -> assertThat(s.ids().length).isLessThanOrEqualTo(128));
      assertThat(t.trainSequences().stream().mapToInt(QloraTrainer.Seq::lossTokens).sum()).isEqualTo(unpackedTokens);
      assertThat(t.train().stepLosses().get(0)).isCloseTo(unpackedLoss, org.assertj.core.data.Percentage.withPercentage(1e-3));
    }
  }

  @Test
  void failedCheckpointWriteLeavesThePreviousCheckpointValid() throws IOException {
    Path data = jsonl(tmp.resolve("c.jsonl"), 0, 8);
    Path out = tmp.resolve("disk");
    try (QloraTrainer t = small(data, "disk").epochs(1).checkpointSteps(2).build()) {
      int[] calls = {0};
      t.checkpointStage = (stage, step) -> {
        if (stage.equals("before-rename") && ++calls[0] == 2) {
          throw new java.io.UncheckedIOException(new IOException("No space left on device"));
        }
      };
      assertThatThrownBy(t::train).isInstanceOf(java.io.UncheckedIOException.class)
          .hasMessageContaining("checkpoint-4").hasMessageContaining("earlier checkpoints are intact");
    }
    try (var files = Files.list(out)) {
      assertThat(files.map(p -> p.getFileName().toString())).containsExactly("checkpoint-2");
    }
    try (QloraTrainer t = small(data, "disk").epochs(1).checkpointSteps(2).build()) {
      assertThat(t.resume(out.resolve("checkpoint-2")).steps()).isEqualTo(4);
    }
  }

  @Test
  void lossCoversOnlyResponseTokensAndTheEos() throws IOException {
    Path data = jsonl(tmp.resolve("m.jsonl"), 0, 3);
    try (QloraTrainer t = small(data, "mask").build()) {
      LlamaModel m = t.model();
      QloraTrainer.Seq s = t.trainSequences().get(0);
      int[] prompt = m.encode(PromptTemplate.prompt(QA[0][0], ""));
      int respStart = 1 + prompt.length;
      for (int i = 0; i < s.ids().length; i++) {
        if (i < respStart - 1 || i == s.ids().length - 1) {
          assertThat(s.targets()[i]).as("position %d", i).isEqualTo(DecoderForward.IGNORE);
        } else {
          assertThat(s.targets()[i]).isEqualTo(s.ids()[i + 1]);
        }
      }
      assertThat(s.ids()[s.ids().length - 1]).isEqualTo(2);
      assertThat(m.decode(java.util.Arrays.copyOfRange(s.ids(), respStart, s.ids().length - 1))).isEqualTo(QA[0][1]);
      // The loss equals -sum log p over response positions only, computed independently from the logits.
      float[][] logits = m.logits(s.ids());
      double manual = 0;
      for (int i = respStart - 1; i < s.ids().length - 1; i++) {
        double max = Double.NEGATIVE_INFINITY;
        for (float v : logits[i]) {
          max = Math.max(max, v);
        }
        double z = 0;
        for (float v : logits[i]) {
          z += Math.exp(v - max);
        }
        manual -= logits[i][s.ids()[i + 1]] - max - Math.log(z);
      }
      assertThat(s.lossTokens()).isEqualTo(s.ids().length - respStart);
      try (NDScope scope = new NDScope()) {
        scope.suppressNotUsedWarning();
        double nll = m.decoder().nllSum(new int[][] {s.ids()}, new int[] {s.ids().length}, new int[][] {s.targets()}, null)
            .toType(DataType.FLOAT64, false).getDouble();
        assertThat(nll).isCloseTo(manual, org.assertj.core.data.Offset.offset(1e-3));
      }
    }
  }

  @Test
  void gradientAccumulationEqualsOneLargeBatch() throws IOException {
    // Examples of different lengths, so a per-micro-batch mean would weight tokens differently.
    Path data = jsonl(tmp.resolve("g.jsonl"), 0, 8);
    try (QloraTrainer t = small(data, "acc").lora(LoraConfig.builder().r(4).alpha(8)
        .targetModules(List.of(LoraConfig.ALL_LINEAR)).build()).build()) {
      // B is zero at init, which would make every A gradient zero; train one step so both get signal.
      t.model().setLora("model.layers.0.self_attn.q_proj", t.model().loraA("model.layers.0.self_attn.q_proj"),
          filled(t.model().loraB("model.layers.0.self_attn.q_proj").length, 0.05f));
      float[][] big = t.cycleGradients(List.of(new int[] {0, 1, 2, 3, 4, 5, 6, 7}));
      float[][] acc = t.cycleGradients(List.of(new int[] {0, 1}, new int[] {2, 3}, new int[] {4, 5}, new int[] {6, 7}));
      double maxAbs = 0;
      double maxDiff = 0;
      for (int i = 0; i < big.length; i++) {
        for (int j = 0; j < big[i].length; j++) {
          maxAbs = Math.max(maxAbs, Math.abs(big[i][j]));
          maxDiff = Math.max(maxDiff, Math.abs(big[i][j] - acc[i][j]));
        }
      }
      assertThat(maxAbs).isPositive();
      assertThat(maxDiff).isLessThan(1e-5 * maxAbs);
      // The naive per-micro-batch mean differs measurably, so the check above has teeth.
      float[][] one = t.cycleGradients(List.of(new int[] {0, 1}));
      float[][] other = t.cycleGradients(List.of(new int[] {6, 7}));
      double naiveDiff = 0;
      for (int i = 0; i < big.length; i++) {
        for (int j = 0; j < big[i].length; j++) {
          naiveDiff = Math.max(naiveDiff, Math.abs(big[i][j] - (one[i][j] + other[i][j]) / 2));
        }
      }
      assertThat(naiveDiff).isGreaterThan(1e-3 * maxAbs);
    }
    try (QloraTrainer a = small(data, "big").batchSize(8).epochs(2).build();
        QloraTrainer b = small(data, "acc2").batchSize(2).gradientAccumulation(4).epochs(2).build()) {
      List<Double> la = a.train().stepLosses();
      List<Double> lb = b.train().stepLosses();
      assertThat(lb).hasSize(2);
      for (int i = 0; i < 2; i++) {
        assertThat(lb.get(i)).isCloseTo(la.get(i), org.assertj.core.data.Percentage.withPercentage(0.1));
      }
    }
  }

  private static float[] filled(int n, float v) {
    float[] a = new float[n];
    java.util.Arrays.fill(a, v);
    return a;
  }

  @Test
  void adapterFilesRoundTripAndMergedModelEqualsBasePlusAdapter() throws IOException {
    Path data = jsonl(tmp.resolve("a.jsonl"), 0, 6);
    int[] probe = {1, 60, 61, 62, 63, 64, 65};
    try (QloraTrainer t = small(data, "ad").lora(LoraConfig.builder().r(4).alpha(8)
        .targetModules(List.of(LoraConfig.ALL_LINEAR)).build()).epochs(2).build()) {
      TrainingResult r = t.train();
      LlamaModel trained = t.model();
      float[][] expected = trained.logits(probe);
      var cfg = Json.readTree(Files.readString(r.adapterDir().resolve("adapter_config.json")), "adapter_config");
      assertThat(cfg.get("peft_type").asText()).isEqualTo("LORA");
      assertThat(cfg.get("r").asInt()).isEqualTo(4);
      try (var st = dev.securetag.core.SafetensorsReader.open(r.adapterDir().resolve("adapter_model.safetensors"))) {
        assertThat(st.tensor("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight").orElseThrow().shape())
            .containsExactly(4, 64);
        assertThat(st.tensor("base_model.model.model.layers.1.mlp.down_proj.lora_B.weight").orElseThrow().shape())
            .containsExactly(64, 4);
      }
      try (LlamaModel again = LlamaModel.load(base, ModelOptions.builder().build())) {
        again.loadAdapter(r.adapterDir());
        for (String mod : trained.loraModules()) {
          assertThat(again.loraA(mod)).containsExactly(trained.loraA(mod));
          assertThat(again.loraB(mod)).containsExactly(trained.loraB(mod));
        }
        assertThat(LlamaModelTest.maxAbsDiff(again.logits(probe), toDouble(expected))).isLessThan(1e-5);
      }
      Path merged = tmp.resolve("merged");
      // Merged into the NF4 weights the trained model computes with, so its logits must match; the default merge into
      // the original weights is checked in LlamaModelMergeTest.
      t.mergeAndSave(merged, LlamaModel.MergeBase.HELD);
      assertThat(merged.resolve("tokenizer.json")).exists();
      assertThat(merged.resolve("tokenizer.model")).hasSameBinaryContentAs(base.resolve("tokenizer.model"));
      try (LlamaModel m = LlamaModel.load(merged, ModelOptions.fullPrecision())) {
        assertThat(LlamaModelTest.maxAbsDiff(m.logits(probe), toDouble(expected))).isLessThan(1e-4);
      }
    }
  }

  @Test
  void peftAdapterFixtureLoadsOntoItsBaseAndMatchesLlamaCpp() {
    var fx = Fixtures.json("tiny-llama/expected/lora-logits.json");
    var runs = fx.get("runs").get("model-f16.gguf + lora-f16.gguf").get("llama_cpp_f32_kv_no_flash_attn");
    ReferenceForward ref = new ReferenceForward(Fixtures.path("tiny-llama/hf"));
    try (LlamaModel m = LlamaModel.load(Fixtures.path("tiny-llama/hf"), ModelOptions.fullPrecision())) {
      m.loadAdapter(Fixtures.path("tiny-llama/hf-lora"));
      // r, alpha and the targets come from the fixture's own PEFT config: one module per target and layer.
      var adapterConfig = Fixtures.json("tiny-llama/hf-lora/adapter_config.json");
      int rank = adapterConfig.get("r").asInt();
      double scale = adapterConfig.get("lora_alpha").asDouble() / rank;
      int layers = Fixtures.json("tiny-llama/hf/config.json").get("num_hidden_layers").asInt();
      assertThat(m.loraModules()).hasSize(adapterConfig.get("target_modules").size() * layers);
      for (String mod : m.loraModules()) {
        ref.addDelta(mod, m.loraA(mod), m.loraB(mod), rank, scale);
      }
      for (int p = 0; p < fx.get("prompts").size(); p++) {
        var ids = fx.get("prompts").get(p).get("token_ids");
        int[] tokens = new int[ids.size()];
        for (int i = 0; i < tokens.length; i++) {
          tokens[i] = ids.get(i).asInt();
        }
        float[][] logits = m.logits(tokens);
        assertThat(LlamaModelTest.maxAbsDiff(logits[tokens.length - 1], runs.get(p).get("logits"))).isLessThan(1e-2);
        double[][] r = ref.logits(tokens);
        assertThat(LlamaModelTest.maxAbsDiff(new float[][] {logits[tokens.length - 1]},
            new double[][] {r[tokens.length - 1]})).isLessThan(1e-4);
      }
    }
  }

  private static double[][] toDouble(float[][] f) {
    double[][] d = new double[f.length][];
    for (int i = 0; i < f.length; i++) {
      d[i] = new double[f[i].length];
      for (int j = 0; j < f[i].length; j++) {
        d[i][j] = f[i][j];
      }
    }
    return d;
  }

  @Test
  void malformedLinesAreReportedWithFileAndLineAndSkippedOrFatal() throws IOException {
    Path data = tmp.resolve("bad.jsonl");
    Files.write(data, List.of(Json.write(TrainingExample.builder().instruction("Q1").output("A1").build()), "",
        "{not json", "{\"instruction\":\"Q\"}", Json.write(TrainingExample.builder().instruction("Q2").output("A2").build())));
    try (QloraTrainer t = small(data, "skip").maxSteps(1).build()) {
      TrainingResult r = t.train();
      assertThat(r.skippedLines()).hasSize(2);
      assertThat(r.skippedLines().get(0)).contains("bad.jsonl:3");
      assertThat(r.skippedLines().get(1)).contains("bad.jsonl:4").contains("output");
    }
    assertThatThrownBy(() -> small(data, "fatal").skipMalformedLines(false).build())
        .isInstanceOf(InvalidInputException.class).hasMessageContaining("bad.jsonl:3");
  }

  @Test
  void examplesLongerThanMaxSeqLengthAreTruncatedAndCountedOrRejected() throws IOException {
    Path data = tmp.resolve("long.jsonl");
    String longAnswer = "Review user access rights at regular intervals and remove them upon termination. ".repeat(4);
    Files.write(data, List.of(
        Json.write(TrainingExample.builder().instruction("Q").output(longAnswer).build()),
        Json.write(TrainingExample.builder().instruction("R").output("Yes.").build())));
    try (QloraTrainer t = small(data, "trunc").maxSeqLength(40).maxSteps(1).build()) {
      TrainingResult r = t.train();
      assertThat(r.truncatedExamples()).isEqualTo(1);
      assertThat(t.trainSequences()).allSatisfy(s -> assertThat(s.ids()).hasSizeLessThanOrEqualTo(40));
    }
    assertThatThrownBy(() -> small(data, "toolong").maxSeqLength(5).build())
        .isInstanceOf(InvalidInputException.class).hasMessageContaining("longer than maxSeqLength");
  }

  @Test
  void adapterForAnotherBaseModelIsRejected() throws IOException {
    Path other = TinyLlamaFactory.builder().hiddenSize(32).layers(2).heads(4).kvHeads(2).intermediateSize(64)
        .build().writeTo(tmp.resolve("other"));
    Path data = jsonl(tmp.resolve("x.jsonl"), 0, 2);
    Path adapterDir;
    try (QloraTrainer t = QloraTrainer.builder().baseModel(other).trainData(data).outputDir(tmp.resolve("o"))
        .maxSteps(1).checkpointEachEpoch(false).build()) {
      adapterDir = t.train().adapterDir();
    }
    assertThatThrownBy(() -> small(data, "mismatch").adapter(adapterDir).build())
        .isInstanceOf(InvalidInputException.class).hasMessageContaining("shape");
  }
}
