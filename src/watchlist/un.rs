//! UN Security Council consolidated sanctions list (XML, `CONSOLIDATED_LIST` root).
//!
//! What it is for: individuals and entities with their names (name parts joined as the UN writes
//! them), aliases by quality, original-script names, addresses, documents, nationalities,
//! regime (`UN_LIST_TYPE`) and listing date. Read as a stream: the file is never held as a tree.
//! What it is not for: dates and places of birth, designations and narrative comments beyond
//! keeping the comment text in remarks.

use std::path::Path;

use super::xmlwalk::{attr, walk, Step};
use super::{country_of, push_country, push_name, read_utf8, sha256_hex, single_list, Format};
use crate::error::{Error, Location, Result};
use crate::model::{Address, Entity, EntityKind, Identifier, NameType, Status, Watchlist};

pub const LIST_NAME: &str = "un";
const LIST_TITLE: &str = "UN";

/// The entry being read, with the sub-record (alias, address, document) in progress.
#[derive(Default)]
struct Entry {
    entity: Entity,
    line: u64,
    name_parts: Vec<String>,
    record: Vec<(String, String)>,
}

impl Entry {
    fn field(&self, name: &str) -> &str {
        self.record
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    }
}

pub fn load(path: &Path) -> Result<Watchlist> {
    let (text, bytes) = read_utf8(path)?;
    let origin = path.display().to_string();
    let mut published = None;
    let mut seen_root = false;
    let mut entities: Vec<Entity> = Vec::new();
    let mut entry: Option<Entry> = None;
    walk(&origin, &text, |step, line| {
        match step {
            Step::Open { path, attrs } => match path {
                [root] => {
                    if root != "CONSOLIDATED_LIST" {
                        return Err(Error::data(
                            Location::new(origin.as_str()).line(line),
                            format!("root element is <{root}>, not a UN <CONSOLIDATED_LIST>"),
                        ));
                    }
                    seen_root = true;
                    published =
                        attr(attrs, "dateGenerated").map(|d| d.get(..10).unwrap_or(d).to_string());
                }
                [_, _, kind] if kind == "INDIVIDUAL" || kind == "ENTITY" => {
                    let kind = if kind == "INDIVIDUAL" {
                        EntityKind::Person
                    } else {
                        EntityKind::Organization
                    };
                    entry = Some(Entry {
                        entity: Entity {
                            kind,
                            status: Status {
                                listed: true,
                                lists: vec![LIST_TITLE.to_string()],
                                ..Status::default()
                            },
                            ..Entity::default()
                        },
                        line,
                        ..Entry::default()
                    });
                }
                [_, _, _, _] => {
                    if let Some(e) = entry.as_mut() {
                        e.record.clear();
                    }
                }
                _ => {}
            },
            Step::Close { path, text } => {
                let Some(e) = entry.as_mut() else {
                    return Ok(());
                };
                match path {
                    [_, _, _] => {
                        let done = entry.take().unwrap_or_default();
                        entities.push(finish(done, &origin)?);
                    }
                    [_, _, _, field] => top_level_field(e, field, text),
                    [_, _, _, record, field] => {
                        if record == "NATIONALITY" && field == "VALUE" {
                            push_country(&mut e.entity, &country_of(text));
                        } else if !text.is_empty() {
                            e.record.push((field.clone(), text.to_string()));
                        }
                    }
                    _ => {}
                }
            }
        }
        Ok(())
    })?;
    if !seen_root {
        return Err(Error::data(
            Location::new(origin.as_str()).line(1),
            "no <CONSOLIDATED_LIST> element: not a UN list",
        ));
    }
    let hash = sha256_hex([bytes.as_slice()]);
    Ok(single_list(
        LIST_NAME,
        Format::Un,
        &origin,
        published,
        hash,
        entities,
    ))
}

