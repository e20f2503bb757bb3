//! The shared-address index: every watchlist address keyed by building, so a counterparty's
//! address finds the listed entities in its building without a scan over the list; and the
//! occupancy of each building, which tells a mass-registration address from a one-company one.
//!
//! Keys are the house number plus the first two letters of the street's phonetic key (or the
//! P.O. box number): spelling variants of a street meet in one bucket and `compare` decides.
//! A typo in the first consonants of a street name puts it in another bucket: the price of
//! not scanning.
//!
//! Not for: street- or city-level neighbours (only building and premises are looked up), or
//! deciding what a shared building means for a party.

use rayon::prelude::*;
use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

use super::compare::{compare, skeleton, AddressLevel, AddressMatch};
use super::{parse, ParsedAddress};
use crate::model::Watchlist;

/// Distinct listed entities in one building from which it counts as a mass-registration address.
pub const DEFAULT_MASS_REGISTRATION: usize = 5;

/// A watchlist address in the building of a query address.
#[derive(Debug, Clone, PartialEq)]
pub struct AddressHit {
    /// Index into `Watchlist::entities`.
    pub entity: usize,
    /// Index into that entity's `addresses`.
    pub address: usize,
    /// The comparison; its score is already lowered for a mass-registration address.
    pub matched: AddressMatch,
    /// Distinct listed entities registered in the matched building.
    pub occupancy: usize,
    pub mass_registration: bool,
}

#[derive(Serialize, Deserialize)]
struct Entry {
    entity: usize,
    address: usize,
    parsed: ParsedAddress,
}

/// Serializable as a whole (a prebuilt index stores it): every field is plain data, and what is
/// expensive to rebuild is the building-level grouping behind `occupancy`.
#[derive(Serialize, Deserialize)]
pub struct AddressIndex {
    entries: Vec<Entry>,
    buckets: HashMap<String, Vec<usize>>,
    /// Per entry: distinct entities in the group of addresses that match it at building level.
    occupancy: Vec<usize>,
    /// (entity, address) -> entry.
    by_address: HashMap<(usize, usize), usize>,
    threshold: usize,
}

/// The bucket of an address, None when it cannot be matched at building level.
fn bucket_key(p: &ParsedAddress) -> Option<String> {
    if let (Some(street), Some(house)) = (&p.street, &p.house) {
        let prefix: String = skeleton(street).chars().take(2).collect();
        return Some(format!("{house}|{prefix}"));
    }
    p.po_box.as_ref().map(|b| format!("box|{b}"))
}

/// Groups addresses that match at building level or closer (transitively), through buckets.
/// Returns the bucket map and each address's group representative.
fn group<'a>(
    addrs: impl Iterator<Item = &'a ParsedAddress>,
) -> (HashMap<String, Vec<usize>>, Vec<usize>) {
    let addrs: Vec<&ParsedAddress> = addrs.collect();
    let mut buckets: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, p) in addrs.iter().enumerate() {
        if let Some(k) = bucket_key(p) {
            buckets.entry(k).or_default().push(i);
        }
    }
    let mut parent: Vec<usize> = (0..addrs.len()).collect();
    fn root(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    for members in buckets.values() {
        for (n, &i) in members.iter().enumerate() {
            for &j in &members[n + 1..] {
                if root(&mut parent, i) != root(&mut parent, j)
                    && compare(addrs[i], addrs[j]).level >= AddressLevel::Building
                {
                    let (ri, rj) = (root(&mut parent, i), root(&mut parent, j));
                    parent[ri.max(rj)] = ri.min(rj);
                }
            }
        }
    }
    let roots = (0..addrs.len()).map(|i| root(&mut parent, i)).collect();
    (buckets, roots)
}

impl AddressIndex {
    /// Indexes every address of every entity, with the default mass-registration threshold.
    pub fn new(watchlist: &Watchlist) -> Self {
        Self::with_threshold(watchlist, DEFAULT_MASS_REGISTRATION)
    }

