//! What changed between two versions of a watchlist: entities added, removed and changed, and
//! for a changed entity which of its facts (names, addresses, countries, identifiers, relations,
//! status, remarks) were added or removed.
//!
//! Entities are matched by list name and entity id (by id alone when each side holds one list,
//! since a list's name may come from its file name, which changes between downloads). An entity
//! is changed when its [`Entity::fingerprint`] differs: the same test that makes a stored
//! decision stop applying. Not here: loading the lists, or printing (`watchlist diff` in the CLI).

use std::collections::HashMap;

use serde::Serialize;

use crate::model::{Entity, ListInfo, NameType, Watchlist};

/// An entity as the diff names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EntityRef {
    pub list: String,
    pub id: String,
    pub name: String,
}

/// One kind of fact of a changed entity, with the values only the old or only the new side has.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldChange {
    /// `names`, `kind`, `countries`, `addresses`, `identifiers`, `relations`, `listed`, `lists`,
    /// `programs`, `since`, `note`, `remarks`; `details` when only the order of values or their
    /// sources changed.
    pub field: &'static str,
    pub added: Vec<String>,
    pub removed: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChangedEntity {
    #[serde(flatten)]
    pub entity: EntityRef,
    pub old_fingerprint: String,
    pub new_fingerprint: String,
    pub changes: Vec<FieldChange>,
}

/// The differences between two watchlists, each part in the new list's order (removed entities
/// in the old list's order).
#[derive(Debug, Clone, Default, Serialize)]
pub struct WatchlistDiff {
    pub old_lists: Vec<ListInfo>,
    pub new_lists: Vec<ListInfo>,
    pub added: Vec<EntityRef>,
    pub removed: Vec<EntityRef>,
    pub changed: Vec<ChangedEntity>,
    pub unchanged: usize,
}

impl WatchlistDiff {
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty()
    }
}

/// Compares `old` with `new`.
pub fn diff(old: &Watchlist, new: &Watchlist) -> WatchlistDiff {
    let by_id_only = old.lists.len() == 1 && new.lists.len() == 1;
    let key = |wl: &Watchlist, e: &Entity| -> (String, String) {
        let list = if by_id_only {
            String::new()
        } else {
            wl.list_of(e).name.clone()
        };
        (list, e.id.clone())
    };
    let mut old_by_key: HashMap<(String, String), &Entity> =
        old.entities.iter().map(|e| (key(old, e), e)).collect();
    let mut out = WatchlistDiff {
        old_lists: old.lists.clone(),
        new_lists: new.lists.clone(),
        ..Default::default()
    };
    for e in &new.entities {
        match old_by_key.remove(&key(new, e)) {
            None => out.added.push(entity_ref(new, e)),
            Some(before) => {
                let (was, is) = (before.fingerprint(), e.fingerprint());
                if was == is {
                    out.unchanged += 1;
                } else {
                    out.changed.push(ChangedEntity {
                        entity: entity_ref(new, e),
                        old_fingerprint: was,
                        new_fingerprint: is,
                        changes: changes(before, e),
                    });
                }
            }
        }
    }
    // What is left of the old side was removed; report it in the old list's order.
    out.removed = old
        .entities
        .iter()
        .filter(|e| old_by_key.contains_key(&key(old, e)))
        .map(|e| entity_ref(old, e))
        .collect();
    out
}

fn entity_ref(wl: &Watchlist, e: &Entity) -> EntityRef {
    EntityRef {
        list: wl.list_of(e).name.clone(),
        id: e.id.clone(),
        name: e.primary_name().to_string(),
    }
}

