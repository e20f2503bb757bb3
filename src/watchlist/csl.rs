//! US Consolidated Screening List (CSL) CSV: every US export-screening list in one file
//! (SDN, Entity List, Denied Persons, Unverified, ITAR debarred, ...), one row per entry.
//!
//! What it is for: rows into entities that carry their source list, programs, aliases, addresses,
//! identifiers and citizenships. Columns are found by header name, so files with or without the
//! leading `_id` column both read. What it is not for: licence requirements, Federal Register
//! notices and dates of birth, which redflag does not screen on.

use std::collections::HashMap;
use std::path::Path;

use super::csvfile::{split_list, Columns, CsvFile};
use super::{country_of, push_country, push_name, sha256_hex, single_list, Format};
use crate::error::{Error, Result};
use crate::model::{Address, Entity, EntityKind, Identifier, NameType, Status, Watchlist};

pub const LIST_NAME: &str = "csl";

pub fn load(path: &Path) -> Result<Watchlist> {
    let file = CsvFile::read(path)?;
    let mut entities: Vec<Entity> = Vec::new();
    let mut by_id: HashMap<String, usize> = HashMap::new();
    file.rows(
        &["source", "name", "type", "alt_names"],
        |cols, rec, line| {
            let entity = row_entity(cols, rec);
            if entity.names.is_empty() {
                return Err(Error::data(
                    file.at(line).field("name"),
                    "row without a name",
                ));
            }
            // The same entry on two lists (SDN and SSI rows share an entity_number) is one entity.
            match by_id.get(&entity.id) {
                Some(&i) => merge_into(&mut entities[i], entity),
                None => {
                    by_id.insert(entity.id.clone(), entities.len());
                    entities.push(entity);
                }
            }
            Ok(())
        },
    )?;
    let hash = sha256_hex([file.bytes()]);
    Ok(single_list(
        LIST_NAME,
        Format::Csl,
        &file.origin,
        None,
        hash,
        entities,
    ))
}

fn row_entity(cols: &Columns, rec: &csv::StringRecord) -> Entity {
    let source = cols.get(rec, "source");
    let name = cols.get(rec, "name");
    let id = [cols.get(rec, "entity_number"), cols.get(rec, "_id")]
        .into_iter()
        .find(|v| !v.is_empty())
        .map_or_else(|| synthetic_id(source, name), str::to_string);
    // BIS and State lists leave `type` empty; like OFAC's untyped rows they are mostly firms.
    let kind = EntityKind::parse(cols.get(rec, "type"))
        .filter(|k| *k != EntityKind::Unknown)
        .unwrap_or(EntityKind::Organization);
    let mut entity = Entity {
        id,
        kind,
        status: Status {
            listed: true,
            lists: vec![source.to_string()],
            programs: cols.list(rec, "programs").map(str::to_string).collect(),
            since: Some(cols.get(rec, "start_date").to_string()).filter(|d| !d.is_empty()),
            ..Status::default()
        },
        ..Entity::default()
    };
    push_name(&mut entity, name, NameType::Primary);
    for alias in cols.list(rec, "alt_names") {
        push_name(&mut entity, alias, NameType::Alias);
    }
    for address in cols.list(rec, "addresses") {
        let address = csl_address(address);
        if let Some(country) = &address.country {
            push_country(&mut entity, country);
        }
        entity.addresses.push(address);
    }
    for country in cols
        .list(rec, "citizenships")
        .chain(cols.list(rec, "nationalities"))
    {
        push_country(&mut entity, &country_of(country));
    }
    for item in cols.list(rec, "ids") {
        match csl_identifier(item) {
            Some(id) => entity.identifiers.push(id),
            None => entity.remarks.push(item.to_string()),
        }
    }
    for field in ["title", "remarks"] {
        let v = cols.get(rec, field);
        if !v.is_empty() {
            entity.remarks.push(v.to_string());
        }
    }
    entity
}

/// Rows of BIS and State lists have no id: derive one from source and name, so that the id
/// stays the same across list versions (decisions recorded against it keep applying).
fn synthetic_id(source: &str, name: &str) -> String {
    let hash = sha256_hex([source.as_bytes(), b"\n", name.as_bytes()]);
    format!("csl-{}", &hash[..12])
}

fn merge_into(target: &mut Entity, other: Entity) {
    for name in other.names {
        push_name(target, &name.text, NameType::Alias);
    }
    for list in other.status.lists {
        if !target.status.lists.contains(&list) {
            target.status.lists.push(list);
        }
    }
    for program in other.status.programs {
        if !target.status.programs.contains(&program) {
            target.status.programs.push(program);
        }
    }
    for country in &other.countries {
        push_country(target, country);
    }
    target.addresses.extend(other.addresses);
    target.identifiers.extend(other.identifiers);
    target.remarks.extend(other.remarks);
}

