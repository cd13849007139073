package dev.securetag.gguf;

import dev.securetag.core.InvalidInputException;
import dev.securetag.core.internal.AtomicFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * An Ollama Modelfile: {@code FROM} (required), at most one {@code ADAPTER}, {@code TEMPLATE}, {@code SYSTEM},
 * {@code PARAMETER}s, {@code MESSAGE}s and {@code LICENSE}; rendered with Ollama's quoting rules and parsed back.
 *
 * <pre>{@code
 * Modelfile mf = Modelfile.builder()
 *     .from("./model-q4_k_m.gguf")
 *     .template(Modelfile.ALPACA_TEMPLATE)
 *     .parameter("temperature", 0.2)
 *     .parameter("stop", "### Instruction:")
 *     .build();
 * mf.write(Path.of("Modelfile"));
 * mf.renderPrompt("Explain A.5.1");   // the exact text Ollama feeds the model for /api/generate
 * }</pre>
 *
 * <p>The {@code TEMPLATE} and {@code SYSTEM} must be the ones the model was fine-tuned with, or the served model sees a
 * layout it never learned. securetag's trainer formats every example with {@link #ALPACA_TEMPLATE}'s layout and no
 * system text, whatever chat template the base model ships (the GGUF keeps {@code tokenizer.chat_template}, which
 * Ollama would otherwise pick up), so a Modelfile for a securetag-trained model sets {@code ALPACA_TEMPLATE} and no
 * {@code SYSTEM}. A model fine-tuned elsewhere on its own chat template needs that template here instead, in Go form.
 */
public final class Modelfile {
  /**
   * Ollama (Go) template for the Alpaca format securetag's trainer fine-tunes on: {@code ### Instruction:\n...\n\n
   * ### Response:\n}. A prompt that carries an input adds it as {@code instruction + "\n\n### Input:\n" + input},
   * which renders exactly the training layout ({@link #renderPrompt(String)} shows the result). Send such prompts
   * without {@code raw}: the template adds the Instruction and Response markers, so a prompt that already has them
   * would be wrapped twice. The blank line after the response only shows in multi-turn chats (Ollama cuts the
   * template after {@code .Response} for the turn being generated) and matches the runtime's INSTRUCTION format.
   */
  public static final String ALPACA_TEMPLATE = "{{ if .System }}{{ .System }}\n\n{{ end }}### Instruction:\n"
      + "{{ .Prompt }}\n\n### Response:\n{{ .Response }}\n\n";

  private static final Set<String> COMMANDS = Set.of("from", "adapter", "template", "system", "parameter",
      "message", "license", "requires", "draft", "renderer", "parser");
  private static final Set<String> ROLES = Set.of("system", "user", "assistant");

  /** One {@code MESSAGE role text} line. */
  public record Message(String role, String content) {}

  private final String from;
  private final String adapter;
  private final String template;
  private final String system;
  private final String license;
  private final List<Map.Entry<String, String>> parameters;
  private final List<Message> messages;
  private final List<Map.Entry<String, String>> other;

  private Modelfile(String from, String adapter, String template, String system, String license,
      List<Map.Entry<String, String>> parameters, List<Message> messages, List<Map.Entry<String, String>> other) {
    this.from = from;
    this.adapter = adapter;
    this.template = template;
    this.system = system;
    this.license = license;
    this.parameters = List.copyOf(parameters);
    this.messages = List.copyOf(messages);
    this.other = List.copyOf(other);
  }

  /** A new builder. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Fluent construction of a {@link Modelfile}. Setters only record values; {@link #build()} checks them all: a FROM
   * is required, at most one ADAPTER, no empty value or one containing {@code """} (Ollama cannot quote it), parameter
   * names that are identifiers, MESSAGE roles system, user or assistant.
   */
  public static final class Builder {
    private String from;
    private final List<String> adapters = new ArrayList<>();
    private String template;
    private String system;
    private String license;
    private final List<Map.Entry<String, String>> parameters = new ArrayList<>();
    private final List<Message> messages = new ArrayList<>();
    private final List<Map.Entry<String, String>> other = new ArrayList<>();

