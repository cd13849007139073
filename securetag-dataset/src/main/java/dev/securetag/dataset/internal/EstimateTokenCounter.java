package dev.securetag.dataset.internal;

import dev.securetag.dataset.TokenCounter;

/** Token estimate from the number of code points; used when the model's tokenizer is not available. */
public final class EstimateTokenCounter implements TokenCounter {
  private final double charsPerToken;

  public EstimateTokenCounter(double charsPerToken) {
    if (!(charsPerToken > 0.1 && charsPerToken < 100)) {
      throw new IllegalArgumentException("charsPerToken must be in (0.1, 100), was " + charsPerToken);
    }
    this.charsPerToken = charsPerToken;
  }

  @Override
  public int count(String text) {
    int cps = text.codePointCount(0, text.length());
    return (int) Math.ceil(cps / charsPerToken);
  }

  @Override
  public boolean exact() {
    return false;
  }

  @Override
  public String name() {
    return "estimate(" + charsPerToken + " chars/token)";
  }

  @Override
  public String toString() {
    return name();
  }
}