fn top_level_field(e: &mut Entry, field: &str, text: &str) {
    match field {
        "FIRST_NAME" | "SECOND_NAME" | "THIRD_NAME" | "FOURTH_NAME" if !text.is_empty() => {
            e.name_parts.push(text.to_string());
        }
        "REFERENCE_NUMBER" => e.entity.id = text.to_string(),
        "UN_LIST_TYPE" if !text.is_empty() => e.entity.status.programs.push(text.to_string()),
        "LISTED_ON" if !text.is_empty() => e.entity.status.since = Some(text.to_string()),
        "COMMENTS1" if !text.is_empty() => e.entity.remarks.push(text.to_string()),
        "NAME_ORIGINAL_SCRIPT" => {
            if let Some(name) = push_name(&mut e.entity, text, NameType::Alias) {
                name.lang = script_tag(text).map(str::to_string);
            }
        }
        "INDIVIDUAL_ALIAS" | "ENTITY_ALIAS" => {
            let name_type = match e.field("QUALITY").to_ascii_lowercase().as_str() {
                "low" => NameType::Weak,
                "f.k.a." => NameType::Former,
                _ => NameType::Alias,
            };
            let alias = e.field("ALIAS_NAME").to_string();
            push_name(&mut e.entity, &alias, name_type);
        }
        "INDIVIDUAL_ADDRESS" | "ENTITY_ADDRESS" => {
            let country = Some(e.field("COUNTRY"))
                .filter(|c| !c.is_empty())
                .map(country_of);
            let address = Address {
                text: e.field("STREET").to_string(),
                city: Some(e.field("CITY").to_string()).filter(|c| !c.is_empty()),
                postal_code: Some(e.field("ZIP_CODE").to_string()).filter(|c| !c.is_empty()),
                region: Some(e.field("STATE_PROVINCE").to_string()).filter(|c| !c.is_empty()),
                country,
                source: None,
            };
            if let Some(country) = &address.country {
                push_country(&mut e.entity, country);
            }
            if !address.is_empty() {
                e.entity.addresses.push(address);
            }
        }
        "INDIVIDUAL_DOCUMENT" => {
            let value = e.field("NUMBER");
            if !value.is_empty() {
                let country = [e.field("ISSUING_COUNTRY"), e.field("COUNTRY_OF_ISSUE")]
                    .into_iter()
                    .find(|c| !c.is_empty())
                    .map(country_of);
                let scheme = Some(e.field("TYPE_OF_DOCUMENT"))
                    .filter(|s| !s.is_empty())
                    .unwrap_or("Document");
                let id = Identifier {
                    scheme: scheme.to_string(),
                    value: value.to_string(),
                    country,
                    source: None,
                };
                e.entity.identifiers.push(id);
            }
        }
        _ => {}
    }
}

fn finish(mut e: Entry, origin: &str) -> Result<Entity> {
    let at = |field: &str| Location::new(origin).line(e.line).field(field);
    if e.entity.id.is_empty() {
        return Err(Error::data(
            at("REFERENCE_NUMBER"),
            "entry without a reference number",
        ));
    }
    if e.name_parts.is_empty() {
        return Err(Error::data(at("FIRST_NAME"), "entry without a name"));
    }
    let primary = crate::model::Name::new(e.name_parts.join(" "), NameType::Primary);
    e.entity.names.retain(|n| n.text != primary.text);
    e.entity.names.insert(0, primary);
    Ok(e.entity)
}

/// ISO 15924 script of a name written outside the Latin alphabet, from its first letter.
fn script_tag(text: &str) -> Option<&'static str> {
    let c = text.chars().find(|c| c.is_alphabetic())?;
    Some(match c as u32 {
        0x0600..=0x06FF | 0x0750..=0x077F | 0xFB50..=0xFEFF => "Arab",
        0x0400..=0x052F => "Cyrl",
        0x4E00..=0x9FFF | 0x3400..=0x4DBF => "Hani",
        0xAC00..=0xD7AF | 0x1100..=0x11FF => "Hang",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture() -> Watchlist {
        load(&crate::watchlist::fixture_path("un.xml")).unwrap()
    }

    #[test]
    fn individuals_and_entities() {
        let wl = fixture();
        assert_eq!(wl.lists[0].published.as_deref(), Some("2026-02-27"));
        assert_eq!(wl.entities.len(), 3);
        let person = &wl.entities[wl.find("QDi.900").unwrap()];
        assert_eq!(person.kind, EntityKind::Person);
        assert_eq!(person.primary_name(), "SAMPLE AHMED ALI AL-TEST");
        assert!(person
            .names
            .iter()
            .any(|n| n.text == "Abu Sample" && n.name_type == NameType::Weak));
        assert!(person
            .names
            .iter()
            .any(|n| n.text == "Ahmed Sample" && n.name_type == NameType::Alias));
        assert!(person
            .names
            .iter()
            .any(|n| n.lang.as_deref() == Some("Arab")));
        assert_eq!(person.identifiers[0].value, "A1234567");
        assert_eq!(person.status.programs, vec!["Al-Qaida"]);
        assert_eq!(person.status.since.as_deref(), Some("2001-10-06"));
        assert_eq!(person.addresses[0].city.as_deref(), Some("Kabul"));
        let entity = &wl.entities[wl.find("QDe.900").unwrap()];
        assert_eq!(entity.kind, EntityKind::Organization);
        assert_eq!(entity.primary_name(), "SAMPLE CHARITABLE FOUNDATION & CO");
        assert!(entity.names.iter().any(|n| n.name_type == NameType::Former));
    }
}