    /// As [`AddressIndex::new`]; a building with `threshold` or more distinct entities is a
    /// mass-registration address (a threshold under 2 is taken as 2).
    pub fn with_threshold(watchlist: &Watchlist, threshold: usize) -> Self {
        // Parsing is most of the build: in parallel, in list order.
        let entries: Vec<Entry> = watchlist
            .entities
            .par_iter()
            .enumerate()
            .flat_map_iter(|(e, ent)| {
                ent.addresses
                    .iter()
                    .enumerate()
                    .map(move |(a, addr)| Entry {
                        entity: e,
                        address: a,
                        parsed: parse(addr),
                    })
            })
            .filter(|en| bucket_key(&en.parsed).is_some())
            .collect();
        let (buckets, roots) = group(entries.iter().map(|e| &e.parsed));
        let mut tenants: HashMap<usize, HashSet<usize>> = HashMap::new();
        for (i, r) in roots.iter().enumerate() {
            tenants.entry(*r).or_default().insert(entries[i].entity);
        }
        let occupancy = roots.iter().map(|r| tenants[r].len()).collect();
        let by_address = entries
            .iter()
            .enumerate()
            .map(|(i, e)| ((e.entity, e.address), i))
            .collect();
        AddressIndex {
            entries,
            buckets,
            occupancy,
            by_address,
            threshold: threshold.max(2),
        }
    }

    /// True when every entry points at an address of `watchlist` and the tables agree in
    /// length (a prebuilt index is checked against its watchlist on load).
    pub(crate) fn fits(&self, watchlist: &Watchlist) -> bool {
        self.occupancy.len() == self.entries.len()
            && self.entries.iter().all(|e| {
                watchlist
                    .entities
                    .get(e.entity)
                    .is_some_and(|ent| e.address < ent.addresses.len())
            })
            && self
                .buckets
                .values()
                .flatten()
                .all(|&i| i < self.entries.len())
            && self.by_address.values().all(|&i| i < self.entries.len())
    }

    /// Number of indexed addresses (those with a street and house, or a P.O. box).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Distinct listed entities in the building of an entity's address (0 if not indexed).
    pub fn occupancy(&self, entity: usize, address: usize) -> usize {
        self.by_address
            .get(&(entity, address))
            .map_or(0, |&i| self.occupancy[i])
    }

    /// Watchlist addresses in the building (or premises) of `query`, best first. A hit in a
    /// mass-registration building has its score scaled down by the building's occupancy: one
    /// shell among forty says less about a party than the only company at an address.
    pub fn lookup(&self, query: &ParsedAddress) -> Vec<AddressHit> {
        let Some(members) = bucket_key(query).and_then(|k| self.buckets.get(&k)) else {
            return Vec::new();
        };
        let mut hits: Vec<AddressHit> = members
            .iter()
            .filter_map(|&i| {
                let e = &self.entries[i];
                let mut matched = compare(query, &e.parsed);
                if matched.level < AddressLevel::Building {
                    return None;
                }
                let occupancy = self.occupancy[i];
                let mass_registration = occupancy >= self.threshold;
                if mass_registration {
                    matched.score *= (self.threshold - 1) as f32 / occupancy as f32;
                    matched.explanation.push_str(&format!(
                        "; mass-registration address: {occupancy} listed entities share this building"
                    ));
                }
                Some(AddressHit {
                    entity: e.entity,
                    address: e.address,
                    matched,
                    occupancy,
                    mass_registration,
                })
            })
            .collect();
        hits.sort_by(|a, b| {
            b.matched
                .score
                .total_cmp(&a.matched.score)
                .then(a.entity.cmp(&b.entity))
                .then(a.address.cmp(&b.address))
        });
        hits
    }
}

