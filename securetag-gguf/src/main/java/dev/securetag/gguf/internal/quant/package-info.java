/**
 * One class per ggml block format (quantizer byte-exact with llama.cpp's reference, and dequantizer); not API. The
 * runtime's kernels for the same formats are in securetag-gguf-runtime, so that this module needs no Vector API.
 */
package dev.securetag.gguf.internal.quant;
