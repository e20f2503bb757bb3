//! Countries: names in any language or script to ISO 3166-1 alpha-2 codes.
//!
//! The table is `data/countries.tsv`. This module knows nothing of addresses or routes; it only
//! answers "which country is this string".

use std::collections::HashMap;
use std::sync::LazyLock;

use crate::text::translit::fold;

static NAMES: LazyLock<HashMap<String, &'static str>> = LazyLock::new(|| {
    crate::tables::rows(include_str!("../data/countries.tsv"))
        .filter(|r| r.len() >= 2)
        .map(|r| (key(r[1]), r[0]))
        .collect()
});

fn key(s: &str) -> String {
    fold(s)
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|t| !t.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// ISO alpha-2 code of a country name or code (`Russia`, `Россия`, `RU`, `rus`), if known.
pub fn country_code(s: &str) -> Option<&'static str> {
    let k = key(s);
    if let Some(code) = NAMES.get(&k) {
        return Some(code);
    }
    if k.len() == 2 {
        let up = k.to_ascii_uppercase();
        return NAMES.values().find(|c| **c == up).copied();
    }
    None
}

#[cfg(test)]
mod tests {
    #[test]
    fn names_and_codes() {
        assert_eq!(super::country_code("Russia"), Some("RU"));
        assert_eq!(super::country_code("РОССИЯ"), Some("RU"));
        assert_eq!(super::country_code("ru"), Some("RU"));
        assert_eq!(super::country_code("Atlantis"), None);
    }
}
