//! redflag's native watchlist format: TOML that an analyst can read and edit by hand.
//!
//! A file has a `[list]` header (name, publication date), a `[sources]` table of citable sources,
//! and `[[entity]]` tables shaped like [`crate::model::Entity`]. Every fact may carry `source = "key"`
//! naming an entry of `[sources]`; unknown keys, unknown sources, duplicate ids and dangling relation
//! targets are errors with the line they sit on. Writing the format back (`watchlist convert`) is here too.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{line_of_offset, list_info, read_utf8, sha256_hex, Format};
use crate::error::{Error, Location, Result};
use crate::model::{Entity, EntityKind, Watchlist};

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListHeader {
    /// Short list label shown in hits.
    pub name: String,
    /// Publication date (ISO 8601); the list version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceRef {
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NativeFile {
    pub list: ListHeader,
    #[serde(default)]
    pub sources: BTreeMap<String, SourceRef>,
    #[serde(default, rename = "entity")]
    pub entities: Vec<Entity>,
}

pub fn load(path: &Path) -> Result<Watchlist> {
    let (text, bytes) = read_utf8(path)?;
    let mut wl = parse_str(&text, &path.display().to_string())?;
    wl.lists[0].content_hash = sha256_hex([bytes.as_slice()]);
    if wl.lists[0].published.is_none() {
        wl.lists[0].version = format!("sha256:{}", &wl.lists[0].content_hash[..16]);
    }
    Ok(wl)
}

/// Parses and validates a native file held in memory. `origin` names it in errors.
pub fn parse_str(text: &str, origin: &str) -> Result<Watchlist> {
    let file: NativeFile = toml::from_str(text).map_err(|e| {
        let line = e.span().map(|s| line_of_offset(text, s.start)).unwrap_or(1);
        Error::data(
            Location::new(origin).line(line),
            e.message().trim().to_string(),
        )
    })?;
    validate(&file, text, origin)?;
    let hash = sha256_hex([text.as_bytes()]);
    let info = list_info(
        &file.list.name,
        Format::Native,
        origin,
        file.list.published.clone(),
        hash,
        file.entities.len(),
    );
    Ok(Watchlist {
        lists: vec![info],
        entities: file.entities,
    })
}

/// Line of the `id = "..."` that opens an entity, for validation errors.
fn entity_line(text: &str, id: &str) -> u64 {
    let needle = format!("\"{id}\"");
    text.lines()
        .position(|l| l.trim_start().starts_with("id") && l.contains(&needle))
        .map(|i| i as u64 + 1)
        .unwrap_or(1)
}

fn validate(file: &NativeFile, text: &str, origin: &str) -> Result<()> {
    let err = |id: &str, field: &str, msg: String| {
        Error::data(
            Location::new(origin)
                .line(entity_line(text, id))
                .field(field),
            msg,
        )
    };
    let ids: HashSet<&str> = file.entities.iter().map(|e| e.id.as_str()).collect();
    let mut seen = HashSet::new();
    for e in &file.entities {
        if e.id.trim().is_empty() {
            return Err(err(&e.id, "id", "entity without an id".into()));
        }
        if !seen.insert(e.id.as_str()) {
            return Err(err(&e.id, "id", format!("duplicate entity id `{}`", e.id)));
        }
        if e.kind == EntityKind::Unknown {
            return Err(err(
                &e.id,
                "kind",
                format!("entity `{}` needs a kind", e.id),
            ));
        }
        if e.names.iter().all(|n| n.text.trim().is_empty()) {
            return Err(err(
                &e.id,
                "names",
                format!("entity `{}` has no name", e.id),
            ));
        }
        for r in &e.relations {
            if !ids.contains(r.target.as_str()) {
                return Err(err(
                    &e.id,
                    "relations",
                    format!(
                        "relation target `{}` is not an entity of this list",
                        r.target
                    ),
                ));
            }
            if let Some(p) = r.percentage {
                if !(0.0..=100.0).contains(&p) {
                    return Err(err(
                        &e.id,
                        "relations",
                        format!("percentage {p} is not 0..100"),
                    ));
                }
            }
        }
        for s in cited_sources(e) {
            if !file.sources.contains_key(s) {
                return Err(err(
                    &e.id,
                    "source",
                    format!("source `{s}` is not declared in [sources]"),
                ));
            }
        }
    }
    Ok(())
}

/// Every source id an entity cites, on any of its facts.
fn cited_sources(e: &Entity) -> impl Iterator<Item = &String> {
    e.names
        .iter()
        .map(|n| &n.source)
        .chain(e.addresses.iter().map(|a| &a.source))
        .chain(e.identifiers.iter().map(|i| &i.source))
        .chain(e.relations.iter().map(|r| &r.source))
        .chain(std::iter::once(&e.status.source))
        .flatten()
}

/// Declares every source id the entities cite, titled after the list the entity came from: a
/// loaded watchlist keeps source ids but not the `[sources]` table they were declared in.
fn referenced_sources(wl: &Watchlist) -> BTreeMap<String, SourceRef> {
    let mut sources = BTreeMap::new();
    for e in &wl.entities {
        for id in cited_sources(e) {
            sources.entry(id.clone()).or_insert_with(|| {
                let list = wl.list_of(e);
                SourceRef {
                    title: format!("{} ({})", list.name, list.path),
                    url: None,
                    date: list.published.clone(),
                }
            });
        }
    }
    sources
}

/// Writes a watchlist in the native format (used by `watchlist convert`).
pub fn to_toml(wl: &Watchlist, name: &str) -> Result<String> {
    let file = NativeFile {
        list: ListHeader {
            name: name.to_string(),
            published: None,
            description: Some(format!(
                "converted from {}",
                wl.lists
                    .iter()
                    .map(|l| format!("{} ({})", l.path, l.version))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        },
        sources: referenced_sources(wl),
        entities: wl.entities.clone(),
    };
    toml::to_string_pretty(&file).map_err(|e| Error::Usage(format!("cannot write TOML: {e}")))
}

#[cfg(test)]
mod seed_tests {
    use crate::model::{Entity, EntityKind, RelationKind};
    use crate::watchlist::seed;

    /// Every entity of the seed table in DOMAIN.md section 1, by id, and whether it is listed.
    const DOMAIN_ENTITIES: &[(&str, bool)] = &[
        ("serniya-engineering", true),
        ("sertal", true),
        ("robin-trade", true),
        ("tradetools", false),
        ("oleksiy-zibirov", false),
        ("tireks", false),
        ("majory-llp", true),
        ("photon-pro", true),
        ("invention-bridge", true),
        ("alexsong", true),
        ("sernia-film", true),
        ("planar-minsk", true),
        ("planar-izhevsk", true),
        ("casic", false),
        ("ocs-distribution", false),
        ("convex", false),
        ("prosoft", false),
        ("nag", false),
        ("rostec", false),
        ("rosatom", false),
        ("roscosmos", false),
        ("fsb", false),
        ("svr", false),
        ("russian-mod", false),
    ];

    fn entity<'a>(entities: &'a [Entity], id: &str) -> &'a Entity {
        entities
            .iter()
            .find(|e| e.id == id)
            .unwrap_or_else(|| panic!("seed entity `{id}` is missing"))
    }

    fn has_name(e: &Entity, text: &str) -> bool {
        e.names.iter().any(|n| n.text == text)
    }

    fn sdn(e: &Entity) -> Option<&str> {
        e.identifiers
            .iter()
            .find(|i| i.scheme == "OFAC SDN")
            .map(|i| i.value.as_str())
    }

    #[test]
    fn seed_has_every_domain_entity_with_its_status() {
        let wl = seed();
        assert_eq!(wl.lists.len(), 1);
        assert!(wl.lists[0].builtin);
        assert_eq!(wl.lists[0].entity_count, wl.entities.len());
        for &(id, listed) in DOMAIN_ENTITIES {
            let e = entity(&wl.entities, id);
            assert_eq!(e.status.listed, listed, "status of `{id}`");
            assert!(e.status.source.is_some(), "`{id}` status has a source");
            assert!(e.status.note.is_some(), "`{id}` status has a note");
            if listed {
                assert!(!e.status.lists.is_empty(), "listed `{id}` names its list");
            }
            assert!(!e.primary_name().is_empty());
        }
        assert_eq!(wl.entities.len(), DOMAIN_ENTITIES.len());
    }

    #[test]
    fn every_fact_has_a_source() {
        let wl = seed();
        for e in &wl.entities {
            assert!(e.names.iter().all(|n| n.source.is_some()), "{}", e.id);
            assert!(e.addresses.iter().all(|a| a.source.is_some()), "{}", e.id);
            assert!(e.identifiers.iter().all(|i| i.source.is_some()), "{}", e.id);
            assert!(e.relations.iter().all(|r| r.source.is_some()), "{}", e.id);
            assert!(e.status.source.is_some(), "{}", e.id);
            if e.kind == EntityKind::Organization {
                assert!(!e.countries.is_empty(), "{} has a country", e.id);
            }
        }
    }

    #[test]
    fn homonyms_stay_distinct() {
        let wl = seed();
        let minsk = entity(&wl.entities, "planar-minsk");
        let izhevsk = entity(&wl.entities, "planar-izhevsk");
        assert_eq!(minsk.countries, ["BY"]);
        assert_eq!(izhevsk.countries, ["RU"]);
        assert_eq!(sdn(minsk), Some("45588"));
        assert_eq!(sdn(izhevsk), Some("35354"));
        assert_ne!(minsk.addresses, izhevsk.addresses);
        assert!(has_name(minsk, "PLANAR JSC KBTEM"));
        assert!(has_name(izhevsk, "PLANAR ELEMENTS"));

        let serniya = entity(&wl.entities, "serniya-engineering");
        let film = entity(&wl.entities, "sernia-film");
        assert_ne!(serniya.primary_name(), film.primary_name());
        assert_eq!(sdn(serniya), Some("35076"));
        assert!(film.names.iter().all(|n| !has_name(serniya, &n.text)));
        assert!(film.relations.is_empty() && serniya.relations.iter().all(|r| r.target != film.id));
    }

    #[test]
    fn relations_point_at_seed_entities() {
        let wl = seed();
        for e in &wl.entities {
            for r in &e.relations {
                assert!(wl.find(&r.target).is_some(), "{} -> {}", e.id, r.target);
                assert_ne!(r.target, e.id, "{} relates to itself", e.id);
            }
        }
        let tt = entity(&wl.entities, "tradetools");
        let rel = |kind, target: &str| {
            tt.relations
                .iter()
                .any(|r| r.kind == kind && r.target == target)
        };
        assert!(rel(RelationKind::ControlledBy, "oleksiy-zibirov"));
        assert!(rel(RelationKind::SharesAddressWith, "robin-trade"));
        let tireks = entity(&wl.entities, "tireks");
        assert!(tireks
            .relations
            .iter()
            .any(|r| r.kind == RelationKind::SuccessorOf && r.target == "tradetools"));
        for id in ["serniya-engineering", "sertal", "robin-trade"] {
            assert!(
                entity(&wl.entities, id)
                    .relations
                    .iter()
                    .any(|r| r.kind == RelationKind::ControlledBy && r.target == "oleksiy-zibirov"),
                "{id} controlled by Zibirov"
            );
        }
        for id in ["majory-llp", "photon-pro", "invention-bridge", "alexsong"] {
            assert!(
                entity(&wl.entities, id)
                    .relations
                    .iter()
                    .any(|r| r.kind == RelationKind::LinkedTo && r.target == "serniya-engineering"),
                "{id} linked to the network"
            );
        }
    }

    #[test]
    fn names_in_other_scripts() {
        let wl = seed();
        let cyrillic = |s: &str| s.chars().any(|c| ('\u{0400}'..='\u{04FF}').contains(&c));
        for id in [
            "serniya-engineering",
            "sertal",
            "robin-trade",
            "tradetools",
            "oleksiy-zibirov",
        ] {
            let e = entity(&wl.entities, id);
            assert!(
                e.names.iter().any(|n| cyrillic(&n.text)),
                "{id} has a Cyrillic name"
            );
        }
        assert!(has_name(
            entity(&wl.entities, "robin-trade"),
            "ООО «Робин Трейд»"
        ));
        assert!(has_name(
            entity(&wl.entities, "robin-trade"),
            "ROBIN TRADE LIMITED"
        ));
        assert!(has_name(
            entity(&wl.entities, "serniya-engineering"),
            "SERNIA ENGINEERING"
        ));
        assert!(has_name(entity(&wl.entities, "tradetools"), "Trade Tools"));
        let casic = entity(&wl.entities, "casic");
        assert!(has_name(casic, "中国航天科工集团有限公司"));
        assert!(has_name(casic, "CASIC"));
        let zibirov = entity(&wl.entities, "oleksiy-zibirov");
        assert_eq!(zibirov.kind, EntityKind::Person);
    }

    #[test]
    fn london_fronts_have_both_addresses_with_swapped_postcodes() {
        let wl = seed();
        let majory = entity(&wl.entities, "majory-llp");
        let photon = entity(&wl.entities, "photon-pro");
        assert_eq!(sdn(majory), Some("35080"));
        assert_eq!(sdn(photon), Some("35081"));
        let postcode = |e: &Entity, street: &str| {
            e.addresses
                .iter()
                .find(|a| a.text.contains(street))
                .and_then(|a| a.postal_code.clone())
                .unwrap_or_else(|| panic!("{} has no `{street}` address", e.id))
        };
        assert_eq!(majory.addresses.len(), 2);
        assert_eq!(photon.addresses.len(), 2);
        assert_eq!(postcode(majory, "Epworth House"), "EC1Y 1AA");
        assert_eq!(postcode(majory, "Fetter Lane"), "EC4A 1BR");
        assert_eq!(postcode(photon, "Epworth House"), "EC4A 1BR");
        assert_eq!(postcode(photon, "Fetter Lane"), "EC1Y 1AA");
        assert_eq!(entity(&wl.entities, "sertal").addresses.len(), 2);
        assert!(majory
            .addresses
            .iter()
            .all(|a| a.country.as_deref() == Some("GB")));
    }

    /// The fixtures' ground truth only names seed entities, with decisions that fit their status.
    #[test]
    fn fixture_expectations_match_the_seed() {
        let wl = seed();
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
        let mut rows_of = std::collections::HashMap::new();
        for (file, delim) in [("shipments.csv", b','), ("sap-export.csv", b';')] {
            let mut rdr = csv::ReaderBuilder::new()
                .delimiter(delim)
                .from_path(dir.join(file))
                .unwrap();
            let width = rdr.headers().unwrap().len();
            let rows = rdr
                .records()
                .map(|r| {
                    let r = r.unwrap_or_else(|e| panic!("{file}: {e}"));
                    assert_eq!(r.len(), width, "{file}");
                })
                .count();
            rows_of.insert(file.to_string(), rows);
        }
        let mut rdr = csv::Reader::from_path(dir.join("expected.csv")).unwrap();
        let mut n = 0;
        for rec in rdr.records() {
            let rec = rec.unwrap();
            let (file, row, decision, id, note) = (&rec[0], &rec[1], &rec[3], &rec[4], &rec[5]);
            let row: usize = row.parse().unwrap();
            assert!(row >= 1 && row <= rows_of[file], "{file} row {row}");
            n += 1;
            if decision == "clear" {
                assert!(id.is_empty(), "{file} row {row}");
                continue;
            }
            let e = entity(&wl.entities, id);
            let want = match (note, e.status.listed) {
                ("address", _) => "review",
                (_, true) => "block",
                (_, false) => "review",
            };
            assert_eq!(decision, want, "{file} row {row} -> {id}");
        }
        assert!(n > 200);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(wl: &Watchlist) -> Watchlist {
        let text = to_toml(wl, "converted").unwrap();
        parse_str(&text, "converted.toml").unwrap_or_else(|e| panic!("{e}\n{text}"))
    }

    fn names(wl: &Watchlist) -> Vec<Vec<String>> {
        wl.entities
            .iter()
            .map(|e| e.names.iter().map(|n| n.text.clone()).collect())
            .collect()
    }

    #[test]
    fn converted_lists_load_back() {
        let root = crate::watchlist::fixture_path("");
        for wl in [
            crate::watchlist::seed(),
            crate::watchlist::load(&root.join("ofac"), None).unwrap(),
            crate::watchlist::load(&root.join("sample.ftm.json"), None).unwrap(),
            crate::watchlist::load(&root.join("un.xml"), None).unwrap(),
        ] {
            let back = round_trip(&wl);
            assert_eq!(back.entities.len(), wl.entities.len());
            assert_eq!(names(&back), names(&wl));
            assert_eq!(back.entities, wl.entities);
        }
    }
}
