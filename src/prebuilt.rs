//! The prebuilt index file: a merged watchlist with its name and address indexes, built once by
//! `redflag watchlist build` and loaded by `--index FILE` instead of parsing the lists and
//! building the indexes at every start (most of a one-shot `check`'s time).
//!
//! Layout: the magic bytes, the format version (u32 LE), the redflag version that wrote the file
//! (length byte + UTF-8), the body's length and checksum (u64 LE each), then the body in postcard.
//! A file of another format version or another redflag version is refused, not read: the stored
//! normalized names are only right for the normalization tables of the version that made them.
//! The checksum catches a truncated or damaged body before it could become a silently wrong index.
//!
//! Codec: postcard (serde, varint integers, no schema in the file) over bincode 2: smaller files
//! and a smaller dependency, and nothing here needs bincode's configurability.
//!
//! Stored: the watchlist (with each entity's list, which `Entity` does not serialize), every list's
//! `ListInfo` (so hits cite each source list's version and `--max-age` measures the source lists,
//! not the index file), the name index's records, vocabulary, postings and grams, and the address
//! index. Rebuilt on load: the vocabulary map and the Aho-Corasick automaton (not serializable;
//! both are derived from stored parts), and the affiliates (a few milliseconds). Not here: the
//! command-line arguments (`cli`), screening (`screen`).

use std::hash::Hasher;
use std::path::Path;
use std::time::{Duration, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::address::AddressIndex;
use crate::error::{Error, Location, Result};
use crate::freshness;
use crate::index::{NameIndex, StoredNameIndex, StoredNameIndexRef};
use crate::model::{
    Address, Entity, EntityKind, Identifier, ListInfo, Name, NameType, Relation, RelationKind,
    Status, Watchlist,
};

/// First bytes of every index file.
pub const MAGIC: [u8; 8] = *b"RFINDEX\x1a";
/// Bumped whenever the stored layout changes; files of another version are refused.
pub const FORMAT_VERSION: u32 = 7;
/// The redflag version that writes and reads index files, with a fingerprint of its
/// normalization (data tables, normalizer, index, token distance; see `build.rs`): a file built
/// by a redflag that normalizes differently is refused, whatever its version number says.
pub const CRATE_VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    "+",
    env!("REDFLAG_NORMALIZATION_HASH")
);

/// The expensive-to-build parts of a screener, as stored in and loaded from an index file.
pub struct Prebuilt {
    pub watchlist: Watchlist,
    pub index: NameIndex,
    pub addresses: AddressIndex,
}

impl Prebuilt {
    /// Builds the indexes of a watchlist. List infos without a publication date get the source
    /// file's modification time recorded now, so their age survives the move into the file.
    pub fn build(mut watchlist: Watchlist) -> Result<Prebuilt> {
        for info in &mut watchlist.lists {
            if let Some((t, _)) = freshness::list_time(info)? {
                if info.published.is_none() {
                    info.modified = Some(t);
                }
            }
        }
        let index = NameIndex::build(&watchlist);
        let addresses = AddressIndex::new(&watchlist);
        Ok(Prebuilt {
            watchlist,
            index,
            addresses,
        })
    }

    /// The file's bytes: header and body.
    pub fn encode(&self) -> Result<Vec<u8>> {
        let body = Body {
            lists: self
                .watchlist
                .lists
                .iter()
                .map(|l| StoredList {
                    info: l.clone(),
                    modified: l
                        .modified
                        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                        .map(|d| d.as_secs()),
                })
                .collect(),
            entities: self
                .watchlist
                .entities
                .iter()
                .map(StoredEntity::from)
                .collect(),
            names: self.index.stored(),
            addresses: &self.addresses,
        };
        let body = postcard::to_stdvec(&body)
            .map_err(|e| Error::Usage(format!("cannot encode the index: {e}")))?;
        let mut out = Vec::with_capacity(body.len() + 64);
        out.extend_from_slice(&MAGIC);
        out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        out.push(CRATE_VERSION.len() as u8);
        out.extend_from_slice(CRATE_VERSION.as_bytes());
        out.extend_from_slice(&(body.len() as u64).to_le_bytes());
        out.extend_from_slice(&checksum(&body).to_le_bytes());
        out.extend_from_slice(&body);
        Ok(out)
    }

