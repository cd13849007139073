package dev.securetag.train;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.securetag.core.internal.Json;
import dev.securetag.testing.TinyLlamaFactory;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainCliTest {
  private static final String TOKEN = "job-token-for-test";
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  static Path tinyBase(Path dir) {
    return TinyLlamaFactory.builder().seed(7).build().writeTo(dir);
  }

  static String dataset() {
    StringBuilder sb = new StringBuilder();
    String[][] rows = {
        {"What does control A.5.1 require?", "Policies for information security shall be defined and approved."},
        {"What is an asset?", "Any item that has value to the organization."},
        {"Who owns a risk?", "The person with the accountability and authority to manage the risk."},
        {"How often is the policy reviewed?", "At least annually and after major incidents."}};
    for (String[] r : rows) {
      sb.append(Json.write(Json.object().put("instruction", r[0]).put("input", "").put("output", r[1]))).append('\n');
    }
    return sb.toString();
  }

  private HttpResponse<String> call(int port, String method, String path, String body, String token)
      throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .timeout(Duration.ofSeconds(30))
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static Set<String> zipEntries(byte[] zip) throws Exception {
    Set<String> names = new TreeSet<>();
    try (ZipInputStream in = new ZipInputStream(new java.io.ByteArrayInputStream(zip))) {
      for (ZipEntry e; (e = in.getNextEntry()) != null; ) {
        names.add(e.getName());
      }
    }
    return names;
  }

  @Test
  void jobServerTrainsTheUploadedDatasetStreamsEventsAndServesTheAdapterAndMergedCheckpoint(@TempDir Path tmp)
      throws Exception {
    Path base = tinyBase(tmp.resolve("volume/models/tiny"));
    try (TrainCli.JobServer server = TrainCli.JobServer.start(
        new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), tmp.resolve("work"), TOKEN)) {
      int port = server.port();
      // the port is public behind RunPod's proxy: nothing works without the token
      assertThat(call(port, "GET", "/health", null, null).statusCode()).isEqualTo(401);
      assertThat(call(port, "GET", "/health", null, "wrong").statusCode()).isEqualTo(401);
      assertThat(call(port, "GET", "/health", null, TOKEN).body()).contains("\"status\":\"ready\"");
      assertThat(call(port, "POST", "/train", "{}", TOKEN).statusCode()).isEqualTo(400); // no dataset yet

      assertThat(call(port, "PUT", "/dataset/train.jsonl", dataset(), TOKEN).statusCode()).isEqualTo(200);
      assertThat(call(port, "PUT", "/dataset/../../etc/passwd", "x", TOKEN).statusCode()).isEqualTo(400);
      String options = Json.write(Json.object().put("baseModel", base.toString()).put("steps", 3).put("batchSize", 2)
          .put("maxSeqLength", 64).put("learningRate", 0.003).put("warmupSteps", 0).put("loraR", 4));
      assertThat(call(port, "POST", "/train", options, TOKEN).statusCode()).isEqualTo(202);
      assertThat(call(port, "POST", "/train", options, TOKEN).statusCode()).isEqualTo(409);

      List<JsonNode> events = new ArrayList<>();
      HttpRequest req = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/events?from=0"))
          .header("Authorization", "Bearer " + TOKEN).timeout(Duration.ofMinutes(3)).build();
      HttpResponse<InputStream> stream = http.send(req, HttpResponse.BodyHandlers.ofInputStream());
      try (BufferedReader r = new BufferedReader(new InputStreamReader(stream.body(), StandardCharsets.UTF_8))) {
        for (String line; (line = r.readLine()) != null; ) {
          events.add(Json.readTree(line, "event"));
        }
      }
      JsonNode last = events.get(events.size() - 1);
      assertThat(last.path("type").asText()).as(last.toString()).isEqualTo("done");
      assertThat(last.path("steps").asInt()).isEqualTo(3);
      assertThat(events).filteredOn(e -> e.path("type").asText().equals("progress")
          && e.path("phase").asText().equals("train")).hasSize(3);
      assertThat(events).filteredOn(e -> e.has("seq")).extracting(e -> e.path("seq").asInt())
          .isSorted().doesNotHaveDuplicates();

      // a client that lost its connection resumes from the last event it saw
      HttpResponse<String> resumed = call(port, "GET", "/events?from=" + last.path("seq").asInt(), null, TOKEN);
      assertThat(resumed.body().strip().lines().toList()).hasSize(1).first().asString().contains("\"done\"");

      HttpResponse<byte[]> adapter = http.send(HttpRequest.newBuilder(
          URI.create("http://127.0.0.1:" + port + "/artifacts/adapter.zip")).header("Authorization", "Bearer " + TOKEN)
          .build(), HttpResponse.BodyHandlers.ofByteArray());
      assertThat(adapter.statusCode()).isEqualTo(200);
      assertThat(zipEntries(adapter.body())).contains("adapter_config.json", "adapter_model.safetensors");
      HttpResponse<byte[]> merged = http.send(HttpRequest.newBuilder(
          URI.create("http://127.0.0.1:" + port + "/artifacts/merged.zip")).header("Authorization", "Bearer " + TOKEN)
          .build(), HttpResponse.BodyHandlers.ofByteArray());
      assertThat(zipEntries(merged.body())).contains("config.json", "model.safetensors", "tokenizer.json");
      assertThat(server.status()).isEqualTo("done");
    }
  }

  @Test
  void aBadBaseModelEndsTheJobWithAFailedEventNamingIt(@TempDir Path tmp) throws Exception {
    try (TrainCli.JobServer server = TrainCli.JobServer.start(
        new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), tmp.resolve("work"), TOKEN)) {
      call(server.port(), "PUT", "/dataset/train.jsonl", dataset(), TOKEN);
      call(server.port(), "POST", "/train", "{\"baseModel\": \"/no/such/model\"}", TOKEN);
      String events = call(server.port(), "GET", "/events", null, TOKEN).body();
      assertThat(events).contains("\"type\":\"failed\"").contains("/no/such/model");
      assertThat(call(server.port(), "GET", "/artifacts/adapter.zip", null, TOKEN).statusCode()).isEqualTo(404);
    }
  }

  @Test
  void convertsFlagNamesToOptionNames() {
    assertThat(TrainCli.camel("max-seq-length")).isEqualTo("maxSeqLength");
    assertThat(TrainCli.camel("steps")).isEqualTo("steps");
  }
}
