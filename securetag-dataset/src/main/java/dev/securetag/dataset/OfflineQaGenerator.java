package dev.securetag.dataset;

import dev.securetag.core.Chunk;
import dev.securetag.core.QaPair;
import dev.securetag.dataset.internal.MarkdownTables;
import dev.securetag.dataset.internal.ReportBuilder;
import dev.securetag.dataset.internal.SentenceSplitter;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Derives grounded question/answer pairs from document structure, without any model, so the embedded pipeline
 * runs offline. Three rules, in English or Spanish:
 *
 * <ul>
 *   <li><b>section</b>: the first chunk of each section gives "What does &lt;section&gt; require?" (or "cover?" for
 *       non-normative text) answered by the section's text;
 *   <li><b>definition</b>: a sentence "X is a/means/refers to ..." ("X es un/significa/se define como ...") gives
 *       "What is X?" answered by that sentence; in a terms/definitions section also "X: definition" lines;
 *   <li><b>table-row</b>: each row of a control table (an id or name column and a description column) gives "What
 *       does control &lt;id&gt; (&lt;name&gt;) require?" answered by the row's description.
 * </ul>
 *
 * Every answer is text copied from the chunk, so every pair is grounded by construction.
 *
 * <pre>{@code
 * GenerationResult r = OfflineQaGenerator.builder().language(Language.AUTO).build().generate(chunks);
 * }</pre>
 */
public final class OfflineQaGenerator {
  /** Value of {@link QaPair#generator()} for pairs made by this class. */
  public static final String GENERATOR = "offline-rules";

  private static final Pattern CONTROL_ID = Pattern.compile("^(?:[A-Z]{1,4}[.\\- ]?)?\\d+(?:\\.\\d+)*[a-z]?(?:\\(\\d+\\))?$");
  private static final Pattern NORMATIVE = Pattern.compile(
      "\\b(shall|must|should|required?|requires|ensure|debe|deben|deberá|deberán|exige|requiere|obligatori[oa])\\b",
      Pattern.CASE_INSENSITIVE | Pattern.UNICODE_CASE);
  private static final Pattern EN_DEF = Pattern.compile(
      "^(?:(an?|the)\\s+)?([\\p{L}][\\p{L}\\p{N}\\-/ ]{1,60}?)\\s+(is defined as|means|refers to|is|are)\\s+(.{10,})$",
      Pattern.CASE_INSENSITIVE | Pattern.DOTALL | Pattern.UNICODE_CASE);
  private static final Pattern ES_DEF = Pattern.compile(
      "^(?:(el|la|los|las|un|una)\\s+)?([\\p{L}][\\p{L}\\p{N}\\-/ ]{1,60}?)\\s+(se define como|significa|se refiere a|es|son)\\s+(.{10,})$",
      Pattern.CASE_INSENSITIVE | Pattern.DOTALL | Pattern.UNICODE_CASE);
  private static final Pattern EN_ARTICLE = Pattern.compile("^(a|an|the|any|one|all|each)\\b.*",
      Pattern.CASE_INSENSITIVE | Pattern.DOTALL);
  private static final Pattern ES_ARTICLE = Pattern.compile("^(un|una|el|la|los|las|cualquier|todo|toda|todos|aquel|aquella|lo)\\b.*",
      Pattern.CASE_INSENSITIVE | Pattern.DOTALL | Pattern.UNICODE_CASE);
  private static final Set<String> PRONOUNS = Set.of("it", "this", "that", "these", "those", "there", "here", "what",
      "which", "each", "every", "all", "some", "such", "its", "our", "their", "he", "she", "we", "they", "you", "i",
      "one", "who", "esto", "este", "esta", "estos", "estas", "eso", "ese", "esa", "ello", "ella", "él", "que", "lo",
      "cada", "todo", "todos", "ninguno", "nadie", "también", "no", "si");
  private static final Pattern GLOSSARY_SECTION = Pattern.compile(
      "term|definition|glossary|vocabular|término|definicion|definición|glosario", Pattern.CASE_INSENSITIVE);
  private static final Pattern GLOSSARY_LINE = Pattern.compile("^(?:\\d+(?:\\.\\d+)*\\s+)?([^:]{2,60}):\\s+(.{10,})$",
      Pattern.DOTALL);
  private static final Pattern ID_HEADER = Pattern.compile(
      "^(id|#|no\\.?|nº|n\\.º|núm\\.?|número|ref\\.?|reference|referencia|code|código|identifier|identificador|control( id)?|clause|cláusula|req(uirement)? id)$",
      Pattern.CASE_INSENSITIVE | Pattern.UNICODE_CASE);
  private static final Pattern NAME_HEADER = Pattern.compile("(name|title|nombre|título|titulo|denominación)",
      Pattern.CASE_INSENSITIVE | Pattern.UNICODE_CASE);
  private static final Pattern DESC_HEADER = Pattern.compile(
      "(description|requirement|objective|guidance|control text|descripción|descripcion|requisito|objetivo|medida)",
      Pattern.CASE_INSENSITIVE | Pattern.UNICODE_CASE);