    private Builder() {}

    /** Base model: a name[:tag], a safetensors directory or a GGUF path (relative to the Modelfile). */
    public Builder from(String model) {
      this.from = model;
      return this;
    }

    /** The GGUF LoRA adapter (or safetensors adapter directory) to apply; Ollama takes one. */
    public Builder adapter(String path) {
      adapters.add(path);
      return this;
    }

    /** Go text/template prompt template, e.g. {@link #ALPACA_TEMPLATE}. */
    public Builder template(String template) {
      this.template = template;
      return this;
    }

    /** System message. */
    public Builder system(String system) {
      this.system = system;
      return this;
    }

    /** License text. */
    public Builder license(String license) {
      this.license = license;
      return this;
    }

    /** A {@code PARAMETER}; repeatable (e.g. several {@code stop} values). Names are case-insensitive. */
    public Builder parameter(String name, Object value) {
      parameters.add(new AbstractMap.SimpleImmutableEntry<>(name, value == null ? null : String.valueOf(value)));
      return this;
    }

    /** A {@code MESSAGE} (role system, user or assistant). */
    public Builder message(String role, String content) {
      messages.add(new Message(role, content));
      return this;
    }

    /** Another instruction Ollama accepts (REQUIRES, DRAFT, RENDERER, PARSER), kept verbatim. */
    public Builder instruction(String name, String value) {
      other.add(new AbstractMap.SimpleImmutableEntry<>(name, value));
      return this;
    }

    /**
     * Checks every value and builds the Modelfile; the builder is left unchanged.
     *
     * @throws IllegalStateException without a FROM, or with more than one ADAPTER
     * @throws IllegalArgumentException naming the first value Ollama cannot represent
     */
    public Modelfile build() {
      if (from == null) {
        throw new IllegalStateException("FROM is required");
      }
      checkValue("FROM", from);
      if (adapters.size() > 1) {
        throw new IllegalStateException("Ollama supports only one ADAPTER per Modelfile, got " + adapters.size());
      }
      for (String a : adapters) {
        checkValue("ADAPTER", a);
      }
      if (template != null) {
        checkValue("TEMPLATE", template);
      }
      if (system != null) {
        checkValue("SYSTEM", system);
      }
      if (license != null) {
        checkValue("LICENSE", license);
      }
      List<Map.Entry<String, String>> params = new ArrayList<>();
      for (Map.Entry<String, String> p : parameters) {
        checkParameterName(p.getKey());
        params.add(Map.entry(p.getKey().toLowerCase(Locale.ROOT), checkValue("PARAMETER " + p.getKey(), p.getValue())));
      }
      for (Message m : messages) {
        checkRole(m.role());
        checkValue("MESSAGE", m.content());
      }
      List<Map.Entry<String, String>> others = new ArrayList<>();
      for (Map.Entry<String, String> e : other) {
        String n = checkInstruction(e.getKey());
        others.add(Map.entry(n.toUpperCase(Locale.ROOT), checkValue(n, e.getValue())));
      }
      return new Modelfile(from, adapters.isEmpty() ? null : adapters.get(0), template, system, license, params,
          messages, others);
    }
  }

  private static String checkValue(String what, String v) {
    if (v == null || v.isEmpty()) {
      throw new IllegalArgumentException(what + " value must not be empty");
    }
    if (v.contains("\"\"\"")) {
      throw new IllegalArgumentException(what + " value must not contain \"\"\" (Ollama cannot quote it)");
    }
    return v;
  }

  private static void checkParameterName(String name) {
    if (name == null || !name.matches("[A-Za-z_][A-Za-z0-9_]*")) {
      throw new IllegalArgumentException("invalid parameter name: " + name);
    }
  }

  private static void checkRole(String role) {
    if (!ROLES.contains(role)) {
      throw new IllegalArgumentException("MESSAGE role must be system, user or assistant, got " + role);
    }
  }

