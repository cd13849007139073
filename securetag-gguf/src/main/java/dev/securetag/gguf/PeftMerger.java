package dev.securetag.gguf;

import dev.securetag.core.InvalidInputException;
import dev.securetag.core.ProgressListener;
import dev.securetag.core.SafetensorsReader;
import dev.securetag.core.SafetensorsWriter;
import dev.securetag.core.internal.Half;
import dev.securetag.gguf.internal.LoraMerge;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.stream.Stream;

/**
 * Merges a PEFT LoRA adapter into its base checkpoint and writes a new Hugging Face directory (config, tokenizer
 * files copied; one {@code model.safetensors} in the base dtypes): W' = W + (lora_alpha / r) * B * A for every
 * adapted weight. Use it when one self-contained file is wanted instead of an Ollama {@code ADAPTER};
 * {@link GgufQuantizer.Builder#adapter} does the same merge while converting, without the intermediate copy.
 *
 * <pre>{@code
 * PeftMerger.builder().baseModel(base).adapter(lora).build().write(Path.of("merged"));
 * }</pre>
 */
public final class PeftMerger {
  private final Path baseModel;
  private final Path adapter;
  private final ProgressListener listener;

  private PeftMerger(Path baseModel, Path adapter, ProgressListener listener) {
    this.baseModel = baseModel;
    this.adapter = adapter;
    this.listener = listener;
  }

  /** A new builder; base model and adapter are required. */
  public static Builder builder() {
    return new Builder();
  }

  /** Fluent configuration of a {@link PeftMerger}. */
  public static final class Builder {
    private Path baseModel;
    private Path adapter;
    private ProgressListener listener = ProgressListener.NONE;

    private Builder() {}

    /** The base checkpoint directory. */
    public Builder baseModel(Path dir) {
      this.baseModel = dir;
      return this;
    }

    /** The PEFT adapter directory. */
    public Builder adapter(Path dir) {
      this.adapter = dir;
      return this;
    }

    /** Progress receiver (phase {@code "merge"}, unit tensors). */
    public Builder listener(ProgressListener listener) {
      this.listener = listener == null ? ProgressListener.NONE : listener;
      return this;
    }

    public PeftMerger build() {
      if (baseModel == null || adapter == null) {
        throw new IllegalStateException("baseModel(dir) and adapter(dir) are required");
      }
      return new PeftMerger(baseModel, adapter, listener);
    }
  }

  /** Writes the merged checkpoint into {@code outDir} (created; existing files with the same names replaced). */
  public void write(Path outDir) {
    if (outDir.toAbsolutePath().normalize().equals(baseModel.toAbsolutePath().normalize())) {
      throw new IllegalArgumentException("output directory must differ from the base model directory");
    }
    dev.securetag.gguf.internal.HfModel hf = dev.securetag.gguf.internal.HfModel.read(baseModel);
    try (SafetensorsReader base = SafetensorsReader.open(baseModel); LoraMerge lora = LoraMerge.open(adapter, hf)) {
      Files.createDirectories(outDir);
      SafetensorsWriter w = new SafetensorsWriter();
      List<SafetensorsReader.TensorInfo> infos = base.tensors();
      int[] done = {0};
      int applied = 0;
      for (SafetensorsReader.TensorInfo t : infos) {
        float[][] f = lora.factors(t.name());
        if (f != null) {
          applied++;
          long[] s = t.shape();
          if (s.length != 2 || s[0] != (long) f[2][2] || s[1] != (long) f[2][1]) {
            throw new InvalidInputException(adapter + ": " + t.name(), "adapter shape does not match the base weight");
          }
        }
        w.add(t.name(), t.dtype(), t.shape(), out -> {
          ByteBuffer data = base.data(t.name());
          if (f == null) {
            byte[] buf = new byte[1 << 16];
            while (data.hasRemaining()) {
              int n = Math.min(buf.length, data.remaining());
              data.get(buf, 0, n);
              out.write(buf, 0, n);
            }
          } else {
            int in = (int) t.shape()[1];
            int r = (int) f[2][0];
            float[] row = new float[in];
            ByteBuffer bytes = ByteBuffer.allocate(in * t.dtype().bytes()).order(ByteOrder.LITTLE_ENDIAN);
            for (long rowIdx = 0; rowIdx < t.shape()[0]; rowIdx++) {
              long off = rowIdx * in;
              for (int c = 0; c < in; c++) {
                int at = (int) ((off + c) * t.dtype().bytes());
                row[c] = switch (t.dtype()) {
                  case F32 -> data.getFloat(at);
                  case F16 -> Half.f16ToFloat(data.getShort(at));
                  default -> Half.bf16ToFloat(data.getShort(at));
                };
              }
              LoraMerge.addRow(f[0], f[1], r, in, rowIdx, lora.scale(), row);
              bytes.clear();
              for (float v : row) {
                switch (t.dtype()) {
                  case F32 -> bytes.putFloat(v);
                  case F16 -> bytes.putShort(Half.floatToF16(v));
                  default -> bytes.putShort(Half.floatToBf16(v));
                }
              }
              out.write(bytes.array(), 0, bytes.position());
            }
          }
          listener.onProgress(new ProgressListener.Progress("merge", ++done[0], infos.size(), "tensors", t.name()));
        });
      }
      if (applied == 0) {
        throw new InvalidInputException(adapter.toString(), "the adapter modifies none of the base model's weights");
      }
      w.write(outDir.resolve("model.safetensors"));
      listener.onPhaseEnd("merge");
      copyNonWeights(outDir);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + outDir + ": " + e.getMessage(), e);
    }
  }

  private void copyNonWeights(Path outDir) throws IOException {
    try (Stream<Path> files = Files.list(baseModel)) {
      for (Path p : (Iterable<Path>) files::iterator) {
        String n = p.getFileName().toString();
        if (Files.isRegularFile(p) && !n.endsWith(".safetensors") && !n.equals("model.safetensors.index.json")
            && !n.endsWith(".bin") && !n.endsWith(".pt")) {
          Files.copy(p, outDir.resolve(n), StandardCopyOption.REPLACE_EXISTING);
        }
      }
    }
  }
}
