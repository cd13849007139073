package dev.securetag.core.internal;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class HalfTest {
  @Test
  void f16KnownValues() {
    assertThat(Half.floatToF16(1.0f)).isEqualTo((short) 0x3c00);
    assertThat(Half.floatToF16(-2.0f)).isEqualTo((short) 0xc000);
    assertThat(Half.floatToF16(65504f)).isEqualTo((short) 0x7bff);
    assertThat(Half.floatToF16(65520f)).isEqualTo((short) 0x7c00); // rounds to infinity
    assertThat(Half.floatToF16(0x1p-24f)).isEqualTo((short) 0x0001); // smallest subnormal
    assertThat(Half.floatToF16(0x1p-26f)).isEqualTo((short) 0x0000); // below half of it
    assertThat(Half.f16ToFloat((short) 0x3555)).isEqualTo(0.333251953125f);
    assertThat(Float.isNaN(Half.f16ToFloat(Half.floatToF16(Float.NaN)))).isTrue();
  }

  @Test
  void f16RoundTripsEveryHalfValueExactly() {
    for (int h = 0; h < 0x10000; h++) {
      float f = Half.f16ToFloat((short) h);
      if (Float.isNaN(f)) {
        continue;
      }
      assertThat(Half.floatToF16(f) & 0xffff).as("0x%04x", h).isEqualTo(h);
    }
  }

  @Test
  void f16RoundsHalfwayCasesToEven() {
    // 1 + 2^-11 is exactly halfway between 1 and the next half (1 + 2^-10): ties to even (1.0).
    assertThat(Half.floatToF16(1f + 0x1p-11f)).isEqualTo((short) 0x3c00);
    // 1 + 3 * 2^-11 is halfway between 1+2^-10 (odd) and 1+2^-9 (even).
    assertThat(Half.floatToF16(1f + 3 * 0x1p-11f)).isEqualTo((short) 0x3c02);
  }

  @Test
  void bf16RoundsToNearestEven() {
    assertThat(Half.floatToBf16(1.0f)).isEqualTo((short) 0x3f80);
    assertThat(Half.floatToBf16(Float.intBitsToFloat(0x3f808000))).isEqualTo((short) 0x3f80);
    assertThat(Half.floatToBf16(Float.intBitsToFloat(0x3f818000))).isEqualTo((short) 0x3f82);
    assertThat(Half.bf16ToFloat((short) 0x4049)).isEqualTo(3.140625f);
  }
}
