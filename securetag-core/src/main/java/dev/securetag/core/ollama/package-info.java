/**
 * The Ollama REST API's wire types ({@code /api/generate}, {@code /api/chat}, {@code /api/tags}, {@code /api/show},
 * {@code /api/ps}, {@code /api/version}, errors), shared by every securetag component that speaks it: the Ollama
 * client (securetag-runpod-client) and securetag-ollama-server, the one server behind the local runtime's
 * {@code LocalLlmServer} and the Ollama-to-RunPod proxy. Records with the API's snake_case names; absent fields are
 * null and left out when written; fields this version does not know are kept in {@code extra} where a server passes
 * them through.
 */
package dev.securetag.core.ollama;
