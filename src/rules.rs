//! The shipment rules of `check`: goods, routes and parties that raise the risk of a shipment
//! even when no party is on a list.
//!
//! Each rule has a name (the key of its `[rules.<name>]` table in the policy file and of its flag in
//! the output), a one-line description, and its own evidence: the HS codes, countries or parties
//! that made it fire. Settings (enabled, severity) live in [`crate::policy::Rules`]; the facts the
//! rules know (CHPL tiers, transshipment countries, sanctioned destinations, logistics words) live
//! in `data/*.tsv`. Not here: screening party names (`screen`), reading shipments (`shipment`).
//!
//! The rules:
//! - `chpl-goods`: an HS code is on the Common High Priority List (first 6 digits; a 4-digit
//!   heading that contains CHPL codes counts too, since it may hide one). Default review.
//! - `sanctioned-destination`: Russia or Belarus is the destination, on the route, or the country
//!   of the consignee or end user. Default block.
//! - `transshipment-route`: CHPL goods travel through (or to) a country FinCEN/BIS name as a
//!   common transshipment point to Russia. The shipper's own country (the first on the route) is
//!   not a transit. Default review.
//! - `forwarder-as-end-user`: the end user (the consignee when no end user is named) is the
//!   forwarder, or its name says it is a logistics company. Default review.
//! - `consignee-country-mismatch`: the consignee is in another country than the destination.
//!   Default review.

use std::collections::{BTreeMap, HashSet};
use std::sync::LazyLock;

use serde::Serialize;

use crate::geo;
use crate::model::EntityKind;
use crate::policy::{Decision, Policy, RuleSettings, Rules};
use crate::score::compare_names;
use crate::shipment::{hs_digits, Shipment};
use crate::tables;
use crate::text::translit::fold;

/// A rule that fired on a shipment, with its evidence.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RuleFlag {
    pub rule: &'static str,
    pub severity: Decision,
    /// One line per fact that made the rule fire.
    pub evidence: Vec<String>,
}

/// A named shipment rule.
pub struct Rule {
    pub name: &'static str,
    pub description: &'static str,
    /// The rule's settings in a policy.
    pub settings: fn(&Rules) -> RuleSettings,
    /// The evidence the rule finds on a shipment; empty when it does not fire.
    pub evaluate: fn(&Shipment, &Policy) -> Vec<String>,
}

/// Every shipment rule, in the order flags of equal severity are reported.
pub static RULES: [Rule; 5] = [
    Rule {
        name: "sanctioned-destination",
        description: "Russia or Belarus is the destination, on the route, or the consignee's or end user's country",
        settings: |r| r.sanctioned_destination,
        evaluate: sanctioned_destination,
    },
    Rule {
        name: "chpl-goods",
        description: "an HS code is on the Common High Priority List (CHPL), by its first 6 digits",
        settings: |r| r.chpl_goods,
        evaluate: chpl_goods,
    },
    Rule {
        name: "transshipment-route",
        description: "CHPL goods routed through or to a FinCEN/BIS transshipment country",
        settings: |r| r.transshipment_route,
        evaluate: transshipment_route,
    },
    Rule {
        name: "forwarder-as-end-user",
        description: "the end user is the forwarder or a logistics company",
        settings: |r| r.forwarder_as_end_user,
        evaluate: forwarder_as_end_user,
    },
    Rule {
        name: "consignee-country-mismatch",
        description: "the consignee's country differs from the destination",
        settings: |r| r.consignee_country_mismatch,
        evaluate: consignee_country_mismatch,
    },
];

