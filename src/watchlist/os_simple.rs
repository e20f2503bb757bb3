//! OpenSanctions `targets.simple.csv`: one row per target entity, multi-values joined by `;`.
//!
//! What it is for: names, aliases, countries, addresses, identifiers and sanction status of
//! each target, when the richer FollowTheMoney export is not at hand. What it is not for:
//! relations (the simple export has none), birth dates, phones and first/last-seen dates.

use std::path::Path;

use super::csvfile::CsvFile;
use super::ftm::thing_kind;
use super::{country_of, push_country, push_name, sha256_hex, single_list, Format};
use crate::error::{Error, Result};
use crate::model::{Address, Entity, EntityKind, Identifier, NameType, Status, Watchlist};

pub const LIST_NAME: &str = "opensanctions";

pub fn load(path: &Path) -> Result<Watchlist> {
    let file = CsvFile::read(path)?;
    let mut entities: Vec<Entity> = Vec::new();
    let mut ids = std::collections::HashSet::new();
    file.rows(
        &["id", "schema", "name", "aliases", "sanctions"],
        |cols, rec, line| {
            let id = cols.get(rec, "id");
            if id.is_empty() || !ids.insert(id.to_string()) {
                return Err(Error::data(
                    file.at(line).field("id"),
                    format!("missing or duplicate id `{id}`"),
                ));
            }
            let sanctions: Vec<String> = cols.list(rec, "sanctions").map(str::to_string).collect();
            let mut e = Entity {
                id: id.to_string(),
                kind: thing_kind(cols.get(rec, "schema")).unwrap_or(EntityKind::Unknown),
                status: Status {
                    listed: !sanctions.is_empty(),
                    lists: cols.list(rec, "dataset").map(str::to_string).collect(),
                    programs: sanctions,
                    ..Status::default()
                },
                ..Entity::default()
            };
            if push_name(&mut e, cols.get(rec, "name"), NameType::Primary).is_none() {
                return Err(Error::data(
                    file.at(line).field("name"),
                    "row without a name",
                ));
            }
            for alias in cols.list(rec, "aliases") {
                push_name(&mut e, alias, NameType::Alias);
            }
            for country in cols.list(rec, "countries") {
                let code = if country.len() == 2 {
                    country.to_ascii_uppercase()
                } else {
                    country_of(country)
                };
                push_country(&mut e, &code);
            }
            for address in cols.list(rec, "addresses") {
                e.addresses.push(Address {
                    text: address.to_string(),
                    ..Address::default()
                });
            }
            for value in cols.list(rec, "identifiers") {
                e.identifiers.push(Identifier {
                    scheme: "ID".to_string(),
                    value: value.to_string(),
                    country: None,
                    source: None,
                });
            }
            e.remarks
                .extend(cols.list(rec, "emails").map(|m| format!("email {m}")));
            entities.push(e);
            Ok(())
        },
    )?;
    let hash = sha256_hex([file.bytes()]);
    Ok(single_list(
        LIST_NAME,
        Format::OsSimple,
        &file.origin,
        None,
        hash,
        entities,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loads_targets() {
        let path = crate::watchlist::fixture_path("targets.simple.csv");
        let wl = load(&path).unwrap();
        assert_eq!(wl.entities.len(), 3);
        let e = &wl.entities[wl.find("NK-sample1").unwrap()];
        assert_eq!(e.kind, EntityKind::Organization);
        assert_eq!(e.names.len(), 3);
        assert!(e.status.listed);
        assert_eq!(e.countries, vec!["RU"]);
        assert_eq!(e.identifiers.len(), 2);
        let watch = &wl.entities[wl.find("NK-sample3").unwrap()];
        assert!(!watch.status.listed);
        assert_eq!(watch.kind, EntityKind::Person);
    }
}
