//! Ownership and control: what an entity's relations to listed parties make of it.
//!
//! The watchlists' relations (native relations, FollowTheMoney Ownership/Directorship, OFAC
//! "Linked To") form a graph. For every entity that is not itself listed, this module works out,
//! once per watchlist, its *exposure*:
//!
//! - **Ownership (50% rule).** The share of it owned by listed parties, in aggregate, directly or
//!   through chains: percentages multiply along a chain and add across owners. An intermediate
//!   owner that is itself listed, or blocked by this rule, counts at its full stake (what OFAC's
//!   guidance says of entities owned by blocked persons). 50% or more blocks; less is a review.
//! - **Control and links.** Controlled or directed by a listed party, sharing a controller with a
//!   listed party, the successor of a listed or exposed company, registered at a listed party's
//!   address (`shares_address_with`), or linked to one: a review, with the path as evidence.
//!
//! Screening then turns a name hit on an exposed entity into an `ownership` hit (`screen`). Not
//! here: matching names or addresses, or reading relations from list files.

use std::collections::HashMap;

use crate::model::{RelationKind, Watchlist};
use crate::policy::Decision;

/// Share of aggregate ownership by listed parties from which an entity is blocked.
pub const BLOCKING_SHARE: f64 = 0.5;
/// Longest ownership chain followed (cycles and absurd depths stop here).
const MAX_DEPTH: usize = 12;

/// Why an unlisted entity is exposed to listed ones.
#[derive(Debug, Clone, PartialEq)]
pub struct Exposure {
    /// Block when owned 50% or more by listed parties, else review.
    pub decision: Decision,
    /// Aggregate share (0..1) owned by listed parties.
    pub listed_share: f64,
    /// One line per path: "owned 30% by listed `A`", "controlled by `P`, who also controls listed `L`".
    pub evidence: Vec<String>,
}

pub struct Affiliates {
    exposures: Vec<Option<Exposure>>,
}

struct Graph<'a> {
    wl: &'a Watchlist,
    /// Per entity: resolved relations (kind, target entity index, percentage).
    edges: Vec<Vec<(RelationKind, usize, Option<f64>)>>,
    /// Controller -> entities it controls or directs.
    controls: HashMap<usize, Vec<usize>>,
}

impl<'a> Graph<'a> {
    fn new(wl: &'a Watchlist) -> Self {
        let mut by_id: HashMap<(usize, &str), usize> = HashMap::new();
        for (i, e) in wl.entities.iter().enumerate() {
            by_id.insert((e.list, e.id.as_str()), i);
        }
        let mut controls: HashMap<usize, Vec<usize>> = HashMap::new();
        let edges = wl
            .entities
            .iter()
            .enumerate()
            .map(|(i, e)| {
                e.relations
                    .iter()
                    .filter_map(|r| {
                        let t = *by_id.get(&(e.list, r.target.as_str()))?;
                        if matches!(
                            r.kind,
                            RelationKind::ControlledBy | RelationKind::DirectedBy
                        ) {
                            controls.entry(t).or_default().push(i);
                        }
                        Some((r.kind, t, r.percentage))
                    })
                    .collect()
            })
            .collect();
        Graph {
            wl,
            edges,
            controls,
        }
    }

    fn listed(&self, i: usize) -> bool {
        self.wl.entities[i].status.listed
    }

    fn name(&self, i: usize) -> &str {
        self.wl.entities[i].primary_name()
    }

    /// Aggregate share of `i` held by listed parties, with the chains that make it up.
    fn listed_share(
        &self,
        i: usize,
        depth: usize,
        memo: &mut HashMap<usize, (f64, Vec<String>)>,
        on_path: &mut Vec<usize>,
    ) -> (f64, Vec<String>) {
        if let Some(m) = memo.get(&i) {
            return m.clone();
        }
        if depth > MAX_DEPTH || on_path.contains(&i) {
            return (0.0, Vec::new());
        }
        on_path.push(i);
        let mut share = 0.0;
        let mut evidence = Vec::new();
        for &(kind, owner, pct) in &self.edges[i] {
            if kind != RelationKind::OwnedBy {
                continue;
            }
            let Some(pct) = pct else { continue };
            let stake = pct / 100.0;
            if self.listed(owner) {
                share += stake;
                evidence.push(format!("owned {pct}% by listed `{}`", self.name(owner)));
                continue;
            }
            let (owner_share, owner_evidence) = self.listed_share(owner, depth + 1, memo, on_path);
            if owner_share <= 0.0 {
                continue;
            }
            // An owner blocked by the rule holds its stake as a blocked party; otherwise the
            // listed share reaches through it in proportion.
            let through = if owner_share >= BLOCKING_SHARE {
                stake
            } else {
                stake * owner_share
            };
            share += through;
            for ev in owner_evidence {
                evidence.push(format!(
                    "owned {pct}% by `{}`, which is {ev} ({:.1}% through this chain)",
                    self.name(owner),
                    through * 100.0
                ));
            }
        }
        on_path.pop();
        let share = share.min(1.0);
        memo.insert(i, (share, evidence.clone()));
        (share, evidence)
    }

