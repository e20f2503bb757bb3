//! Countries: names in any language or script to ISO 3166-1 alpha-2 codes.
//!
//! The table is `data/countries.tsv`. This module knows nothing of addresses or routes; it only
//! answers "which country is this string" (and the reverse, a display name for a code).

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use crate::text::translit::fold;

struct Countries {
    /// Names and alpha-3 codes (folded keys).
    by_name: HashMap<String, &'static str>,
    /// Alpha-2 codes, lowercase.
    by_code: HashMap<String, &'static str>,
    /// Every word of every name key: lets callers skip lookups for text that cannot be a name.
    words: HashSet<String>,
    names: HashMap<&'static str, &'static str>,
}

static COUNTRIES: LazyLock<Countries> = LazyLock::new(|| {
    let mut by_name = HashMap::new();
    let mut by_code = HashMap::new();
    let mut names = HashMap::new();
    for r in crate::tables::rows(include_str!("../data/countries.tsv")) {
        let code = r[0];
        by_code.insert(code.to_ascii_lowercase(), code);
        // Column 1 is the alpha-3 code, column 2 the English short name.
        if let Some(name) = r.get(2) {
            names.insert(code, *name);
        }
        for name in &r[1..] {
            by_name.insert(key(name), code);
        }
    }
    let words = by_name
        .keys()
        .flat_map(|k: &String| k.split(' '))
        .map(str::to_string)
        .collect();
    Countries {
        words,
        by_name,
        by_code,
        names,
    }
});

/// Lookup key: folded, punctuation as spaces, runs of single letters joined so that
/// `U.K.`, `U K` and `UK` agree, and a leading `the` dropped (`The Gambia`, `the Netherlands`).
pub(crate) fn key(s: &str) -> String {
    let folded = fold(s);
    let mut out = String::with_capacity(folded.len());
    let mut prev_single = false;
    for t in folded
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|t| !t.is_empty())
    {
        let single = t.len() == 1;
        if !(out.is_empty() || single && prev_single) {
            out.push(' ');
        }
        out.push_str(t);
        prev_single = single;
    }
    match out.strip_prefix("the ") {
        Some(rest) => rest.to_string(),
        None => out,
    }
}

/// ISO alpha-2 code of a country name or code (`Russia`, `Россия`, `RU`, `rus`), if known.
pub fn country_code(s: &str) -> Option<&'static str> {
    let k = key(s);
    COUNTRIES
        .by_name
        .get(&k)
        .or_else(|| COUNTRIES.by_code.get(&k))
        .copied()
}

/// As [`country_code`] but without bare alpha-2 codes, for free text where a two-letter word is
/// more likely a state or a district (`Los Angeles, CA`) than a country. Names that are two
/// letters long in use (`UK`) still count.
pub fn country_code_by_name(s: &str) -> Option<&'static str> {
    COUNTRIES.by_name.get(&key(s)).copied()
}

/// [`country_code_by_name`] of one word as the name normalizer writes it (lowercase ASCII
/// letters and digits), whose lookup key is itself: the normalizer asks for every word of every
/// name, and folding each again cost more than the rest of classing it.
pub fn country_code_of_word(word: &str) -> Option<&'static str> {
    if word
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    {
        COUNTRIES.by_name.get(word).copied()
    } else {
        country_code_by_name(word)
    }
}

/// Whether a folded word occurs in some country name (`federation` does, `ulitsa` does not).
/// A cheap filter before [`country_code_by_name`] when scanning text for a country.
/// Single letters (`U.K.`) and `the` pass, since the lookup key joins or drops them.
pub fn is_country_word(folded_word: &str) -> bool {
    folded_word.len() == 1 || folded_word == "the" || COUNTRIES.words.contains(folded_word)
}

/// English short name of an alpha-2 code (`RU` -> `Russian Federation`), for explanations.
pub fn country_name(code: &str) -> Option<&'static str> {
    COUNTRIES
        .names
        .get(code.to_ascii_uppercase().as_str())
        .copied()
}

#[cfg(test)]
mod tests {
    use super::{country_code, country_name, key};
    use std::collections::HashMap;

