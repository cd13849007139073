package dev.securetag.runpod;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;

/**
 * A pod as the RunPod REST v2 API reports it. {@link #raw()} is the full reply without its {@code env} (which can hold
 * secrets, such as the training job's token).
 *
 * @param costPerHour USD per hour while running (0 when stopped or terminated)
 */
public record Pod(String id, String name, PodStatus status, List<String> actions, String image, String gpuTypeId,
    String dataCenterId, double costPerHour, JsonNode raw) {

  public Pod {
    actions = List.copyOf(actions);
  }

  /** Parses a v2 {@code Pod} object. */
  public static Pod fromJson(JsonNode n) {
    List<String> actions = new ArrayList<>();
    n.path("actions").forEach(a -> actions.add(a.asText()));
    JsonNode raw = n.deepCopy();
    if (raw instanceof ObjectNode o) {
      o.remove("env");
    }
    return new Pod(n.path("id").asText(), n.path("name").asText(), PodStatus.parse(n.path("status").asText(null)),
        actions, n.path("image").asText(null), n.path("gpu").path("id").asText(null),
        n.path("dataCenterId").asText(null), n.path("cost").asDouble(0), raw);
  }

  @Override
  public String toString() {
    return "Pod{" + id + " " + name + " " + status + ", image=" + image + ", gpu=" + gpuTypeId + ", dc=" + dataCenterId
        + ", $" + costPerHour + "/h}";
  }
}