    /// Control, link, address and successor paths from `i` to listed parties (one step, plus a
    /// shared controller and a successor of an exposed company).
    fn control_evidence(&self, i: usize, exposed: &[bool]) -> Vec<String> {
        let mut out = Vec::new();
        for &(kind, t, _) in &self.edges[i] {
            let listed = self.listed(t);
            match kind {
                RelationKind::ControlledBy | RelationKind::DirectedBy => {
                    let verb = if kind == RelationKind::ControlledBy {
                        "controlled"
                    } else {
                        "directed"
                    };
                    if listed {
                        out.push(format!("{verb} by listed `{}`", self.name(t)));
                    }
                    let siblings: Vec<String> = self
                        .controls
                        .get(&t)
                        .map(Vec::as_slice)
                        .unwrap_or(&[])
                        .iter()
                        .filter(|&&other| other != i && self.listed(other))
                        .map(|&other| format!("`{}`", self.name(other)))
                        .collect();
                    if !siblings.is_empty() {
                        out.push(format!(
                            "{verb} by `{}`, who also controls listed {}",
                            self.name(t),
                            siblings.join(", ")
                        ));
                    }
                }
                RelationKind::SuccessorOf if listed || exposed[t] => {
                    out.push(format!(
                        "successor of {} `{}`",
                        if listed { "listed" } else { "exposed" },
                        self.name(t)
                    ));
                }
                RelationKind::SharesAddressWith if listed => {
                    out.push(format!(
                        "registered at the address of listed `{}`",
                        self.name(t)
                    ));
                }
                RelationKind::LinkedTo if listed => {
                    out.push(format!("linked to listed `{}`", self.name(t)));
                }
                // Ownership without a known percentage: a review, not the 50% rule.
                RelationKind::OwnedBy
                    if listed
                        && self.edges[i].iter().any(|&(k, o, p)| {
                            k == RelationKind::OwnedBy && o == t && p.is_none()
                        }) =>
                {
                    out.push(format!(
                        "owned (share unknown) by listed `{}`",
                        self.name(t)
                    ));
                }
                _ => {}
            }
        }
        out.sort();
        out.dedup();
        out
    }
}

impl Affiliates {
    pub fn build(wl: &Watchlist) -> Affiliates {
        let g = Graph::new(wl);
        let n = wl.entities.len();
        let mut exposures: Vec<Option<Exposure>> = vec![None; n];
        // Ownership first: a successor of an entity exposed by ownership is exposed too.
        for (i, slot) in exposures.iter_mut().enumerate() {
            if g.listed(i) || g.edges[i].is_empty() {
                continue;
            }
            // A fresh memo per entity: a share cut short by a cycle is only valid on that path.
            let mut memo = HashMap::new();
            let (share, evidence) = g.listed_share(i, 0, &mut memo, &mut Vec::new());
            if share > 0.0 {
                *slot = Some(Exposure {
                    decision: if share >= BLOCKING_SHARE {
                        Decision::Block
                    } else {
                        Decision::Review
                    },
                    listed_share: share,
                    evidence,
                });
            }
        }
        // Control paths, twice so that a successor of a controlled company is seen too.
        for _ in 0..2 {
            let exposed: Vec<bool> = exposures.iter().map(Option::is_some).collect();
            for (i, slot) in exposures.iter_mut().enumerate() {
                if g.listed(i) || g.edges[i].is_empty() {
                    continue;
                }
                let control = g.control_evidence(i, &exposed);
                if control.is_empty() {
                    continue;
                }
                let e = slot.get_or_insert(Exposure {
                    decision: Decision::Review,
                    listed_share: 0.0,
                    evidence: Vec::new(),
                });
                for c in control {
                    if !e.evidence.contains(&c) {
                        e.evidence.push(c);
                    }
                }
            }
        }
        Affiliates { exposures }
    }

