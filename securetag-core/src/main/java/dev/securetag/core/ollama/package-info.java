/**
 * The Ollama REST API's wire types ({@code /api/generate}, {@code /api/chat}, {@code /api/tags}, {@code /api/show},
 * {@code /api/version}, errors), shared by every securetag component that speaks it: the Ollama client and the
 * Ollama-to-RunPod proxy (securetag-runpod-client) and the local runtime's server (securetag-gguf). Records with the
 * API's snake_case names; absent fields are null and left out when written; fields this version does not know are
 * kept in {@code extra} where a server passes them through.
 */
package dev.securetag.core.ollama;
