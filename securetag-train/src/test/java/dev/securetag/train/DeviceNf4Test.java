package dev.securetag.train;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import com.fasterxml.jackson.databind.JsonNode;
import dev.securetag.testfixtures.CudaTestDevice;
import dev.securetag.train.internal.DeviceNf4;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * NF4 weights held and dequantized by libtorch on the model's device ({@link DeviceNf4}) equal bitsandbytes' reference
 * dequantization bit for bit, plain and double-quantized, including partial last blocks and odd element counts. Runs on
 * the CPU and, where an NVIDIA device is present, on CUDA (failing there if CUDA does not load).
 */
class DeviceNf4Test {
  private static final JsonNode GOLDEN = Fixtures.json("nf4-golden.json");

  static Device device(ComputeDevice d) {
    if (d == ComputeDevice.CUDA) {
      CudaTestDevice.requireCuda(LlamaModel.cudaUnavailableReason(), CudaTestDevice.detect());
      return Device.gpu(0);
    }
    return Device.cpu();
  }

  private static int[] bits(float[] f) {
    int[] out = new int[f.length];
    for (int i = 0; i < f.length; i++) {
      out[i] = Float.floatToRawIntBits(f[i]);
    }
    return out;
  }

  private static long[] shape(JsonNode c) {
    long[] s = new long[c.get("shape").size()];
    for (int i = 0; i < s.length; i++) {
      s[i] = c.get("shape").get(i).asLong();
    }
    return s;
  }

  @ParameterizedTest
  @EnumSource(value = ComputeDevice.class, names = {"CPU", "CUDA"})
  void dequantizesOnTheDeviceBitExactlyAsBitsandbytes(ComputeDevice which) {
    Device device = device(which);
    try (NDManager m = NDManager.newBaseManager(device)) {
      DeviceNf4.Tables tables = new DeviceNf4.Tables(m);
      int cases = 0;
      for (JsonNode c : GOLDEN.get("cases")) {
        float[] input = Fixtures.hexFloats(c.get("input_f32_hex"));
        int bs = c.get("blocksize").asInt();
        Nf4Tensor plain = Nf4Tensor.quantize(input, shape(c), bs, false);
        Nf4Tensor dq = Nf4Tensor.quantize(input, shape(c), bs, true);
        DeviceNf4 dPlain = DeviceNf4.of(plain, m, tables);
        DeviceNf4 dDq = DeviceNf4.of(dq, m, tables);
        String name = c.get("name").asText();
        assertThat(bits(dPlain.dequantizeToHost())).as("%s plain on %s", name, device)
            .containsExactly(bits(Fixtures.hexFloats(c.get("plain").get("dequantized_f32_hex"))));
        assertThat(bits(dDq.dequantizeToHost())).as("%s double-quant on %s", name, device)
            .containsExactly(bits(Fixtures.hexFloats(c.get("double_quant").get("dequantized_f32_hex"))));
        assertThat(bits(dDq.scales().toFloatArray())).as("%s absmax on %s", name, device)
            .containsExactly(bits(Fixtures.hexFloats(c.get("double_quant").get("absmax_dequantized_hex"))));
        assertThat(dDq.toHost().absmaxCodes()).containsExactly(dq.absmaxCodes());
        assertThat(dDq.bytes()).isEqualTo(dq.bytes());
        cases++;
      }
      assertThat(cases).isPositive();
    }
  }

  @ParameterizedTest
  @EnumSource(value = ComputeDevice.class, names = {"CPU", "CUDA"})
  void oddSizesAndPartialBlocksMatchTheJavaReference(ComputeDevice which) {
    Device device = device(which);
    SplittableRandom rng = new SplittableRandom(5);
    try (NDManager m = NDManager.newBaseManager(device)) {
      DeviceNf4.Tables tables = new DeviceNf4.Tables(m);
      // 257x65 and 3x8197 end in a partial block and span two nested blocks of 256 absmax values; 7x9 is odd.
      for (long[] shape : new long[][] {{257, 65}, {7, 9}, {3, 8197}, {64, 64}}) {
        int n = (int) (shape[0] * shape[1]);
        float[] w = new float[n];
        for (int i = 0; i < n; i++) {
          w[i] = (float) (rng.nextGaussian() * (1 + i % 7));
        }
        for (boolean doubleQuant : new boolean[] {false, true}) {
          Nf4Tensor t = Nf4Tensor.quantize(w, shape, doubleQuant);
          DeviceNf4 d = DeviceNf4.of(t, m, tables);
          int[] got = bits(d.dequantizeToHost());
          int[] want = bits(t.dequantize());
          assertThat(java.util.Arrays.mismatch(got, want)).as("first differing element, %s dq=%s",
              java.util.Arrays.toString(shape), doubleQuant).isEqualTo(-1);
          assertThat(d.dequantize(DataType.FLOAT32).getShape().getShape()).containsExactly(shape);
        }
      }
    }
  }
}
