package dev.securetag.core.ollama;

/** The reply of {@code GET /api/version}. */
public record OllamaVersion(String version) {}
