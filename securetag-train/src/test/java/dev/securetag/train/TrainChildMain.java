package dev.securetag.train;

import java.nio.file.Path;

/**
 * Child-JVM entry point for the kill-and-resume tests: trains with {@link #settings} and prints {@code STEP n} after
 * each optimizer step (after that step's checkpoint, if any). With a pause stage and step it prints
 * {@code PAUSED <stage> <step>} inside that checkpoint write and waits there to be killed.
 * Args: {@code base data outputDir [pauseStage pauseStep]}.
 */
public final class TrainChildMain {
  private TrainChildMain() {}

  /** The run both the child and the test's uninterrupted and resumed trainers use: 10 steps, checkpoint every 2. */
  static QloraTrainer.Builder settings(Path base, Path data, Path outputDir) {
    return QloraTrainer.builder().baseModel(base).trainData(data).outputDir(outputDir)
        .lora(LoraConfig.builder().r(4).alpha(8).build()).learningRate(1e-3).batchSize(2).seed(5)
        .epochs(2).warmupSteps(2).checkpointSteps(2).checkpointEachEpoch(false);
  }

  public static void main(String[] args) {
    String pauseStage = args.length > 3 ? args[3] : "";
    int pauseStep = args.length > 4 ? Integer.parseInt(args[4]) : -1;
    try (QloraTrainer t = settings(Path.of(args[0]), Path.of(args[1]), Path.of(args[2])).listener(p -> {
      if (p.phase().equals("train")) {
        say("STEP " + p.done());
      }
    }).build()) {
      t.checkpointStage = (stage, step) -> {
        if (stage.equals(pauseStage) && step == pauseStep) {
          say("PAUSED " + stage + " " + step);
          holdUntilKilled();
        }
      };
      say("TRAINING");
      t.train();
      say("DONE");
    }
  }

  private static void say(String line) {
    System.out.println(line);
    System.out.flush();
  }

  private static void holdUntilKilled() {
    while (true) {
      try {
        Thread.sleep(60_000);
      } catch (InterruptedException e) {
        // Only SIGKILL may end this wait: the test is about what a kill mid-write leaves on disk.
      }
    }
  }
}
