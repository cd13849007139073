package dev.securetag.pdf.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.Character.UnicodeScript;
import org.junit.jupiter.api.Test;

/** The script-aware text-layer check. */
class TextQualityTest {

  private static final String ENGLISH = "Incident response procedures shall be documented, tested at least annually "
      + "and updated after every major security incident affecting customer data. The security team reviews audit "
      + "logs daily and escalates suspicious events to the incident manager.";

  private static String caesar(String s) {
    StringBuilder sb = new StringBuilder();
    for (char c : s.toCharArray()) {
      sb.append(Character.isLetter(c) ? (char) ('a' + (Character.toLowerCase(c) - 'a' + 7) % 26) : c);
    }
    return sb.toString();
  }

  @Test
  void acceptsProseAndRejectsBrokenEncodings() {
    assertThat(TextQuality.judge(ENGLISH, 0).usable()).isTrue();
    assertThat(TextQuality.judge(ENGLISH, 0).script()).isEqualTo(UnicodeScript.LATIN);
    TextQuality.Verdict shifted = TextQuality.judge(caesar(ENGLISH), 0);
    assertThat(shifted.usable()).isFalse();
    assertThat(shifted.reason()).contains("letter frequencies");
    assertThat(TextQuality.judge("Ïðèâåò, ìèð! Ýòî òåêñò â êîäèðîâêå, êîòîðóþ ïðî÷èòàëè êàê Latin-1 è ïîëó÷èëè "
        + "ìóñîð.", 0).reason()).contains("mojibake");
    assertThat(TextQuality.judge("abc", 400).usable()).isFalse();
  }

  @Test
  void judgesChineseWithCodeAsChineseNotAsEnglish() {
    // zhnumber.pdf page 1: Chinese prose with LaTeX command names; it has no English word and many "words"
    // without vowels, and was sent to OCR by an English-only check.
    String page = "zhnumber 宏包 李清 sobenlee@gmail.com 2022/07/14 v3.0 第 1 节 简介 zhnumber 宏包用于将阿拉伯数字"
        + "按照中文格式输出。相比于 CJKnumb，它提供的四个格式转换命令 \\zhnumber，\\zhdigits、\\zhnum 和 \\zhdig "
        + "都是可以适用于 LaTeX 计数器的 \\zhnumber \\zhdigits \\zhnum \\zhdig \\zhnumsetup \\zhdigsetup "
        + "\\zhnumExtendScaleMap 汉字数字";
    TextQuality.Verdict v = TextQuality.judge(page, 0);
    assertThat(v.usable()).isTrue();
    assertThat(v.script()).isEqualTo(UnicodeScript.HAN);
  }

  @Test
  void acceptsCyrillicIndexesAndWordListsWithoutCommonEnglishWords() {
    assertThat(TextQuality.judge("Пакет churchslavonic позволяет верстать церковнославянские документы. В пакет "
        + "включены шаблоны переносов, шрифты и набор необходимых макрокоманд для верстки богослужебных текстов "
        + "и книг на церковнославянском языке", 0).script()).isEqualTo(UnicodeScript.CYRILLIC);
    String index = "\\cyrillictext 64, 69, 80, 489 \\CYRL 288, 324, 325, 397 \\cyrmathbf 552 \\cyrmathit 556, 563 "
        + "\\cyrmathrm 551 \\cyrmathsf 554, 561 \\cyrmathtt 558 \\cyryat 354, 376, 378 \\Dated@name 210, 268, 342 "
        + "\\daterussian 425, 456, 541 \\declare@shorthand 113, 114, 115 \\DeclareMathAlphabet 552, 554 "
        + "\\DeclareMathOperator 569, 570 \\DeclareRobustCommand 63, 64, 70 \\DeclareTextCommand 84, 85 "
        + "\\encodingdefault 66, 72, 78 \\extrasrussian 489, 491, 492 \\figurename 167, 233, 310";
    assertThat(TextQuality.judge(index, 0).usable()).isTrue();
    String serbian = "filmskoj filmskom filmsku filmu filozof filozofa filozofe filozofi filozofija filozofije "
        + "filozofiji filozofijom filozofiju filozofima filozofira profilaktičan personifikacija ratifikovala "
        + "ratifikovuje ratifikuju rafinacije rafinerija rafinerijama rafinerije rafineriji fibroza fibroze fibula";
    assertThat(TextQuality.judge(serbian, 0).usable()).isTrue();
  }
}
