package dev.securetag.examples;

import dev.securetag.runpod.EndpointSpec;
import dev.securetag.runpod.RunPodEndpoints;
import dev.securetag.runpod.RunPodPods;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The main job's {@code --deploy} stage: turns the generated worker assets into a RunPod serverless template and queue
 * endpoint through RunPod's management API (created or updated by name, idempotently) and prints the endpoint id
 * {@code RunPodClient} uses. Without {@code RUNPOD_API_KEY} it prints what it would create and creates nothing.
 */
final class RunPodDeploy {
  /** Where {@code docker build} output goes to before a deploy can use it. */
  static final String IMAGE_PLACEHOLDER = "<registry>/securetag-tiny-worker:latest";

  /**
   * The deploy settings from the command line.
   *
   * @param apiUrl the management API host ({@code --runpod-api-url}; a fake in tests)
   */
  record Settings(String apiUrl, String name, String image, List<String> gpuPools, String networkVolume,
      String dataCenter, int workersMin, int workersMax, int idleTimeoutSeconds) {}

  /** Collects the deploy flags; {@link #consume} returns the index of the flag's last argument, or -1. */
  static final class Flags {
    boolean deploy;
    String apiUrl = RunPodPods.DEFAULT_BASE_URL;
    String name;
    String image;
    final List<String> pools = new ArrayList<>();
    String volume;
    String dataCenter;
    int workersMin = 0;
    int workersMax = 3;
    int idle = 5;

    int consume(String[] args, int i) {
      switch (args[i]) {
        case "--deploy" -> deploy = true;
        case "--runpod-api-url" -> apiUrl = value(args, ++i);
        case "--endpoint-name" -> name = value(args, ++i);
        case "--worker-image" -> image = value(args, ++i);
        case "--gpu-pool" -> pools.addAll(List.of(value(args, ++i).split(",")));
        case "--network-volume" -> volume = value(args, ++i);
        case "--data-center" -> dataCenter = value(args, ++i);
        case "--workers" -> {
          String[] mm = value(args, ++i).split(":");
          try {
            workersMin = Integer.parseInt(mm[0]);
            workersMax = Integer.parseInt(mm[mm.length - 1]);
          } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--workers needs MIN:MAX, was " + args[i]);
          }
        }
        case "--idle-timeout" -> {
          try {
            idle = Integer.parseInt(value(args, ++i));
          } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--idle-timeout needs seconds, was " + args[i]);
          }
        }
        default -> {
          return -1;
        }
      }
      return i;
    }

    /** The settings when {@code --deploy} was given, else null. */
    Settings settings(String modelName) {
      if (!deploy) {
        return null;
      }
      return new Settings(apiUrl, name != null ? name : modelName, image,
          pools.isEmpty() ? List.of("ADA_24") : List.copyOf(pools), volume, dataCenter, workersMin, workersMax, idle);
    }

    private static String value(String[] args, int i) {
      if (i >= args.length) {
        throw new IllegalArgumentException(args[i - 1] + " needs a value");
      }
      return args[i];
    }
  }

  static final String USAGE = """
            --deploy               create/update the RunPod serverless endpoint for the worker assets (needs
                                   RUNPOD_API_KEY; without it, print what would be created)
            --worker-image IMAGE   the worker image built and pushed from OUT/deploy/runpod (required to deploy)
            --gpu-pool POOLS       serverless GPU pools, comma-separated (default ADA_24)
            --network-volume ID    network volume holding the GGUF; --data-center DC pins the endpoint to its DC
            --workers MIN:MAX      worker counts (default 0:3); --idle-timeout S (default 5)
            --endpoint-name NAME   endpoint name, how later deploys find it (default: the model name)
            --runpod-api-url URL   management API host (default https://api.runpod.io)""";

  private RunPodDeploy() {}

  static EndpointSpec spec(Settings s) {
    EndpointSpec.Builder b = EndpointSpec.builder().name(s.name())
        .image(s.image() != null ? s.image() : IMAGE_PLACEHOLDER).gpuPools(s.gpuPools().toArray(String[]::new))
        .workers(s.workersMin(), s.workersMax()).idleTimeoutSeconds(s.idleTimeoutSeconds());
    if (s.networkVolume() != null) {
      b.networkVolume(s.networkVolume());
    }
    if (s.dataCenter() != null) {
      b.dataCenterId(s.dataCenter());
    }
    return b.build();
  }

  /**
   * Deploys, or prints the plan when there is no API key.
   *
   * @return the endpoint id, or a note that nothing was created
   */
  static String run(Settings s, Map<String, String> env, PrintStream out) {
    EndpointSpec spec = spec(s);
    String key = env.get("RUNPOD_API_KEY");
    if (key == null || key.isBlank()) {
      out.println("RUNPOD_API_KEY is not set: dry run, nothing is created.");
      out.print(RunPodEndpoints.plan(spec));
      if (s.image() == null) {
        out.println("  (build and push the worker image from the deploy directory, then pass --worker-image IMAGE)");
      }
      return "not deployed (dry run: RUNPOD_API_KEY not set)";
    }
    if (s.image() == null) {
      throw new IllegalArgumentException("--deploy needs --worker-image IMAGE: build it from the deploy directory "
          + "(docker build -t IMAGE OUT/deploy/runpod && docker push IMAGE) first");
    }
    try (RunPodEndpoints api = RunPodEndpoints.builder().apiKey(key).baseUrl(s.apiUrl()).build()) {
      RunPodEndpoints.Deployment d = api.deploy(spec);
      out.println("template " + d.templateId() + " " + d.template().name().toLowerCase() + ", endpoint "
          + d.endpointId() + " " + d.endpoint().name().toLowerCase() + (d.changes().isEmpty() ? "" : " " + d.changes()));
      out.println("use it with: RunPodClient.builder().endpointId(\"" + d.endpointId() + "\") (RUNPOD_ENDPOINT_ID="
          + d.endpointId() + ")");
      return d.endpointId();
    }
  }
}