/// Applies every enabled rule; flags come worst first.
pub fn evaluate(shipment: &Shipment, policy: &Policy) -> Vec<RuleFlag> {
    let mut flags: Vec<RuleFlag> = RULES
        .iter()
        .filter_map(|rule| {
            let settings = (rule.settings)(&policy.rules);
            if !settings.enabled {
                return None;
            }
            let evidence = (rule.evaluate)(shipment, policy);
            (!evidence.is_empty()).then(|| RuleFlag {
                rule: rule.name,
                severity: settings.severity.into(),
                evidence,
            })
        })
        .collect();
    // Stable: rules of equal severity keep the order of RULES.
    flags.sort_by_key(|f| std::cmp::Reverse(f.severity));
    flags
}

/// A CHPL tier: its name (`1`, `3.A`) and what it holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChplTier {
    pub tier: &'static str,
    pub description: &'static str,
}

/// HS-6 code -> tier, from `data/chpl.tsv`.
static CHPL: LazyLock<BTreeMap<&'static str, ChplTier>> = LazyLock::new(|| {
    let mut m = BTreeMap::new();
    for r in tables::rows(include_str!("../data/chpl.tsv")) {
        let tier = ChplTier {
            tier: r[0],
            description: r[1],
        };
        for code in &r[2..] {
            m.insert(*code, tier);
        }
    }
    m
});

/// The CHPL tier of an HS-6 code.
pub fn chpl_tier(hs6: &str) -> Option<ChplTier> {
    CHPL.get(hs6).copied()
}

/// Why an HS code as written is CHPL goods, or None: `8542.31 is CHPL tier 1 (integrated
/// circuits)`; a 4-digit heading names the CHPL codes it contains, per tier.
pub fn chpl_evidence(code: &str) -> Option<String> {
    let digits = hs_digits(code)?;
    if digits.len() >= 6 {
        let t = chpl_tier(&digits[..6])?;
        return Some(format!(
            "{code} is CHPL tier {} ({})",
            t.tier, t.description
        ));
    }
    let mut by_tier: BTreeMap<&str, (ChplTier, Vec<&str>)> = BTreeMap::new();
    for (hs6, t) in CHPL.range(digits.as_str()..) {
        if !hs6.starts_with(digits.as_str()) {
            break;
        }
        by_tier
            .entry(t.tier)
            .or_insert((*t, Vec::new()))
            .1
            .push(hs6);
    }
    if by_tier.is_empty() {
        return None;
    }
    let tiers: Vec<String> = by_tier
        .values()
        .map(|(t, codes)| format!("tier {} ({}): {}", t.tier, t.description, codes.join(", ")))
        .collect();
    Some(format!(
        "{code} is an HS heading that includes CHPL codes, {}",
        tiers.join("; ")
    ))
}

/// A table of country codes (`data/transshipment.tsv`, `data/sanctioned_destinations.tsv`).
fn country_table(src: &'static str) -> HashSet<&'static str> {
    tables::rows(src).map(|r| r[0]).collect()
}

static TRANSSHIPMENT: LazyLock<HashSet<&'static str>> =
    LazyLock::new(|| country_table(include_str!("../data/transshipment.tsv")));

static SANCTIONED: LazyLock<HashSet<&'static str>> =
    LazyLock::new(|| country_table(include_str!("../data/sanctioned_destinations.tsv")));

static LOGISTICS_WORDS: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    tables::rows(include_str!("../data/logistics_terms.tsv"))
        .flatten()
        .collect()
});

/// `RU (Russian Federation)`, for evidence.
fn country(code: &str) -> String {
    match geo::country_name(code) {
        Some(name) => format!("{code} ({name})"),
        None => code.to_string(),
    }
}

fn route_text(s: &Shipment) -> String {
    s.route.join(" > ")
}

fn parties<'a>(s: &'a Shipment, role: &'a str) -> impl Iterator<Item = &'a crate::screen::Party> {
    s.parties.iter().filter(move |p| p.role == role)
}

fn chpl_goods(s: &Shipment, _: &Policy) -> Vec<String> {
    s.hs_codes.iter().filter_map(|c| chpl_evidence(c)).collect()
}