/// Groups of addresses (indices into `addrs`) that share a building, for the cluster report:
/// several unknown consignees at one address are a red flag. Only groups of two or more, each
/// sorted, ordered by their first member.
pub fn clusters(addrs: &[ParsedAddress]) -> Vec<Vec<usize>> {
    let (_, roots) = group(addrs.iter());
    let mut by_root: HashMap<usize, Vec<usize>> = HashMap::new();
    for (i, r) in roots.into_iter().enumerate() {
        by_root.entry(r).or_default().push(i);
    }
    let mut out: Vec<Vec<usize>> = by_root.into_values().filter(|g| g.len() >= 2).collect();
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::address::parse_text;
    use crate::model::{Address, Entity};

    fn entity(id: &str, addrs: &[&str]) -> Entity {
        Entity {
            id: id.into(),
            addresses: addrs
                .iter()
                .map(|t| Address {
                    text: t.to_string(),
                    ..Address::default()
                })
                .collect(),
            ..Entity::default()
        }
    }

    fn watchlist() -> Watchlist {
        let mut entities = vec![
            entity(
                "35078",
                &[
                    "Ul. Yablachkova D. 21 Korpus 3, Et 3 Pom VIII Kom 1I, Moscow 127322, Russia",
                    "P.O. Box 708, Moscow 119330, Russia",
                ],
            ),
            entity(
                "35082",
                &["Ul. Yablachkova D. 21 Korpus 3, Et 3 Pom. VIII, Moscow 127322, Russia"],
            ),
            entity(
                "35076",
                &["d. 57A etazh 2 pom. 211 kom. 211-13, ul. Vavilova, Moscow 117292, Russia"],
            ),
        ];
        for n in 0..6 {
            entities.push(entity(
                &format!("shell{n}"),
                &[&format!("Room {n}, 135 Bonham Strand, Hong Kong")],
            ));
        }
        Watchlist {
            entities,
            ..Watchlist::default()
        }
    }

    #[test]
    fn finds_the_building_and_counts_its_tenants() {
        let idx = AddressIndex::new(&watchlist());
        let hits = idx.lookup(&parse_text("ул. Яблочкова, д. 21, корп. 3, Москва"));
        let ids: Vec<usize> = hits.iter().map(|h| h.entity).collect();
        assert_eq!(ids.len(), 2, "{hits:#?}");
        assert!(ids.contains(&0) && ids.contains(&1));
        assert!(hits
            .iter()
            .all(|h| h.occupancy == 2 && !h.mass_registration));
        assert_eq!(idx.occupancy(0, 0), 2);
        assert_eq!(idx.occupancy(2, 0), 1);

        let premises = idx.lookup(&parse_text(
            "Ul. Yablachkova 21 k. 3, et. 3, pom. VIII, Moscow",
        ));
        assert!(
            premises
                .iter()
                .all(|h| h.matched.level == AddressLevel::Premises),
            "{premises:#?}"
        );

        assert!(idx
            .lookup(&parse_text("Ul. Yablochkova D. 25, Moscow"))
            .is_empty());
        assert!(idx
            .lookup(&parse_text("ul. Vavilova d. 57, Moscow"))
            .is_empty());
        assert_eq!(
            idx.lookup(&parse_text("ul. Vavilova d. 57A, Moscow")).len(),
            1
        );
        assert_eq!(idx.lookup(&parse_text("a/ya 708, Moskva")).len(), 1);
    }

    #[test]
    fn mass_registration_weighs_less_per_entity() {
        let idx = AddressIndex::new(&watchlist());
        let hits = idx.lookup(&parse_text("135 Bonham Strand, Sheung Wan, Hong Kong"));
        assert_eq!(hits.len(), 6);
        assert!(hits.iter().all(|h| h.mass_registration && h.occupancy == 6));
        assert!(hits[0].matched.explanation.contains("mass-registration"));
        let single = idx.lookup(&parse_text("ul. Vavilova d. 57A, Moscow"));
        assert!(hits[0].matched.score < single[0].matched.score);

        let lax = AddressIndex::with_threshold(&watchlist(), 10);
        assert!(lax
            .lookup(&parse_text("135 Bonham Strand, Hong Kong"))
            .iter()
            .all(|h| !h.mass_registration));
    }

    #[test]
    fn clusters_group_parties_sharing_a_building() {
        let parties: Vec<ParsedAddress> = [
            "135 Bonham Strand, Hong Kong",
            "ul. Vavilova 57, Moscow",
            "Room 5, 135 Bonham Strand, Sheung Wan, Hong Kong",
            "ул. Вавилова, д. 57, Москва",
            "ul. Vavilova 58, Moscow",
            "135 Bonham Strand, Hong Kong",
        ]
        .iter()
        .map(|t| parse_text(t))
        .collect();
        assert_eq!(clusters(&parties), vec![vec![0, 2, 5], vec![1, 3]]);
        assert!(clusters(&[]).is_empty());
    }
}
