/**
 * Clients for serving securetag models: {@link dev.securetag.runpod.RunPodClient} for RunPod Serverless queue
 * endpoints (run, runsync with polling past its wait, status, stream, cancel, retry, purge-queue, health),
 * {@link dev.securetag.runpod.OllamaClient} and {@link dev.securetag.runpod.OpenAiCompatibleClient} for Ollama and
 * OpenAI-style servers, {@link dev.securetag.runpod.RunPodLlmClient} for the seed Ollama worker contract, the
 * {@link dev.securetag.runpod.OllamaRunPodProxy} that lets Ollama applications use a RunPod endpoint, and
 * {@link dev.securetag.runpod.DeploymentAssets} for the worker image. The three LLM clients implement core's
 * {@code LlmClient} and fail with {@code RemoteServiceException}s whose {@code isRetriable()} is meaningful.
 */
package dev.securetag.runpod;
