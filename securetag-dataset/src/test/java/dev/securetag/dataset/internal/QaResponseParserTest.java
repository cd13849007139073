package dev.securetag.dataset.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class QaResponseParserTest {
  private static List<String> questions(QaResponseParser.Outcome o) {
    return o.pairs().stream().map(QaResponseParser.RawPair::question).toList();
  }

  @Test
  void readsBareArray() {
    var o = QaResponseParser.parse("[{\"question\":\"Q1\",\"answer\":\"A1\"},{\"question\":\"Q2\",\"answer\":\"A2\"}]");
    assertThat(questions(o)).containsExactly("Q1", "Q2");
    assertThat(o.truncated()).isFalse();
    assertThat(o.failure()).isNull();
  }

  @Test
  void prefersLastJsonFence() {
    String text = "Draft:\n```json\n[{\"question\":\"old\",\"answer\":\"x\"}]\n```\nFinal:\n```json\n"
        + "[{\"question\":\"new\",\"answer\":\"y\"}]\n```";
    assertThat(questions(QaResponseParser.parse(text))).containsExactly("new");
  }

  @Test
  void readsProseAroundArrayWithTrailingCommasSingleQuotesAndRawNewlines() {
    String text = "Here you go:\n[{'question': 'Q1', 'answer': 'line one\nline two',},]\nThanks!";
    var o = QaResponseParser.parse(text);
    assertThat(o.pairs()).containsExactly(new QaResponseParser.RawPair("Q1", "line one\nline two"));
  }

  @Test
  void unwrapsObjectsAndMapsSpanishAndOddKeys() {
    var o = QaResponseParser.parse("{\"result\": {\"preguntas\": [{\"Pregunta\": \"¿Q?\", \"Respuesta\": \"R\"},"
        + " {\"Q\": \"Q2\", \"A\": \"A2\"}, {\"question\": \"Q3\", \"answers\": [\"first\", \"second\"]}]}}");
    assertThat(o.pairs()).containsExactly(new QaResponseParser.RawPair("¿Q?", "R"),
        new QaResponseParser.RawPair("Q2", "A2"), new QaResponseParser.RawPair("Q3", "first"));
  }

  @Test
  void keepsCompleteElementsOfTruncatedArrayEvenInsideAnOpenFence() {
    var o = QaResponseParser.parse("```json\n[{\"question\":\"Q1\",\"answer\":\"A1\"},{\"question\":\"Q2\",\"ans");
    assertThat(questions(o)).containsExactly("Q1");
    assertThat(o.truncated()).isTrue();
    var wrapped = QaResponseParser.parse("{\"qa_pairs\": [{\"question\":\"Q1\",\"answer\":\"A1\"}, {\"quest");
    assertThat(questions(wrapped)).containsExactly("Q1");
    assertThat(wrapped.truncated()).isTrue();
  }

  @Test
  void countsElementsWithoutFields() {
    var o = QaResponseParser.parse("[{\"question\":\"Q1\",\"answer\":\"A1\"}, {\"foo\": 1}, \"text\"]");
    assertThat(o.pairs()).hasSize(1);
    assertThat(o.missingFields()).isEqualTo(2);
  }

  @Test
  void fallsBackToPairPatternWhenJsonIsBroken() {
    var o = QaResponseParser.parse("pairs: {\"question\": \"Q1\", \"answer\": \"A \\\"quoted\\\"\"} ; "
        + "{\"question\": \"Q2\", \"answer\": \"A2\" oops");
    assertThat(o.pairs()).contains(new QaResponseParser.RawPair("Q1", "A \"quoted\""));
  }

  @Test
  void reportsFailureInsteadOfInventingPairs() {
    assertThat(QaResponseParser.parse("I cannot do that.").failure()).contains("no JSON");
    assertThat(QaResponseParser.parse("  ").failure()).isEqualTo("empty response");
    assertThat(QaResponseParser.parse("[]").pairs()).isEmpty();
  }

  @Test
  void readsSequenceOfObjectsWithoutArray() {
    var o = QaResponseParser.parse("{\"question\":\"Q1\",\"answer\":\"A1\"}\n{\"question\":\"Q2\",\"answer\":\"A2\"}");
    assertThat(questions(o)).containsExactly("Q1", "Q2");
  }
}
