package dev.securetag.dataset;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.securetag.core.LlmClient;
import dev.securetag.core.LlmRequest;
import dev.securetag.core.LlmResponse;
import dev.securetag.core.RemoteServiceException;
import dev.securetag.core.internal.Json;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;

/**
 * Test-only LlmClient speaking Ollama's {@code POST /api/generate} (non-streaming) over real HTTP with the JDK
 * client, so generator tests exercise sockets, status codes and timeouts without depending on the client module.
 */
final class OllamaTestClient implements LlmClient {
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private final URI endpoint;
  private final String model;
  private final boolean schemaSupport;

  OllamaTestClient(String baseUrl, String model, boolean schemaSupport) {
    this.endpoint = URI.create(baseUrl.replaceAll("/$", "") + "/api/generate");
    this.model = model;
    this.schemaSupport = schemaSupport;
  }

  @Override
  public LlmResponse generate(LlmRequest request) {
    ObjectNode body = Json.object();
    body.put("model", request.model().orElse(model));
    body.put("prompt", request.prompt());
    request.system().ifPresent(s -> body.put("system", s));
    body.put("stream", false);
    if (request.jsonSchema().isPresent()) {
      body.set("format", request.jsonSchema().get());
    } else if (request.jsonMode()) {
      body.put("format", "json");
    }
    ObjectNode options = body.putObject("options");
    request.temperature().ifPresent(t -> options.put("temperature", t));
    request.topP().ifPresent(t -> options.put("top_p", t));
    request.maxTokens().ifPresent(t -> options.put("num_predict", t));
    request.seed().ifPresent(s -> options.put("seed", s));
    HttpRequest req = HttpRequest.newBuilder(endpoint).timeout(Duration.ofSeconds(30))
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(Json.write(body))).build();
    HttpResponse<String> resp;
    try {
      resp = http.send(req, HttpResponse.BodyHandlers.ofString());
    } catch (HttpTimeoutException e) {
      throw new RemoteServiceException(RemoteServiceException.Kind.TIMEOUT, "ollama timed out", e);
    } catch (IOException e) {
      throw new RemoteServiceException(RemoteServiceException.Kind.CONNECTION, "ollama: " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new RemoteServiceException(RemoteServiceException.Kind.CONNECTION, "interrupted", e);
    }
    if (resp.statusCode() != 200) {
      Duration retryAfter = resp.headers().firstValue("Retry-After").map(s -> Duration.ofSeconds(Long.parseLong(s)))
          .orElse(null);
      throw new RemoteServiceException(RemoteServiceException.kindForStatus(resp.statusCode()), resp.statusCode(),
          "ollama HTTP " + resp.statusCode(), retryAfter, null);
    }
    JsonNode n = Json.readTree(resp.body(), "ollama response");
    if (!n.hasNonNull("response")) {
      throw new RemoteServiceException(RemoteServiceException.Kind.BAD_RESPONSE, "no response field");
    }
    return LlmResponse.of(n.get("response").asText(), n.path("model").asText(model));
  }

  @Override
  public String modelName() {
    return model;
  }

  @Override
  public boolean supportsJsonSchema() {
    return schemaSupport;
  }
}
