package dev.securetag.dataset.internal;

import com.fasterxml.jackson.databind.JsonNode;
import dev.securetag.core.internal.Json;
import dev.securetag.dataset.Language;
import java.util.Map;

/**
 * Default generation and judge prompts in English and Spanish, and literal placeholder substitution. Chunk text is
 * inserted with {@link String#replace}, never through a format string: the braces, {@code %} and quotes of
 * standards text broke synthetic-data-kit's {@code str.format} prompts (its issue #54).
 */
public final class PromptTemplates {
  public static final String GENERATE_EN = """
      You are building a question-answering dataset from a security standard.
      Write {{count}} question-answer pairs about the most important facts, requirements and definitions in the text below.
      Rules:
      - Every answer must be fully supported by the text; do not add outside knowledge.
      - Questions must be self-contained: name the standard, control or section they are about.
      - Answers must be complete sentences and must not just repeat the question.
      - Write in English.
      Return ONLY a JSON array, with no other text, in exactly this form:
      [{"question": "...", "answer": "..."}]

      Section: {{section}}
      Source: {{document}}
      Text:
      {{text}}
      """;

  public static final String GENERATE_ES = """
      Estás creando un conjunto de datos de preguntas y respuestas a partir de una norma de seguridad.
      Escribe {{count}} pares de pregunta y respuesta sobre los hechos, requisitos y definiciones más importantes del texto siguiente.
      Reglas:
      - Cada respuesta debe estar totalmente respaldada por el texto; no añadas conocimiento externo.
      - Las preguntas deben entenderse por sí solas: nombra la norma, el control o la sección de que tratan.
      - Las respuestas deben ser frases completas y no deben repetir la pregunta.
      - Escribe en español.
      Devuelve SOLO un array JSON, sin ningún otro texto, exactamente con esta forma:
      [{"question": "...", "answer": "..."}]

      Sección: {{section}}
      Fuente: {{document}}
      Texto:
      {{text}}
      """;

  public static final String JUDGE_EN = """
      Rate each question-answer pair below against the source text. Give each a rating from 1 to 10, the sum of:
      accuracy against the text (0-3), relevance to the text (0-2), clarity (0-2) and usefulness for training an assistant on this standard (0-3).
      Return ONLY a JSON array with one object per pair, in this form:
      [{"index": 1, "rating": 8}]

      Source text:
      {{text}}

      Pairs:
      {{pairs}}
      """;

  public static final String JUDGE_ES = """
      Puntúa cada par de pregunta y respuesta siguiente frente al texto fuente. Da a cada uno una puntuación de 1 a 10, suma de:
      exactitud respecto al texto (0-3), relevancia (0-2), claridad (0-2) y utilidad para entrenar un asistente sobre esta norma (0-3).
      Devuelve SOLO un array JSON con un objeto por par, de esta forma:
      [{"index": 1, "rating": 8}]

      Texto fuente:
      {{text}}

      Pares:
      {{pairs}}
      """;

  private PromptTemplates() {}

  public static String generation(Language lang) {
    return lang == Language.ES ? GENERATE_ES : GENERATE_EN;
  }

  public static String judge(Language lang) {
    return lang == Language.ES ? JUDGE_ES : JUDGE_EN;
  }

  /**
   * Replaces {@code {{name}}} placeholders literally; {@code text} is substituted last so placeholder-like
   * sequences inside the chunk are left alone.
   */
  public static String render(String template, Map<String, String> values, String text) {
    String out = template;
    for (Map.Entry<String, String> e : values.entrySet()) {
      out = out.replace("{{" + e.getKey() + "}}", e.getValue());
    }
    int at = out.indexOf("{{text}}");
    return at < 0 ? out : out.substring(0, at) + text + out.substring(at + "{{text}}".length());
  }

  /** Structured-output schema for generation: an object wrapping the pair array (OpenAI requires an object root). */
  public static JsonNode pairsSchema() {
    return Json.readTree("""
        {"type":"object","properties":{"qa_pairs":{"type":"array","items":{"type":"object",
        "properties":{"question":{"type":"string"},"answer":{"type":"string"}},"required":["question","answer"]}}},
        "required":["qa_pairs"]}""", "pairs schema");
  }

  /** Structured-output schema for the judge. */
  public static JsonNode ratingsSchema() {
    return Json.readTree("""
        {"type":"object","properties":{"ratings":{"type":"array","items":{"type":"object",
        "properties":{"index":{"type":"integer"},"rating":{"type":"number"}},"required":["index","rating"]}}},
        "required":["ratings"]}""", "ratings schema");
  }
}
