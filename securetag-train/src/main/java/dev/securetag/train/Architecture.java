package dev.securetag.train;

/** The decoder families this module loads, with their Hugging Face class and {@code model_type} names. */
public enum Architecture {
  /** Dense Llama (LlamaForCausalLM). */
  LLAMA("LlamaForCausalLM", "llama"),
  /** Dense Mistral (MistralForCausalLM), optionally with a sliding attention window. */
  MISTRAL("MistralForCausalLM", "mistral"),
  /** Sparse mixture of experts (MixtralForCausalLM) with a top-k router. */
  MIXTRAL("MixtralForCausalLM", "mixtral");

  private final String hfClass;
  private final String modelType;

  Architecture(String hfClass, String modelType) {
    this.hfClass = hfClass;
    this.modelType = modelType;
  }

  /** The {@code architectures[0]} value in config.json. */
  public String hfClass() {
    return hfClass;
  }

  /** The {@code model_type} value in config.json. */
  public String modelType() {
    return modelType;
  }
}
