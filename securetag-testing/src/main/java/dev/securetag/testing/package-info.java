/**
 * Test and demo scaffolding, kept out of securetag's production jars (OkHttp's MockWebServer, DJL's testing module):
 * {@link dev.securetag.testing.FakeRunPodEndpoint}, an in-memory RunPod Serverless endpoint on loopback with job
 * states, delays, retention/TTL, streaming, webhooks, the OpenAI route and fault injection, driven by pluggable
 * {@link dev.securetag.testing.JobHandler}s such as {@link dev.securetag.testing.OllamaForwardingHandler};
 * {@link dev.securetag.testing.FakeRunPodApi}, the management API (pods, templates, endpoints, pod proxy); and
 * {@link dev.securetag.testing.TinyLlamaFactory}, tiny random Llama / Mistral / Mixtral checkpoints with their own
 * trained tokenizer. Depends on securetag-core only. Not meant for production traffic.
 */
package dev.securetag.testing;
