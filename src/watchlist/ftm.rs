//! FollowTheMoney JSON lines (OpenSanctions exports): one `{"id","schema","properties"}` object
//! per line, where relations, sanctions and addresses are entities of their own.
//!
//! What it is for: turning the "thing" schemas (Person, Company, Organization, LegalEntity,
//! PublicBody, Vessel, Airplane) into entities, and folding the others into them: addresses
//! (`Address` via `addressEntity`), documents (`Passport`, `Identification`), ownership,
//! directorship and other links (as relations), and `Sanction` entities (as status). What it is
//! not for: dates, positions, notes and the many FtM properties redflag does not screen on.
//!
//! Listed or watched: an entity is `listed` when its `topics` include `sanction` or a `Sanction`
//! entity points at it; other entities of the file (owners, subsidiaries, relatives, debarred or
//! `sanction.linked` parties) are watch entries (`listed = false`).

use std::collections::HashMap;
use std::path::Path;
use std::sync::LazyLock;

use serde::Deserialize;
use serde_json::Value;

use super::stats::{Loaded, Problem};
use super::{country_of, push_country, push_name, read_utf8, sha256_hex, single_list, Format};
use crate::error::{Error, Location, Result};
use crate::model::{
    Address, Entity, EntityKind, Identifier, NameType, Relation, RelationKind, Status, Watchlist,
};

/// Properties holding identifiers (`data/ftm_identifiers.tsv`).
static ID_PROPERTIES: LazyLock<Vec<(&'static str, &'static str)>> = LazyLock::new(|| {
    crate::tables::rows(include_str!("../../data/ftm_identifiers.tsv"))
        .filter(|r| r.len() >= 2)
        .map(|r| (r[0], r[1]))
        .collect()
});

#[derive(Deserialize)]
struct Record {
    id: String,
    schema: String,
    #[serde(default)]
    properties: HashMap<String, Vec<Value>>,
}

impl Record {
    /// The string values of a property (FtM values are strings; anything else is skipped).
    fn values(&self, prop: &str) -> impl Iterator<Item = &str> {
        self.properties
            .get(prop)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(str::trim)
            .filter(|v| !v.is_empty())
    }

    fn first(&self, prop: &str) -> Option<&str> {
        self.values(prop).next()
    }
}

pub(super) fn thing_kind(schema: &str) -> Option<EntityKind> {
    Some(match schema {
        "Person" => EntityKind::Person,
        "Company" | "Organization" | "LegalEntity" | "PublicBody" => EntityKind::Organization,
        "Vessel" => EntityKind::Vessel,
        "Airplane" => EntityKind::Aircraft,
        _ => return None,
    })
}

pub fn load(path: &Path) -> Result<Watchlist> {
    read(path).map(|loaded| loaded.watchlist)
}

