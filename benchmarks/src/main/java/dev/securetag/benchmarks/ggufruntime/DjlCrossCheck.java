package dev.securetag.benchmarks.ggufruntime;

import dev.securetag.gguf.runtime.GgufModel;
import dev.securetag.gguf.GgufOutType;
import dev.securetag.gguf.GgufQuantizer;
import dev.securetag.gguf.runtime.GgufSession;
import dev.securetag.train.LlamaModel;
import dev.securetag.train.ModelOptions;
import dev.securetag.testing.TinyLlamaFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * Cross-check of three modules (issue 9): a tiny checkpoint from {@link TinyLlamaFactory}, its full-precision DJL
 * forward ({@link LlamaModel}), and the same checkpoint converted by {@link GgufQuantizer} and run by
 * {@link GgufModel}. Prints the final-position logit differences per GGUF type for identical token ids, and whether
 * both sides tokenize the prompt identically. Exits 1 when F32/F16 exceed 1e-3 of the largest logit.
 *
 * <p>Args: {@code [--dir DIR] [--prompt TEXT]} (a checkpoint directory to use instead of a fresh factory model).
 */
public final class DjlCrossCheck {
  private DjlCrossCheck() {}

  public static void main(String[] args) throws Exception {
    String prompt = "The policy requires access control reviews every quarter.";
    Path given = null;
    for (int i = 0; i + 1 < args.length; i += 2) {
      if (args[i].equals("--dir")) {
        given = Path.of(args[i + 1]);
      } else if (args[i].equals("--prompt")) {
        prompt = args[i + 1];
      }
    }
    Path tmp = Files.createTempDirectory("djl-cross-check");
    try {
      Path hf = given != null ? given : TinyLlamaFactory.builder().build().writeTo(tmp.resolve("hf"));
      int[] djlIds;
      float[] djl;
      try (LlamaModel lm = LlamaModel.load(hf, ModelOptions.fullPrecision())) {
        djlIds = lm.encode(prompt);
        float[][] all = lm.logits(djlIds);
        djl = all[all.length - 1];
      }
      double maxLogit = 0;
      for (float f : djl) {
        maxLogit = Math.max(maxLogit, Math.abs(f));
      }
      boolean ok = true;
      System.out.println("| GGUF type | same token ids as LlamaModel.encode | max abs logit diff | relative to max logit |");
      System.out.println("|---|---|---:|---:|");
      for (GgufOutType t : new GgufOutType[] {GgufOutType.F32, GgufOutType.F16, GgufOutType.Q8_0, GgufOutType.Q4_K_M}) {
        Path g = GgufQuantizer.builder().baseModel(hf).outType(t).build().write(tmp.resolve(t + ".gguf")).file();
        try (GgufModel m = GgufModel.load(g); GgufSession s = m.newSession()) {
          int[] ids = m.tokenize(prompt);
          float[] l = s.eval(djlIds);
          double d = 0;
          for (int i = 0; i < l.length; i++) {
            d = Math.max(d, Math.abs(l[i] - djl[i]));
          }
          boolean sameIds = Arrays.equals(ids, djlIds);
          String idNote = sameIds ? "yes"
              : ids.length == djlIds.length + 1 && ids[0] == 1
                  && Arrays.equals(Arrays.copyOfRange(ids, 1, ids.length), djlIds)
                  ? "no: the GGUF adds BOS (add_bos_token), LlamaModel.encode does not" : "no";
          System.out.printf(Locale.ROOT, "| %s | %s | %.6f | %.2e |%n", t, idNote, d, d / maxLogit);
          if ((t == GgufOutType.F32 || t == GgufOutType.F16) && d / maxLogit > 1e-3) {
            ok = false;
          }
        }
      }
      if (!ok) {
        System.exit(1);
      }
    } finally {
      try (Stream<Path> files = Files.walk(tmp)) {
        files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }
}
