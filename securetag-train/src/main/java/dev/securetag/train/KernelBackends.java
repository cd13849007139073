package dev.securetag.train;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.ServiceLoader;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Chooses a {@link KernelBackend} among the {@link KernelBackendProvider}s on the class path, always with the reason
 * for the choice: under {@link Preference#AUTO} the available provider of highest rank (CUDA from securetag-train-cuda
 * when a device and driver are usable, else the CPU backend). The system property / environment variable
 * {@code securetag.kernels} / {@code SECURETAG_KERNELS} ({@code auto}, {@code cpu}, {@code cuda}) overrides
 * {@link Preference#AUTO}.
 */
public final class KernelBackends {
  private static final Logger LOG = LoggerFactory.getLogger(KernelBackends.class);
  private static volatile List<KernelBackendProvider> installed;

  /** Which backend the caller wants. */
  public enum Preference {
    /** The best available backend (CUDA if its provider is present and usable, else CPU). */
    AUTO,
    /** Always the CPU backend. */
    CPU,
    /** CUDA or fail with the reason it is unavailable. */
    CUDA
  }

  /** The chosen backend and why it was chosen. */
  public record Selection(KernelBackend backend, String reason) {}

  private KernelBackends() {}

  /** The providers found with {@link ServiceLoader}, highest rank first. */
  public static List<KernelBackendProvider> providers() {
    List<KernelBackendProvider> p = installed;
    if (p == null) {
      List<KernelBackendProvider> found = new ArrayList<>();
      ServiceLoader.load(KernelBackendProvider.class, KernelBackends.class.getClassLoader()).forEach(found::add);
      found.sort(Comparator.comparingInt(KernelBackendProvider::rank).reversed());
      p = List.copyOf(found);
      installed = p;
    }
    return p;
  }

  /** Selects a backend with {@code threads} CPU worker threads (0 = available processors). */
  public static Selection select(Preference preference, int threads) {
    return select(preference, threads, providers());
  }

  /** {@link #select(Preference, int)} among the given providers (tests force each backend this way). */
  static Selection select(Preference preference, int threads, List<KernelBackendProvider> providers) {
    Preference p = preference == Preference.AUTO ? fromEnvironment() : preference;
    if (p != Preference.AUTO) {
      String want = p.name().toLowerCase(Locale.ROOT);
      KernelBackendProvider provider = providers.stream().filter(x -> x.name().equals(want)).findFirst()
          .orElseThrow(() -> new IllegalStateException(p + " kernel backend requested but unavailable: "
              + missingHint(want)));
      Optional<String> why = provider.unavailableReason();
      if (why.isPresent()) {
        throw new IllegalStateException(p + " kernel backend requested but unavailable: " + why.get());
      }
      KernelBackend kb = provider.open(threads);
      LOG.info("kernel backend: {}", kb.name());
      return new Selection(kb, p + " backend requested");
    }
    List<String> skipped = new ArrayList<>();
    List<KernelBackendProvider> ranked = new ArrayList<>(providers);
    ranked.sort(Comparator.comparingInt(KernelBackendProvider::rank).reversed());
    for (KernelBackendProvider provider : ranked) {
      Optional<String> why = provider.unavailableReason();
      if (why.isPresent()) {
        LOG.debug("kernel backend {} unavailable: {}", provider.name(), why.get());
        skipped.add(provider.name().toUpperCase(Locale.ROOT) + " unavailable: " + why.get());
        continue;
      }
      if (!provider.name().equals("cuda") && ranked.stream().noneMatch(x -> x.name().equals("cuda"))) {
        skipped.add("CUDA unavailable: " + missingHint("cuda"));
      }
      KernelBackend kb = provider.open(threads);
      String reason = skipped.isEmpty() ? provider.name().toUpperCase(Locale.ROOT) + " device available"
          : String.join("; ", skipped);
      LOG.info("kernel backend: {} ({})", kb.name(), reason);
      return new Selection(kb, reason);
    }
    throw new IllegalStateException("no kernel backend available: " + String.join("; ", skipped));
  }

  /** {@link #select(Preference, int)} with AUTO and all processors. */
  public static Selection auto() {
    return select(Preference.AUTO, 0);
  }

  private static String missingHint(String name) {
    return name.equals("cuda")
        ? "no CUDA kernel provider on the class path (add the dev.securetag:securetag-train-cuda dependency)"
        : "no '" + name + "' kernel provider on the class path";
  }

  private static Preference fromEnvironment() {
    String v = System.getProperty("securetag.kernels", System.getenv("SECURETAG_KERNELS"));
    if (v == null || v.isBlank() || v.equalsIgnoreCase("auto")) {
      return Preference.AUTO;
    }
    try {
      return Preference.valueOf(v.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("securetag.kernels must be auto, cpu or cuda, was '" + v + "'", e);
    }
  }
}