pub fn read(path: &Path) -> Result<Loaded> {
    let (text, bytes) = read_utf8(path)?;
    let origin = path.display().to_string();
    let records = parse_lines(&text, &origin)?;
    let mut problems = Vec::new();

    let mut entities: Vec<Entity> = Vec::new();
    let mut index: HashMap<&str, usize> = HashMap::new();
    let addresses: HashMap<&str, Address> = records
        .iter()
        .filter(|(_, r)| r.schema == "Address")
        .map(|(_, r)| (r.id.as_str(), address_entity(r)))
        .collect();
    for (line, r) in &records {
        let Some(kind) = thing_kind(&r.schema) else {
            continue;
        };
        if index.contains_key(r.id.as_str()) {
            return Err(Error::data(
                Location::new(origin.as_str()).line(*line).field("id"),
                format!("duplicate entity id `{}`", r.id),
            ));
        }
        index.insert(&r.id, entities.len());
        entities.push(thing(r, kind, &addresses));
    }

    let list_name = list_name(path);
    for (line, r) in &records {
        let at = || Location::new(origin.as_str()).line(*line);
        let percentage = match r.first("percentage") {
            Some(p) if r.schema == "Ownership" => {
                let parsed = parse_percentage(p);
                if parsed.is_none() {
                    problems.push(Problem::new(
                        at().field("percentage"),
                        format!("cannot read percentage `{p}`; ownership kept without it"),
                    ));
                }
                parsed
            }
            _ => None,
        };
        let mut link = |holder: &str, kind, target: &str, percentage: Option<f64>| match (
            index.get(holder),
            index.contains_key(target),
        ) {
            (Some(&i), true) => entities[i].relations.push(Relation {
                kind,
                target: target.to_string(),
                percentage,
                source: None,
            }),
            _ => problems.push(Problem::new(
                at().field(r.schema.as_str()),
                format!(
                    "{} links `{holder}` and `{target}`, not both in this file; skipped",
                    r.id
                ),
            )),
        };
        match r.schema.as_str() {
            "Ownership" => {
                for (asset, owner) in pairs(r, "asset", "owner") {
                    link(asset, RelationKind::OwnedBy, owner, percentage);
                }
            }
            "Directorship" => {
                for (org, director) in pairs(r, "organization", "director") {
                    link(org, RelationKind::DirectedBy, director, None);
                }
            }
            // Links of unknown direction are recorded on both ends.
            "UnknownLink" | "Associate" | "Family" | "Representation" => {
                let (a, b) = match r.schema.as_str() {
                    "UnknownLink" => ("subject", "object"),
                    "Associate" => ("person", "associate"),
                    "Family" => ("person", "relative"),
                    _ => ("agent", "client"),
                };
                for (x, y) in pairs(r, a, b) {
                    link(x, RelationKind::LinkedTo, y, None);
                    link(y, RelationKind::LinkedTo, x, None);
                }
            }
            "Sanction" => {
                for target in r.values("entity") {
                    match index.get(target) {
                        Some(&i) => apply_sanction(&mut entities[i].status, r),
                        None => problems.push(Problem::new(
                            at().field("entity"),
                            format!("sanction {} on `{target}`, not in this file; skipped", r.id),
                        )),
                    }
                }
            }
            "Passport" | "Identification" => {
                for holder in r.values("holder") {
                    if let (Some(&i), Some(number)) = (index.get(holder), r.first("number")) {
                        let scheme = r.first("type").unwrap_or(r.schema.as_str());
                        entities[i].identifiers.push(Identifier {
                            scheme: scheme.to_string(),
                            value: number.to_string(),
                            country: r.first("country").map(ftm_country),
                            source: None,
                        });
                    }
                }
            }
            _ => {}
        }
    }
    for e in &mut entities {
        if e.status.listed && e.status.lists.is_empty() {
            e.status.lists.push(list_name.clone());
        }
    }

    let hash = sha256_hex([bytes.as_slice()]);
    Ok(Loaded {
        watchlist: single_list(&list_name, Format::Ftm, &origin, None, hash, entities),
        problems,
    })
}

fn parse_lines(text: &str, origin: &str) -> Result<Vec<(u64, Record)>> {
    let mut records = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line_no = i as u64 + 1;
        if line.trim().is_empty() {
            continue;
        }
        let record: Record = serde_json::from_str(line).map_err(|e| {
            Error::data(
                Location::new(origin).line(line_no),
                format!("not a FollowTheMoney entity (column {}): {e}", e.column()),
            )
        })?;
        records.push((line_no, record));
    }
    Ok(records)
}

/// Every (a, b) pair of values of two properties (normally one each).
fn pairs<'r>(r: &'r Record, a: &str, b: &str) -> Vec<(&'r str, &'r str)> {
    r.values(a)
        .flat_map(|x| r.values(b).map(move |y| (x, y)))
        .collect()
}

/// `list name` of a file: its stem without `.ftm` (`zala.ftm.json` → `zala`).
fn list_name(path: &Path) -> String {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let stem = stem.strip_suffix(".ftm").unwrap_or(&stem).to_string();
    if stem.is_empty() {
        "opensanctions".to_string()
    } else {
        stem
    }
}

