//! Counts and checks of a loaded watchlist, for `watchlist stats` and `watchlist validate`.
//!
//! What it is for: telling an analyst what a list file holds and which non-fatal problems it has
//! (entries without names, links to unknown entries, unreadable percentages, duplicate ids).
//! What it is not for: loading (the loaders do that and stop on fatal errors).

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use serde::Serialize;

use super::{detect, Format};
use crate::error::{Error, Location, Result};
use crate::model::{NameType, Watchlist};

/// A loaded list plus the non-fatal problems its loader met.
#[derive(Debug, Default)]
pub struct Loaded {
    pub watchlist: Watchlist,
    pub problems: Vec<Problem>,
}

/// A problem in a list file, where it sits and what it is.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Problem {
    pub file: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    pub message: String,
    /// True when the list could not be loaded at all.
    pub fatal: bool,
}

impl Problem {
    pub fn new(location: Location, message: impl Into<String>) -> Self {
        Problem {
            file: location.file,
            line: location.line,
            field: location.field,
            message: message.into(),
            fatal: false,
        }
    }

    fn fatal(error: &Error, path: &Path) -> Self {
        let (location, message) = match error {
            Error::Data { location, message } | Error::Config { location, message } => {
                (location.clone(), message.clone())
            }
            other => (Location::new(path.display().to_string()), other.to_string()),
        };
        Problem {
            fatal: true,
            ..Problem::new(location, message)
        }
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut location = Location::new(self.file.as_str());
        location.line = self.line;
        location.field = self.field.clone();
        write!(f, "{location}: {}", self.message)
    }
}

/// What a watchlist holds.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Stats {
    pub entities: usize,
    /// Entities per list name, then per kind.
    pub by_list: BTreeMap<String, BTreeMap<String, usize>>,
    pub listed: usize,
    pub names: usize,
    /// Names that are not primary (aliases, former and weak names).
    pub aliases: usize,
    pub addresses: usize,
    pub identifiers: usize,
    pub relations: usize,
}

pub fn stats(wl: &Watchlist) -> Stats {
    let mut s = Stats {
        entities: wl.entities.len(),
        ..Stats::default()
    };
    for e in &wl.entities {
        let list = wl.lists.get(e.list).map_or("", |l| l.name.as_str());
        *s.by_list
            .entry(list.to_string())
            .or_default()
            .entry(e.kind.as_str().to_string())
            .or_default() += 1;
        s.listed += usize::from(e.status.listed);
        s.names += e.names.len();
        s.aliases += e
            .names
            .iter()
            .filter(|n| n.name_type != NameType::Primary)
            .count();
        s.addresses += e.addresses.len();
        s.identifiers += e.identifiers.len();
        s.relations += e.relations.len();
    }
    s
}

/// Loads a list and lists its problems; a load error becomes the single, fatal problem.
pub fn validate(path: &Path, forced: Option<Format>) -> Result<Vec<Problem>> {
    let format = match forced {
        Some(f) => f,
        None => match detect(path) {
            Ok(f) => f,
            Err(e) => return Ok(vec![Problem::fatal(&e, path)]),
        },
    };
    let loaded = match super::read(path, format) {
        Ok(l) => l,
        Err(e) => return Ok(vec![Problem::fatal(&e, path)]),
    };
    let mut problems = loaded.problems;
    problems.extend(check(&loaded.watchlist));
    Ok(problems)
}

/// Problems any loaded list can have, whatever its format.
pub fn check(wl: &Watchlist) -> Vec<Problem> {
    let mut problems = Vec::new();
    let mut seen = HashSet::new();
    let ids: HashSet<(usize, &str)> = wl
        .entities
        .iter()
        .map(|e| (e.list, e.id.as_str()))
        .collect();
    for e in &wl.entities {
        let at = |field: &str| {
            let file = wl.lists.get(e.list).map_or("", |l| l.path.as_str());
            Location::new(file).field(format!("{field} of entity {}", e.id))
        };
        if !seen.insert((e.list, e.id.as_str())) {
            problems.push(Problem::new(
                at("id"),
                format!("duplicate entity id `{}`", e.id),
            ));
        }
        if e.names.iter().all(|n| n.text.trim().is_empty()) {
            problems.push(Problem::new(at("names"), "entity without a name"));
        }
        for r in &e.relations {
            if !ids.contains(&(e.list, r.target.as_str())) {
                problems.push(Problem::new(
                    at("relations"),
                    format!("relation to unknown entity `{}`", r.target),
                ));
            }
            if r.percentage.is_some_and(|p| !(0.0..=100.0).contains(&p)) {
                problems.push(Problem::new(at("relations"), "percentage outside 0..100"));
            }
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Entity, Name, Relation, RelationKind};

    #[test]
    fn counts_and_checks() {
        let mut wl = crate::watchlist::seed();
        let s = stats(&wl);
        assert_eq!(s.entities, wl.entities.len());
        assert!(s.names >= s.entities);
        assert!(check(&wl).is_empty());
        wl.entities.push(Entity {
            id: "x".into(),
            relations: vec![Relation {
                kind: RelationKind::OwnedBy,
                target: "nobody".into(),
                percentage: Some(150.0),
                source: None,
            }],
            ..Entity::default()
        });
        wl.entities.push(Entity {
            id: "x".into(),
            names: vec![Name::new("X", NameType::Primary)],
            ..Entity::default()
        });
        let messages: Vec<String> = check(&wl).into_iter().map(|p| p.message).collect();
        assert_eq!(messages.len(), 4, "{messages:?}");
    }
}
