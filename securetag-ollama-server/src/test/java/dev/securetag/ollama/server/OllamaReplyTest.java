package dev.securetag.ollama.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.securetag.core.internal.Json;
import dev.securetag.core.ollama.OllamaChatRequest;
import dev.securetag.core.ollama.OllamaChunk;
import dev.securetag.core.ollama.OllamaGenerateRequest;
import dev.securetag.core.ollama.OllamaModelInfo;
import dev.securetag.core.ollama.OllamaShowResponse;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What a backend's {@link OllamaReply} puts on the wire, before and after a stream started. */
class OllamaReplyTest {

  /** Streams two pieces then fails when the prompt is "fail late"; fails at once on "fail early". */
  private static final class ScriptedBackend implements OllamaBackend {
    @Override
    public String model() {
      return "scripted";
    }

    @Override
    public OllamaModelInfo describe() {
      return new OllamaModelInfo("scripted", "scripted", null, null, null, null);
    }

    @Override
    public OllamaShowResponse show() {
      return new OllamaShowResponse(null, null, null, null, null, null);
    }

    @Override
    public void generate(OllamaGenerateRequest request, OllamaReply reply) throws IOException {
      if (request.prompt().equals("fail early")) {
        reply.header("Retry-After", "3");
        reply.error(429, "slow down", "rate_limited");
        return;
      }
      reply.lines(List.of(OllamaChunk.generatePiece("scripted", "t", "a"), OllamaChunk.generatePiece("scripted", "t",
          "b")));
      if (request.prompt().equals("fail late")) {
        throw new IllegalStateException("worker crashed");
      }
      reply.line(OllamaChunk.generatePiece("scripted", "t", "c"));
    }

    @Override
    public void chat(OllamaChatRequest request, OllamaReply reply) throws IOException {
      reply.json(200, OllamaChunk.chatPiece("scripted", "t", reply.chat() + " " + reply.streaming()));
    }
  }

  private static HttpResponse<String> post(OllamaServer s, String path, String body) throws Exception {
    return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(s.baseUrl() + path))
        .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void errorsBeforeTheStreamHaveTheirStatusAndAfterItAreTheLastLine() throws Exception {
    try (OllamaServer s = OllamaServer.builder().backend(new ScriptedBackend()).build()) {
      HttpResponse<String> early = post(s, "/api/generate", "{\"model\":\"scripted\",\"prompt\":\"fail early\"}");
      assertThat(early.statusCode()).isEqualTo(429);
      assertThat(early.headers().firstValue("Retry-After")).hasValue("3");
      assertThat(Json.readTree(early.body(), "r").path("error_kind").asText()).isEqualTo("rate_limited");

      HttpResponse<String> late = post(s, "/api/generate", "{\"model\":\"scripted\",\"prompt\":\"fail late\"}");
      assertThat(late.statusCode()).isEqualTo(200);
      String[] lines = late.body().split("\n");
      assertThat(lines).hasSize(3);
      JsonNode last = Json.readTree(lines[2], "r");
      assertThat(last.path("error").asText()).isEqualTo("worker crashed");

      HttpResponse<String> ok = post(s, "/api/generate", "{\"model\":\"scripted\",\"prompt\":\"fine\"}");
      assertThat(ok.body().split("\n")).extracting(l -> Json.readTree(l, "r").path("response").asText())
          .containsExactly("a", "b", "c");

      HttpResponse<String> chat = post(s, "/api/chat", "{\"model\":\"scripted\",\"messages\":[],\"stream\":false}");
      assertThat(Json.readTree(chat.body(), "r").path("message").path("content").asText()).isEqualTo("true false");
    }
  }
}