  private final Language language;
  private final int maxAnswerChars;
  private final int minAnswerChars;

  private OfflineQaGenerator(Builder b) {
    this.language = b.language;
    this.maxAnswerChars = b.maxAnswerChars;
    this.minAnswerChars = b.minAnswerChars;
  }

  public static Builder builder() {
    return new Builder();
  }

  /**
   * Derives pairs from {@code chunks} in order.
   *
   * @throws EmptyDatasetException when chunks were given but no rule applied to any of them
   */
  public GenerationResult generate(List<Chunk> chunks) {
    ReportBuilder report = new ReportBuilder();
    report.chunks(chunks.size());
    Set<String> sectionsSeen = new HashSet<>();
    List<QaPair> out = new ArrayList<>();
    for (Chunk c : chunks) {
      Language lang = language.resolve(c.text());
      List<QaPair> pairs = new ArrayList<>();
      Set<String> questions = new HashSet<>();
      sectionRule(c, lang, sectionsSeen, pairs, questions, report);
      definitionRule(c, lang, pairs, questions, report);
      tableRule(c, lang, pairs, questions, report);
      if (!pairs.isEmpty()) {
        report.chunkWithPairs();
      }
      report.proposed(pairs.size());
      report.kept(pairs.size());
      out.addAll(pairs);
    }
    GenerationReport r = report.build();
    if (out.isEmpty() && !chunks.isEmpty()) {
      throw new EmptyDatasetException("the offline rules found no section with text, definition or control table in "
          + chunks.size() + " chunks (are headings/section paths missing?); use QaGenerator with an LLM instead", r);
    }
    return new GenerationResult(out, r);
  }

  private void add(Chunk c, Language lang, String q, String a, String rule, List<QaPair> pairs, Set<String> seen,
      ReportBuilder report) {
    String question = q.strip();
    String answer = a.strip();
    if (question.isEmpty() || answer.length() < minAnswerChars || !seen.add(question.toLowerCase(Locale.ROOT))) {
      return;
    }
    pairs.add(QaPair.builder().question(question).answer(clip(answer)).source(c.source()).chunkId(c.id())
        .language(lang.code()).generator(GENERATOR).build());
    report.rule(rule);
  }

  // ------------------------------------------------------------------ section

  private void sectionRule(Chunk c, Language lang, Set<String> seen, List<QaPair> pairs, Set<String> questions,
      ReportBuilder report) {
    List<String> path = c.source().sectionPath();
    if (path.isEmpty()) {
      return;
    }
    String key = c.source().document() + "\u0000" + c.source().section();
    if (seen.contains(key)) {
      return;
    }
    String body = stripHeadings(MarkdownTables.prose(c.text()), path);
    if (body.length() < minAnswerChars) {
      return;
    }
    seen.add(key);
    String title = path.get(path.size() - 1).strip().replaceAll("[.:;]+$", "");
    boolean normative = NORMATIVE.matcher(body).find() || CONTROL_ID.matcher(title.split("\\s+")[0]).matches();
    String subject = sectionSubject(title, lang);
    String q;
    if (lang == Language.ES) {
      q = (normative ? "¿Qué exige " : "¿Qué establece ") + subject + "?";
    } else {
      q = "What does " + subject + (normative ? " require?" : " cover?");
    }
    add(c, lang, q, body, "section", pairs, questions, report);
  }

  private static final Pattern REQUIREMENT_TITLE =
      Pattern.compile("(?i)^(requirement|requisito)\\s+([0-9A-Z][\\w.]*?)[.:]?\\s+(\\S.*)$");
  private static final Pattern NUMBERED_TITLE =
      Pattern.compile("^([A-Za-z]{0,4}[.\\-]?(?:[a-z]{2,4}\\.)?\\d+(?:\\.\\d+)*(?:\\(\\d+\\))?)[.:]?\\s+(\\S.*)$");

  /**
   * How a question names a section: "section 2 (Scope)" rather than the raw heading "2 Scope", "requirement 8.3.1
   * (Authentication factors)", or the quoted title when it carries no number.
   */
  static String sectionSubject(String title, Language lang) {
    boolean es = lang == Language.ES;
    Matcher m = REQUIREMENT_TITLE.matcher(title);
    if (m.matches()) {
      return (es ? "el requisito " : "requirement ") + m.group(2) + " (" + m.group(3) + ")";
    }
    m = NUMBERED_TITLE.matcher(title);
    if (m.matches()) {
      return (es ? "la sección " : "section ") + m.group(1) + " (" + m.group(2) + ")";
    }
    return es ? "la sección «" + title + "»" : "the section \"" + title + "\"";
  }

