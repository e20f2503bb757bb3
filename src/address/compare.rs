//! Comparing two parsed addresses: how close they are (premises, building, street, city) and
//! why, in words an analyst can check.
//!
//! Street names are compared tolerantly (typos, transliteration variants), numbers exactly: two
//! house numbers that differ are two buildings however alike the rest. The postcode is weak
//! evidence: lists swap and mistype them, so a postcode conflict lowers the score and is said,
//! but does not break an otherwise identical address.
//!
//! Not for: deciding whether a shared address makes an affiliate (the affiliate stage does that).

use super::terms::VOCAB;
use super::{ParsedAddress, UnitPart};

/// How close two addresses are, from nothing in common to the same office. Ordered: a higher
/// level is a closer match (`Premises > Building > Street > City > Unrelated`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AddressLevel {
    Unrelated,
    /// Same city (or postcode), nothing finer shown to agree.
    City,
    /// Same street, different or unknown house.
    Street,
    /// Same street, house and building (korpus); units unknown on a side or different.
    Building,
    /// Same building and the units both sides state agree.
    Premises,
}

impl AddressLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            AddressLevel::Unrelated => "unrelated",
            AddressLevel::City => "city",
            AddressLevel::Street => "street",
            AddressLevel::Building => "building",
            AddressLevel::Premises => "premises",
        }
    }

    fn base_score(self) -> f32 {
        match self {
            AddressLevel::Unrelated => 0.0,
            AddressLevel::City => 0.2,
            AddressLevel::Street => 0.5,
            AddressLevel::Building => 0.9,
            AddressLevel::Premises => 1.0,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct AddressMatch {
    pub level: AddressLevel,
    /// 0..1; the level's base, lowered by a fuzzy street name, a postcode conflict or parts
    /// known on one side only.
    pub score: f32,
    /// Which parts agreed and which differed, `; `-separated.
    pub explanation: String,
}

/// Compares two addresses. Symmetric in level; see the module notes for the rules.
pub fn compare(a: &ParsedAddress, b: &ParsedAddress) -> AddressMatch {
    let mut c = Comparison::default();
    if let (Some(x), Some(y)) = (&a.country, &b.country) {
        if !VOCAB.countries_compatible(x, y) {
            return c.finish(
                AddressLevel::Unrelated,
                format!("different countries ({x} vs {y})"),
            );
        }
        c.agreed.push(format!("country {x}"));
    }
    let same_city = match (&a.city, &b.city) {
        (Some(x), Some(y)) if x == y || mentions(b, x) || mentions(a, y) => {
            c.agreed.push(format!("city {x}"));
            Some(true)
        }
        (Some(x), Some(y)) => {
            return c.finish(
                AddressLevel::Unrelated,
                format!("different cities ({x} vs {y})"),
            );
        }
        _ => None,
    };
    match (&a.postal_code, &b.postal_code) {
        (Some(x), Some(y)) if x == y => c.agreed.push(format!("postcode {x}")),
        (Some(x), Some(y)) => {
            c.differed
                .push(format!("postcodes differ ({x} vs {y}), weak evidence"));
            c.penalty += 0.05;
        }
        _ => {}
    }
    let same_postcode = a.postal_code.is_some() && a.postal_code == b.postal_code;
    let locality = if same_city == Some(true) || same_postcode {
        AddressLevel::City
    } else {
        AddressLevel::Unrelated
    };

    if let (Some(x), Some(y)) = (&a.po_box, &b.po_box) {
        if x == y && locality == AddressLevel::City {
            c.agreed.push(format!("P.O. box {x}"));
            return c.finish(AddressLevel::Building, String::new());
        }
    }

    let (Some(sa), Some(sb)) = (&a.street, &b.street) else {
        return c.finish(locality, "no street on one side".into());
    };
    let Some(similarity) = street_similarity(sa, sb) else {
        return c.finish(locality, format!("different streets ({sa} vs {sb})"));
    };
    c.factor = similarity;
    if sa == sb {
        c.agreed.push(format!("street {sa}"));
    } else {
        c.agreed
            .push(format!("street {sa} ~ {sb} (spelling differs)"));
    }
    let mut cap = AddressLevel::Premises;
    if let (Some(x), Some(y)) = (&a.street_type, &b.street_type) {
        if x != y {
            c.differed.push(format!("street types differ ({x} vs {y})"));
            cap = AddressLevel::Street;
        }
    }
    match (&a.house, &b.house) {
        (Some(x), Some(y)) if x == y => c.agreed.push(format!("house {x}")),
        (Some(x), Some(y)) => {
            return c.finish(
                AddressLevel::Street,
                format!("house numbers differ ({x} vs {y})"),
            );
        }
        _ => {
            return c.finish(
                AddressLevel::Street,
                "house number missing on a side".into(),
            )
        }
    }
    match parts_agree(a.building.as_deref(), b.building.as_deref()) {
        Parts::Equal(x) => c.agreed.push(format!("building {x}")),
        Parts::OneSide(x) => {
            c.differed
                .push(format!("building {x} stated on one side only"));
            c.penalty += 0.03;
        }
        Parts::Conflict(x, y) => {
            return c.finish(
                AddressLevel::Street,
                format!("different buildings ({x} vs {y})"),
            );
        }
        Parts::None => {}
    }
    if cap < AddressLevel::Building {
        return c.finish(cap, String::new());
    }
    let level = match unit_agreement(&a.units, &b.units) {
        Units::Agree { shared, extra } => {
            c.agreed.push(format!("unit {shared}"));
            if !extra.is_empty() {
                c.differed.push(format!("{extra} stated on one side only"));
            }
            AddressLevel::Premises
        }
        Units::Conflict(x, y) => {
            c.differed.push(format!("different units ({x} vs {y})"));
            AddressLevel::Building
        }
        Units::OneSide(x) => {
            c.differed.push(format!("unit {x} stated on one side only"));
            AddressLevel::Building
        }
        Units::None => AddressLevel::Building,
    };
    c.finish(level, String::new())
}

/// Whether `city` is written anywhere in `p` (`Kowloon, Hong Kong` mentions `hong kong`).
fn mentions(p: &ParsedAddress, city: &str) -> bool {
    !p.folded.is_empty() && p.folded.contains(&format!(" {city} "))
}

#[derive(Default)]
struct Comparison {
    agreed: Vec<String>,
    differed: Vec<String>,
    factor: f32,
    penalty: f32,
}

impl Comparison {
    fn finish(mut self, level: AddressLevel, why: String) -> AddressMatch {
        if !why.is_empty() {
            self.differed.push(why);
        }
        let factor = if level >= AddressLevel::Street {
            self.factor
        } else {
            1.0
        };
        let score = if level == AddressLevel::Unrelated {
            0.0
        } else {
            (level.base_score() * factor - self.penalty).clamp(0.0, 1.0)
        };
        let mut explanation = format!("{}-level match", level.as_str());
        if level == AddressLevel::Unrelated {
            explanation = "unrelated".into();
        }
        if !self.agreed.is_empty() {
            explanation.push_str(": same ");
            explanation.push_str(&self.agreed.join(", "));
        }
        if !self.differed.is_empty() {
            explanation.push_str("; ");
            explanation.push_str(&self.differed.join("; "));
        }
        AddressMatch {
            level,
            score,
            explanation,
        }
    }
}

/// A crude phonetic key: vowels, `y`, `j`, `h` and `w`-as-vowel dropped, look-alike consonants
/// merged, doubles collapsed. Yablachkova, Yablochkova and Jablochkova all give `blckv`.
pub(crate) fn skeleton(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        let c = match c {
            'a' | 'e' | 'i' | 'o' | 'u' | 'y' | 'j' | 'h' => continue,
            'w' => 'v',
            'q' => 'k',
            'x' => 'k',
            'z' => 's',
            c if c.is_ascii_alphanumeric() => c,
            _ => continue,
        };
        if !out.ends_with(c) {
            out.push(c);
        }
    }
    out
}

/// Similarity of two street keys when they name the same street, else None. Exact and
/// phonetic-key equality count; otherwise edits are allowed by length (none under five
/// letters, one up to eight, then two, three past fourteen) and digits must agree, so
/// `7th` and `8th` stay apart.
fn street_similarity(a: &str, b: &str) -> Option<f32> {
    if a == b {
        return Some(1.0);
    }
    let digits = |s: &str| s.chars().filter(char::is_ascii_digit).collect::<String>();
    if digits(a) != digits(b) {
        return None;
    }
    let longest = a.len().max(b.len());
    if !skeleton(a).is_empty() && skeleton(a) == skeleton(b) && a.len().min(b.len()) >= 4 {
        return Some(0.95);
    }
    let allowed = match longest {
        0..=4 => 0,
        5..=8 => 1,
        9..=14 => 2,
        _ => 3,
    };
    let d = strsim::levenshtein(a, b);
    (d <= allowed).then(|| 1.0 - d as f32 / longest as f32 * 0.5)
}

enum Parts<'a> {
    None,
    Equal(&'a str),
    OneSide(&'a str),
    Conflict(&'a str, &'a str),
}

/// Building keys (`k3`, `k3 s1`): equal, or one the more specific form of the other, agree.
fn parts_agree<'a>(a: Option<&'a str>, b: Option<&'a str>) -> Parts<'a> {
    match (a, b) {
        (None, None) => Parts::None,
        (Some(x), None) | (None, Some(x)) => Parts::OneSide(x),
        (Some(x), Some(y)) if x == y => Parts::Equal(x),
        (Some(x), Some(y)) => {
            let within = |s: &str, t: &str| s.split(' ').all(|p| t.split(' ').any(|q| q == p));
            if within(x, y) {
                Parts::Equal(x)
            } else if within(y, x) {
                Parts::Equal(y)
            } else {
                Parts::Conflict(x, y)
            }
        }
    }
}

enum Units {
    None,
    OneSide(String),
    Conflict(String, String),
    Agree { shared: String, extra: String },
}

/// Units agree when every kind stated on both sides has the same value and at least one kind is
/// shared: `Et 3 Pom VIII` and `Et 3 Pom VIII Kom 1I` are the same premises, one more precise.
fn unit_agreement(a: &[UnitPart], b: &[UnitPart]) -> Units {
    let key = |u: &[&UnitPart]| {
        u.iter()
            .map(|p| format!("{}{}", p.kind, p.value))
            .collect::<Vec<_>>()
            .join(" ")
    };
    if a.is_empty() || b.is_empty() {
        let side: Vec<&UnitPart> = a.iter().chain(b).collect();
        return if side.is_empty() {
            Units::None
        } else {
            Units::OneSide(key(&side))
        };
    }
    let conflict = || {
        let all_a: Vec<&UnitPart> = a.iter().collect();
        let all_b: Vec<&UnitPart> = b.iter().collect();
        Units::Conflict(key(&all_a), key(&all_b))
    };
    let mut shared = Vec::new();
    let mut extra = Vec::new();
    for p in a {
        match b.iter().find(|q| q.kind == p.kind) {
            Some(q) if q.value != p.value => return conflict(),
            Some(_) => shared.push(p),
            None => extra.push(p),
        }
    }
    extra.extend(b.iter().filter(|q| !a.iter().any(|p| p.kind == q.kind)));
    if shared.is_empty() {
        return conflict();
    }
    Units::Agree {
        shared: key(&shared),
        extra: key(&extra),
    }
}

#[cfg(test)]
mod tests {
    use super::super::{parse, parse_text};
    use super::*;
    use crate::model::Address;

    fn level(a: &str, b: &str) -> AddressLevel {
        let m = compare(&parse_text(a), &parse_text(b));
        let back = compare(&parse_text(b), &parse_text(a));
        assert_eq!(m.level, back.level, "asymmetric: {a} / {b}");
        m.level
    }

    const SERTAL: &str =
        "Ul. Yablachkova D. 21 Korpus 3, Et 3 Pom VIII Kom 1I, Moscow 127322, Russia";
    const ROBIN: &str = "Ul. Yablachkova D. 21 Korpus 3, Et 3 Pom. VIII, Moscow 127322, Russia";
    const CYRILLIC: &str = "ул. Яблочкова, д. 21, корп. 3, Москва";

    #[test]
    fn sernia_network_building() {
        assert_eq!(level(SERTAL, ROBIN), AddressLevel::Premises);
        assert_eq!(level(SERTAL, CYRILLIC), AddressLevel::Building);
        assert_eq!(level(ROBIN, CYRILLIC), AddressLevel::Building);
        assert_eq!(
            level(ROBIN, "Ul. Yablochkova D. 21, Korpus 3, Moscow"),
            AddressLevel::Building
        );
        let m = compare(&parse_text(SERTAL), &parse_text(CYRILLIC));
        assert!(
            m.explanation.contains("spelling differs"),
            "{}",
            m.explanation
        );
        assert!(m.explanation.contains("one side only"), "{}", m.explanation);
        assert!(m.score > 0.8 && m.score < 0.9, "{}", m.score);
    }

    #[test]
    fn numbers_must_agree() {
        assert_eq!(
            level(ROBIN, "Ul. Yablochkova D. 25, Moscow"),
            AddressLevel::Street
        );
        assert_eq!(
            level("ul. Vavilova d. 57A, Moscow", "ul. Vavilova d. 57, Moscow"),
            AddressLevel::Street
        );
        assert_eq!(
            level(ROBIN, "Ul. Yablachkova D. 21 Korpus 5, Moscow"),
            AddressLevel::Street
        );
        assert_eq!(
            level(
                SERTAL,
                "Ul. Yablachkova D. 21 Korpus 3, Et 4 Pom VIII, Moscow"
            ),
            AddressLevel::Building
        );
    }

    #[test]
    fn neighbour_on_the_same_street_is_only_street() {
        let m = compare(
            &parse_text("ul. Vavilova, d. 57A, Moscow"),
            &parse_text("OOO Romashka, ul. Vavilova, d. 3, Moskva"),
        );
        assert_eq!(m.level, AddressLevel::Street);
        assert!(m.score <= 0.5);
        assert!(
            m.explanation.contains("house numbers differ"),
            "{}",
            m.explanation
        );
    }

    #[test]
    fn swapped_postcodes_do_not_hide_the_building() {
        let a1 = "Epworth House, 25 City Road, Office 320, London EC1Y 1AA, United Kingdom";
        let a2 = "Suite 3.15, One Fetter Lane, London EC4A 1BR, United Kingdom";
        let b1 = "Epworth House, 25 City Road, Office 320, London EC4A 1BR, United Kingdom";
        let b2 = "Suite 3.15, One Fetter Lane, London EC1Y 1AA, United Kingdom";
        assert_eq!(level(a1, b1), AddressLevel::Premises);
        assert_eq!(level(a2, b2), AddressLevel::Premises);
        assert_eq!(level(a1, b2), AddressLevel::City);
        let m = compare(&parse_text(a1), &parse_text(b1));
        assert!(
            m.explanation.contains("postcodes differ"),
            "{}",
            m.explanation
        );
        assert!(m.score >= 0.9 && m.score < 1.0, "{}", m.score);
        assert_eq!(level(a1, "25 City Road, London"), AddressLevel::Building);
    }

    #[test]
    fn countries_and_cities() {
        assert_eq!(
            level(ROBIN, "Ul. Yablachkova D. 21 Korpus 3, Minsk, Belarus"),
            AddressLevel::Unrelated
        );
        assert_eq!(
            level("ul. Lenina 5, Minsk", "ul. Lenina 5, Moscow"),
            AddressLevel::Unrelated
        );
        assert_eq!(
            level("ul. Lenina 5, Moskva", "ul. Lenina 5, Москва"),
            AddressLevel::Building
        );
        assert_eq!(level("Moscow, Russia", ROBIN), AddressLevel::City);
        assert_eq!(level("Russia", ROBIN), AddressLevel::Unrelated);
        // Hong Kong written as China on one list.
        let hk = Address {
            text: "135 Bonham Strand".into(),
            city: Some("Sheung Wan, Hong Kong".into()),
            country: Some("China".into()),
            ..Address::default()
        };
        let m = compare(&parse(&hk), &parse_text("135 Bonham Strand, Hong Kong"));
        assert_eq!(m.level, AddressLevel::Building, "{}", m.explanation);
    }

    #[test]
    fn street_types_and_typos() {
        assert_eq!(
            level("ul. Lenina 5, Moscow", "pr. Lenina 5, Moscow"),
            AddressLevel::Street
        );
        assert_eq!(
            level("prospekt Mira 5, Moscow", "prosp. Mira d. 5, Moscow"),
            AddressLevel::Building
        );
        assert_eq!(
            level("Mira Avenue 5, Moscow", "просп. Мира, д. 5, Москва"),
            AddressLevel::Building
        );
        assert_eq!(
            level("ul. Vavilova 5", "ul. Vavilowa 5"),
            AddressLevel::Building
        );
        assert!(level("ul. Vavilova 5", "ul. Pavlova 5") < AddressLevel::Street);
        assert!(level("ul. Vavilova 5", "ul. Gagarina 5") < AddressLevel::Street);
        assert!(level("7th Street 5", "8th Street 5") < AddressLevel::Street);
        assert_eq!(
            level("Partizanskii Ave 2", "Partizanskiy prospekt 2"),
            AddressLevel::Building
        );
    }

    #[test]
    fn po_boxes_compare_within_a_city() {
        assert_eq!(
            level("P.O. Box 708, Moscow 119330", "а/я 708, Москва"),
            AddressLevel::Building
        );
        assert_eq!(
            level("P.O. Box 708, Moscow", "P.O. Box 709, Moscow"),
            AddressLevel::City
        );
    }

    #[test]
    fn skeleton_merges_spellings() {
        assert_eq!(skeleton("yablachkova"), skeleton("yablochkova"));
        assert_eq!(skeleton("jablochkova"), "blckv");
        assert_ne!(skeleton("vavilova"), skeleton("gagarina"));
    }

    proptest::proptest! {
        #[test]
        fn an_address_matches_itself(
            name in "[A-Za-z]{4,12}",
            house in "[1-9][0-9]{0,2}[a-c]?",
            korpus in proptest::option::of("[1-9]"),
            city in "(Moscow|London|Minsk|)",
        ) {
            let korpus = korpus.map(|k| format!(" korp. {k}")).unwrap_or_default();
            let x = format!("ul. {name} d. {house}{korpus}, {city}");
            let p = parse_text(&x);
            if p.has_building() {
                proptest::prop_assert!(compare(&p, &p).level >= AddressLevel::Building, "{x}");
            }
        }

        #[test]
        fn compare_never_panics(a in "\\PC{0,60}", b in "\\PC{0,60}") {
            let m = compare(&parse_text(&a), &parse_text(&b));
            proptest::prop_assert!((0.0..=1.0).contains(&m.score));
            if parse_text(&a).has_building() {
                proptest::prop_assert!(compare(&parse_text(&a), &parse_text(&a)).level >= AddressLevel::Building);
            }
        }
    }
}
