/**
 * One Ollama-API HTTP server ({@link dev.securetag.ollama.server.OllamaServer}) for any {@code LlmClient} or
 * {@link dev.securetag.ollama.server.OllamaBackend}; backends answer through
 * {@link dev.securetag.ollama.server.OllamaReply}.
 */
package dev.securetag.ollama.server;
