package dev.securetag.gguf;

import dev.securetag.core.InvalidInputException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * A Modelfile {@code TEMPLATE} rendered the way Ollama renders it, so the exact text a served model receives can be
 * stated (and tested) without running Ollama.
 *
 * <p>Covers the subset of Go's {@code text/template} that prompt templates of the {@code .System/.Prompt/.Response}
 * kind use: text, {@code {{ .System }}}, {@code {{ .Prompt }}}, {@code {{ .Response }}}, string constants such as
 * {@code {{ "\n\n" }}}, {@code {{ if .X }}..{{ else if .Y }}..{{ else }}..{{ end }}}, comments and Go's
 * whitespace trim markers (a dash and a space just inside the braces).
 * Anything else ({@code range .Messages}, functions, variables) is refused rather than guessed.
 *
 * <p>{@link #render(List)} follows Ollama's "legacy template" path ({@code template/template.go}): consecutive
 * messages of one role are joined with a blank line, each completed system/user/assistant turn executes the
 * template once, and the last turn executes it with everything after {@code {{ .Response }}} cut off, so the model
 * continues where the answer starts. A template without {@code .Response} gets one appended, as Ollama does.
 *
 * <pre>{@code
 * OllamaTemplate t = OllamaTemplate.parse(Modelfile.ALPACA_TEMPLATE);
 * t.renderGenerate(null, "Explain A.5.1");   // "### Instruction:\nExplain A.5.1\n\n### Response:\n"
 * }</pre>
 */
public final class OllamaTemplate {
  private static final Set<String> FIELDS = Set.of("System", "Prompt", "Response");
  private static final Set<String> ROLES = Set.of("system", "user", "assistant");

  private sealed interface Node permits Text, Field, If {}

  private record Text(String text) implements Node {}

  private record Field(String name) implements Node {}

  private record If(String field, List<Node> then, List<Node> otherwise) implements Node {}

  private final String source;
  private final List<Node> root;

  private OllamaTemplate(String source, List<Node> root) {
    this.source = source;
    this.root = root;
  }

  /**
   * Parses a template.
   *
   * @throws InvalidInputException naming the offset of an unterminated action, an unbalanced {@code if}/{@code end}
   *     or a construct outside the supported subset
   */
  public static OllamaTemplate parse(String template) {
    Objects.requireNonNull(template, "template");
    List<Object> tokens = lex(template);
    Parser p = new Parser(tokens);
    List<Node> nodes = p.list();
    if (p.pos < tokens.size()) {
      throw new InvalidInputException("TEMPLATE", "{{ " + ((Action) tokens.get(p.pos)).body
          + " }} without a matching {{ if }} at offset " + ((Action) tokens.get(p.pos)).offset);
    }
    if (!mentions(nodes, "Response")) {
      // Ollama appends {{ .Response }} to templates that do not place it themselves.
      nodes = new ArrayList<>(nodes);
      nodes.add(new Field("Response"));
    }
    return new OllamaTemplate(template, List.copyOf(nodes));
  }

  /** The template text as given. */
  public String source() {
    return source;
  }

  /** One plain execution of the template with these values (null counts as empty, as in Go). */
  public String execute(String system, String prompt, String response) {
    StringBuilder sb = new StringBuilder();
    exec(root, new String[] {nz(system), nz(prompt), nz(response)}, sb);
    return sb.toString();
  }

  /**
   * What Ollama's {@code /api/generate} (not raw) feeds the model for {@code prompt} with this template: the system
   * message (the request's, else the Modelfile's; null or empty for none) and the prompt as one user turn.
   */
  public String renderGenerate(String system, String prompt) {
    List<Modelfile.Message> msgs = new ArrayList<>();
    if (system != null && !system.isEmpty()) {
      msgs.add(new Modelfile.Message("system", system));
    }
    msgs.add(new Modelfile.Message("user", nz(prompt)));
    return render(msgs);
  }

  /** The prompt text Ollama builds from a conversation (roles system, user, assistant) with this template. */
  public String render(List<Modelfile.Message> messages) {
    List<Modelfile.Message> collated = new ArrayList<>();
    for (Modelfile.Message m : messages) {
      if (!ROLES.contains(m.role())) {
        throw new IllegalArgumentException("message role must be system, user or assistant, got " + m.role());
      }
      int last = collated.size() - 1;
      if (last >= 0 && collated.get(last).role().equals(m.role())) {
        collated.set(last, new Modelfile.Message(m.role(), collated.get(last).content() + "\n\n" + m.content()));
      } else {
        collated.add(m);
      }
    }
    StringBuilder sb = new StringBuilder();
    String system = "";
    String prompt = "";
    String response = "";
    for (Modelfile.Message m : collated) {
      switch (m.role()) {
        case "system" -> {
          if (!prompt.isEmpty() || !response.isEmpty()) {
            exec(root, new String[] {system, prompt, response}, sb);
            prompt = "";
            response = "";
          }
          system = m.content();
        }
        case "user" -> {
          if (!response.isEmpty()) {
            exec(root, new String[] {system, prompt, response}, sb);
            system = "";
            response = "";
          }
          prompt = m.content();
        }
        default -> response = m.content();
      }
    }
    boolean[] cut = {false};
    exec(cutAfterResponse(root, cut), new String[] {system, prompt, response}, sb);
    return sb.toString();
  }

  @Override
  public String toString() {
    return source;
  }

  // ------------------------------------------------------------------ evaluation

  private static String nz(String s) {
    return s == null ? "" : s;
  }

  private static int index(String field) {
    return switch (field) {
      case "System" -> 0;
      case "Prompt" -> 1;
      default -> 2;
    };
  }

  private static void exec(List<Node> nodes, String[] values, StringBuilder out) {
    for (Node n : nodes) {
      if (n instanceof Text t) {
        out.append(t.text());
      } else if (n instanceof Field f) {
        out.append(values[index(f.name())]);
      } else if (n instanceof If i) {
        exec(values[index(i.field())].isEmpty() ? i.otherwise() : i.then(), values, out);
      }
    }
  }

  /** Ollama's deleteNode: keeps nodes up to and including the first {@code .Response} action, in document order. */
  private static List<Node> cutAfterResponse(List<Node> nodes, boolean[] cut) {
    List<Node> kept = new ArrayList<>();
    for (Node n : nodes) {
      if (cut[0]) {
        break;
      }
      if (n instanceof Field f && f.name().equals("Response")) {
        kept.add(n);
        cut[0] = true;
      } else if (n instanceof If i) {
        List<Node> then = cutAfterResponse(i.then(), cut);
        List<Node> otherwise = cut[0] ? List.of() : cutAfterResponse(i.otherwise(), cut);
        kept.add(new If(i.field(), then, otherwise));
      } else {
        kept.add(n);
      }
    }
    return kept;
  }

  private static boolean mentions(List<Node> nodes, String field) {
    for (Node n : nodes) {
      if (n instanceof Field f && f.name().equals(field)) {
        return true;
      }
      if (n instanceof If i && (i.field().equals(field) || mentions(i.then(), field) || mentions(i.otherwise(), field))) {
        return true;
      }
    }
    return false;
  }

  // ------------------------------------------------------------------ lexing and parsing

  private record Action(String body, int offset) {}

  /** Splits into text strings and actions, applying Go's trim markers (dash plus space inside the braces). */
  private static List<Object> lex(String s) {
    List<Object> out = new ArrayList<>();
    int i = 0;
    boolean trimNext = false;
    while (i < s.length()) {
      int open = s.indexOf("{{", i);
      String text = open < 0 ? s.substring(i) : s.substring(i, open);
      if (trimNext) {
        text = stripLeadingSpace(text);
      }
      if (open < 0) {
        addText(out, text);
        break;
      }
      int close = s.indexOf("}}", open + 2);
      if (close < 0) {
        throw new InvalidInputException("TEMPLATE", "unclosed action at offset " + open);
      }
      String body = s.substring(open + 2, close);
      if (body.length() >= 2 && body.charAt(0) == '-' && isSpace(body.charAt(1))) {
        text = stripTrailingSpace(text);
        body = body.substring(1);
      }
      trimNext = false;
      if (body.length() >= 2 && body.charAt(body.length() - 1) == '-' && isSpace(body.charAt(body.length() - 2))) {
        trimNext = true;
        body = body.substring(0, body.length() - 1);
      }
      addText(out, text);
      String b = body.strip();
      if (!(b.startsWith("/*") && b.endsWith("*/"))) {
        out.add(new Action(b, open));
      }
      i = close + 2;
    }
    return out;
  }

  private static void addText(List<Object> out, String text) {
    if (!text.isEmpty()) {
      out.add(text);
    }
  }

  private static boolean isSpace(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
  }

  private static String stripLeadingSpace(String s) {
    int k = 0;
    while (k < s.length() && isSpace(s.charAt(k))) {
      k++;
    }
    return s.substring(k);
  }

  private static String stripTrailingSpace(String s) {
    int k = s.length();
    while (k > 0 && isSpace(s.charAt(k - 1))) {
      k--;
    }
    return s.substring(0, k);
  }

  private static final class Parser {
    private final List<Object> tokens;
    private int pos;

    Parser(List<Object> tokens) {
      this.tokens = tokens;
    }

    /** Parses nodes until end of input or an {@code else}/{@code end} action (left unconsumed for the caller). */
    List<Node> list() {
      List<Node> nodes = new ArrayList<>();
      while (pos < tokens.size()) {
        Object t = tokens.get(pos);
        if (t instanceof String s) {
          nodes.add(new Text(s));
          pos++;
          continue;
        }
        Action a = (Action) t;
        String body = a.body();
        if (body.equals("end") || body.equals("else") || body.startsWith("else ")) {
          return nodes;
        }
        pos++;
        if (body.startsWith("\"") || body.startsWith("`")) {
          nodes.add(new Text(literal(body, a)));
        } else if (body.startsWith("if ")) {
          nodes.add(ifNode(field(body.substring(3).strip(), a), a));
        } else {
          nodes.add(new Field(field(body, a)));
        }
      }
      return nodes;
    }

    private If ifNode(String field, Action opened) {
      List<Node> then = list();
      if (pos >= tokens.size()) {
        throw new InvalidInputException("TEMPLATE", "{{ " + opened.body() + " }} at offset " + opened.offset()
            + " has no {{ end }}");
      }
      Action a = (Action) tokens.get(pos);
      pos++;
      if (a.body().equals("end")) {
        return new If(field, then, List.of());
      }
      if (a.body().equals("else")) {
        List<Node> otherwise = list();
        expectEnd(opened);
        return new If(field, then, otherwise);
      }
      String rest = a.body().substring(5).strip();
      if (!rest.startsWith("if ")) {
        throw new InvalidInputException("TEMPLATE", "unsupported {{ " + a.body() + " }} at offset " + a.offset());
      }
      // {{ else if .X }} chains share the outer {{ end }}.
      If chained = ifNode(field(rest.substring(3).strip(), a), opened);
      return new If(field, then, List.of(chained));
    }

    private void expectEnd(Action opened) {
      if (pos >= tokens.size() || !(tokens.get(pos) instanceof Action a) || !a.body().equals("end")) {
        throw new InvalidInputException("TEMPLATE", "{{ " + opened.body() + " }} at offset " + opened.offset()
            + " has no {{ end }}");
      }
      pos++;
    }

    /** A Go string constant: {@code "..."} with the common escapes, or a raw {@code `...`} string. */
    private static String literal(String body, Action a) {
      char q = body.charAt(0);
      if (body.length() < 2 || body.charAt(body.length() - 1) != q) {
        throw new InvalidInputException("TEMPLATE", "unsupported {{ " + body + " }} at offset " + a.offset());
      }
      String inner = body.substring(1, body.length() - 1);
      if (q == '`') {
        return inner;
      }
      StringBuilder sb = new StringBuilder();
      for (int i = 0; i < inner.length(); i++) {
        char c = inner.charAt(i);
        if (c == '"') {
          throw new InvalidInputException("TEMPLATE", "unsupported {{ " + body + " }} at offset " + a.offset());
        }
        if (c != '\\') {
          sb.append(c);
          continue;
        }
        if (++i >= inner.length()) {
          throw new InvalidInputException("TEMPLATE", "bad escape in {{ " + body + " }} at offset " + a.offset());
        }
        switch (inner.charAt(i)) {
          case 'n' -> sb.append('\n');
          case 't' -> sb.append('\t');
          case 'r' -> sb.append('\r');
          case '\\' -> sb.append('\\');
          case '"' -> sb.append('"');
          default -> throw new InvalidInputException("TEMPLATE", "unsupported escape \\" + inner.charAt(i)
              + " in {{ " + body + " }} at offset " + a.offset());
        }
      }
      return sb.toString();
    }

    private static String field(String expr, Action a) {
      if (expr.startsWith(".") && FIELDS.contains(expr.substring(1))) {
        return expr.substring(1);
      }
      throw new InvalidInputException("TEMPLATE", "unsupported {{ " + a.body() + " }} at offset " + a.offset()
          + ": only .System, .Prompt, .Response, if/else/end and comments are rendered");
    }
  }
}
