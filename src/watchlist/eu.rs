//! EU Financial Sanctions Files (FSF), XML schema 1.1: root `export` with a `generationDate`,
//! one `sanctionEntity` per listed person or enterprise, facts held in attributes.
//!
//! What it is for: names (`nameAlias`, weak when `strong="false"`), programmes and publication
//! dates (`regulation`), addresses, identification documents and citizenships. What it is not
//! for: birth dates, contact details and the regulation summaries.

use std::path::Path;

use super::xmlwalk::{attr, walk, Step};
use super::{country_of, push_country, push_name, read_utf8, sha256_hex, single_list, Format};
use crate::error::{Error, Location, Result};
use crate::model::{Address, Entity, EntityKind, Identifier, NameType, Status, Watchlist};

pub const LIST_NAME: &str = "eu-fsf";
const LIST_TITLE: &str = "EU FSF";

pub fn load(path: &Path) -> Result<Watchlist> {
    let (text, bytes) = read_utf8(path)?;
    let origin = path.display().to_string();
    let at = |line: u64| Location::new(origin.as_str()).line(line);
    let mut published = None;
    let mut seen_root = false;
    let mut entities: Vec<Entity> = Vec::new();
    let mut current: Option<(Entity, u64)> = None;
    walk(&origin, &text, |step, line| {
        match step {
            Step::Open {
                path: [root],
                attrs,
            } => {
                if root != "export" {
                    return Err(Error::data(
                        at(line),
                        format!("root element is <{root}>, not an EU FSF <export>"),
                    ));
                }
                seen_root = true;
                published =
                    attr(attrs, "generationDate").map(|d| d.get(..10).unwrap_or(d).to_string());
            }
            Step::Open {
                path: [_, entry],
                attrs,
            } if entry == "sanctionEntity" => {
                let id = [attr(attrs, "euReferenceNumber"), attr(attrs, "logicalId")]
                    .into_iter()
                    .flatten()
                    .find(|v| !v.trim().is_empty())
                    .ok_or_else(|| {
                        Error::data(at(line).field("logicalId"), "entry without an id")
                    })?;
                let entity = Entity {
                    id: id.trim().to_string(),
                    status: Status {
                        listed: true,
                        lists: vec![LIST_TITLE.to_string()],
                        ..Status::default()
                    },
                    ..Entity::default()
                };
                current = Some((entity, line));
            }
            Step::Open {
                path: [_, _, element],
                attrs,
            } => {
                if let Some((e, _)) = current.as_mut() {
                    entry_element(e, element, attrs);
                }
            }
            Step::Close {
                path: [_, _, element],
                text,
            } if element == "remark" => {
                if let Some((e, _)) = current.as_mut() {
                    if !text.is_empty() {
                        e.remarks.push(text.to_string());
                    }
                }
            }
            Step::Close {
                path: [_, entry], ..
            } if entry == "sanctionEntity" => {
                if let Some((e, start)) = current.take() {
                    if e.names.is_empty() {
                        return Err(Error::data(
                            at(start).field("nameAlias"),
                            "entry without a name",
                        ));
                    }
                    entities.push(e);
                }
            }
            _ => {}
        }
        Ok(())
    })?;
    if !seen_root {
        return Err(Error::data(
            at(1),
            "no <export> element: not an EU FSF list",
        ));
    }
    let hash = sha256_hex([bytes.as_slice()]);
    Ok(single_list(
        LIST_NAME,
        Format::Eu,
        &origin,
        published,
        hash,
        entities,
    ))
}

fn entry_element(e: &mut Entity, element: &str, attrs: &[(String, String)]) {
    let get = |name: &str| attr(attrs, name).map(str::trim).filter(|v| !v.is_empty());
    let country = || {
        get("countryIso2Code")
            .or(get("countryDescription"))
            .map(country_of)
    };
    match element {
        "subjectType" => {
            e.kind = match get("code") {
                Some("person") => EntityKind::Person,
                _ => EntityKind::Organization,
            };
        }
        "nameAlias" => {
            let whole = get("wholeName").map(str::to_string).unwrap_or_else(|| {
                ["firstName", "middleName", "lastName"]
                    .iter()
                    .filter_map(|a| get(a))
                    .collect::<Vec<_>>()
                    .join(" ")
            });
            let name_type = if e.names.is_empty() {
                NameType::Primary
            } else if get("strong") == Some("false") {
                NameType::Weak
            } else {
                NameType::Alias
            };
            if let Some(name) = push_name(e, &whole, name_type) {
                name.lang = get("nameLanguage").map(str::to_ascii_lowercase);
            }
        }
        "regulation" => {
            if let Some(programme) = get("programme") {
                if !e.status.programs.iter().any(|p| p == programme) {
                    e.status.programs.push(programme.to_string());
                }
            }
            if let Some(date) = get("publicationDate") {
                if e.status.since.as_deref().is_none_or(|s| date < s) {
                    e.status.since = Some(date.to_string());
                }
            }
        }
        "address" => {
            let address = Address {
                text: get("street").unwrap_or("").to_string(),
                city: get("city").map(str::to_string),
                postal_code: get("zipCode").map(str::to_string),
                region: get("region").map(str::to_string),
                country: country(),
                source: None,
            };
            if let Some(c) = &address.country {
                push_country(e, c);
            }
            if !address.is_empty() {
                e.addresses.push(address);
            }
        }
        "identification" => {
            if let Some(number) = get("number").or(get("latinNumber")) {
                let scheme = get("identificationTypeDescription")
                    .or(get("identificationTypeCode"))
                    .unwrap_or("Identification");
                e.identifiers.push(Identifier {
                    scheme: scheme.to_string(),
                    value: number.to_string(),
                    country: country(),
                    source: None,
                });
            }
        }
        "citizenship" => {
            if let Some(c) = country() {
                push_country(e, &c);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn persons_and_enterprises() {
        let path = crate::watchlist::fixture_path("eu.xml");
        let wl = load(&path).unwrap();
        assert_eq!(wl.lists[0].published.as_deref(), Some("2026-03-02"));
        assert_eq!(wl.entities.len(), 2);
        let firm = &wl.entities[wl.find("EU.9001.01").unwrap()];
        assert_eq!(firm.kind, EntityKind::Organization);
        assert_eq!(firm.primary_name(), "OOO SAMPLE TRADE");
        assert!(firm.names.iter().any(|n| n.lang.as_deref() == Some("ru")));
        assert!(firm.names.iter().any(|n| n.name_type == NameType::Weak));
        assert_eq!(firm.status.programs, vec!["RUS"]);
        assert_eq!(firm.status.since.as_deref(), Some("2022-03-15"));
        assert_eq!(firm.addresses[0].postal_code.as_deref(), Some("117292"));
        assert_eq!(firm.identifiers[0].value, "1027700000000");
        let person = &wl.entities[wl.find("EU.9002.02").unwrap()];
        assert_eq!(person.kind, EntityKind::Person);
        assert_eq!(person.primary_name(), "Ivan Petrovich SAMPLOV");
        assert_eq!(person.countries, vec!["RU"]);
    }
}
