/**
 * Test support shipped in the main artifact so applications can use it in their own tests and local end-to-end
 * runs: {@link dev.securetag.runpod.testing.FakeRunPodEndpoint}, an in-memory RunPod Serverless endpoint on loopback
 * with job states, delays, retention/TTL, streaming and fault injection, driven by pluggable
 * {@link dev.securetag.runpod.testing.JobHandler}s such as
 * {@link dev.securetag.runpod.testing.OllamaForwardingHandler}, which forwards jobs to a local Ollama-API server.
 * Not meant for production traffic.
 */
package dev.securetag.runpod.testing;