  /** The instruction's lower-case name; other names have their own builder method. */
  private static String checkInstruction(String name) {
    String n = name == null ? "" : name.toLowerCase(Locale.ROOT);
    if (!Set.of("requires", "draft", "renderer", "parser").contains(n)) {
      throw new IllegalArgumentException("use the dedicated builder method for " + name);
    }
    return n;
  }

  public String from() {
    return from;
  }

  public Optional<String> adapter() {
    return Optional.ofNullable(adapter);
  }

  public Optional<String> template() {
    return Optional.ofNullable(template);
  }

  public Optional<String> system() {
    return Optional.ofNullable(system);
  }

  public Optional<String> license() {
    return Optional.ofNullable(license);
  }

  /** Parameters in order, names lower-case. */
  public List<Map.Entry<String, String>> parameters() {
    return parameters;
  }

  /** Values of one parameter in order. */
  public List<String> parameter(String name) {
    return parameters.stream().filter(e -> e.getKey().equals(name)).map(Map.Entry::getValue).toList();
  }

  public List<Message> messages() {
    return messages;
  }

  /** REQUIRES / DRAFT / RENDERER / PARSER instructions, upper-case names, in order. */
  public List<Map.Entry<String, String>> otherInstructions() {
    return other;
  }

  /** Ollama's quoting: verbatim unless the value has a newline, quotes or leading/trailing space. */
  static String quote(String v) {
    boolean needs = v.contains("\n") || !v.strip().equals(v) || v.startsWith("\"");
    if (!needs) {
      return v;
    }
    return v.contains("\"") || v.contains("\n") ? "\"\"\"" + v + "\"\"\"" : "\"" + v + "\"";
  }

  /**
   * The exact text Ollama's {@code /api/generate} (not raw, no request {@code system} or {@code template}) feeds the
   * model for {@code prompt}: this Modelfile's {@code SYSTEM}, its {@code MESSAGE}s and the prompt, rendered with its
   * {@code TEMPLATE} by {@link OllamaTemplate}.
   *
   * @throws IllegalStateException when there is no {@code TEMPLATE}: Ollama then uses the one that comes with the
   *     {@code FROM} model (derived from the GGUF's chat template), which this class cannot know
   */
  public String renderPrompt(String prompt) {
    return renderPrompt(null, prompt);
  }

  /** {@link #renderPrompt(String)} with a request-level system message that replaces the Modelfile's (null: none). */
  public String renderPrompt(String requestSystem, String prompt) {
    if (template == null) {
      throw new IllegalStateException("this Modelfile has no TEMPLATE: Ollama takes the FROM model's own template, "
          + "so the prompt the model sees is not determined here");
    }
    List<Message> msgs = new ArrayList<>();
    String sys = requestSystem != null && !requestSystem.isEmpty() ? requestSystem : system;
    if (sys != null) {
      msgs.add(new Message("system", sys));
    }
    msgs.addAll(messages);
    msgs.add(new Message("user", prompt == null ? "" : prompt));
    return OllamaTemplate.parse(template).render(msgs);
  }

  /** The Modelfile text. */
  public String render() {
    StringBuilder sb = new StringBuilder();
    sb.append("FROM ").append(quote(from)).append('\n');
    if (adapter != null) {
      sb.append("ADAPTER ").append(quote(adapter)).append('\n');
    }
    if (template != null) {
      sb.append("TEMPLATE \"\"\"").append(template).append("\"\"\"\n");
    }
    if (system != null) {
      sb.append("SYSTEM \"\"\"").append(system).append("\"\"\"\n");
    }
    for (Map.Entry<String, String> p : parameters) {
      sb.append("PARAMETER ").append(p.getKey()).append(' ').append(quote(p.getValue())).append('\n');
    }
    for (Message m : messages) {
      sb.append("MESSAGE ").append(m.role()).append(' ').append(quote(m.content())).append('\n');
    }
    if (license != null) {
      sb.append("LICENSE \"\"\"").append(license).append("\"\"\"\n");
    }
    for (Map.Entry<String, String> e : other) {
      sb.append(e.getKey()).append(' ').append(quote(e.getValue())).append('\n');
    }
    return sb.toString();
  }

  @Override
  public String toString() {
    return render();
  }

