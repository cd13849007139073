/**
 * The CPU runtime for llama-architecture GGUF models: {@link dev.securetag.gguf.runtime.GgufModel} (load, tokenize,
 * generate, chat, sessions), its options and results, and {@link dev.securetag.gguf.runtime.LocalLlmServer}, which
 * serves a model with the Ollama API. Needs {@code --add-modules jdk.incubator.vector}.
 */
package dev.securetag.gguf.runtime;
