// Stage 5: call the fine-tuned model through the RunPod API. Here the endpoint is the SDK's fake RunPod endpoint
// whose worker forwards to a local Ollama-API server running the GGUF; for the real thing, drop the two local
// servers and build RunPodClient with .endpointId("<your endpoint>").apiKey(System.getenv("RUNPOD_API_KEY")).
//   jshell --class-path "$(cat examples/target/jshell-classpath.txt)" -R--add-modules=jdk.incubator.vector \
//     --add-modules jdk.incubator.vector examples/jshell/call-runpod.jsh
import dev.securetag.core.*;
import dev.securetag.gguf.runtime.*;
import dev.securetag.runpod.*;
import dev.securetag.testing.*;
import java.nio.file.*;

var work = Path.of(System.getenv().getOrDefault("SECURETAG_WORK", "target/jshell-work"));
try (var server = LocalLlmServer.builder().ggufFile(work.resolve("gguf/model-q4_k_m.gguf")).modelName("securetag").
        promptFormat(PromptFormat.INSTRUCTION).port(0).start();
    var endpoint = FakeRunPodEndpoint.builder().apiKey("demo-key").
        handler(OllamaForwardingHandler.forwardingTo(server.baseUri().toString(), "securetag")).build();
    var runpod = RunPodClient.builder().endpointId(endpoint.endpointId()).apiKey("demo-key").baseUrl(endpoint.baseUrl()).build();
    var llm = RunPodLlmClient.builder().runPod(runpod).model("securetag").build()) {
  System.out.println("health: " + runpod.health());
  var answer = llm.generate(LlmRequest.builder().prompt("What does control A.5.1 require?").maxTokens(24).temperature(0.0).build());
  System.out.println("answer from " + answer.model() + ": " + answer.text().strip());
}
/exit