/// `80 SW 8th Street Suite 2000, Miami, FL, 33130, US`: the CSV joins street, city, state,
/// postal code and country with commas; only the country (last part) is reliably placed.
fn csl_address(text: &str) -> Address {
    let (rest, last) = text.rsplit_once(',').unwrap_or(("", text));
    let country = crate::geo::country_code(last.trim())
        .map(str::to_string)
        .or_else(|| {
            let last = last.trim();
            (last.len() == 2 && last.chars().all(|c| c.is_ascii_uppercase()))
                .then(|| last.to_string())
        });
    match country {
        Some(country) => Address {
            text: rest.trim().to_string(),
            country: Some(country),
            ..Address::default()
        },
        None => Address {
            text: text.to_string(),
            ..Address::default()
        },
    }
}

/// `CO, 811038291-3, NIT #`, `5030056754, Tax ID No.`, `IMO 8898831, Vessel Registration
/// Identification`. Websites, emails and sanction notes (`..., Website`, `... -`) are not ids.
pub fn csl_identifier(item: &str) -> Option<Identifier> {
    let parts: Vec<&str> = split_list(item, ',').collect();
    let (country, value, scheme) = match parts.as_slice() {
        [country, value, scheme] if country.len() <= 3 => (Some(*country), *value, *scheme),
        [value, scheme] => (None, *value, *scheme),
        _ => return None,
    };
    if matches!(scheme, "Website" | "Email Address")
        || scheme.ends_with('-')
        || scheme.ends_with(':')
    {
        return None;
    }
    let (scheme, value) = match value.strip_prefix("IMO ") {
        Some(imo) => ("IMO", imo.trim()),
        None => (scheme, value),
    };
    Some(Identifier {
        scheme: scheme.to_string(),
        value: value.to_string(),
        country: country.map(country_of),
        source: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture() -> Watchlist {
        load(&crate::watchlist::fixture_path("csl.csv")).unwrap()
    }

    #[test]
    fn loads_rows_of_every_source() {
        let wl = fixture();
        assert_eq!(wl.entities.len(), 4);
        let sdn = &wl.entities[wl.find("20264").unwrap()];
        assert_eq!(sdn.primary_name(), "200G PSA HOLDINGS LLC");
        assert_eq!(
            sdn.status.lists,
            vec!["Specially Designated Nationals (SDN) - Treasury Department"]
        );
        assert_eq!(sdn.identifiers[0].scheme, "Tax ID No.");
        assert_eq!(sdn.identifiers[0].value, "80-0890696");
        assert_eq!(sdn.addresses[0].country.as_deref(), Some("US"));
        let el = wl
            .entities
            .iter()
            .find(|e| e.primary_name() == "32 Group China Ltd.")
            .unwrap();
        assert!(el.id.starts_with("csl-"));
        assert_eq!(el.addresses.len(), 2);
        assert!(el.status.listed);
        let person = wl
            .entities
            .iter()
            .find(|e| e.kind == EntityKind::Person)
            .unwrap();
        assert!(person
            .names
            .iter()
            .any(|n| n.text == "Abu SAMPLE" && n.name_type == NameType::Alias));
        assert!(person.countries.contains(&"DZ".to_string()));
        let with_id_column = wl.entities.iter().find(|e| e.id == "8124").unwrap();
        assert_eq!(with_id_column.names.len(), 3);
    }

    #[test]
    fn reads_the_id_column_by_name() {
        let path = crate::watchlist::fixture_path("csl_with_id.csv");
        let wl = load(&path).unwrap();
        let ids: Vec<&str> = wl.entities.iter().map(|e| e.id.as_str()).collect();
        assert_eq!(ids, vec!["a1b2c3d4e5", "35076"]);
        assert_eq!(wl.entities[1].primary_name(), "SAMPLE ENGINEERING OOO");
        assert_eq!(wl.entities[0].addresses[0].country.as_deref(), Some("BY"));
    }

    #[test]
    fn identifiers_and_notes() {
        let imo = csl_identifier("IMO 8898831, Vessel Registration Identification").unwrap();
        assert_eq!(
            (imo.scheme.as_str(), imo.value.as_str()),
            ("IMO", "8898831")
        );
        assert!(csl_identifier("www.aictc.ir, Website").is_none());
        assert!(csl_identifier(
            "Subject to Secondary Sanctions, Additional Sanctions Information -"
        )
        .is_none());
    }
}
