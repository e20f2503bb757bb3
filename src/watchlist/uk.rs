//! UK sanctions list CSV (OFSI consolidated list / FCDO UK Sanctions List): one row per name
//! variant, rows of one designation grouped by `Group ID` (or `Unique ID`), an optional
//! `Last Updated` line before the header.
//!
//! What it is for: one entity per group, with its primary name, aliases by type, addresses,
//! passport and national id numbers, nationality, regime and listing date. What it is not for:
//! dates and places of birth, positions and the free-text other information.

use std::collections::HashMap;
use std::path::Path;

use super::csvfile::{Columns, CsvFile};
use super::{country_of, push_country, push_name, sha256_hex, single_list, Format};
use crate::error::{Error, Result};
use crate::model::{Address, Entity, EntityKind, Identifier, NameType, Status, Watchlist};

pub const LIST_NAME: &str = "uk";
const LIST_TITLE: &str = "UK";

pub fn load(path: &Path) -> Result<Watchlist> {
    let mut file = CsvFile::read(path)?;
    let published = last_updated_line(file.bytes());
    if published.is_some() {
        file.skip_lines(1);
    }
    let mut entities: Vec<Entity> = Vec::new();
    let mut groups: HashMap<String, usize> = HashMap::new();
    file.rows(&["name 6", "group type"], |cols, rec, line| {
        let group = [cols.get(rec, "group id"), cols.get(rec, "unique id")]
            .into_iter()
            .find(|v| !v.is_empty())
            .ok_or_else(|| {
                Error::data(file.at(line).field("Group ID"), "row without a group id")
            })?;
        let i = *groups.entry(group.to_string()).or_insert_with(|| {
            entities.push(new_entity(group, cols, rec));
            entities.len() - 1
        });
        let name = full_name(cols, rec);
        if name.is_empty() {
            return Err(Error::data(
                file.at(line).field("Name 6"),
                "row without a name",
            ));
        }
        add_row(&mut entities[i], cols, rec, &name);
        Ok(())
    })?;
    for e in &mut entities {
        // A group whose primary-name row comes after its aliases: its first name is primary.
        if !e.names.iter().any(|n| n.name_type == NameType::Primary) {
            if let Some(n) = e.names.first_mut() {
                n.name_type = NameType::Primary;
            }
        }
    }
    let hash = sha256_hex([file.bytes()]);
    Ok(single_list(
        LIST_NAME,
        Format::Uk,
        &file.origin,
        published,
        hash,
        entities,
    ))
}

/// `Last Updated,01/03/2026` as an ISO date, when the file starts with that line.
fn last_updated_line(bytes: &[u8]) -> Option<String> {
    let first = bytes.split(|&b| b == b'\n').next()?;
    let first = String::from_utf8_lossy(first);
    let rest = first.trim().strip_prefix("Last Updated")?;
    let date = rest.trim_matches(|c: char| c == ',' || c == '"' || c.is_whitespace());
    Some(iso_date(date))
}

/// `dd/mm/yyyy` to `yyyy-mm-dd`; anything else as written.
fn iso_date(date: &str) -> String {
    match date.split('/').collect::<Vec<_>>().as_slice() {
        [d, m, y] if y.len() == 4 && d.len() <= 2 && m.len() <= 2 => format!("{y}-{m:0>2}-{d:0>2}"),
        _ => date.to_string(),
    }
}

fn full_name(cols: &Columns, rec: &csv::StringRecord) -> String {
    ["name 1", "name 2", "name 3", "name 4", "name 5", "name 6"]
        .iter()
        .map(|c| cols.get(rec, c))
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

fn new_entity(group: &str, cols: &Columns, rec: &csv::StringRecord) -> Entity {
    let kind = match cols.get(rec, "group type").to_ascii_lowercase().as_str() {
        "individual" => EntityKind::Person,
        "ship" => EntityKind::Vessel,
        _ => EntityKind::Organization,
    };
    let listed_on = cols.get(rec, "listed on");
    Entity {
        id: group.to_string(),
        kind,
        status: Status {
            listed: true,
            lists: vec![LIST_TITLE.to_string()],
            since: (!listed_on.is_empty()).then(|| iso_date(listed_on)),
            ..Status::default()
        },
        ..Entity::default()
    }
}

fn add_row(e: &mut Entity, cols: &Columns, rec: &csv::StringRecord, name: &str) {
    let alias_type = cols.get(rec, "alias type").to_ascii_lowercase();
    let name_type = if alias_type == "primary name" {
        NameType::Primary
    } else if alias_type.contains("fka") || alias_type.contains("former") {
        NameType::Former
    } else if cols.get(rec, "alias quality").eq_ignore_ascii_case("low") {
        NameType::Weak
    } else {
        NameType::Alias
    };
    push_name(e, name, name_type);
    if let Some(n) = push_name(e, cols.get(rec, "name non-latin script"), NameType::Alias) {
        let lang = cols.get(rec, "non-latin script language");
        n.lang = (!lang.is_empty()).then(|| lang.to_string());
    }
    let regime = cols.get(rec, "regime");
    if !regime.is_empty() && !e.status.programs.iter().any(|p| p == regime) {
        e.status.programs.push(regime.to_string());
    }
    let street: Vec<&str> = (1..=6)
        .map(|i| cols.get(rec, &format!("address {i}")))
        .filter(|p| !p.is_empty())
        .collect();
    let country = cols.get(rec, "country");
    let address = Address {
        text: street.join(", "),
        postal_code: Some(cols.get(rec, "post/zip code").to_string()).filter(|p| !p.is_empty()),
        country: (!country.is_empty()).then(|| country_of(country)),
        ..Address::default()
    };
    if let Some(c) = &address.country {
        push_country(e, c);
    }
    if !address.is_empty() && !e.addresses.contains(&address) {
        e.addresses.push(address);
    }
    let nationality = cols.get(rec, "nationality");
    if !nationality.is_empty() {
        push_country(e, &country_of(nationality));
    }
    for (column, scheme) in [
        ("passport number", "Passport"),
        ("national identification number", "National ID"),
    ] {
        let value = cols.get(rec, column);
        if !value.is_empty() && !e.identifiers.iter().any(|i| i.value == value) {
            e.identifiers.push(Identifier {
                scheme: scheme.to_string(),
                value: value.to_string(),
                country: None,
                source: None,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_rows_into_entities() {
        let path = crate::watchlist::fixture_path("uk.csv");
        let wl = load(&path).unwrap();
        assert_eq!(wl.lists[0].published.as_deref(), Some("2026-03-01"));
        assert_eq!(wl.entities.len(), 3);
        let person = &wl.entities[wl.find("90001").unwrap()];
        assert_eq!(person.kind, EntityKind::Person);
        assert_eq!(person.primary_name(), "Ivan Petrovich SAMPLOV");
        assert_eq!(person.names.len(), 4);
        assert!(person
            .names
            .iter()
            .any(|n| n.text == "Vanya SAMPLOV" && n.name_type == NameType::Weak));
        assert_eq!(person.status.since.as_deref(), Some("2022-03-15"));
        assert_eq!(person.identifiers[0].value, "720000001");
        let firm = &wl.entities[wl.find("90002").unwrap()];
        assert_eq!(firm.primary_name(), "SAMPLE TRADE LLC");
        assert_eq!(firm.addresses.len(), 1);
        assert_eq!(firm.addresses[0].postal_code.as_deref(), Some("117292"));
        let ship = &wl.entities[wl.find("90003").unwrap()];
        assert_eq!(ship.kind, EntityKind::Vessel);
    }
}