    /// Writes the index file (through a temporary file renamed into place, so a reader never
    /// sees half a file).
    pub fn write(&self, path: &Path) -> Result<u64> {
        let bytes = self.encode()?;
        let tmp = path.with_extension("tmp-redflag");
        std::fs::write(&tmp, &bytes).map_err(|e| Error::io(&tmp, e))?;
        std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e))?;
        Ok(bytes.len() as u64)
    }

    /// Reads an index file. Missing or unreadable: [`Error::WatchlistUnavailable`] (the check
    /// cannot be made, exit 69); not an index file, another version, damaged: [`Error::Data`]
    /// naming the file (exit 65).
    pub fn read(path: &Path) -> Result<Prebuilt> {
        let bytes = std::fs::read(path)
            .map_err(|e| Error::WatchlistUnavailable(format!("{}: {e}", path.display())))?;
        Prebuilt::decode(&bytes, &path.display().to_string())
    }

    /// Decodes the bytes of an index file; `file` names it in errors.
    pub fn decode(bytes: &[u8], file: &str) -> Result<Prebuilt> {
        let bad = |m: String| Error::data(Location::new(file), m);
        let rebuild = "rebuild it with `redflag watchlist build`";
        let body = parse_header(bytes).map_err(|m| bad(format!("{m}; {rebuild}")))?;
        let body: StoredBody = postcard::from_bytes(body)
            .map_err(|e| bad(format!("damaged index file ({e}); {rebuild}")))?;
        let lists: Vec<ListInfo> = body
            .lists
            .into_iter()
            .map(|l| ListInfo {
                modified: l.modified.map(|s| UNIX_EPOCH + Duration::from_secs(s)),
                ..l.info
            })
            .collect();
        let entities: Vec<Entity> = body.entities.into_iter().map(Entity::from).collect();
        if entities.iter().any(|e| e.list >= lists.len()) {
            return Err(bad(format!(
                "an entity names a list the file does not hold; {rebuild}"
            )));
        }
        let watchlist = Watchlist { lists, entities };
        let index =
            NameIndex::from_stored(body.names).map_err(|m| bad(format!("{m}; {rebuild}")))?;
        let names_fit = index.records.iter().all(|r| {
            watchlist
                .entities
                .get(r.entity as usize)
                .is_some_and(|e| (r.name as usize) < e.names.len())
        });
        if !names_fit || !body.addresses.fits(&watchlist) {
            return Err(bad(format!(
                "the indexes do not fit the watchlist; {rebuild}"
            )));
        }
        Ok(Prebuilt {
            watchlist,
            index,
            addresses: body.addresses,
        })
    }
}

/// Checks magic, versions, length and checksum; returns the body.
fn parse_header(bytes: &[u8]) -> std::result::Result<&[u8], String> {
    let Some(rest) = bytes.strip_prefix(&MAGIC) else {
        return Err("not a redflag index file".into());
    };
    let too_short = || "truncated index file".to_string();
    let (version, rest) = rest.split_first_chunk::<4>().ok_or_else(too_short)?;
    let version = u32::from_le_bytes(*version);
    if version != FORMAT_VERSION {
        return Err(format!(
            "index file format {version}, this redflag reads format {FORMAT_VERSION}"
        ));
    }
    let (&len, rest) = rest.split_first().ok_or_else(too_short)?;
    let (written_by, rest) = rest.split_at_checked(len as usize).ok_or_else(too_short)?;
    let written_by = String::from_utf8_lossy(written_by);
    if written_by != CRATE_VERSION {
        return Err(format!(
            "index file written by redflag {written_by}, this is redflag {CRATE_VERSION}"
        ));
    }
    let (len, rest) = rest.split_first_chunk::<8>().ok_or_else(too_short)?;
    let (sum, body) = rest.split_first_chunk::<8>().ok_or_else(too_short)?;
    if body.len() as u64 != u64::from_le_bytes(*len) {
        return Err(too_short());
    }
    if checksum(body) != u64::from_le_bytes(*sum) {
        return Err("damaged index file (checksum mismatch)".into());
    }
    Ok(body)
}

/// A fast checksum over 8-byte words (FxHash's mixing): it guards against truncation and
/// damage, not tampering, and costs a few milliseconds where SHA-256 would cost tens. Every step
/// is a bijection of the running state, so any one changed word changes the result.
fn checksum(bytes: &[u8]) -> u64 {
    let mut h = rustc_hash::FxHasher::default();
    h.write_u64(bytes.len() as u64);
    let mut words = bytes.chunks_exact(8);
    for w in &mut words {
        h.write_u64(u64::from_le_bytes(w.try_into().unwrap_or_default()));
    }
    for &b in words.remainder() {
        h.write_u8(b);
    }
    h.finish()
}

// The model types skip empty fields when serialized (`skip_serializing_if`), which a format
// without field names cannot read back; these mirrors store every field, in order.

#[derive(Serialize)]
struct Body<'a> {
    lists: Vec<StoredList>,
    entities: Vec<StoredEntity>,
    names: StoredNameIndexRef<'a>,
    addresses: &'a AddressIndex,
}

/// [`Body`] as read back (same fields, owned).
#[derive(Deserialize)]
struct StoredBody {
    lists: Vec<StoredList>,
    entities: Vec<StoredEntity>,
    names: StoredNameIndex,
    addresses: AddressIndex,
}

#[derive(Serialize, Deserialize)]
struct StoredList {
    info: ListInfo,
    /// `ListInfo::modified` in seconds since the epoch (the field is not serialized by itself).
    modified: Option<u64>,
}