  /** Writes {@link #render()} atomically. */
  public void write(Path file) {
    AtomicFiles.writeString(file, render());
  }

  /** Reads and parses a Modelfile. */
  public static Modelfile read(Path file) {
    try {
      return parse(Files.readString(file), file.toString());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
    }
  }

  /**
   * Parses Modelfile text with Ollama's rules (case-insensitive commands, {@code #} comments, {@code """} and
   * {@code "} quoting).
   *
   * @throws InvalidInputException naming the line for unknown commands, bad quoting or a missing FROM
   */
  public static Modelfile parse(String text, String location) {
    Builder b = builder();
    String[] lines = text.split("\n", -1);
    for (int i = 0; i < lines.length; i++) {
      String line = lines[i].strip();
      int lineNo = i + 1;
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      int sp = indexOfSpace(line);
      if (sp < 0) {
        throw new InvalidInputException(location + ":" + lineNo, "missing argument for " + line);
      }
      String cmd = line.substring(0, sp).toLowerCase(Locale.ROOT);
      if (!COMMANDS.contains(cmd)) {
        throw new InvalidInputException(location + ":" + lineNo, "unknown instruction " + line.substring(0, sp));
      }
      String rest = lines[i].stripLeading().substring(sp).stripLeading();
      String name = null;
      if (cmd.equals("parameter") || cmd.equals("message")) {
        int s2 = indexOfSpace(rest);
        if (s2 < 0) {
          throw new InvalidInputException(location + ":" + lineNo, cmd.toUpperCase(Locale.ROOT) + " needs a value");
        }
        name = rest.substring(0, s2);
        rest = rest.substring(s2).stripLeading();
      }
      String value;
      if (rest.startsWith("\"\"\"")) {
        StringBuilder v = new StringBuilder(rest.substring(3));
        int end = v.indexOf("\"\"\"");
        while (end < 0) {
          i++;
          if (i >= lines.length) {
            throw new InvalidInputException(location + ":" + lineNo, "unterminated \"\"\" string");
          }
          v.append('\n').append(lines[i]);
          end = v.indexOf("\"\"\"");
        }
        if (!v.substring(end + 3).isBlank()) {
          throw new InvalidInputException(location + ":" + (i + 1), "text after closing \"\"\"");
        }
        value = v.substring(0, end);
      } else if (rest.startsWith("\"")) {
        String r = rest.stripTrailing();
        if (r.length() < 2 || !r.endsWith("\"")) {
          throw new InvalidInputException(location + ":" + lineNo, "unterminated \" string");
        }
        value = r.substring(1, r.length() - 1);
      } else {
        value = rest.stripTrailing();
      }
      try {
        // The builder checks in build(); each line is checked here too, so that an error names its line.
        switch (cmd) {
          case "from" -> b.from(checkValue("FROM", value));
          case "adapter" -> {
            if (!b.adapters.isEmpty()) {
              throw new IllegalStateException("Ollama supports only one ADAPTER per Modelfile");
            }
            b.adapter(checkValue("ADAPTER", value));
          }
          case "template" -> b.template(checkValue("TEMPLATE", value));
          case "system" -> b.system(checkValue("SYSTEM", value));
          case "license" -> b.license(checkValue("LICENSE", value));
          case "parameter" -> {
            checkParameterName(name);
            b.parameter(name, checkValue("PARAMETER " + name, value));
          }
          case "message" -> {
            checkRole(name);
            b.message(name, checkValue("MESSAGE", value));
          }
          default -> b.instruction(checkInstruction(cmd), checkValue(cmd, value));
        }
      } catch (IllegalArgumentException | IllegalStateException e) {
        throw new InvalidInputException(location + ":" + lineNo, e.getMessage(), e);
      }
    }
    if (b.from == null) {
      throw new InvalidInputException(location, "no FROM instruction");
    }
    return b.build();
  }

  private static int indexOfSpace(String s) {
    for (int i = 0; i < s.length(); i++) {
      if (Character.isWhitespace(s.charAt(i))) {
        return i;
      }
    }
    return -1;
  }
}
