// Stage 3: write the embedded tiny base model and QLoRA-fine-tune it on the JSONL from pdf-to-jsonl.jsh.
//   jshell --class-path "$(cat examples/target/jshell-classpath.txt)" examples/jshell/finetune.jsh
// Work directory: $SECURETAG_WORK (default target/jshell-work).
import dev.securetag.core.*;
import dev.securetag.testing.TinyLlamaFactory;
import dev.securetag.train.*;
import java.nio.file.*;

var work = Path.of(System.getenv().getOrDefault("SECURETAG_WORK", "target/jshell-work"));
var base = TinyLlamaFactory.builder().seed(7).build().writeTo(work.resolve("base-model"));
TrainingResult result;
try (var trainer = QloraTrainer.builder().baseModel(base).trainData(work.resolve("dataset/train.jsonl")).
    outputDir(work.resolve("training")).lora(LoraConfig.builder().r(8).alpha(16).build()).
    epochs(1).maxSteps(20).batchSize(4).learningRate(2e-3).warmupSteps(2).maxSeqLength(256).seed(42).build()) {
  result = trainer.train();
  trainer.mergeAndSave(work.resolve("merged-model"));
}
System.out.printf("loss %.3f -> %.3f in %d steps%n", result.stepLosses().get(0), result.finalLoss(), result.steps());
System.out.println("adapter: " + result.adapterDir());
System.out.println("merged: " + work.resolve("merged-model"));
/exit
