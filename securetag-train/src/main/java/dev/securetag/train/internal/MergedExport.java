package dev.securetag.train.internal;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.securetag.core.HfConfig;
import dev.securetag.core.InvalidInputException;
import dev.securetag.core.SafetensorsReader;
import dev.securetag.core.SafetensorsWriter;
import dev.securetag.core.internal.AtomicFiles;
import dev.securetag.core.internal.Half;
import dev.securetag.core.internal.Json;
import dev.securetag.train.LlamaModel.MergeBase;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes a loaded decoder with its adapters merged ({@code W + scale·B·A}, in float32) as a full-precision Hugging Face
 * checkpoint: tensors produced one at a time while writing, shards with an index when needed, config.json,
 * generation_config.json and the source checkpoint's tokenizer files. W is the source's own linear weights read
 * again (so the NF4 rounding error is not baked in) or the weights as held.
 */
public final class MergedExport {
  private static final Logger LOG = LoggerFactory.getLogger(MergedExport.class);

  private final DecoderWeights weights;

  public MergedExport(DecoderWeights weights) {
    this.weights = weights;
  }

  /**
   * Writes the merged checkpoint into {@code outDir}.
   *
   * @throws InvalidInputException with {@link MergeBase#ORIGINAL} when the source lacks a float linear weight
   */
  public void write(Path outDir, SafetensorsReader.DType dtypeOut, long maxShardBytes, MergeBase base) {
    Path source = weights.source();
    HfConfig config = weights.config();
    Optional<String> missing = originalWeightsMissing();
    boolean original = switch (base) {
      case HELD -> false;
      case ORIGINAL -> {
        if (missing.isPresent()) {
          throw new InvalidInputException(source + ": " + missing.get(), "cannot merge into the original weights: "
              + missing.get() + " is not an F32/F16/BF16 tensor of the source checkpoint");
        }
        yield true;
      }
      case ORIGINAL_IF_AVAILABLE -> missing.isEmpty();
    };
    boolean anyQuantized = weights.allLinears().stream().anyMatch(Linear::quantized);
    if (!original && anyQuantized) {
      LOG.warn("merging into NF4-dequantized base weights ({}): the export carries the NF4 rounding error",
          base == MergeBase.HELD ? "requested" : "source has no float weights for " + missing.orElse("?"));
    } else if (original) {
      LOG.info("merging adapters into the original weights of {}", source);
    }
    if (dtypeOut != SafetensorsReader.DType.F32 && dtypeOut != SafetensorsReader.DType.F16
        && dtypeOut != SafetensorsReader.DType.BF16) {
      throw new IllegalArgumentException("merged checkpoints are F32, F16 or BF16, not " + dtypeOut);
    }
    record Item(String name, long[] shape, Supplier<float[]> data) {}
    List<Item> items = new ArrayList<>();
    int h = config.hiddenSize();
    items.add(new Item("model.embed_tokens.weight", new long[] {config.vocabSize(), h}, () -> floats(weights.embed())));
    for (int i = 0; i < weights.layers().size(); i++) {
      DecoderWeights.Layer layer = weights.layers().get(i);
      String p = "model.layers." + i + ".";
      items.add(new Item(p + "input_layernorm.weight", new long[] {h}, () -> floats(layer.inputNorm())));
      items.add(new Item(p + "post_attention_layernorm.weight", new long[] {h}, () -> floats(layer.postNorm())));
      for (Linear l : layer.linears()) {
        items.add(new Item(l.name() + ".weight", new long[] {l.out(), l.in()}, () -> merged(l, original)));
      }
    }
    items.add(new Item("model.norm.weight", new long[] {h}, () -> floats(weights.finalNorm())));
    if (!config.tieWordEmbeddings()) {
      items.add(new Item("lm_head.weight", new long[] {config.vocabSize(), h}, () -> floats(weights.lmHead())));
    }
    List<SafetensorsWriter> shards = new ArrayList<>();
    List<List<String>> shardNames = new ArrayList<>();
    SafetensorsWriter cur = null;
    List<String> curNames = null;
    long curBytes = 0;
    for (Item it : items) {
      long n = 1;
      for (long d : it.shape()) {
        n *= d;
      }
      long bytes = n * dtypeOut.bytes();
      if (cur == null || (curBytes > 0 && curBytes + bytes > maxShardBytes)) {
        cur = new SafetensorsWriter();
        curNames = new ArrayList<>();
        shards.add(cur);
        shardNames.add(curNames);
        curBytes = 0;
      }
      final Item item = it;
      cur.add(it.name(), dtypeOut, it.shape(), os -> writeFloats(os, dtypeOut, item.data().get()));
      curNames.add(it.name());
      curBytes += bytes;
    }
    try {
      Files.createDirectories(outDir);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create " + outDir, e);
    }
    if (shards.size() == 1) {
      shards.get(0).write(outDir.resolve("model.safetensors"));
    } else {
      ObjectNode index = Json.object();
      ObjectNode wm = Json.object();
      long total = 0;
      for (int s = 0; s < shards.size(); s++) {
        String file = String.format("model-%05d-of-%05d.safetensors", s + 1, shards.size());
        shards.get(s).write(outDir.resolve(file));
        total += shards.get(s).dataBytes();
        for (String n : shardNames.get(s)) {
          wm.put(n, file);
        }
      }
      index.putObject("metadata").put("total_size", total);
      index.set("weight_map", wm);
      AtomicFiles.writeString(outDir.resolve("model.safetensors.index.json"), Json.write(index));
    }
    String torchDtype = switch (dtypeOut) {
      case F16 -> "float16";
      case BF16 -> "bfloat16";
      default -> "float32";
    };
    HfConfig out = HfConfig.builder().from(config).torchDtype(torchDtype).build();
    AtomicFiles.writeString(outDir.resolve("config.json"), out.toJson());
    ObjectNode gen = Json.object();
    gen.put("bos_token_id", config.bosTokenId());
    gen.put("eos_token_id", config.eosTokenIds().get(0));
    AtomicFiles.writeString(outDir.resolve("generation_config.json"), Json.write(gen));
    for (String f : List.of("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "tokenizer.model")) {
      Path src = source.resolve(f);
      if (Files.exists(src)) {
        try {
          AtomicFiles.write(outDir.resolve(f), Files.readAllBytes(src));
        } catch (IOException e) {
          throw new UncheckedIOException("cannot copy " + src, e);
        }
      }
    }
  }

  /** The first linear weight the source checkpoint lacks as an F32/F16/BF16 tensor of the right shape, if any. */
  private Optional<String> originalWeightsMissing() {
    try (SafetensorsReader st = SafetensorsReader.open(weights.source())) {
      for (Linear l : weights.allLinears()) {
        String name = l.name() + ".weight";
        Optional<SafetensorsReader.TensorInfo> t = st.tensor(name);
        if (t.isEmpty() || !Arrays.equals(t.get().shape(), new long[] {l.out(), l.in()})) {
          return Optional.of(name);
        }
        switch (t.get().dtype()) {
          case F32, F16, BF16 -> { }
          default -> {
            return Optional.of(name);
          }
        }
      }
      return Optional.empty();
    } catch (RuntimeException e) {
      LOG.debug("source checkpoint {} not readable for an original-weight merge", weights.source(), e);
      return Optional.of("model.safetensors");
    }
  }

  private float[] merged(Linear l, boolean original) {
    float[] w;
    if (original) {
      try (SafetensorsReader st = SafetensorsReader.open(weights.source())) {
        w = st.readFloats(l.name() + ".weight");
      }
    } else {
      w = l.baseWeight();
    }
    if (l.hasLora()) {
      weights.kernels().mergeLora(w, l.out(), l.in(), floats(l.loraA()), floats(l.loraB()),
          (int) l.loraA().getShape().get(0), (float) l.scaling());
    }
    return w;
  }

  private static float[] floats(NDArray a) {
    return a.getDataType() == DataType.FLOAT32 ? a.toFloatArray() : a.toType(DataType.FLOAT32, false).toFloatArray();
  }

  private static void writeFloats(OutputStream os, SafetensorsReader.DType dt, float[] data) throws IOException {
    int width = dt.bytes();
    ByteBuffer buf = ByteBuffer.allocate(8192 * width).order(ByteOrder.LITTLE_ENDIAN);
    for (float f : data) {
      switch (dt) {
        case F32 -> buf.putFloat(f);
        case F16 -> buf.putShort(Half.floatToF16(f));
        default -> buf.putShort(Half.floatToBf16(f));
      }
      if (!buf.hasRemaining()) {
        os.write(buf.array(), 0, buf.position());
        buf.clear();
      }
    }
    os.write(buf.array(), 0, buf.position());
  }
}
