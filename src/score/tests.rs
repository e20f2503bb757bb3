use super::*;
use crate::model::EntityKind::{Organization as Org, Person, Unknown};

fn score(a: &str, b: &str, kind: EntityKind) -> f32 {
    compare_names(a, b, kind).score
}

#[test]
fn identical_names_score_one() {
    assert!((score("Robin Trade", "Robin Trade", Org) - 1.0).abs() < 1e-6);
}

#[test]
fn legal_forms_are_not_the_name() {
    // Same name, legal forms of different families: still a hit, a little weaker.
    let m = compare_names("OOO Planar", "Planar JSC", Org);
    assert!((0.85..0.95).contains(&m.score), "{m}");
    assert_eq!(m.pairs[0].query, "planar");
    assert!(score("Planar LLC", "OOO Planar", Org) >= 0.99);
    assert!(score("Trade LLC", "Robin Trade LLC", Org) <= 0.5);
}

#[test]
fn transliteration_and_typos() {
    assert!(score("ООО «Робин Трейд»", "OOO ROBIN TREID", Org) >= 0.95);
    assert!(score("Serniya Enginering", "Serniya Engineering", Org) >= 0.9);
    assert!(score("Sernia Engineering", "OOO SERNIYA INZHINIRING", Org) >= 0.85);
}

#[test]
fn joined_and_split_words() {
    let m = compare_names("Trade Tools", "Tradetools", Org);
    assert!(m.score >= 0.9, "{m}");
    assert_eq!(m.pairs[0].kind, PairKind::Joined);
}

#[test]
fn acronyms() {
    let m = compare_names(
        "CASIC",
        "China Aerospace Science and Industry Corporation",
        Org,
    );
    assert!(m.score >= 0.85, "{m}");
}

#[test]
fn word_order() {
    assert!(score("Engineering Serniya", "Serniya Engineering", Org) >= 0.95);
    assert!(score("Smith, John", "John Smith", Person) >= 0.95);
}

#[test]
fn embedded_listed_name() {
    let s = score("Almaz-Antey Telecommunications", "Almaz-Antey", Org);
    assert!((0.8..0.95).contains(&s), "{s}");
}

#[test]
fn homonyms_and_contradictions() {
    assert!(score("Sergey Ivanov", "Sergey Viktorovich Lavrov", Person) < 0.6);
    assert!(
        score(
            "Geoffrey Boris Johnson",
            "Alexandre Boris de Pfeffel Johnson",
            Person
        ) < 0.75
    );
    assert!(
        score(
            "Boris Johnson",
            "Alexandre Boris de Pfeffel Johnson",
            Person
        ) >= 0.8
    );
}

#[test]
fn numbers_must_agree() {
    assert!(score("Snow Storm 1", "Snow Storm 2", EntityKind::Vessel) < 0.75);
}

#[test]
fn explanation_names_the_evidence() {
    let m = compare_names("Serniya Enginering LLC", "OOO Serniya Engineering", Unknown);
    let text = m.to_string();
    assert!(text.contains("serniya"), "{text}");
    assert!(text.contains("enginering~engineering"), "{text}");
    assert!(text.contains("legal form llc ~ llc"), "{text}");
}