/// FtM countries are lowercase ISO codes (`ru`); anything longer is a name.
fn ftm_country(value: &str) -> String {
    if value.len() == 2 && value.chars().all(|c| c.is_ascii_alphabetic()) {
        value.to_ascii_uppercase()
    } else {
        country_of(value)
    }
}

fn address_entity(r: &Record) -> Address {
    let full = r.first("full").map(str::to_string);
    let street = r.first("street").unwrap_or("").to_string();
    Address {
        text: full.unwrap_or(street),
        city: r.first("city").map(str::to_string),
        postal_code: r.first("postalCode").map(str::to_string),
        region: r.first("region").map(str::to_string),
        country: r.first("country").map(ftm_country),
        source: None,
    }
}

fn thing(r: &Record, kind: EntityKind, addresses: &HashMap<&str, Address>) -> Entity {
    let mut e = Entity {
        id: r.id.clone(),
        kind,
        ..Entity::default()
    };
    let mut names = r.values("name");
    match names.next() {
        Some(primary) => {
            push_name(&mut e, primary, NameType::Primary);
        }
        None => {
            let parts: Vec<&str> = ["firstName", "middleName", "lastName"]
                .iter()
                .filter_map(|p| r.first(p))
                .collect();
            push_name(&mut e, &parts.join(" "), NameType::Primary);
        }
    }
    for (prop, name_type) in [
        ("name", NameType::Alias),
        ("alias", NameType::Alias),
        ("abbreviation", NameType::Alias),
        ("previousName", NameType::Former),
        ("weakAlias", NameType::Weak),
    ] {
        let skip = usize::from(prop == "name");
        for name in r.values(prop).skip(skip) {
            push_name(&mut e, name, name_type);
        }
    }
    for prop in ["country", "jurisdiction", "nationality", "citizenship"] {
        for c in r.values(prop) {
            push_country(&mut e, &ftm_country(c));
        }
    }
    for id in r.values("addressEntity") {
        if let Some(a) = addresses.get(id) {
            e.addresses.push(a.clone());
        }
    }
    for text in r.values("address") {
        if !e.addresses.iter().any(|a| a.text == text) {
            e.addresses.push(Address {
                text: text.to_string(),
                ..Address::default()
            });
        }
    }
    for (prop, scheme) in ID_PROPERTIES.iter() {
        for value in r.values(prop) {
            e.identifiers.push(Identifier {
                scheme: scheme.to_string(),
                value: value.to_string(),
                country: None,
                source: None,
            });
        }
    }
    for prop in ["website", "email"] {
        e.remarks
            .extend(r.values(prop).map(|v| format!("{prop} {v}")));
    }
    let topics: Vec<&str> = r.values("topics").collect();
    e.status = Status {
        listed: topics.contains(&"sanction"),
        note: (!topics.is_empty()).then(|| format!("topics: {}", topics.join(", "))),
        ..Status::default()
    };
    e
}

fn apply_sanction(status: &mut Status, sanction: &Record) {
    status.listed = true;
    for (values, target) in [
        (sanction.values("authority"), &mut status.lists),
        (sanction.values("program"), &mut status.programs),
    ] {
        for v in values {
            if !target.iter().any(|t| t == v) {
                target.push(v.to_string());
            }
        }
    }
    let start = sanction
        .first("startDate")
        .or_else(|| sanction.first("listingDate"));
    if let Some(start) = start {
        if status.since.as_deref().is_none_or(|s| start < s) {
            status.since = Some(start.to_string());
        }
    }
}

