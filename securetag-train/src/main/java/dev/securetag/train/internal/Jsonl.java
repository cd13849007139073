package dev.securetag.train.internal;

import com.fasterxml.jackson.databind.JsonNode;
import dev.securetag.core.InvalidInputException;
import dev.securetag.core.internal.Json;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads instruction data: Alpaca lines ({@code instruction}, optional {@code input}, {@code output}) and chat lines
 * ({@code messages} with user/assistant turns; the first user turn, joined with a system turn, becomes the
 * instruction and the last assistant turn the output).
 */
public final class Jsonl {
  private static final Logger LOG = LoggerFactory.getLogger(Jsonl.class);

  /** One instruction example with where it came from. */
  public record Example(String instruction, String input, String output, String location) {}

  /** Examples and the problems found. */
  public record Result(List<Example> examples, List<String> skipped) {}

  private Jsonl() {}

  /**
   * Reads {@code file}. Empty lines are ignored; malformed lines are skipped and listed when {@code skipBad}, or fail
   * with an {@link InvalidInputException} naming {@code file:line} otherwise.
   */
  public static Result read(Path file, boolean skipBad) {
    List<Example> out = new ArrayList<>();
    List<String> skipped = new ArrayList<>();
    try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      String line;
      int no = 0;
      while ((line = r.readLine()) != null) {
        no++;
        if (line.isBlank()) {
          continue;
        }
        String loc = file + ":" + no;
        try {
          out.add(parse(line, loc));
        } catch (InvalidInputException e) {
          if (!skipBad) {
            throw e;
          }
          skipped.add(e.getMessage());
          LOG.warn("skipping {}", e.getMessage());
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file, e);
    }
    if (out.isEmpty()) {
      throw new InvalidInputException(file.toString(), "no usable examples" + (skipped.isEmpty() ? " (empty file)"
          : " (" + skipped.size() + " malformed lines)"));
    }
    return new Result(out, skipped);
  }

  private static Example parse(String line, String loc) {
    JsonNode n;
    try {
      n = Json.readTree(line, loc);
    } catch (InvalidInputException e) {
      throw new InvalidInputException(loc, "malformed JSON: " + e.getMessage(), e);
    }
    if (!n.isObject()) {
      throw new InvalidInputException(loc, "line is not a JSON object");
    }
    if (n.has("messages")) {
      String system = "";
      String user = null;
      String assistant = null;
      for (JsonNode m : n.get("messages")) {
        String role = m.path("role").asText();
        String content = m.path("content").asText();
        switch (role) {
          case "system" -> system = content;
          case "user" -> user = user == null ? content : user;
          case "assistant" -> assistant = content;
          default -> throw new InvalidInputException(loc, "unknown chat role '" + role + "'");
        }
      }
      if (user == null || assistant == null || assistant.isBlank()) {
        throw new InvalidInputException(loc, "chat line needs a user and a non-empty assistant message");
      }
      return new Example(system.isBlank() ? user : system + "\n\n" + user, "", assistant, loc);
    }
    String instruction = n.path("instruction").asText("");
    String output = n.path("output").asText("");
    if (instruction.isBlank()) {
      throw new InvalidInputException(loc, "missing or empty 'instruction'");
    }
    if (output.isBlank()) {
      throw new InvalidInputException(loc, "missing or empty 'output'");
    }
    return new Example(instruction, n.path("input").asText(""), output, loc);
  }
}