fn sanctioned_destination(s: &Shipment, _: &Policy) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(d) = s.destination.as_deref().filter(|d| SANCTIONED.contains(d)) {
        out.push(format!("the destination is {}", country(d)));
    }
    let on_route: Vec<&String> = s
        .route
        .iter()
        .filter(|c| SANCTIONED.contains(c.as_str()) && s.destination.as_ref() != Some(*c))
        .collect();
    let mut seen = HashSet::new();
    for c in on_route {
        if seen.insert(c) {
            out.push(format!(
                "the route {} passes through {}",
                route_text(s),
                country(c)
            ));
        }
    }
    // Goods consigned to a party in a sanctioned country go there, whatever the paperwork says.
    for role in ["consignee", "end_user"] {
        for p in parties(s, role) {
            if let Some(c) = p.country.as_deref().filter(|c| SANCTIONED.contains(c)) {
                out.push(format!(
                    "the {} `{}` is in {}",
                    role.replace('_', " "),
                    p.name,
                    country(c)
                ));
            }
        }
    }
    out
}

fn transshipment_route(s: &Shipment, _: &Policy) -> Vec<String> {
    let goods: Vec<String> = s.hs_codes.iter().filter_map(|c| chpl_evidence(c)).collect();
    if goods.is_empty() {
        return Vec::new();
    }
    // The first country of a route is where the goods leave from, not a transit.
    let transit = if s.route.len() > 1 {
        &s.route[1..]
    } else {
        &s.route[..]
    };
    let mut hubs: Vec<&str> = Vec::new();
    for c in transit
        .iter()
        .map(String::as_str)
        .chain(s.destination.as_deref())
    {
        if TRANSSHIPMENT.contains(c) && !hubs.contains(&c) {
            hubs.push(c);
        }
    }
    if hubs.is_empty() {
        return Vec::new();
    }
    let hubs: Vec<String> = hubs.iter().map(|c| country(c)).collect();
    let route = if s.route.is_empty() {
        format!("destination {}", s.destination.as_deref().unwrap_or(""))
    } else {
        format!("route {}", route_text(s))
    };
    vec![format!(
        "{route} goes through {}, named by FinCEN/BIS as a transshipment point to Russia, with CHPL goods: {}",
        hubs.join(", "),
        goods.join("; ")
    )]
}

fn forwarder_as_end_user(s: &Shipment, policy: &Policy) -> Vec<String> {
    // Without a named end user, the consignee is where the goods end up.
    let (role, end_users): (&str, Vec<_>) = match parties(s, "end_user").collect::<Vec<_>>() {
        v if !v.is_empty() => ("end user", v),
        _ => (
            "consignee (no end user is named)",
            parties(s, "consignee").collect(),
        ),
    };
    let mut out = Vec::new();
    for eu in end_users {
        let same = parties(s, "forwarder").find_map(|f| {
            let m = compare_names(&eu.name, &f.name, EntityKind::Organization);
            (m.score >= policy.thresholds.block).then_some((f, m.score))
        });
        if let Some((f, score)) = same {
            out.push(format!(
                "the {role} `{}` is the forwarder `{}` (name score {score:.2})",
                eu.name, f.name
            ));
            continue;
        }
        let folded = fold(&eu.name);
        let words: Vec<&str> = folded
            .split(|c: char| !c.is_ascii_alphanumeric())
            .filter(|w| LOGISTICS_WORDS.contains(w))
            .collect();
        if !words.is_empty() {
            out.push(format!(
                "the {role} `{}` is named as a logistics company ({})",
                eu.name,
                words.join(", ")
            ));
        }
    }
    out
}

