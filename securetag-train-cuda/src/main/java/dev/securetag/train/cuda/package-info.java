/**
 * The CUDA kernel backend of securetag-train, found through {@link dev.securetag.train.KernelBackendProvider}: add
 * this module to the class path and {@code KernelBackends} uses the GPU where one is usable.
 */
package dev.securetag.train.cuda;
