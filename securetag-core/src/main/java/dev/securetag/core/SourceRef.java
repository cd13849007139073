package dev.securetag.core;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import com.fasterxml.jackson.databind.annotation.JsonSerialize;
import java.util.List;
import org.immutables.value.Value;

/**
 * Where a piece of text came from: the document, its 1-based page range and the section path
 * (outermost heading first), e.g. {@code ["A.5 Organizational controls", "A.5.1 Policies for information security"]}.
 */
@Value.Immutable
@SecuretagStyle
@JsonSerialize(as = ImmutableSourceRef.class)
@JsonDeserialize(builder = SourceRef.Builder.class)
public interface SourceRef {

  /** Separator used when a section path is written as one string. */
  String SECTION_SEPARATOR = " > ";

  /** Document file name (not a full path, so datasets do not leak local directory layout). */
  String document();

  /** First page, 1-based. */
  int page();

  /** Last page, 1-based; equals {@link #page()} for single-page text. */
  default int lastPage() {
    return page();
  }

  /** Headings from the outermost to the innermost; empty before the first heading. */
  List<String> sectionPath();

  /** The section path joined with {@value #SECTION_SEPARATOR}, or "" when there is none. */
  @JsonIgnore
  @Value.Derived
  default String section() {
    return String.join(SECTION_SEPARATOR, sectionPath());
  }

  /** This reference widened so that it also covers {@code other}'s pages (same document expected). */
  default SourceRef spanning(SourceRef other) {
    if (!document().equals(other.document())) {
      throw new IllegalArgumentException(
          "cannot span documents " + document() + " and " + other.document());
    }
    return builder()
        .from(this)
        .page(Math.min(page(), other.page()))
        .lastPage(Math.max(lastPage(), other.lastPage()))
        .build();
  }

  @Value.Check
  default void check() {
    if (document().isBlank()) {
      throw new IllegalArgumentException("SourceRef.document must not be blank");
    }
    if (page() < 1) {
      throw new IllegalArgumentException("SourceRef.page must be >= 1, was " + page() + " in " + document());
    }
    if (lastPage() < page()) {
      throw new IllegalArgumentException(
          "SourceRef.lastPage " + lastPage() + " < page " + page() + " in " + document());
    }
  }

  /** A reference to one page with no section. */
  static SourceRef of(String document, int page) {
    return builder().document(document).page(page).build();
  }

  static Builder builder() {
    return new Builder();
  }

  /** Builds a {@link SourceRef}. */
  final class Builder extends ImmutableSourceRef.Builder {}
}