  /** Drops leading lines that repeat the section's headings (the chunker keeps heading text in the chunk). */
  private static String stripHeadings(String text, List<String> path) {
    Set<String> headings = new HashSet<>();
    for (String h : path) {
      headings.add(h.strip().replaceAll("\\s+", " "));
    }
    String[] paragraphs = text.split("\n\\s*\n");
    int i = 0;
    while (i < paragraphs.length && headings.contains(paragraphs[i].strip().replaceAll("\\s+", " "))) {
      i++;
    }
    return String.join("\n\n", java.util.Arrays.asList(paragraphs).subList(i, paragraphs.length)).strip();
  }

  // --------------------------------------------------------------- definition

  private void definitionRule(Chunk c, Language lang, List<QaPair> pairs, Set<String> questions,
      ReportBuilder report) {
    String prose = MarkdownTables.prose(c.text());
    boolean glossary = GLOSSARY_SECTION.matcher(c.source().section()).find();
    for (String paragraph : prose.split("\n")) {
      String para = paragraph.strip();
      if (para.isEmpty()) {
        continue;
      }
      if (glossary) {
        Matcher g = GLOSSARY_LINE.matcher(para);
        if (g.matches() && g.group(1).split("\\s+").length <= 6) {
          String term = g.group(1).strip();
          String q = lang == Language.ES ? "¿Qué es " + term + "?" : "What is " + term + "?";
          add(c, lang, q, para, "definition", pairs, questions, report);
          continue;
        }
      }
      for (int[] s : SentenceSplitter.split(para, 0, para.length(), lang.locale())) {
        String sentence = para.substring(s[0], s[1]);
        String q = definitionQuestion(sentence, lang);
        if (q != null) {
          add(c, lang, q, sentence, "definition", pairs, questions, report);
        }
      }
    }
  }

  /** The question a definition sentence answers, or null when the sentence is not a definition. */
  static String definitionQuestion(String sentence, Language lang) {
    boolean es = lang == Language.ES;
    Matcher m = (es ? ES_DEF : EN_DEF).matcher(sentence.strip());
    if (!m.matches()) {
      return null;
    }
    String article = m.group(1);
    String term = m.group(2).strip();
    String verb = m.group(3).toLowerCase(Locale.ROOT);
    String definition = m.group(4);
    String[] words = term.split("\\s+");
    if (words.length > 6 || PRONOUNS.contains(words[0].toLowerCase(Locale.ROOT))
        || (article == null && PRONOUNS.contains(term.toLowerCase(Locale.ROOT)))) {
      return null;
    }
    // "is"/"es" makes many non-definitions ("The policy is reviewed"); demand an article after it.
    boolean weakVerb = verb.equals("is") || verb.equals("are") || verb.equals("es") || verb.equals("son");
    if (weakVerb && !(es ? ES_ARTICLE : EN_ARTICLE).matcher(definition).matches()) {
      return null;
    }
    String subject = (article == null ? "" : article.toLowerCase(Locale.ROOT) + " ") + lowerFirst(term);
    if (es) {
      return switch (verb) {
        case "significa" -> "¿Qué significa " + subject + "?";
        case "son" -> "¿Qué son " + subject + "?";
        default -> "¿Qué es " + subject + "?";
      };
    }
    return switch (verb) {
      case "means" -> "What does " + subject + " mean?";
      case "are" -> "What are " + subject + "?";
      default -> "What is " + subject + "?";
    };
  }

  /** Lower-cases an initial capital of an ordinary word, keeping acronyms ("ISMS") and proper names with digits. */
  private static String lowerFirst(String term) {
    if (term.length() > 1 && Character.isUpperCase(term.charAt(0)) && Character.isLowerCase(term.charAt(1))) {
      return Character.toLowerCase(term.charAt(0)) + term.substring(1);
    }
    return term;
  }

  // -------------------------------------------------------------------- table