#[derive(Serialize, Deserialize)]
struct StoredEntity {
    id: String,
    list: u32,
    kind: EntityKind,
    names: Vec<(String, NameType, Option<String>, Option<String>)>,
    countries: Vec<String>,
    addresses: Vec<StoredAddress>,
    identifiers: Vec<(String, String, Option<String>, Option<String>)>,
    relations: Vec<(RelationKind, String, Option<f64>, Option<String>)>,
    status: StoredStatus,
    remarks: Vec<String>,
}

#[derive(Serialize, Deserialize)]
struct StoredAddress {
    text: String,
    city: Option<String>,
    postal_code: Option<String>,
    region: Option<String>,
    country: Option<String>,
    source: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct StoredStatus {
    listed: bool,
    lists: Vec<String>,
    programs: Vec<String>,
    since: Option<String>,
    note: Option<String>,
    source: Option<String>,
}

impl From<&Entity> for StoredEntity {
    fn from(e: &Entity) -> Self {
        StoredEntity {
            id: e.id.clone(),
            list: e.list as u32,
            kind: e.kind,
            names: e
                .names
                .iter()
                .map(|n| {
                    (
                        n.text.clone(),
                        n.name_type,
                        n.lang.clone(),
                        n.source.clone(),
                    )
                })
                .collect(),
            countries: e.countries.clone(),
            addresses: e
                .addresses
                .iter()
                .map(|a| StoredAddress {
                    text: a.text.clone(),
                    city: a.city.clone(),
                    postal_code: a.postal_code.clone(),
                    region: a.region.clone(),
                    country: a.country.clone(),
                    source: a.source.clone(),
                })
                .collect(),
            identifiers: e
                .identifiers
                .iter()
                .map(|i| {
                    let source = i.source.clone();
                    (i.scheme.clone(), i.value.clone(), i.country.clone(), source)
                })
                .collect(),
            relations: e
                .relations
                .iter()
                .map(|r| (r.kind, r.target.clone(), r.percentage, r.source.clone()))
                .collect(),
            status: StoredStatus {
                listed: e.status.listed,
                lists: e.status.lists.clone(),
                programs: e.status.programs.clone(),
                since: e.status.since.clone(),
                note: e.status.note.clone(),
                source: e.status.source.clone(),
            },
            remarks: e.remarks.clone(),
        }
    }
}

impl From<StoredEntity> for Entity {
    fn from(e: StoredEntity) -> Self {
        Entity {
            id: e.id,
            list: e.list as usize,
            kind: e.kind,
            names: e
                .names
                .into_iter()
                .map(|(text, name_type, lang, source)| Name {
                    text,
                    name_type,
                    lang,
                    source,
                })
                .collect(),
            countries: e.countries,
            addresses: e
                .addresses
                .into_iter()
                .map(|a| Address {
                    text: a.text,
                    city: a.city,
                    postal_code: a.postal_code,
                    region: a.region,
                    country: a.country,
                    source: a.source,
                })
                .collect(),
            identifiers: e
                .identifiers
                .into_iter()
                .map(|(scheme, value, country, source)| Identifier {
                    scheme,
                    value,
                    country,
                    source,
                })
                .collect(),
            relations: e
                .relations
                .into_iter()
                .map(|(kind, target, percentage, source)| Relation {
                    kind,
                    target,
                    percentage,
                    source,
                })
                .collect(),
            status: Status {
                listed: e.status.listed,
                lists: e.status.lists,
                programs: e.status.programs,
                since: e.status.since,
                note: e.status.note,
                source: e.status.source,
            },
            remarks: e.remarks,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Prebuilt {
        Prebuilt::build(crate::watchlist::seed()).unwrap()
    }

    #[test]
    fn round_trips_the_seed_list() {
        let p = sample();
        let bytes = p.encode().unwrap();
        let back = Prebuilt::decode(&bytes, "x.idx").unwrap();
        assert_eq!(back.watchlist.lists, p.watchlist.lists);
        assert_eq!(back.watchlist.entities, p.watchlist.entities);
        assert_eq!(back.index.records.len(), p.index.records.len());
        assert_eq!(back.index.vocabulary_len(), p.index.vocabulary_len());
        assert_eq!(back.addresses.len(), p.addresses.len());
    }

    #[test]
    fn refuses_damaged_and_foreign_files() {
        let bytes = sample().encode().unwrap();
        let err = |b: &[u8]| Prebuilt::decode(b, "x.idx").err().unwrap().to_string();
        assert!(err(&bytes[..bytes.len() - 1]).contains("truncated"));
        let mut flipped = bytes.clone();
        let last = flipped.len() - 3;
        flipped[last] ^= 1;
        assert!(err(&flipped).contains("checksum"));
        let mut other = bytes.clone();
        other[8] = 99;
        assert!(err(&other).contains("format 99"));
        assert!(err(b"hello").contains("not a redflag index"));
    }
}
