package dev.securetag.train.internal;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * Creates DJL arrays whose memory libtorch owns. DJL's {@code create(float[])} wraps a Java direct buffer without
 * copying, and libtorch views or autograd-saved tensors of it outlive the Java wrapper: once the garbage collector
 * frees that buffer they read freed memory (observed as NaN gradients after a GC between forward and backward).
 */
public final class Tensors {
  private Tensors() {}

  /** A libtorch-owned copy of {@code data} with the given shape and dtype. */
  public static NDArray of(NDManager m, float[] data, Shape shape, DataType dtype) {
    NDArray blob = m.create(data, shape);
    NDArray owned = owned(blob, dtype);
    blob.close();
    return owned;
  }

  /**
   * A libtorch-owned copy of {@code blob} as {@code dtype}. DJL's {@code toType(t, true)} is no copy on the PyTorch
   * engine when the type already matches (it calls {@code Tensor.to} without {@code copy}, which returns the same
   * tensor): the result would still alias the Java buffer behind {@code blob}, which the garbage collector frees once
   * {@code blob} is closed and dropped, under a tensor autograd may still read.
   */
  private static NDArray owned(NDArray blob, DataType dtype) {
    return blob.getDataType() == dtype ? blob.duplicate() : blob.toType(dtype, true);
  }

  /**
   * A libtorch-owned scalar. DJL's {@code mul(Number)} and friends wrap the number in a temporary array that they
   * close right away; autograd keeps that scalar for the backward pass, so after a garbage collection the backward
   * pass reads freed memory. Graph operations therefore take scalars made here.
   */
  public static NDArray scalar(NDManager m, double v, DataType dtype) {
    NDArray blob = m.create(new double[] {v}, new Shape(1));
    NDArray owned = owned(blob, dtype);
    blob.close();
    return owned;
  }

  /**
   * Runs {@code f} in its own {@link ai.djl.ndarray.NDScope} and keeps only its result, registered with the enclosing
   * scope. DJL otherwise keeps every intermediate array alive until the enclosing scope closes, where Python's reference
   * counting would free it at once; autograd still holds the tensors it saved for backward, so this frees exactly the
   * intermediates backward does not need.
   */
  public static NDArray scoped(java.util.function.Supplier<NDArray> f) {
    NDArray y;
    try (ai.djl.ndarray.NDScope s = new ai.djl.ndarray.NDScope()) {
      s.suppressNotUsedWarning();
      y = f.get();
      ai.djl.ndarray.NDScope.unregister(y);
    }
    ai.djl.ndarray.NDScope.register(y);
    return y;
  }

  /** {@link #scoped} for several results. */
  public static NDArray[] scopedAll(java.util.function.Supplier<NDArray[]> f) {
    NDArray[] y;
    try (ai.djl.ndarray.NDScope s = new ai.djl.ndarray.NDScope()) {
      s.suppressNotUsedWarning();
      y = f.get();
      ai.djl.ndarray.NDScope.unregister(y);
    }
    for (NDArray a : y) {
      ai.djl.ndarray.NDScope.register(a);
    }
    return y;
  }

  /** A libtorch-owned int64 array. */
  public static NDArray of(NDManager m, long[] data, Shape shape) {
    NDArray blob = m.create(data, shape);
    NDArray owned = blob.duplicate();
    blob.close();
    return owned;
  }
}