  private void tableRule(Chunk c, Language lang, List<QaPair> pairs, Set<String> questions, ReportBuilder report) {
    for (MarkdownTables.Parsed t : MarkdownTables.find(c.text())) {
      List<String> header = t.header();
      int cols = header.size();
      if (cols < 2) {
        continue;
      }
      int idCol = -1;
      int nameCol = -1;
      int descCol = -1;
      for (int i = 0; i < cols; i++) {
        String h = header.get(i).strip();
        if (idCol < 0 && (ID_HEADER.matcher(h).matches() || mostlyIds(t.rows(), i))) {
          idCol = i;
        } else if (nameCol < 0 && NAME_HEADER.matcher(h).find()) {
          nameCol = i;
        } else if (descCol < 0 && DESC_HEADER.matcher(h).find()) {
          descCol = i;
        }
      }
      if (descCol < 0) {
        descCol = longestColumn(t.rows(), cols, idCol, nameCol);
      }
      if (descCol < 0 || (idCol < 0 && nameCol < 0 && cols < 2)) {
        continue;
      }
      int labelCol = idCol >= 0 ? idCol : nameCol >= 0 ? nameCol : (descCol == 0 ? 1 : 0);
      for (List<String> row : t.rows()) {
        String desc = cell(row, descCol);
        String id = idCol >= 0 ? cell(row, idCol) : "";
        String name = nameCol >= 0 ? cell(row, nameCol) : "";
        String label = cell(row, labelCol);
        if (desc.isEmpty() || label.isEmpty() || desc.equals(header.get(descCol))) {
          continue;
        }
        String q;
        if (lang == Language.ES) {
          q = !id.isEmpty() ? "¿Qué exige el control " + id + (name.isEmpty() ? "" : " (" + name + ")") + "?"
              : "¿Qué exige «" + label + "»?";
        } else {
          q = !id.isEmpty() ? "What does control " + id + (name.isEmpty() ? "" : " (" + name + ")") + " require?"
              : "What does \"" + label + "\" require?";
        }
        StringBuilder answer = new StringBuilder(desc);
        for (int i = 0; i < cols; i++) {
          if (i != descCol && i != idCol && i != nameCol && i != labelCol && !cell(row, i).isEmpty()) {
            answer.append('\n').append(header.get(i)).append(": ").append(cell(row, i));
          }
        }
        add(c, lang, q, answer.toString(), "table-row", pairs, questions, report);
      }
    }
  }

  private static boolean mostlyIds(List<List<String>> rows, int col) {
    int ids = 0;
    for (List<String> r : rows) {
      if (CONTROL_ID.matcher(cell(r, col)).matches()) {
        ids++;
      }
    }
    return ids * 2 > rows.size();
  }

  private static int longestColumn(List<List<String>> rows, int cols, int idCol, int nameCol) {
    int best = -1;
    double bestLen = 0;
    for (int i = 0; i < cols; i++) {
      if (i == idCol || i == nameCol) {
        continue;
      }
      double sum = 0;
      for (List<String> r : rows) {
        sum += cell(r, i).length();
      }
      double avg = sum / Math.max(1, rows.size());
      if (avg > bestLen) {
        bestLen = avg;
        best = i;
      }
    }
    return bestLen >= 15 ? best : -1;
  }

  private static String cell(List<String> row, int i) {
    return i >= 0 && i < row.size() ? row.get(i).strip() : "";
  }

  private String clip(String answer) {
    if (answer.length() <= maxAnswerChars) {
      return answer;
    }
    // Cut at the last sentence end inside the limit so the answer stays a whole statement.
    String head = answer.substring(0, maxAnswerChars);
    int cut = Math.max(head.lastIndexOf(". "), head.lastIndexOf(".\n"));
    return cut > maxAnswerChars / 3 ? head.substring(0, cut + 1) : head.strip() + "…";
  }

  /** Configures an {@link OfflineQaGenerator}. */
  public static final class Builder {
    private Language language = Language.AUTO;
    private int maxAnswerChars = 2000;
    private int minAnswerChars = 20;

    private Builder() {}

    /** Language of the questions; {@link Language#AUTO} (default) follows each chunk's text. */
    public Builder language(Language language) {
      this.language = language;
      return this;
    }

    /** Longer answers are cut at a sentence end (default 2000 characters). */
    public Builder maxAnswerChars(int maxAnswerChars) {
      this.maxAnswerChars = maxAnswerChars;
      return this;
    }

    /** Shorter answers are not worth a pair (default 20 characters). */
    public Builder minAnswerChars(int minAnswerChars) {
      this.minAnswerChars = minAnswerChars;
      return this;
    }

    public OfflineQaGenerator build() {
      if (language == null) {
        throw new IllegalArgumentException("language must not be null");
      }
      if (maxAnswerChars < 50 || minAnswerChars < 1 || minAnswerChars >= maxAnswerChars) {
        throw new IllegalArgumentException("need 1 <= minAnswerChars < maxAnswerChars and maxAnswerChars >= 50");
      }
      return new OfflineQaGenerator(this);
    }
  }
}
