package dev.securetag.train;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MemoScratchTest {
  @TempDir Path tmp;

  @Test
  void scratch() throws Exception {
    int hidden = Integer.getInteger("h", 64);
    Path base = TinyLlamaFactory.builder().hiddenSize(hidden).layers(2).heads(4).kvHeads(2).intermediateSize(2 * hidden)
        .vocabSize(512).seed(21).build().writeTo(tmp.resolve("base"));
    Path data = QloraTrainerTest.jsonl(tmp.resolve("qa.jsonl"), 0, 20);
    try (QloraTrainer t = QloraTrainer.builder().baseModel(base).trainData(data).outputDir(tmp.resolve("mem"))
        .lora(LoraConfig.builder().r(Integer.getInteger("r", 16)).alpha(Integer.getInteger("a", 32))
            .targetModules(List.of(LoraConfig.ALL_LINEAR)).build())
        .learningRate(Double.parseDouble(System.getProperty("lr", "1e-2"))).warmupSteps(10)
        .scheduler(Scheduler.valueOf(System.getProperty("sch", "COSINE"))).epochs(Integer.getInteger("ep", 40))
        .batchSize(Integer.getInteger("bs", 5)).seed(1).checkpointEachEpoch(false).build()) {
      TrainingResult r = t.train();
      List<Double> l = r.stepLosses();
      System.out.println("SCRATCH losses " + l.subList(0, 0) + l.subList(Math.max(0, l.size() - 5), l.size()) + " time " + r.wallTime());
      int correct = 0;
      for (String[] qa : QloraTrainerTest.QA) {
        String got = t.model().generate(PromptTemplate.prompt(qa[0], ""), GenerationConfig.greedy(40));
        System.out.println("SCRATCH gen " + got);
        if (got.equals(qa[1])) {
          correct++;
        }
      }
      System.out.println("SCRATCH correct " + correct);
    }
  }
}