    proptest::proptest! {
        /// The normalizer's shortcut for one word is the lookup by name.
        #[test]
        fn a_word_is_looked_up_as_its_own_key(word in "(the|[a-z0-9]{1,12})") {
            proptest::prop_assert_eq!(
                super::country_code_of_word(&word),
                super::country_code_by_name(&word)
            );
        }
    }

    #[test]
    fn every_one_word_country_name_is_found_as_a_word() {
        for name in super::COUNTRIES.by_name.keys().filter(|k| !k.contains(' ')) {
            assert_eq!(
                super::country_code_of_word(name),
                super::country_code_by_name(name),
                "{name}"
            );
            assert!(super::country_code_of_word(name).is_some(), "{name}");
        }
        assert_eq!(super::country_code_of_word("sweden"), Some("SE"));
        assert_eq!(super::country_code_of_word("planar"), None);
    }

    #[test]
    fn names_and_codes() {
        assert_eq!(country_code("Russia"), Some("RU"));
        assert_eq!(country_code("РОССИЯ"), Some("RU"));
        assert_eq!(country_code("ru"), Some("RU"));
        assert_eq!(country_code("Atlantis"), None);
        assert_eq!(country_code(""), None);
    }

    #[test]
    fn variants_codes_and_scripts() {
        let cases = [
            ("Russian Federation", "RU"),
            ("Российская Федерация", "RU"),
            ("RUS", "RU"),
            ("UK", "GB"),
            ("U.K.", "GB"),
            ("Great Britain", "GB"),
            ("gbr", "GB"),
            ("USA", "US"),
            ("U.S.A.", "US"),
            ("United States of America", "US"),
            ("Iran, Islamic Republic of", "IR"),
            ("Korea, North", "KP"),
            ("North Korea", "KP"),
            ("Czechia", "CZ"),
            ("Czech Republic", "CZ"),
            ("Turkey", "TR"),
            ("Türkiye", "TR"),
            ("TÜRKİYE", "TR"),
            ("UAE", "AE"),
            ("United Arab Emirates", "AE"),
            ("Беларусь", "BY"),
            ("Казахстан", "KZ"),
            ("Қазақстан", "KZ"),
            ("中国", "CN"),
            ("中華人民共和國", "CN"),
            ("香港", "HK"),
            ("Deutschland", "DE"),
            ("España", "ES"),
            ("Burma", "MM"),
            ("The Gambia", "GM"),
            ("Congo, Democratic Republic of the", "CD"),
            ("Cote d Ivoire", "CI"),
            ("Côte d'Ivoire", "CI"),
            ("Man, Isle of", "IM"),
            ("Virgin Islands, British", "VG"),
            ("Palestinian", "PS"),
            ("Kosovo", "XK"),
        ];
        for (name, code) in cases {
            assert_eq!(country_code(name), Some(code), "{name}");
        }
    }

    #[test]
    fn every_name_maps_to_one_country() {
        let mut seen: HashMap<String, &str> = HashMap::new();
        let mut clashes = Vec::new();
        for r in crate::tables::rows(include_str!("../data/countries.tsv")) {
            assert_eq!(r[0].len(), 2, "{r:?}");
            assert_eq!(r[1].len(), 3, "{r:?}");
            for name in &r[1..] {
                let k = key(name);
                assert!(!k.is_empty(), "{name}");
                if let Some(other) = seen.insert(k.clone(), r[0]) {
                    if other != r[0] {
                        clashes.push(format!("`{name}` ({k}): {other} and {}", r[0]));
                    }
                }
            }
        }
        assert!(clashes.is_empty(), "{clashes:#?}");
        assert!(seen.len() > 249 * 2);
    }

    #[test]
    fn country_words() {
        assert!(super::is_country_word("federation"));
        assert!(super::is_country_word("u"));
        assert!(!super::is_country_word("ulitsa"));
    }

    #[test]
    fn display_names() {
        assert_eq!(country_name("gb"), Some("United Kingdom"));
        assert_eq!(country_name("ZZ"), None);
    }

    proptest::proptest! {
        #[test]
        fn country_code_never_panics(s in "\\PC*") {
            let _ = country_code(&s);
        }
    }
}
