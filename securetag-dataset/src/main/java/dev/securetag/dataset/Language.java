package dev.securetag.dataset;

import dev.securetag.dataset.internal.LanguageDetector;
import java.util.Locale;

/** Language of generated pairs: Spanish, English, or detected per chunk from the text ({@link #AUTO}). */
public enum Language {
  ES("es", new Locale("es")),
  EN("en", Locale.ENGLISH),
  AUTO("", Locale.ROOT);

  private final String code;
  private final Locale locale;

  Language(String code, Locale locale) {
    this.code = code;
    this.locale = locale;
  }

  /** ISO 639-1 code, "" for {@link #AUTO}. */
  public String code() {
    return code;
  }

  public Locale locale() {
    return locale;
  }

  /** This language, or for {@link #AUTO} the one detected in {@code text} (Spanish or English). */
  public Language resolve(String text) {
    return this == AUTO ? LanguageDetector.detect(text) : this;
  }
}
