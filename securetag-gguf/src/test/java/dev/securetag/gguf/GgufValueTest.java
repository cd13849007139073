package dev.securetag.gguf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class GgufValueTest {

  @Test
  void normalizesIntegersToLongAndKeepsTheExactType() {
    GgufValue v = new GgufValue(GgufValueType.UINT8, null, (byte) 7);
    assertThat(v.value()).isEqualTo(7L);
    assertThat(v).isNotEqualTo(GgufValue.uint32(7));
    assertThat(GgufValue.int32(-1).asLong()).isEqualTo(-1L);
    assertThat(GgufValue.array(GgufValueType.INT32, List.of(1, 2)).asList()).isEqualTo(List.of(1L, 2L));
  }

  @Test
  void comparesFloatsBitForBit() {
    assertThat(GgufValue.float32(-0.0f)).isNotEqualTo(GgufValue.float32(0.0f));
    assertThat(GgufValue.float32(Float.NaN)).isEqualTo(GgufValue.float32(Float.NaN));
    assertThat(GgufValue.array(GgufValueType.FLOAT32, List.of(-0.0f)))
        .isNotEqualTo(GgufValue.array(GgufValueType.FLOAT32, List.of(0.0f)));
  }

  @Test
  void rejectsValuesThatDoNotFitTheirType() {
    assertThatThrownBy(() -> new GgufValue(GgufValueType.UINT8, null, 256))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new GgufValue(GgufValueType.INT16, null, 40000L))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new GgufValue(GgufValueType.UINT32, null, 1.5f))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new GgufValue(GgufValueType.STRING, null, 3)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new GgufValue(GgufValueType.BOOL, GgufValueType.BOOL, true))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> GgufValue.array(GgufValueType.STRING, java.util.Arrays.asList("a", null)))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void typedAccessorsRefuseTheWrongType() {
    assertThatThrownBy(() -> GgufValue.string("x").asLong()).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> GgufValue.uint32(1).asString()).isInstanceOf(IllegalStateException.class);
    assertThat(GgufValue.bool(true).asBoolean()).isTrue();
    assertThat(GgufValue.array(GgufValueType.STRING, List.of("a")).toString()).isEqualTo("ARRAY<STRING>[1]");
  }

  @Test
  void valueTypeIdsMatchTheGgufSpec() {
    assertThat(GgufValueType.fromId(9)).contains(GgufValueType.ARRAY);
    assertThat(GgufValueType.fromId(13)).isEmpty();
    assertThat(GgufValueType.FLOAT64.scalarBytes()).isEqualTo(8);
    assertThat(GgufOutType.Q4_K_M.fileType()).isEqualTo(15);
    assertThat(GgufOutType.Q5_K_M.defaultType()).isEqualTo(GgmlType.Q5_K);
    assertThat(GgufOutType.BF16.isQuantized()).isFalse();
  }
}
