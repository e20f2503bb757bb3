//! Script folding: any text to lowercase ASCII Latin, for comparison (never for display).
//!
//! Cyrillic goes through the table in `data/translit.tsv` (the scheme sanctions lists use), every
//! other script through `any_ascii`, after Unicode NFKD with combining marks removed. This module
//! does not tokenize or drop punctuation; that is `text::normalize`'s job.

use std::collections::HashMap;
use std::sync::LazyLock;

use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

static CYRILLIC: LazyLock<HashMap<char, &'static str>> = LazyLock::new(|| {
    crate::tables::rows(include_str!("../../data/translit.tsv"))
        .filter_map(|r| {
            let mut chars = r[0].chars();
            let c = chars.next()?;
            Some((c, r.get(1).copied().unwrap_or("")))
        })
        .collect()
});

/// Arabic-script letters read as vowels: (at the start of a word, elsewhere).
static ARABIC_VOWELS: LazyLock<HashMap<char, (&'static str, &'static str)>> = LazyLock::new(|| {
    crate::tables::rows(include_str!("../../data/translit_arabic.tsv"))
        .filter_map(|r| Some((r[0].chars().next()?, (*r.get(1)?, *r.get(2)?))))
        .collect()
});

/// Folds `text` to lowercase ASCII: case folding, diacritics removed, other scripts transliterated.
/// Punctuation is kept (as its closest ASCII form) so callers can still split on it.
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    fold_into(text, &mut out);
    out
}

/// As [`fold`], appending to `out`.
pub fn fold_into(text: &str, out: &mut String) {
    let mut word_start = true;
    for c in text.chars() {
        let at_word_start = word_start;
        // Vowel signs (harakat) are inside a word.
        word_start = !(c.is_alphanumeric() || is_combining_mark(c));
        if c.is_ascii() {
            out.push(c.to_ascii_lowercase());
            continue;
        }
        // Before decomposition: أ would lose its hamza and fold as bare alef anyway, but the
        // table keeps each letter's own reading.
        if let Some((initial, elsewhere)) = ARABIC_VOWELS.get(&c) {
            out.push_str(if at_word_start { initial } else { elsewhere });
            continue;
        }
        for lc in c.to_lowercase() {
            if let Some(latin) = CYRILLIC.get(&lc) {
                out.push_str(latin);
                continue;
            }
            // Kana decompose into a base sign and a voicing mark (バ = ハ + ゛): decomposing
            // would read `ba` as `ha`, so they are transliterated whole.
            if is_kana(lc) {
                for a in any_ascii::any_ascii_char(lc).chars() {
                    out.push(a.to_ascii_lowercase());
                }
                continue;
            }
            // Decompose so "é" folds to "e" and "ё" to its table entry.
            for d in lc.nfkd() {
                if is_combining_mark(d) {
                    continue;
                }
                if d.is_ascii() {
                    out.push(d.to_ascii_lowercase());
                } else if let Some(latin) = CYRILLIC.get(&d) {
                    out.push_str(latin);
                } else if matches!(d, '\u{2018}' | '\u{2019}' | '\u{02bc}' | '\u{02bb}') {
                    out.push('\'');
                } else {
                    let ascii = any_ascii::any_ascii_char(d);
                    if ascii.is_empty() && !d.is_alphanumeric() {
                        // Unknown punctuation or symbol: keep a separator so words do not join.
                        out.push(' ');
                    } else {
                        for a in ascii.chars() {
                            out.push(a.to_ascii_lowercase());
                        }
                        // Each Han or Hangul character is a syllable: keep them apart so
                        // 有限公司 reads as the legal form "you xian gong si".
                        if is_syllabic(d) {
                            out.push(' ');
                        }
                    }
                }
            }
        }
    }
}

/// Hiragana and katakana (with the katakana middle dot and prolonged sound mark).
fn is_kana(c: char) -> bool {
    matches!(c as u32, 0x3041..=0x30FA | 0x30FC..=0x30FF)
}

pub fn is_syllabic(c: char) -> bool {
    matches!(c as u32, 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0xAC00..=0xD7AF)
}

#[cfg(test)]
mod tests {
    use super::fold;

    #[test]
    fn cyrillic_uses_the_list_scheme() {
        assert!(fold("ООО «Серния Инжиниринг»").starts_with("ooo "));
        assert!(fold("ООО «Серния Инжиниринг»").contains("serniya inzhiniring"));
        assert_eq!(fold("Робин Трейд"), "robin treyd");
        assert_eq!(fold("Яблочкова"), "yablochkova");
        assert_eq!(fold("Щукин"), "shchukin");
    }

    #[test]
    fn diacritics_and_case() {
        assert_eq!(fold("Société Générale"), "societe generale");
        assert_eq!(fold("ERDOĞAN"), "erdogan");
        assert_eq!(fold("Vučić"), "vucic");
    }

    #[test]
    fn other_scripts_fall_back_to_any_ascii() {
        assert!(!fold("中国航天科工集团有限公司").is_empty());
        assert!(fold("中国航天科工集团有限公司").is_ascii());
        assert!(fold("Κυριάκος").starts_with("kyri"));
        assert!(fold("محمد").is_ascii());
    }

    #[test]
    fn arabic_long_vowels_are_vowels() {
        assert_eq!(fold("فرناندو"), "frnandu");
        assert_eq!(fold("يوسف"), "yusf");
        assert_eq!(fold("وليد"), "wlid");
        assert_eq!(fold("أوندوا"), "aundua");
    }

    #[test]
    fn voiced_kana_keep_their_voicing() {
        assert!(
            fold("バラク・オバマ").starts_with("baraku"),
            "{}",
            fold("バラク・オバマ")
        );
        assert!(
            fold("バラク・オバマ").ends_with("obama"),
            "{}",
            fold("バラク・オバマ")
        );
        assert_eq!(fold("ガ"), "ga");
    }
}
