//! Decisions: the key that ties a decision to a screened party, applying decisions to hits, and
//! moving decisions as CSV (`decisions export|import`, and importing the CSV `screen` wrote with
//! a disposition column filled in).
//!
//! A decision applies to a hit only when all hold: the party's key is the decision's (same
//! normalized name, country and address), the hit is on the decision's entity (list and id), the
//! entity's record still has the fingerprint recorded with the decision, and the decision has not
//! expired. Only the latest decision on a party and entity counts. Not here: storage (`store`).

use std::collections::HashMap;
use std::io::{Read, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::DecisionRecord;
use crate::decision::{AppliedDecision, Disposition};
use crate::error::{Error, Location, Result};
use crate::input::{header_key, InputOptions};
use crate::model::{Address, EntityKind, Watchlist};
use crate::policy::Decision;
use crate::screen::{Party, PartyResult, Screener};

/// What identifies a screened party to a decision: its normalized name (the screening
/// normalizer's tokens), its country as an ISO code (the text folded when it is no known
/// country; empty when none) and its normalized address (folded words, sorted, so order and
/// punctuation do not matter; the country is not part of it).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct PartyKey {
    pub name: String,
    pub country: String,
    pub address: String,
}

impl PartyKey {
    pub fn new(name: &str, country: Option<&str>, address: Option<&Address>) -> PartyKey {
        let country = country
            .or(address.and_then(|a| a.country.as_deref()))
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(|c| {
                crate::geo::country_code(c)
                    .map(str::to_string)
                    .unwrap_or_else(|| words(c).join(" "))
            })
            .unwrap_or_default();
        let address = address
            .map(|a| {
                let mut w = words(&address_line(a));
                w.sort_unstable();
                w.dedup();
                w.join(" ")
            })
            .unwrap_or_default();
        PartyKey {
            name: crate::text::normalize(name, EntityKind::Unknown).key(),
            country,
            address,
        }
    }

    pub fn of(party: &Party) -> PartyKey {
        PartyKey::new(
            &party.name,
            party.country.as_deref(),
            party.address.as_ref(),
        )
    }
}

/// The address as one line without its country (the key holds the country on its own).
pub fn address_line(a: &Address) -> String {
    Address {
        country: None,
        source: None,
        ..a.clone()
    }
    .full()
}

