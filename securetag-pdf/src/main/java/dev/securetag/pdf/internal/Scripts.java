package dev.securetag.pdf.internal;

import java.lang.Character.UnicodeScript;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Which Unicode scripts a Tesseract language reads, and the names Tesseract's script detection (OSD) uses. The OCR
 * gate needs this to tell "the OCR languages cannot read this page" from "this page is unreadable".
 */
public final class Scripts {

  private static final Set<String> CYRILLIC = Set.of("rus", "ukr", "bel", "bul", "mkd", "srp", "kaz", "kir", "mon",
      "tat", "tgk", "uzb_cyrl", "aze_cyrl", "chu");
  private static final Set<String> ARABIC = Set.of("ara", "fas", "urd", "pus", "snd", "uig", "kur_ara");
  private static final Set<String> HAN = Set.of("chi_sim", "chi_tra", "chi_sim_vert", "chi_tra_vert");
  private static final Set<String> JAPANESE = Set.of("jpn", "jpn_vert");
  private static final Set<String> KOREAN = Set.of("kor", "kor_vert");
  private static final Map<String, UnicodeScript> SINGLE = Map.ofEntries(
      Map.entry("ell", UnicodeScript.GREEK), Map.entry("grc", UnicodeScript.GREEK),
      Map.entry("heb", UnicodeScript.HEBREW), Map.entry("yid", UnicodeScript.HEBREW),
      Map.entry("hin", UnicodeScript.DEVANAGARI), Map.entry("mar", UnicodeScript.DEVANAGARI),
      Map.entry("nep", UnicodeScript.DEVANAGARI), Map.entry("san", UnicodeScript.DEVANAGARI),
      Map.entry("ben", UnicodeScript.BENGALI), Map.entry("asm", UnicodeScript.BENGALI),
      Map.entry("tha", UnicodeScript.THAI), Map.entry("lao", UnicodeScript.LAO), Map.entry("khm", UnicodeScript.KHMER),
      Map.entry("mya", UnicodeScript.MYANMAR), Map.entry("kat", UnicodeScript.GEORGIAN),
      Map.entry("hye", UnicodeScript.ARMENIAN), Map.entry("amh", UnicodeScript.ETHIOPIC),
      Map.entry("tam", UnicodeScript.TAMIL), Map.entry("tel", UnicodeScript.TELUGU),
      Map.entry("kan", UnicodeScript.KANNADA), Map.entry("mal", UnicodeScript.MALAYALAM),
      Map.entry("guj", UnicodeScript.GUJARATI), Map.entry("pan", UnicodeScript.GURMUKHI),
      Map.entry("ori", UnicodeScript.ORIYA), Map.entry("sin", UnicodeScript.SINHALA),
      Map.entry("bod", UnicodeScript.TIBETAN), Map.entry("dzo", UnicodeScript.TIBETAN),
      Map.entry("syr", UnicodeScript.SYRIAC), Map.entry("div", UnicodeScript.THAANA),
      Map.entry("chr", UnicodeScript.CHEROKEE), Map.entry("iku", UnicodeScript.CANADIAN_ABORIGINAL));
  /** Tesseract codes of languages that are not written in the Latin script by default. */
  private static final Set<String> NOT_LATIN = Set.of("osd", "equ");

  private Scripts() {}

  /**
   * The scripts the given Tesseract languages read, e.g. {@code [spa, eng]} reads LATIN and {@code [rus]} CYRILLIC.
   * Language codes not in the table are taken to be Latin-script (most of Tesseract's languages are).
   */
  public static Set<UnicodeScript> covered(List<String> languages) {
    Set<UnicodeScript> out = EnumSet.noneOf(UnicodeScript.class);
    for (String raw : languages) {
      String l = raw.toLowerCase(Locale.ROOT);
      if (CYRILLIC.contains(l)) {
        out.add(UnicodeScript.CYRILLIC);
      } else if (ARABIC.contains(l)) {
        out.add(UnicodeScript.ARABIC);
      } else if (HAN.contains(l)) {
        out.add(UnicodeScript.HAN);
      } else if (JAPANESE.contains(l)) {
        out.addAll(List.of(UnicodeScript.HAN, UnicodeScript.HIRAGANA, UnicodeScript.KATAKANA));
      } else if (KOREAN.contains(l)) {
        out.addAll(List.of(UnicodeScript.HANGUL, UnicodeScript.HAN));
      } else if (SINGLE.containsKey(l)) {
        out.add(SINGLE.get(l));
      } else if (!NOT_LATIN.contains(l)) {
        out.add(UnicodeScript.LATIN);
      }
      // Every Tesseract model also reads Latin digits and punctuation, which are COMMON.
      out.add(UnicodeScript.COMMON);
    }
    return out;
  }

  /** The Unicode script for a script name reported by Tesseract's OSD ("Cyrillic", "Han", "Japanese", ...). */
  public static UnicodeScript fromOsdName(String name) {
    if (name == null || name.isBlank()) {
      return UnicodeScript.UNKNOWN;
    }
    switch (name.trim()) {
      case "Japanese":
        return UnicodeScript.HIRAGANA;
      case "Korean":
        return UnicodeScript.HANGUL;
      case "Fraktur":
        return UnicodeScript.LATIN;
      default:
        try {
          return UnicodeScript.forName(name.trim());
        } catch (IllegalArgumentException e) {
          return UnicodeScript.UNKNOWN;
        }
    }
  }

  /** Han, kana and Hangul characters stand for a syllable or a word, so they weigh more than one alphabet letter. */
  static int weight(UnicodeScript s) {
    return s == UnicodeScript.HAN || s == UnicodeScript.HIRAGANA || s == UnicodeScript.KATAKANA
        || s == UnicodeScript.HANGUL ? 3 : 1;
  }
}
