//! The address vocabulary (`data/address_terms.tsv`) compiled once into lookup tables, and the
//! tokenizer both the table and the parser use.
//!
//! Not for: deciding what a token means in its context; that is the parser's job.

use std::collections::HashMap;
use std::sync::LazyLock;

use crate::text::translit::fold;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Type,
    Suffix,
    House,
    Building,
    Unit,
    PoBox,
    City,
    Number,
    Ordinal,
}

impl Kind {
    fn parse(s: &str) -> Option<Kind> {
        Some(match s {
            "type" => Kind::Type,
            "suffix" => Kind::Suffix,
            "house" => Kind::House,
            "building" => Kind::Building,
            "unit" => Kind::Unit,
            "pobox" => Kind::PoBox,
            "city" => Kind::City,
            "number" => Kind::Number,
            "ordinal" => Kind::Ordinal,
            _ => return None,
        })
    }
}

/// A term that matched at a token position: its kind, canonical value and length in tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Term {
    pub kind: Kind,
    pub canonical: &'static str,
    pub len: usize,
}

pub(crate) struct Vocab {
    /// First token of a variant -> (all tokens of the variant, term), longest variants first.
    phrases: HashMap<String, Vec<(Vec<String>, Term)>>,
    /// Glued street-type endings (`strasse`) with their canonical type.
    pub suffixes: Vec<(String, &'static str)>,
    /// City spelling (letters and digits only) -> canonical city key.
    cities: HashMap<String, &'static str>,
    /// Groups of country codes one place may be written with.
    country_groups: Vec<Vec<&'static str>>,
}

pub(crate) static VOCAB: LazyLock<Vocab> = LazyLock::new(|| {
    let mut v = Vocab {
        phrases: HashMap::new(),
        suffixes: Vec::new(),
        cities: HashMap::new(),
        country_groups: Vec::new(),
    };
    for row in crate::tables::rows(include_str!("../../data/address_terms.tsv")) {
        match row[0] {
            "cityname" => {
                let canonical = row.get(1).copied().unwrap_or("");
                for variant in &row[1..] {
                    v.cities.insert(alnum(&fold(variant)), canonical);
                }
                continue;
            }
            "countries" => {
                v.country_groups.push(row[1..].to_vec());
                continue;
            }
            _ => {}
        }
        let (Some(kind), Some(canonical)) = (Kind::parse(row[0]), row.get(1).copied()) else {
            continue;
        };
        for variant in &row[2..] {
            let folded = fold(variant);
            if kind == Kind::Suffix {
                v.suffixes.push((alnum(&folded), canonical));
                continue;
            }
            let toks: Vec<String> = tokenize(&folded)
                .into_iter()
                .flatten()
                .map(str::to_string)
                .collect();
            let Some(first) = toks.first().cloned() else {
                continue;
            };
            let term = Term {
                kind,
                canonical,
                len: toks.len(),
            };
            let list = v.phrases.entry(first).or_default();
            if !list.iter().any(|(t, old)| *t == toks && old.kind == kind) {
                list.push((toks, term));
            }
        }
    }
    for list in v.phrases.values_mut() {
        list.sort_by_key(|(_, t)| std::cmp::Reverse(t.len));
    }
    v
});

impl Vocab {
    /// Terms matching at the start of `toks`: all those of the longest matching length.
    pub fn at<'a>(&'a self, toks: &'a [&str]) -> impl Iterator<Item = Term> + 'a {
        let list = toks
            .first()
            .and_then(|t| self.phrases.get(*t))
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        let matches = move |(variant, _): &&(Vec<String>, Term)| {
            variant.len() <= toks.len() && variant.iter().zip(toks).all(|(a, b)| a == b)
        };
        let best = list.iter().find(matches).map(|(_, t)| t.len);
        list.iter()
            .filter(matches)
            .map(|(_, t)| *t)
            .filter(move |t| Some(t.len) == best)
    }

    /// The term of `kind` at the start of `toks`, if any.
    pub fn kind_at(&self, toks: &[&str], kind: Kind) -> Option<Term> {
        self.at(toks).find(|t| t.kind == kind)
    }

    /// Canonical city key of a folded city name, if the table knows it.
    pub fn city(&self, folded: &str) -> Option<&'static str> {
        self.cities.get(&alnum(folded)).copied()
    }

