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