/// Folded words: lowercase ASCII, split on anything that is not a letter or digit.
fn words(text: &str) -> Vec<String> {
    crate::text::translit::fold(text)
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

/// True when `b` says what `a` says (a repeat of an import is not a new decision).
pub fn same_decision(a: &DecisionRecord, b: &DecisionRecord) -> bool {
    a.key == b.key
        && a.list == b.list
        && a.entity_id == b.entity_id
        && a.fingerprint == b.fingerprint
        && a.disposition == b.disposition
        && a.reason == b.reason
        && a.decided_by == b.decided_by
        && a.expires_at == b.expires_at
}

/// Parses an expiry: an ISO date (`2027-01-31`, the decision applies until that day starts, UTC)
/// or an RFC 3339 instant in UTC as the store writes them.
pub fn parse_expiry(s: &str) -> Option<String> {
    let s = s.trim();
    let t = crate::freshness::parse_iso_date(s)?;
    let day = crate::freshness::rfc3339(t);
    if s.len() == 10 {
        return Some(day);
    }
    // A full stamp must be exactly the store's form, else it would not compare as a string.
    (s.len() == day.len() && s.ends_with('Z') && s.as_bytes()[10] == b'T').then(|| s.to_string())
}

/// The decisions in force, looked up by party key and entity. Built once per run (or request).
#[derive(Debug, Default)]
pub struct DecisionBook {
    latest: HashMap<(PartyKey, String, String), DecisionRecord>,
    /// RFC 3339 now: expiries compare against it as strings.
    now: String,
}

impl DecisionBook {
    /// The book of `records` (any order; the highest id per party and entity wins) at `now`.
    pub fn new(records: Vec<DecisionRecord>, now: std::time::SystemTime) -> DecisionBook {
        let mut latest: HashMap<(PartyKey, String, String), DecisionRecord> = HashMap::new();
        for r in records {
            let k = (r.key.clone(), r.list.clone(), r.entity_id.clone());
            match latest.get(&k) {
                Some(l) if l.id > r.id => {}
                _ => {
                    latest.insert(k, r);
                }
            }
        }
        DecisionBook {
            latest,
            now: crate::freshness::rfc3339(now),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.latest.is_empty()
    }

    /// Applies the decisions in force to `result`'s hits and recomputes its decision: a false
    /// positive makes its hit clear (kept, with the decision), a true match makes it block, an
    /// escalation keeps it at review at least. Hits on other entities are untouched.
    pub fn apply(&self, screener: &Screener, party: &Party, result: &mut PartyResult) {
        if self.latest.is_empty() || result.error.is_some() || result.hits.is_empty() {
            return;
        }
        let key = PartyKey::of(party);
        let mut changed = false;
        for hit in &mut result.hits {
            let Some(d) = self
                .latest
                .get(&(key.clone(), hit.list.clone(), hit.entity_id.clone()))
            else {
                continue;
            };
            if d.expires_at
                .as_deref()
                .is_some_and(|e| self.now.as_str() >= e)
            {
                continue;
            }
            let entity = &screener.watchlist.entities[hit.entity_index];
            if entity.fingerprint() != d.fingerprint {
                continue;
            }
            hit.decision = match d.disposition {
                Disposition::FalsePositive => Decision::Clear,
                Disposition::TrueMatch => Decision::Block,
                Disposition::Escalated => hit.decision.max(Decision::Review),
            };
            hit.applied = Some(AppliedDecision {
                id: d.id.to_string(),
                disposition: d.disposition,
                reason: d.reason.clone(),
                by: d.decided_by.clone(),
                decided_at: d.decided_at.clone(),
                expires_at: d.expires_at.clone(),
            });
            changed = true;
        }
        if changed {
            crate::screen::sort_hits(&mut result.hits);
            result.decision = result
                .hits
                .iter()
                .map(|h| h.decision)
                .max()
                .unwrap_or(Decision::Clear);
        }
    }
}

/// The decisions in force for a few parties (a shipment, an API request), read per party key.
pub fn book_for(store: &mut dyn super::Store, parties: &[&Party]) -> Result<DecisionBook> {
    let mut keys: Vec<PartyKey> = parties.iter().map(|p| PartyKey::of(p)).collect();
    keys.sort_unstable();
    keys.dedup();
    let mut records = Vec::new();
    for k in &keys {
        records.extend(store.decisions(Some(k))?);
    }
    Ok(DecisionBook::new(records, std::time::SystemTime::now()))
}

/// The one entity `id` names: `LIST:ID` or `--list` select a list; an id found in several lists
/// without one, or in none, is an error message.
pub fn resolve_entity(wl: &Watchlist, list: Option<&str>, id: &str) -> Result<usize, String> {
    let found = wl.matching(list, id);
    match found.as_slice() {
        [one] => Ok(*one),
        [] => Err(match list {
            Some(l) => format!("no entity `{id}` in list `{l}`"),
            None => format!("no entity `{id}` in the watchlists"),
        }),
        many => Err(format!(
            "entity id `{id}` is in several lists ({}); name one as LIST:ID",
            many.iter()
                .map(|&i| wl.list_of(&wl.entities[i]).name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

/// What an analyst states about one party and entity, before it is checked and keyed.
#[derive(Debug, Clone, Default)]
pub struct DecisionInput {
    pub name: String,
    pub country: Option<String>,
    pub address: Option<Address>,
    pub list: Option<String>,
    pub entity: String,
    pub disposition: String,
    pub reason: String,
    pub by: String,
    pub expires: Option<String>,
}

impl DecisionInput {
    /// Checks the input against the watchlist and makes the record to store (fingerprint of the
    /// entity as the list has it now). Errors are messages for the caller to place.
    pub fn into_record(self, wl: &Watchlist, now: &str) -> Result<DecisionRecord, String> {
        let disposition = Disposition::parse(&self.disposition).ok_or_else(|| {
            format!(
                "unknown disposition `{}` (false-positive, true-match or escalated)",
                self.disposition
            )
        })?;
        if self.name.trim().is_empty() {
            return Err("no party name".into());
        }
        if self.reason.trim().is_empty() {
            return Err("no reason given: a decision needs one".into());
        }
        if self.by.trim().is_empty() {
            return Err("no analyst given (--by or a decided_by column)".into());
        }
        let expires_at = match self.expires.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(e) => Some(parse_expiry(e).ok_or_else(|| {
                format!(
                    "expiry `{e}` is not a date (YYYY-MM-DD) or a UTC time (YYYY-MM-DDTHH:MM:SSZ)"
                )
            })?),
        };
        let index = resolve_entity(wl, self.list.as_deref(), self.entity.trim())?;
        let entity = &wl.entities[index];
        Ok(DecisionRecord {
            id: 0,
            key: PartyKey::new(&self.name, self.country.as_deref(), self.address.as_ref()),
            name: self.name.trim().to_string(),
            country: self.country.filter(|c| !c.trim().is_empty()),
            address: self
                .address
                .as_ref()
                .map(address_line)
                .filter(|a| !a.is_empty()),
            list: wl.list_of(entity).name.clone(),
            entity_id: entity.id.clone(),
            entity_name: entity.primary_name().to_string(),
            fingerprint: entity.fingerprint(),
            disposition,
            reason: self.reason.trim().to_string(),
            decided_by: self.by.trim().to_string(),
            decided_at: now.to_string(),
            expires_at,
        })
    }
}

/// Columns of `decisions export` (and of `list` as CSV); `import` reads them back.
pub const EXPORT_COLUMNS: [&str; 16] = [
    "id",
    "name",
    "country",
    "address",
    "list",
    "entity_id",
    "entity_name",
    "disposition",
    "reason",
    "decided_by",
    "decided_at",
    "expires_at",
    "fingerprint",
    "key_name",
    "key_country",
    "key_address",
];

/// Writes decisions as CSV with [`EXPORT_COLUMNS`].
pub fn export<W: Write>(records: &[DecisionRecord], out: W) -> Result<()> {
    let err = |e: csv::Error| Error::io("<output>", std::io::Error::other(e.to_string()));
    let mut w = csv::Writer::from_writer(out);
    w.write_record(EXPORT_COLUMNS).map_err(err)?;
    for d in records {
        let id = d.id.to_string();
        let row: [&str; 16] = [
            &id,
            &d.name,
            d.country.as_deref().unwrap_or(""),
            d.address.as_deref().unwrap_or(""),
            &d.list,
            &d.entity_id,
            &d.entity_name,
            d.disposition.as_str(),
            &d.reason,
            &d.decided_by,
            &d.decided_at,
            d.expires_at.as_deref().unwrap_or(""),
            &d.fingerprint,
            &d.key.name,
            &d.key.country,
            &d.key.address,
        ];
        let row = row.map(crate::output::neutralize);
        w.write_record(&row).map_err(err)?;
    }
    w.flush().map_err(|e| Error::io("<output>", e))
}

/// Undoes [`crate::output::neutralize`]: a `'` that a formula-like cell got on output.
fn unneutralize(cell: &str) -> &str {
    match cell.as_bytes() {
        [b'\'', b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r', ..] => &cell[1..],
        _ => cell,
    }
}

/// Where a column sits, by any of the header spellings given (compared as `header_key`s).
fn column(headers: &[String], names: &[&str]) -> Option<usize> {
    headers
        .iter()
        .position(|h| names.iter().any(|n| header_key(h) == header_key(n)))
}

/// Reads a decisions CSV for import: an export (`EXPORT_COLUMNS`, `id` and `key_*` ignored), or
/// the CSV `screen` wrote with a `disposition` column filled in (rows left empty are skipped;
/// the party is the row's `redflag_party`/`redflag_name`, found among the row's party columns
/// as `screen` detects them, the entity is `redflag_list`/`redflag_entity_id`). `reason`,
/// `decided_by` (else `by`) and `expires` columns are read when present. Every row is checked
/// against the watchlist; the first bad row is an error naming the file and line, and then
/// nothing is returned to import.
pub fn read_import(
    path: &Path,
    wl: &Watchlist,
    by: Option<&str>,
    now: &str,
) -> Result<Vec<DecisionRecord>> {
    let file = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let opened = crate::input::open(
        std::io::Cursor::new(bytes.clone()),
        &InputOptions {
            format: crate::input::InputFormat::Csv,
            encoding: None,
            delimiter: None,
            party_overrides: Vec::new(),
        },
        &file,
    );
    match opened {
        Ok(reader) if column(&reader.layout.headers, &["redflag_entity_id"]).is_some() => {
            read_screen_output(reader, &file, wl, by, now)
        }
        _ => read_export(std::io::Cursor::new(bytes), &file, wl, by, now),
    }
}

fn bad(file: &str, line: u64, message: impl Into<String>) -> Error {
    Error::data(Location::new(file).line(line), message)
}

fn read_screen_output<R: Read>(
    mut reader: crate::input::ShipmentReader<R>,
    file: &str,
    wl: &Watchlist,
    by: Option<&str>,
    now: &str,
) -> Result<Vec<DecisionRecord>> {
    let h = reader.layout.headers.clone();
    let disposition = column(&h, &["disposition"]).ok_or_else(|| {
        bad(
            file,
            1,
            "no `disposition` column: add one and fill it in (false-positive, true-match, escalated) for the rows decided",
        )
    })?;
    let need = |names: &[&str]| {
        column(&h, names).ok_or_else(|| bad(file, 1, format!("no `{}` column", names[0])))
    };
    let (role_col, name_col) = (need(&["redflag_party"])?, need(&["redflag_name"])?);
    let (list_col, entity_col) = (need(&["redflag_list"])?, need(&["redflag_entity_id"])?);
    let reason_col = column(&h, &["reason"]);
    let by_col = column(&h, &["decided_by", "by"]);
    let expires_col = column(&h, &["expires", "expires_at"]);
    let mut out = Vec::new();
    while let Some(row) = reader.next_row()? {
        let cell = |i: Option<usize>| {
            i.and_then(|i| row.cells.get(i))
                .map(|c| unneutralize(c.trim()).to_string())
                .unwrap_or_default()
        };
        let disp = cell(Some(disposition));
        if disp.is_empty() {
            continue;
        }
        let (role, name) = (cell(Some(role_col)), cell(Some(name_col)));
        let entity = cell(Some(entity_col));
        if entity.is_empty() || name.is_empty() {
            return Err(bad(
                file,
                row.line,
                "a disposition on a row without a hit (no redflag_entity_id / redflag_name)",
            ));
        }
        let party = row
            .parties
            .iter()
            .find(|p| p.role == role && unneutralize(&p.name) == name)
            .or_else(|| row.parties.iter().find(|p| unneutralize(&p.name) == name));
        let input = DecisionInput {
            name: name.clone(),
            country: party.and_then(|p| p.country.clone()),
            address: party.and_then(|p| p.address.clone()),
            list: Some(cell(Some(list_col))).filter(|l| !l.is_empty()),
            entity,
            disposition: disp,
            reason: cell(reason_col),
            by: Some(cell(by_col))
                .filter(|b| !b.is_empty())
                .or(by.map(str::to_string))
                .unwrap_or_default(),
            expires: Some(cell(expires_col)),
        };
        out.push(
            input
                .into_record(wl, now)
                .map_err(|m| bad(file, row.line, m))?,
        );
    }
    Ok(out)
}

fn read_export<R: Read>(
    input: R,
    file: &str,
    wl: &Watchlist,
    by: Option<&str>,
    now: &str,
) -> Result<Vec<DecisionRecord>> {
    let mut rdr = csv::ReaderBuilder::new().flexible(false).from_reader(input);
    let csv_err = |e: csv::Error| {
        let line = e.position().map(|p| p.line()).unwrap_or(1);
        bad(file, line, e.to_string())
    };
    let h: Vec<String> = rdr
        .headers()
        .map_err(csv_err)?
        .iter()
        .map(str::to_string)
        .collect();
    let need = |names: &[&str]| {
        column(&h, names).ok_or_else(|| {
            bad(
                file,
                1,
                format!(
                    "no `{}` column: a decisions CSV has name, entity_id, disposition, reason \
                     (and list, country, address, decided_by, expires_at), or is the CSV \
                     `redflag screen` wrote with a disposition column",
                    names[0]
                ),
            )
        })
    };
    let name_col = need(&["name"])?;
    let entity_col = need(&["entity_id", "entity"])?;
    let disp_col = need(&["disposition"])?;
    let opt = |names: &[&str]| column(&h, names);
    let (list_col, country_col, address_col) =
        (opt(&["list"]), opt(&["country"]), opt(&["address"]));
    let (reason_col, by_col, expires_col) = (
        opt(&["reason"]),
        opt(&["decided_by", "by"]),
        opt(&["expires_at", "expires"]),
    );
    let decided_col = opt(&["decided_at"]);
    let mut out = Vec::new();
    for rec in rdr.records() {
        let rec = rec.map_err(csv_err)?;
        let line = rec.position().map(|p| p.line()).unwrap_or(0);
        let cell = |i: Option<usize>| {
            i.and_then(|i| rec.get(i))
                .map(|c| unneutralize(c.trim()).to_string())
                .unwrap_or_default()
        };
        let nonempty = |s: String| Some(s).filter(|s| !s.is_empty());
        let input = DecisionInput {
            name: cell(Some(name_col)),
            country: nonempty(cell(country_col)),
            address: nonempty(cell(address_col)).map(|text| Address {
                text,
                ..Default::default()
            }),
            list: nonempty(cell(list_col)),
            entity: cell(Some(entity_col)),
            disposition: cell(Some(disp_col)),
            reason: cell(reason_col),
            by: nonempty(cell(by_col))
                .or(by.map(str::to_string))
                .unwrap_or_default(),
            expires: nonempty(cell(expires_col)),
        };
        let mut record = input.into_record(wl, now).map_err(|m| bad(file, line, m))?;
        // A restored decision keeps when it was made.
        if let Some(at) = nonempty(cell(decided_col)) {
            record.decided_at = at;
        }
        out.push(record);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_ignore_case_punctuation_word_order_of_addresses_and_country_spelling() {
        let a = PartyKey::new(
            "OOO Robin Treid",
            Some("Russia"),
            Some(&Address {
                text: "Ul. Yablochkova D. 21".into(),
                city: Some("Moscow".into()),
                ..Default::default()
            }),
        );
        let b = PartyKey::new(
            "ooo  ROBIN treid",
            Some("RU"),
            Some(&Address {
                text: "Moscow, ul Yablochkova d 21".into(),
                ..Default::default()
            }),
        );
        assert_eq!(a, b);
        assert_eq!(a.country, "RU");
        let c = PartyKey::new("OOO Robin Treid", Some("KZ"), None);
        assert_ne!(a, c);
    }

    #[test]
    fn an_id_in_several_lists_needs_its_list() {
        let mut wl = Watchlist::from_names(EntityKind::Organization, ["Alpha", "Beta"]);
        wl.lists[0].name = "a".into();
        let mut other = Watchlist::from_names(EntityKind::Organization, ["Gamma"]);
        other.lists[0].name = "b".into();
        wl.merge(other);
        let ambiguous = resolve_entity(&wl, None, "0").unwrap_err();
        assert!(ambiguous.contains("several lists (a, b)"), "{ambiguous}");
        assert_eq!(resolve_entity(&wl, None, "b:0"), Ok(2));
        assert_eq!(resolve_entity(&wl, Some("a"), "0"), Ok(0));
        assert_eq!(resolve_entity(&wl, None, "1"), Ok(1));
        let unknown = resolve_entity(&wl, None, "7").unwrap_err();
        assert!(unknown.contains("no entity `7`"), "{unknown}");
    }

    #[test]
    fn expiries_are_dates_or_store_stamps() {
        assert_eq!(
            parse_expiry("2027-01-31").as_deref(),
            Some("2027-01-31T00:00:00Z")
        );
        assert_eq!(
            parse_expiry("2027-01-31T12:00:00Z").as_deref(),
            Some("2027-01-31T12:00:00Z")
        );
        assert_eq!(parse_expiry("next week"), None);
        assert_eq!(parse_expiry("2027-01-31T12:00:00+02:00"), None);
    }
}
