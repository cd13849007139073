// Stage 4: merged Hugging Face checkpoint -> GGUF (Q8_0 and Q4_K_M, llama.cpp-identical) + Ollama Modelfile.
//   jshell --class-path "$(cat examples/target/jshell-classpath.txt)" examples/jshell/to-gguf.jsh
//   (plain Java 17: the converter needs no JVM flags)
import dev.securetag.gguf.*;
import java.nio.file.*;

var work = Path.of(System.getenv().getOrDefault("SECURETAG_WORK", "target/jshell-work"));
var merged = work.resolve("merged-model");
for (var type : new GgufOutType[] {GgufOutType.Q8_0, GgufOutType.Q4_K_M}) {
  var r = GgufQuantizer.builder().baseModel(merged).outType(type).threads(2).build().
      write(work.resolve("gguf/model-" + type.name().toLowerCase() + ".gguf"));
  System.out.println("wrote " + r.file().getFileName() + " with " + r.tensors().size() + " tensors");
}
var modelfile = Modelfile.builder().from("./model-q4_k_m.gguf").template(Modelfile.ALPACA_TEMPLATE).
    parameter("temperature", 0.2).parameter("stop", "### Instruction:").build();
modelfile.write(work.resolve("gguf/Modelfile"));
System.out.println(modelfile.render());
/exit
