/** Implementation details of securetag-runpod-client (HTTP transport, retries, output parsing); no compatibility promises. */
package dev.securetag.runpod.internal;
