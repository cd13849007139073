package dev.securetag.gguf.runtime.internal;

import dev.securetag.core.ChatMessage;
import dev.securetag.gguf.runtime.PromptFormat;
import java.util.List;
import java.util.Set;

/** Renders chat messages in one of the {@link PromptFormat} families and tokenizes the result. */
public final class PromptRenderer {
  private static final Set<String> ROLES = Set.of("system", "user", "assistant", "tool");

  private PromptRenderer() {}

  /** The concrete format {@code AUTO} stands for, given the model's chat template (may be null). */
  public static PromptFormat resolve(PromptFormat f, String chatTemplate) {
    if (f != PromptFormat.AUTO) {
      return f;
    }
    if (chatTemplate == null) {
      return PromptFormat.RAW;
    }
    if (chatTemplate.contains("<|start_header_id|>")) {
      return PromptFormat.LLAMA3;
    }
    if (chatTemplate.contains("<|im_start|>")) {
      return PromptFormat.CHATML;
    }
    if (chatTemplate.contains("[INST]")) {
      return PromptFormat.LLAMA2;
    }
    return PromptFormat.RAW;
  }

  /**
   * Token ids of the prompt, ending where the assistant's answer starts.
   *
   * @throws IllegalArgumentException for a role other than system, user, assistant or tool: the chat formats this
   *     runtime renders know no others
   */
  public static int[] tokens(Tokenizer tok, PromptFormat format, String chatTemplate, List<ChatMessage> msgs) {
    for (ChatMessage m : msgs) {
      if (!ROLES.contains(m.role())) {
        throw new IllegalArgumentException("role must be system, user, assistant or tool, got '" + m.role() + "'");
      }
    }
    PromptFormat f = resolve(format, chatTemplate);
    StringBuilder sys = new StringBuilder();
    for (ChatMessage m : msgs) {
      if (m.role().equals("system")) {
        sys.append(sys.length() > 0 ? "\n\n" : "").append(m.content());
      }
    }
    StringBuilder sb = new StringBuilder();
    switch (f) {
      case RAW -> {
        for (ChatMessage m : msgs) {
          sb.append(sb.length() > 0 ? "\n\n" : "").append(m.content());
        }
        return tok.encode(sb.toString(), true, false);
      }
      case INSTRUCTION -> {
        boolean first = true;
        for (ChatMessage m : msgs) {
          if (m.role().equals("user")) {
            sb.append("### Instruction:\n");
            if (first && sys.length() > 0) {
              sb.append(sys).append("\n\n");
            }
            sb.append(m.content()).append("\n\n### Response:\n");
            first = false;
          } else if (m.role().equals("assistant")) {
            sb.append(m.content()).append("\n\n");
          }
        }
        return tok.encode(sb.toString(), true, false);
      }
      case LLAMA2 -> {
        String bos = tok.bos() >= 0 ? tok.token(tok.bos()) : "";
        String eos = tok.eos() >= 0 ? tok.token(tok.eos()) : "";
        boolean first = true;
        boolean sysTags = chatTemplate != null && chatTemplate.contains("<<SYS>>");
        for (ChatMessage m : msgs) {
          if (m.role().equals("user")) {
            String content = m.content().strip();
            if (first && sys.length() > 0) {
              content = sysTags ? "<<SYS>>\n" + sys + "\n<</SYS>>\n\n" + content : sys + "\n\n" + content;
            }
            sb.append(bos).append("[INST] ").append(content).append(" [/INST]");
            first = false;
          } else if (m.role().equals("assistant")) {
            sb.append(' ').append(m.content().strip()).append(eos);
          }
        }
        return tok.encode(sb.toString(), false, true);
      }
      case LLAMA3 -> {
        sb.append(tok.bos() >= 0 ? tok.token(tok.bos()) : "");
        for (ChatMessage m : msgs) {
          sb.append("<|start_header_id|>").append(m.role()).append("<|end_header_id|>\n\n")
              .append(m.content().strip()).append("<|eot_id|>");
        }
        sb.append("<|start_header_id|>assistant<|end_header_id|>\n\n");
        return tok.encode(sb.toString(), false, true);
      }
      case CHATML -> {
        for (ChatMessage m : msgs) {
          sb.append("<|im_start|>").append(m.role()).append('\n').append(m.content()).append("<|im_end|>\n");
        }
        sb.append("<|im_start|>assistant\n");
        return tok.encode(sb.toString(), false, true);
      }
      default -> throw new IllegalStateException("unresolved prompt format " + f);
    }
  }
}