    /// The exposure of the entity at this index, if it is unlisted and exposed.
    pub fn exposure(&self, entity: usize) -> Option<&Exposure> {
        self.exposures.get(entity).and_then(Option::as_ref)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Entity, EntityKind, Name, NameType, Relation, Status};

    fn entity(id: &str, listed: bool, relations: &[(RelationKind, &str, Option<f64>)]) -> Entity {
        Entity {
            id: id.into(),
            kind: EntityKind::Organization,
            names: vec![Name::new(id.to_uppercase(), NameType::Primary)],
            status: Status {
                listed,
                ..Default::default()
            },
            relations: relations
                .iter()
                .map(|(k, t, p)| Relation {
                    kind: *k,
                    target: t.to_string(),
                    percentage: *p,
                    source: None,
                })
                .collect(),
            ..Default::default()
        }
    }

    fn build(entities: Vec<Entity>) -> (Watchlist, Affiliates) {
        let wl = Watchlist {
            lists: vec![Default::default()],
            entities,
        };
        let a = Affiliates::build(&wl);
        (wl, a)
    }

    use RelationKind::*;

    #[test]
    fn thirty_plus_twenty_five_percent_blocks_forty_nine_reviews() {
        let (_, a) = build(vec![
            entity("a", true, &[]),
            entity("b", true, &[]),
            entity(
                "x",
                false,
                &[(OwnedBy, "a", Some(30.0)), (OwnedBy, "b", Some(25.0))],
            ),
            entity("y", false, &[(OwnedBy, "a", Some(49.0))]),
        ]);
        let x = a.exposure(2).unwrap();
        assert_eq!(x.decision, Decision::Block);
        assert!((x.listed_share - 0.55).abs() < 1e-9);
        assert_eq!(x.evidence.len(), 2);
        let y = a.exposure(3).unwrap();
        assert_eq!(y.decision, Decision::Review);
        assert!((y.listed_share - 0.49).abs() < 1e-9);
    }

    #[test]
    fn chains_multiply_unless_the_intermediate_is_blocked() {
        let (_, a) = build(vec![
            entity("l", true, &[]),
            // m is 40% listed: not blocked, so its 80% of c passes 32%.
            entity("m", false, &[(OwnedBy, "l", Some(40.0))]),
            entity("c", false, &[(OwnedBy, "m", Some(80.0))]),
            // n is 60% listed: blocked, so its 50% of d counts in full.
            entity("n", false, &[(OwnedBy, "l", Some(60.0))]),
            entity("d", false, &[(OwnedBy, "n", Some(50.0))]),
        ]);
        let c = a.exposure(2).unwrap();
        assert!((c.listed_share - 0.32).abs() < 1e-9, "{c:?}");
        assert_eq!(c.decision, Decision::Review);
        assert!(c.evidence[0].contains("owned 80% by `M`"), "{c:?}");
        let d = a.exposure(4).unwrap();
        assert_eq!(d.decision, Decision::Block);
    }

    #[test]
    fn ownership_cycles_terminate() {
        let (_, a) = build(vec![
            entity("l", true, &[]),
            entity(
                "p",
                false,
                &[(OwnedBy, "q", Some(50.0)), (OwnedBy, "l", Some(10.0))],
            ),
            entity("q", false, &[(OwnedBy, "p", Some(50.0))]),
        ]);
        assert!(a.exposure(1).is_some());
        assert!(a.exposure(2).is_some());
    }

    #[test]
    fn control_shared_controller_and_successor_are_reviews() {
        let (_, a) = build(vec![
            entity("listed", true, &[(ControlledBy, "boss", None)]),
            entity("boss", false, &[]),
            entity("front", false, &[(ControlledBy, "boss", None)]),
            entity("heir", false, &[(SuccessorOf, "front", None)]),
            entity("neighbour", false, &[(SharesAddressWith, "listed", None)]),
            entity("clean", false, &[(SuccessorOf, "boss", None)]),
        ]);
        let front = a.exposure(2).unwrap();
        assert_eq!(front.decision, Decision::Review);
        assert_eq!(
            front.evidence,
            vec!["controlled by `BOSS`, who also controls listed `LISTED`"]
        );
        assert!(a.exposure(3).unwrap().evidence[0].contains("successor of exposed `FRONT`"));
        assert!(a.exposure(4).unwrap().evidence[0].contains("address of listed"));
        assert!(
            a.exposure(5).is_none(),
            "a successor of an unexposed person is not exposed"
        );
        assert!(a.exposure(0).is_none(), "listed entities need no exposure");
    }
}
