package dev.securetag.core;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.immutables.value.Value;

/**
 * The house style for securetag value types: abstract types with a nested {@code Builder} that extends the
 * generated one (the "sandwich" pattern), so {@code Immutable*} classes never appear in the public API.
 */
@Target({ElementType.TYPE, ElementType.PACKAGE})
@Retention(RetentionPolicy.CLASS)
@Value.Style(
    visibility = Value.Style.ImplementationVisibility.PACKAGE,
    builderVisibility = Value.Style.BuilderVisibility.PACKAGE,
    overshadowImplementation = true,
    jdkOnly = true,
    defaultAsDefault = true,
    depluralize = true)
public @interface SecuretagStyle {}