/// Each fact of an entity as one line of text, per field, in the record's order.
fn facts(e: &Entity) -> Vec<(&'static str, Vec<String>)> {
    let name_type = |t: NameType| match t {
        NameType::Primary => "primary",
        NameType::Alias => "alias",
        NameType::Former => "former",
        NameType::Weak => "weak",
    };
    let optional = |v: &Option<String>| v.iter().cloned().collect::<Vec<_>>();
    vec![
        (
            "names",
            e.names
                .iter()
                .map(|n| format!("{} ({})", n.text, name_type(n.name_type)))
                .collect(),
        ),
        ("kind", vec![e.kind.as_str().to_string()]),
        ("countries", e.countries.clone()),
        ("addresses", e.addresses.iter().map(|a| a.full()).collect()),
        (
            "identifiers",
            e.identifiers
                .iter()
                .map(|i| match &i.country {
                    Some(c) => format!("{} {} ({c})", i.scheme, i.value),
                    None => format!("{} {}", i.scheme, i.value),
                })
                .collect(),
        ),
        (
            "relations",
            e.relations
                .iter()
                .map(|r| match r.percentage {
                    Some(p) => format!("{} {} {p}%", r.kind.as_str(), r.target),
                    None => format!("{} {}", r.kind.as_str(), r.target),
                })
                .collect(),
        ),
        ("listed", vec![e.status.listed.to_string()]),
        ("lists", e.status.lists.clone()),
        ("programs", e.status.programs.clone()),
        ("since", optional(&e.status.since)),
        ("note", optional(&e.status.note)),
        ("remarks", e.remarks.clone()),
    ]
}

/// The facts only one side has, field by field (a value repeated counts each time).
fn changes(old: &Entity, new: &Entity) -> Vec<FieldChange> {
    let mut out: Vec<FieldChange> = facts(old)
        .into_iter()
        .zip(facts(new))
        .filter_map(|((field, before), (_, after))| {
            let added = minus(&after, &before);
            let removed = minus(&before, &after);
            (!added.is_empty() || !removed.is_empty()).then_some(FieldChange {
                field,
                added,
                removed,
            })
        })
        .collect();
    if out.is_empty() {
        out.push(FieldChange {
            field: "details",
            added: Vec::new(),
            removed: Vec::new(),
        });
    }
    out
}

/// The values of `a` not matched by an equal value of `b`, in `a`'s order.
fn minus(a: &[String], b: &[String]) -> Vec<String> {
    let mut left: Vec<&String> = b.iter().collect();
    a.iter()
        .filter(|v| match left.iter().position(|w| w == v) {
            Some(i) => {
                left.swap_remove(i);
                false
            }
            None => true,
        })
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Name, Relation, RelationKind};

    #[test]
    fn added_removed_and_changed_entities_are_told_apart() {
        let old = crate::watchlist::seed();
        let mut new = old.clone();
        let removed = new.entities.remove(0);
        new.entities[0]
            .names
            .push(Name::new("Totally New Alias", NameType::Alias));
        new.entities[1].relations.push(Relation {
            kind: RelationKind::OwnedBy,
            target: "x".into(),
            percentage: Some(50.0),
            source: None,
        });
        let mut fresh = new.entities[2].clone();
        fresh.id = "fresh".into();
        new.entities.push(fresh);

        let d = diff(&old, &new);
        assert_eq!(d.removed.len(), 1);
        assert_eq!(d.removed[0].id, removed.id);
        assert_eq!(d.added.len(), 1);
        assert_eq!(d.added[0].id, "fresh");
        assert_eq!(d.changed.len(), 2);
        assert_eq!(d.unchanged, old.entities.len() - 3);
        assert_eq!(
            d.changed[0].changes,
            vec![FieldChange {
                field: "names",
                added: vec!["Totally New Alias (alias)".into()],
                removed: vec![],
            }]
        );
        assert_eq!(d.changed[1].changes[0].field, "relations");
        assert_eq!(d.changed[1].changes[0].added, vec!["owned_by x 50%"]);
        assert!(diff(&old, &old).is_empty());
    }

    #[test]
    fn reordered_values_are_a_change_of_details_only() {
        let old = crate::watchlist::seed();
        let mut new = old.clone();
        let i = new
            .entities
            .iter()
            .position(|e| e.names.len() >= 3)
            .expect("a seed entity with three names");
        new.entities[i].names.swap(1, 2);
        let d = diff(&old, &new);
        assert_eq!(d.changed.len(), 1);
        assert_eq!(d.changed[0].changes[0].field, "details");
    }

    #[test]
    fn repeated_values_count_each_time() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(minus(&s(&["a", "a", "b"]), &s(&["a"])), s(&["a", "b"]));
        assert!(minus(&s(&["a"]), &s(&["a", "a"])).is_empty());
    }
}
