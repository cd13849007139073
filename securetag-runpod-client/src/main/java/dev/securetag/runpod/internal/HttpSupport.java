package dev.securetag.runpod.internal;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.securetag.core.RemoteServiceException.Kind;
import dev.securetag.core.internal.Json;
import java.time.Duration;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.RequestBody;

/** Small shared pieces of the HTTP clients: JSON bodies, reply parsing, client ownership. */
public final class HttpSupport {
  public static final MediaType JSON = MediaType.get("application/json; charset=utf-8");

  private HttpSupport() {}

  public static RequestBody jsonBody(JsonNode node) {
    return RequestBody.create(Json.write(node), JSON);
  }

  /** Parses a reply body, mapping malformed JSON to a BAD_RESPONSE failure. */
  public static JsonNode parse(Transport transport, String body, String what, String jobId) {
    try {
      JsonNode n = Json.mapper().readTree(body);
      if (n == null || n.isMissingNode()) {
        throw transport.failure(Kind.BAD_RESPONSE, 200, what + " returned an empty body", null, null, jobId);
      }
      return n;
    } catch (JsonProcessingException e) {
      throw transport.failure(Kind.BAD_RESPONSE, 200, what + " returned invalid JSON: " + OutputText.snippet(body), null, e, jobId);
    }
  }

  /** A client with our timeouts, derived from the caller's (sharing its pool) or new. */
  public static OkHttpClient derive(OkHttpClient base, Duration connect, Duration read) {
    OkHttpClient.Builder b = base == null ? new OkHttpClient.Builder() : base.newBuilder();
    // Retries are ours (policy, deadline, submit safety); OkHttp's silent retry would re-send submits.
    return b.connectTimeout(connect).readTimeout(read).writeTimeout(read).retryOnConnectionFailure(false).build();
  }

  /**
   * {@code client} sending {@code Authorization: Bearer <secret>} on every request, or {@code client} itself when the
   * secret is empty. The header is added by an interceptor so the secret never sits in a Request that could be logged.
   */
  public static OkHttpClient withBearer(OkHttpClient client, Secret secret) {
    if (secret.isEmpty()) {
      return client;
    }
    return client.newBuilder()
        .addInterceptor(chain -> chain.proceed(chain.request().newBuilder()
            .header("Authorization", "Bearer " + secret.reveal()).build()))
        .build();
  }

  /** Releases the threads and sockets of a client this library created itself. */
  public static void shutdownOwned(OkHttpClient client) {
    client.dispatcher().executorService().shutdown();
    client.connectionPool().evictAll();
  }

}
