/**
 * Implementation of the GGUF runtime: per-format kernel classes (Vector API and scalar reference side by side), 8-bit
 * activations, the transformer, tokenizers, sampling and the Ollama backend; not API.
 */
package dev.securetag.gguf.runtime.internal;