fn consignee_country_mismatch(s: &Shipment, _: &Policy) -> Vec<String> {
    let Some(dest) = s.destination.as_deref() else {
        return Vec::new();
    };
    parties(s, "consignee")
        .filter_map(|p| {
            let c = p.country.as_deref().filter(|c| *c != dest)?;
            Some(format!(
                "the consignee `{}` is in {}, the destination is {}",
                p.name,
                country(c),
                country(dest)
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::screen::Party;

    fn party(role: &str, name: &str, country: Option<&str>) -> Party {
        Party {
            role: role.into(),
            name: name.into(),
            country: country.map(str::to_string),
            ..Default::default()
        }
    }

    fn shipment(hs: &[&str], route: &[&str], dest: Option<&str>) -> Shipment {
        Shipment {
            id: Some("T".into()),
            parties: vec![
                party("shipper", "Hagedorn Bauteile GmbH", Some("DE")),
                party("consignee", "Almaty Instrument Supply LLP", Some("KZ")),
            ],
            hs_codes: hs.iter().map(|s| s.to_string()).collect(),
            route: route.iter().map(|s| s.to_string()).collect(),
            destination: dest.map(str::to_string),
        }
    }

    fn fired(s: &Shipment) -> Vec<&'static str> {
        evaluate(s, &Policy::default())
            .iter()
            .map(|f| f.rule)
            .collect()
    }

    #[test]
    fn every_rule_has_settings_and_a_table_entry() {
        assert_eq!(RULES.len(), 5);
        let toml = Policy::default().to_toml();
        for r in &RULES {
            assert!(toml.contains(&format!("[rules.{}]", r.name)), "{}", r.name);
        }
    }

    #[test]
    fn chpl_tiers_in_the_evidence() {
        assert_eq!(
            chpl_evidence("8542.31").as_deref(),
            Some("8542.31 is CHPL tier 1 (integrated circuits)")
        );
        assert!(chpl_evidence("8542 31 90 00").unwrap().contains("tier 1"));
        assert!(chpl_evidence("8457.10")
            .unwrap()
            .contains("tier 4.B (CNC machine tools)"));
        assert!(chpl_evidence("8482.10").unwrap().contains("tier 3.B"));
        assert_eq!(chpl_evidence("7318.15"), None);
        assert_eq!(chpl_evidence("8542.90"), None);
        let heading = chpl_evidence("8542").unwrap();
        assert!(
            heading.contains("tier 1") && heading.contains("854239"),
            "{heading}"
        );
        assert_eq!(chpl_evidence("7318"), None);
        // Every CHPL code in the table is a six-digit HS code.
        assert!(CHPL.keys().all(|c| c.len() == 6 && hs_digits(c).is_some()));
        assert_eq!(CHPL.len(), 4 + 5 + 16 + 9 + 11 + 5);
    }

    #[test]
    fn chpl_goods_rule() {
        let s = shipment(&["7318.15", "8542.31"], &["DE", "FR"], Some("FR"));
        let flags = evaluate(&s, &Policy::default());
        let f = flags.iter().find(|f| f.rule == "chpl-goods").unwrap();
        assert_eq!(f.evidence, ["8542.31 is CHPL tier 1 (integrated circuits)"]);
        assert_eq!(f.severity, Decision::Review);
        assert!(!fired(&shipment(&["7318.15"], &["DE", "FR"], Some("FR"))).contains(&"chpl-goods"));
    }

    #[test]
    fn sanctioned_destination_rule() {
        let f = evaluate(
            &shipment(&[], &["DE", "KZ", "RU"], Some("RU")),
            &Policy::default(),
        );
        assert_eq!(f[0].rule, "sanctioned-destination");
        assert_eq!(f[0].severity, Decision::Block);
        assert!(
            f[0].evidence[0].contains("RU (Russian Federation)"),
            "{:?}",
            f[0]
        );
        // On the route only, Belarus.
        let f = evaluate(
            &shipment(&[], &["PL", "BY", "KZ"], Some("KZ")),
            &Policy::default(),
        );
        assert!(f[0].evidence[0].contains("passes through BY"), "{f:?}");
        // The end user's country.
        let mut s = shipment(&[], &["DE", "KZ"], Some("KZ"));
        s.parties
            .push(party("end_user", "Some Buyer OOO", Some("RU")));
        assert_eq!(fired(&s), ["sanctioned-destination"]);
        assert!(fired(&shipment(&[], &["DE", "KZ"], Some("KZ"))).is_empty());
    }

    #[test]
    fn transshipment_route_rule() {
        let s = shipment(&["8542.31"], &["DE", "KZ", "RU"], Some("RU"));
        assert_eq!(
            fired(&s),
            [
                "sanctioned-destination",
                "chpl-goods",
                "transshipment-route",
                "consignee-country-mismatch"
            ]
        );
        let f = evaluate(&s, &Policy::default());
        let t = f.iter().find(|f| f.rule == "transshipment-route").unwrap();
        assert!(t.evidence[0].contains("KZ (Kazakhstan)"), "{t:?}");
        assert!(t.evidence[0].contains("tier 1"), "{t:?}");
        // No CHPL goods, or no transshipment country after the origin: no flag.
        assert!(!fired(&shipment(&["7318.15"], &["DE", "KZ"], Some("KZ")))
            .contains(&"transshipment-route"));
        assert!(!fired(&shipment(&["8542.31"], &["CN", "DE"], Some("DE")))
            .contains(&"transshipment-route"));
        // Shipped straight to a transshipment country.
        assert!(fired(&shipment(&["8542.31"], &[], Some("KZ"))).contains(&"transshipment-route"));
    }

    #[test]
    fn forwarder_as_end_user_rule() {
        let mut s = shipment(&[], &[], None);
        s.parties
            .push(party("forwarder", "Caspian Gate Logistics LLP", Some("KZ")));
        s.parties
            .push(party("end_user", "Caspian Gate Logistics", None));
        let f = evaluate(&s, &Policy::default());
        assert_eq!(f[0].rule, "forwarder-as-end-user");
        assert!(f[0].evidence[0].contains("is the forwarder"), "{f:?}");
        // A logistics word, in Cyrillic too.
        s.parties[3].name = "ООО «Северная Логистика»".into();
        let f = evaluate(&s, &Policy::default());
        assert!(
            f[0].evidence[0].contains("logistics company (logistika)"),
            "{f:?}"
        );
        // No end user: the consignee stands in.
        let mut s = shipment(&[], &[], None);
        s.parties[1].name = "Merlion Freight Pte Ltd".into();
        assert_eq!(fired(&s), ["forwarder-as-end-user"]);
        // An ordinary end user.
        let mut s = shipment(&[], &[], None);
        s.parties
            .push(party("end_user", "Nordic Components AB", Some("SE")));
        assert!(fired(&s).is_empty());
    }

    #[test]
    fn consignee_country_mismatch_rule() {
        let f = evaluate(
            &shipment(&[], &["DE", "TR"], Some("TR")),
            &Policy::default(),
        );
        assert_eq!(f[0].rule, "consignee-country-mismatch");
        assert!(
            f[0].evidence[0].contains("KZ (Kazakhstan), the destination is TR"),
            "{f:?}"
        );
        assert!(fired(&shipment(&[], &["DE", "KZ"], Some("KZ"))).is_empty());
        assert!(fired(&shipment(&[], &[], None)).is_empty());
    }

    #[test]
    fn disabled_rules_and_severities_follow_the_policy() {
        let s = shipment(&["8542.31"], &["DE", "KZ", "RU"], Some("RU"));
        let mut p = Policy::default();
        p.rules.sanctioned_destination.enabled = false;
        p.rules.chpl_goods.severity = crate::policy::Severity::Block;
        let f = evaluate(&s, &p);
        assert!(f.iter().all(|f| f.rule != "sanctioned-destination"));
        assert_eq!(f[0].rule, "chpl-goods");
        assert_eq!(f[0].severity, Decision::Block);
    }
}