/// Reads an ownership share as a percentage (0..=100): `51`, `51%`, `51,5 %`, `0.51`.
///
/// The rule: a value written with a `%` sign, or of 1 and more, is a percentage; a value below 1
/// written with a decimal point (`0.51`, `.5`) is a fraction and is multiplied by 100 (no
/// registry writes "half a percent" as `0.5` in FtM, while fractions do occur in exports); a
/// bare `0` is 0%. Anything else, or a result outside 0..=100, is not readable (None).
pub fn parse_percentage(value: &str) -> Option<f64> {
    let v = value.trim();
    let (number, has_sign) = match v.strip_suffix('%') {
        Some(n) => (n.trim(), true),
        None => (v, false),
    };
    let number = number.replace(',', ".");
    if number.is_empty() || !number.chars().all(|c| c.is_ascii_digit() || c == '.') {
        return None;
    }
    let mut p: f64 = number.parse().ok()?;
    if !has_sign && p < 1.0 && number.contains('.') {
        p *= 100.0;
    }
    (0.0..=100.0).contains(&p).then_some(p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn fixture() -> Loaded {
        read(&crate::watchlist::fixture_path("sample.ftm.json")).unwrap()
    }

    #[test]
    fn things_relations_and_sanctions() {
        let loaded = fixture();
        let wl = &loaded.watchlist;
        assert_eq!(wl.lists[0].name, "sample");
        assert_eq!(wl.entities.len(), 4);
        let company = &wl.entities[wl.find("co-1").unwrap()];
        assert_eq!(company.primary_name(), "OOO SAMPLE TRADE");
        assert!(company
            .names
            .iter()
            .any(|n| n.text == "SAMPLE TRADE LLC" && n.name_type == NameType::Alias));
        assert!(company
            .names
            .iter()
            .any(|n| n.name_type == NameType::Former));
        assert!(company
            .identifiers
            .iter()
            .any(|i| i.scheme == "INN" && i.value == "7701234567"));
        assert_eq!(company.addresses[0].city.as_deref(), Some("Moscow"));
        assert!(company.status.listed);
        assert_eq!(company.status.programs, vec!["RUSSIA-EO14024"]);
        let owned = company
            .relations
            .iter()
            .find(|r| r.kind == RelationKind::OwnedBy)
            .unwrap();
        assert_eq!(
            (owned.target.as_str(), owned.percentage),
            ("p-1", Some(51.0))
        );
        assert!(company
            .relations
            .iter()
            .any(|r| r.kind == RelationKind::DirectedBy));

        let person = &wl.entities[wl.find("p-1").unwrap()];
        assert_eq!(person.primary_name(), "Ivan SAMPLOV");
        assert!(person.status.listed, "topics say sanction");
        let subsidiary = &wl.entities[wl.find("co-2").unwrap()];
        assert!(!subsidiary.status.listed, "a watch entry");
        assert_eq!(subsidiary.relations[0].percentage, Some(75.0));
        // One ownership points outside the file.
        assert_eq!(loaded.problems.len(), 1, "{:?}", loaded.problems);
    }

    #[test]
    fn percentages() {
        assert_eq!(parse_percentage("51"), Some(51.0));
        assert_eq!(parse_percentage("51%"), Some(51.0));
        assert_eq!(parse_percentage("51,5 %"), Some(51.5));
        assert_eq!(parse_percentage("0.51"), Some(51.0));
        assert_eq!(parse_percentage("1"), Some(1.0));
        assert_eq!(parse_percentage("0"), Some(0.0));
        assert_eq!(parse_percentage("150"), None);
        assert_eq!(parse_percentage("half"), None);
        assert_eq!(parse_percentage("-5"), None);
    }

    proptest! {
        #[test]
        fn percentage_never_panics(s in "\\PC{0,12}") {
            if let Some(p) = parse_percentage(&s) {
                prop_assert!((0.0..=100.0).contains(&p));
            }
        }

        #[test]
        fn whole_percentages_round_trip(n in 1u32..=100) {
            prop_assert_eq!(parse_percentage(&n.to_string()), Some(n as f64));
            prop_assert_eq!(parse_percentage(&format!("{n}%")), Some(n as f64));
        }
    }
}