    /// True when two country codes may name the same place (equal, or in one group).
    pub fn countries_compatible(&self, a: &str, b: &str) -> bool {
        a == b
            || self
                .country_groups
                .iter()
                .any(|g| g.contains(&a) && g.contains(&b))
    }
}

/// Letters and digits of `s`, lowercased.
pub(crate) fn alnum(s: &str) -> String {
    s.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// Splits folded text into comma-separated segments of tokens. A token is a run of letters and
/// digits; `-` and `/` inside a run (`211-13`, `pr-t`, `a/ya`) and `.` between digits (`3.15`)
/// stay in it, because they are part of numbers and abbreviations. `#` is a token of its own.
pub(crate) fn tokenize(folded: &str) -> Vec<Vec<&str>> {
    let b = folded.as_bytes();
    let mut segs: Vec<Vec<&str>> = vec![Vec::new()];
    let mut start: Option<usize> = None;
    for (i, &c) in b.iter().enumerate() {
        if c.is_ascii_alphanumeric() {
            start.get_or_insert(i);
            continue;
        }
        let prev = i.checked_sub(1).map(|p| b[p]);
        let next = b.get(i + 1).copied();
        let joins = match c {
            b'-' | b'/' => {
                prev.is_some_and(|p| p.is_ascii_alphanumeric())
                    && next.is_some_and(|n| n.is_ascii_alphanumeric())
            }
            b'.' => {
                prev.is_some_and(|p| p.is_ascii_digit()) && next.is_some_and(|n| n.is_ascii_digit())
            }
            _ => false,
        };
        if joins && start.is_some() {
            continue;
        }
        let seg = segs.len() - 1;
        if let Some(s) = start.take() {
            segs[seg].push(&folded[s..i]);
        }
        match c {
            b',' | b';' | b'\n' | b'\r' | b'|' => segs.push(Vec::new()),
            b'#' => segs[seg].push(&folded[i..=i]),
            _ => {}
        }
    }
    if let Some(s) = start {
        let seg = segs.len() - 1;
        segs[seg].push(&folded[s..]);
    }
    segs.retain(|s| !s.is_empty());
    segs
}

/// The compiled-in canonical term spelled `s` (a unit kind read back from a prebuilt index).
pub(crate) fn canonical(s: &str) -> Option<&'static str> {
    static CANONICALS: LazyLock<std::collections::HashSet<&'static str>> = LazyLock::new(|| {
        VOCAB
            .phrases
            .values()
            .flatten()
            .map(|(_, t)| t.canonical)
            .collect()
    });
    CANONICALS.get(s).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokenizer_keeps_numbers_and_abbreviations_whole() {
        assert_eq!(
            tokenize("d. 57a etazh 2, kom. 211-13, pr-t mira, a/ya 708, suite 3.15 #5"),
            vec![
                vec!["d", "57a", "etazh", "2"],
                vec!["kom", "211-13"],
                vec!["pr-t", "mira"],
                vec!["a/ya", "708"],
                vec!["suite", "3.15", "#", "5"],
            ]
        );
        assert_eq!(
            tokenize("ul.yablochkova,,d.21"),
            vec![vec!["ul", "yablochkova"], vec!["d", "21"]]
        );
        assert!(tokenize(" , ;").is_empty());
    }

    #[test]
    fn vocabulary_matches_longest_phrase_and_all_kinds() {
        let toks = ["p", "o", "box", "708"];
        let t: Vec<Term> = VOCAB.at(&toks).collect();
        assert_eq!(t.len(), 1);
        assert_eq!((t[0].kind, t[0].len), (Kind::PoBox, 3));
        let kinds: Vec<Kind> = VOCAB.at(&["str"]).map(|t| t.kind).collect();
        assert!(kinds.contains(&Kind::Type) && kinds.contains(&Kind::Building));
        assert_eq!(
            VOCAB.kind_at(&["ул"], Kind::Type),
            None,
            "variants are folded"
        );
        assert_eq!(
            VOCAB.kind_at(&["ul"], Kind::Type).map(|t| t.canonical),
            Some("street")
        );
        assert_eq!(
            VOCAB.kind_at(&["prosp"], Kind::Type).map(|t| t.canonical),
            Some("avenue")
        );
        assert_eq!(VOCAB.city("moskva"), Some("moscow"));
        assert_eq!(
            VOCAB.city(&fold("Санкт-Петербург")),
            Some("saint petersburg")
        );
        assert!(VOCAB.countries_compatible("HK", "CN"));
        assert!(!VOCAB.countries_compatible("RU", "BY"));
    }
}
