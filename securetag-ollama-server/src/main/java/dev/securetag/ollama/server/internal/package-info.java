/** Implementation of securetag-ollama-server (the blocking HTTP/1.1 server, the LlmClient backend); not API. */
package dev.securetag.ollama.server.internal;
