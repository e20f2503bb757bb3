//! The candidate index: which listed names are worth scoring against a party's name.
//!
//! Every listed name is normalized once. Its tokens, the joins of two or three neighbouring tokens
//! (Trade Tools -> tradetools), the initials of its runs (CASIC) and its letters without spaces
//! form a vocabulary; each vocabulary entry points at the names that contain it. A query token
//! finds listed tokens through trigrams of a *folded key* in which the cheap differences of the
//! scorer (vowel for vowel, transliteration siblings, h, doubled letters) vanish, so a typo or
//! transliteration variant still shares grams; each entry found is then verified with the scorer's
//! own token similarity. Joined runs (a party's word against a listed run, a party's run against
//! a listed word) are found by the halves of their keys, exactly as the scorer's joined-word rule
//! pairs them: one edit apart. The cost of a query depends on the postings it touches, not on the
//! size of the list. A map of whole listed names finds a listed name embedded in a longer party
//! name (every run of the party's tokens is looked up). Not here: the final score (`score`) or the
//! decision (`policy`).

use rayon::prelude::*;
use rustc_hash::FxHashMap as HashMap;
use serde::{Deserialize, Serialize};

use crate::bound::RecordFacts;
use crate::model::{EntityKind, Watchlist};
use crate::score::distance::{token_similarities_of_bytes, MIN_LENGTH_RATIO};
use crate::text::folded::{fold_consonant, folded_key, join_key, join_key_into, within_one_edit};
use crate::text::{listed_name_readings, normalize, NormName, TokenClass};

/// One listed name, normalized for its entity's kind.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NameRecord {
    pub entity: u32,
    /// Index into the entity's `names`.
    pub name: u32,
    pub kind: EntityKind,
    pub norm: NormName,
}

pub struct NameIndex {
    pub records: Vec<NameRecord>,
    /// Text -> vocabulary id, the texts being `vocab_text`'s.
    vocab: VocabMap,
    vocab_text: Texts,
    /// Vocabulary id -> records containing it, with the mask of their tokens it stands for.
    postings: Postings<u64>,
    /// Trigram -> gram id; `gram_postings` maps gram ids to vocabulary ids.
    grams: HashMap<[u8; 3], u32>,
    gram_postings: GramPostings,
    /// Number of trigrams of each vocabulary entry's key.
    gram_count: Vec<u16>,
    /// Listed tokens and runs by halves of their keys: the joined-word rule's lookups.
    half_keys: HalfKeys,
    /// Embeddable listed names (tokens joined by spaces) -> their records: a run of a party's
    /// tokens found here is a listed name embedded in the party's name.
    embedded: EmbeddedNames,
    /// What the first bound reads of each record, by record id (see [`RecordFacts`]): derived
    /// from the records, not stored.
    record_facts: Vec<RecordFacts>,
    /// Fuzzy lookups already made (token and floor -> vocabulary ids): party names repeat across
    /// an export, and their words far more, so each word pays for its lookup once.
    lookup_cache: std::sync::RwLock<LookupCache>,
    /// Consonant skeletons (see [`folded_skeleton`]), built on first use: of every vocabulary
    /// entry -> its ids, for queries in a script that does not write short vowels; and of the
    /// tokens of such listed names -> (record, token), for queries in Latin letters.
    skeleton_vocabulary: std::sync::OnceLock<HashMap<Vec<u8>, Vec<u32>>>,
    skeleton_records: std::sync::OnceLock<SkeletonRecords>,
    /// Which index a thread's lookup counters were laid out for (see [`Scratch::counters`]).
    lookup_id: u64,
}

/// A new [`NameIndex::lookup_id`]: distinct for every index built or read in the process.
fn next_lookup_id() -> u64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

/// Vocabulary text -> id without a second copy of every text: the tables hold ids, hashed and
/// compared through the texts they stand for (on a million-name list, a few hundred MB saved).
/// The map is split in [`VOCAB_SHARDS`] tables by bits of the text's hash, so that a large list's
/// vocabulary is interned shard by shard, in parallel, each table small enough to stay in the
/// caches (one table for all made interning half of a million-name build, waiting on memory).
struct VocabMap {
    shards: Vec<hashbrown::HashTable<u32>>,
}

/// Shards of the vocabulary map.
const VOCAB_SHARDS: usize = 16;
/// Where the shard's bits lie in a text's hash: above those a table's buckets are chosen by,
/// below the seven its tags take.
const VOCAB_SHARD_SHIFT: u32 = 40;

fn vocab_shard(hash: u64) -> usize {
    (hash >> VOCAB_SHARD_SHIFT) as usize & (VOCAB_SHARDS - 1)
}

impl Default for VocabMap {
    fn default() -> VocabMap {
        VocabMap::with_capacity(0)
    }
}

impl VocabMap {
    /// Tables for about `entries` texts in all (an eighth more each: the shards are not all
    /// equally full).
    fn with_capacity(entries: usize) -> VocabMap {
        let each = if entries == 0 {
            0
        } else {
            entries / VOCAB_SHARDS * 9 / 8 + 16
        };
        VocabMap {
            shards: (0..VOCAB_SHARDS)
                .map(|_| hashbrown::HashTable::with_capacity(each))
                .collect(),
        }
    }

    fn hash(text: &str) -> u64 {
        use std::hash::BuildHasher;
        rustc_hash::FxBuildHasher.hash_one(text)
    }

    fn get(&self, texts: &Texts, text: &str) -> Option<u32> {
        let hash = VocabMap::hash(text);
        self.shards[vocab_shard(hash)]
            .find(hash, |&id| texts.get(id) == text)
            .copied()
    }

    /// Adds `texts[id]`, which must not be in the map yet.
    fn insert(&mut self, texts: &Texts, id: u32) {
        let hash = VocabMap::hash(texts.get(id));
        self.shards[vocab_shard(hash)].insert_unique(hash, id, |&id| VocabMap::hash(texts.get(id)));
    }

    fn of(texts: &Texts) -> VocabMap {
        let mut map = VocabMap::with_capacity(texts.len());
        for id in 0..texts.len() as u32 {
            map.insert(texts, id);
        }
        map
    }
}

/// One shard of the vocabulary while a list's index is built: its table and texts (ids of its
/// own, renumbered when the shards are put together), and every (record, entry) pair whose entry
/// falls in it, in record order.
#[derive(Default)]
struct VocabShard {
    table: hashbrown::HashTable<u32>,
    texts: Texts,
    /// What each entry is, at best (a single token beats a join beats an exact-only entry: the
    /// same text can be several).
    kinds: Vec<EntryKind>,
    records: Vec<u32>,
    entries: Vec<u32>,
    masks: Vec<u64>,
}

impl VocabShard {
    /// The shard's id of `text`, added if new.
    fn intern(&mut self, hash: u64, text: &str) -> u32 {
        let texts = &mut self.texts;
        let entry = self.table.entry(
            hash,
            |&id| texts.get(id) == text,
            |&id| VocabMap::hash(texts.get(id)),
        );
        match entry {
            hashbrown::hash_table::Entry::Occupied(e) => *e.get(),
            hashbrown::hash_table::Entry::Vacant(e) => {
                let id = texts.len() as u32;
                texts.push(text);
                e.insert(id);
                id
            }
        }
    }
}

/// A listed name's vocabulary entry on its way to its shard: its text (in the batch's buffer),
/// the name's record, what the entry is and the name's tokens it stands for.
struct Occurrence {
    hash: u64,
    text: std::ops::Range<u32>,
    record: u32,
    kind: EntryKind,
    mask: u64,
}

/// The entries of a run of records, by shard.
struct OccurrenceBatch {
    text: String,
    by_shard: Vec<Vec<Occurrence>>,
}

impl OccurrenceBatch {
    /// The distinct entries of `records` (numbered from `first`): the same text twice in a name
    /// (a join equal to a token) is one entry, with both masks.
    fn of(records: &[NameRecord], first: usize) -> OccurrenceBatch {
        let mut batch = OccurrenceBatch {
            text: String::new(),
            by_shard: (0..VOCAB_SHARDS).map(|_| Vec::new()).collect(),
        };
        // The record's entries so far: (shard, index in it).
        let mut seen: Vec<(usize, usize)> = Vec::new();
        for (k, r) in records.iter().enumerate() {
            let record = (first + k) as u32;
            seen.clear();
            vocabulary_entries(&r.norm, |entry, mask, kind| {
                let hash = VocabMap::hash(entry);
                let by_shard = &mut batch.by_shard;
                let text = &batch.text;
                let same = seen.iter().find(|&&(s, i)| {
                    let o = &by_shard[s][i];
                    o.hash == hash && &text[o.text.start as usize..o.text.end as usize] == entry
                });
                if let Some(&(s, i)) = same {
                    let o = &mut by_shard[s][i];
                    o.mask |= mask;
                    o.kind = o.kind.max(kind);
                    return;
                }
                let start = batch.text.len() as u32;
                batch.text.push_str(entry);
                let shard = vocab_shard(hash);
                seen.push((shard, by_shard[shard].len()));
                by_shard[shard].push(Occurrence {
                    hash,
                    text: start..batch.text.len() as u32,
                    record,
                    kind,
                    mask,
                });
            });
        }
        batch
    }
}

/// Records whose entries are gathered at a time before the shards intern them (a few MB).
const INTERN_BATCH_RECORDS: usize = 1 << 15;
/// Records a task gathers the entries of.
const INTERN_CHUNK_RECORDS: usize = 1 << 10;
/// Vocabulary entries a task takes the grams of.
const GRAM_CHUNK_ENTRIES: usize = 1 << 13;
/// A chunk of entries' grams in the order first met, each with the chunk's count of it, and
/// each entry's number of grams.
type ChunkGrams = (Vec<([u8; 3], u32)>, Vec<u16>);
/// Chunks of entries whose gram ids are taken in parallel before they are written into the
/// lists (one thread writes, in entry order): 64 chunks' are about 20 MB. Two in the unit
/// tests, whose lists are a few chunks long, so that they cross batches.
const GRAM_SCATTER_CHUNKS: usize = if cfg!(test) { 2 } else { 64 };

/// An entry's place in the vocabulary's numbering, packed in one word so that the sort moves
/// 8 bytes an entry (a tuple of four took 16, and collected without a known length it was the
/// build's peak on a large list): kind (single tokens, joins, exact-only), byte length (past
/// 2^26 bytes held there, still after every shorter one), shard, the shard's id.
fn numbering_key(kind: EntryKind, len: usize, shard: usize, id: u32) -> u64 {
    const _: () = assert!(VOCAB_SHARDS <= 16);
    let rank: u64 = match kind {
        EntryKind::Token => 0,
        EntryKind::Join => 1,
        EntryKind::ExactOnly => 2,
    };
    (rank << 62) | ((len.min((1 << 26) - 1) as u64) << 36) | ((shard as u64) << 32) | u64::from(id)
}

/// The kind, shard and shard's id of a [`numbering_key`].
fn numbered_entry(key: u64) -> (EntryKind, usize, u32) {
    let kind = match key >> 62 {
        0 => EntryKind::Token,
        1 => EntryKind::Join,
        _ => EntryKind::ExactOnly,
    };
    (kind, ((key >> 32) & 0xf) as usize, key as u32)
}

/// The vocabulary of `records`, ids numbered by kind (single tokens, joins, exact-only), then
/// length, and the record postings: a lookup reads the entries of one kind and a window of
/// lengths, which are then one stretch of ids, texts and counters instead of a scatter over the
/// whole vocabulary. Entries are gathered per record in parallel and interned per shard in
/// parallel; the numbering depends on the texts and the records' order only, not on threads.
fn build_vocabulary(records: &[NameRecord]) -> (VocabMap, Texts, Vec<EntryKind>, Postings<u64>) {
    // A listed name gives four to five vocabulary entries (tokens, joins, initials) on the
    // official lists and on the generated million: each table sized once (reserving the
    // shards' pair lists too measured no faster, and more memory at 100,000 names).
    let mut shards: Vec<VocabShard> = VocabMap::with_capacity(records.len() * 5)
        .shards
        .into_iter()
        .map(|table| VocabShard {
            table,
            ..VocabShard::default()
        })
        .collect();
    for (b, batch) in records.chunks(INTERN_BATCH_RECORDS).enumerate() {
        let first = b * INTERN_BATCH_RECORDS;
        let batches: Vec<OccurrenceBatch> = batch
            .par_chunks(INTERN_CHUNK_RECORDS)
            .enumerate()
            .map(|(c, chunk)| OccurrenceBatch::of(chunk, first + c * INTERN_CHUNK_RECORDS))
            .collect();
        shards.par_iter_mut().enumerate().for_each(|(s, shard)| {
            for batch in &batches {
                for o in &batch.by_shard[s] {
                    let text = &batch.text[o.text.start as usize..o.text.end as usize];
                    let id = shard.intern(o.hash, text);
                    if shard.kinds.len() <= id as usize {
                        shard.kinds.push(o.kind);
                    }
                    let kind = &mut shard.kinds[id as usize];
                    *kind = (*kind).max(o.kind);
                    shard.records.push(o.record);
                    shard.entries.push(id);
                    shard.masks.push(o.mask);
                }
            }
        });
    }
    // The final numbering: by kind, length, then shard and the shard's own order.
    let mut keyed: Vec<u64> = Vec::with_capacity(shards.iter().map(|s| s.texts.len()).sum());
    for (s, shard) in shards.iter().enumerate() {
        keyed.extend((0..shard.texts.len() as u32).map(|id| {
            let span = shard.texts.span(id);
            let len = span.end - span.start;
            numbering_key(shard.kinds[id as usize], len, s, id)
        }));
    }
    keyed.par_sort_unstable();
    let mut renumbered: Vec<Vec<u32>> = shards.iter().map(|s| vec![0; s.texts.len()]).collect();
    let mut texts = Texts::default();
    let mut kinds = Vec::with_capacity(keyed.len());
    for (new, &key) in keyed.iter().enumerate() {
        let (kind, s, id) = numbered_entry(key);
        renumbered[s][id as usize] = new as u32;
        texts.push(shards[s].texts.get(id));
        kinds.push(kind);
    }
    drop(keyed);
    for shard in &mut shards {
        (shard.texts, shard.kinds) = Default::default();
    }
    // Each entry's records in record order (a shard's pairs are), as a counting sort.
    let keys = texts.len();
    let offsets = offsets_of(
        keys,
        shards
            .iter()
            .zip(&renumbered)
            .flat_map(|(shard, new)| shard.entries.iter().map(|&id| new[id as usize])),
    );
    let total = offsets[keys] as usize;
    let mut cursor: Vec<u32> = offsets[..keys].to_vec();
    let (mut ids, mut payloads) = (vec![0u32; total], vec![0u64; total]);
    // Shard by shard, each shard's pairs freed once placed.
    for (shard, new) in shards.iter_mut().zip(&renumbered) {
        let (records, entries, masks) = (
            std::mem::take(&mut shard.records),
            std::mem::take(&mut shard.entries),
            std::mem::take(&mut shard.masks),
        );
        for ((id, record), mask) in entries.into_iter().zip(records).zip(masks) {
            let at = &mut cursor[new[id as usize] as usize];
            ids[*at as usize] = record;
            payloads[*at as usize] = mask;
            *at += 1;
        }
    }
    let postings = Postings {
        offsets,
        ids,
        payloads,
    };
    // The tables become the map: an entry's hash is its text's, whatever its id.
    let map = VocabMap {
        shards: shards
            .into_iter()
            .zip(&renumbered)
            .map(|(mut shard, new)| {
                for id in shard.table.iter_mut() {
                    *id = new[*id as usize];
                }
                shard.table
            })
            .collect(),
    };
    (map, texts, kinds, postings)
}

/// The vocabulary's texts in one buffer, in id order. Ids are numbered by kind and length (see
/// `NameIndex::build`), so the entries one lookup verifies, all of a similar length, lie close
/// together in memory, and so do their counters.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Texts {
    bytes: String,
    /// `ends[id]`: where text `id` ends in `bytes` (it starts where `id - 1` ends).
    ends: Vec<u32>,
}

impl Texts {
    fn len(&self) -> usize {
        self.ends.len()
    }

    fn get(&self, id: u32) -> &str {
        &self.bytes[self.span(id)]
    }

    fn push(&mut self, text: &str) {
        self.bytes.push_str(text);
        self.ends.push(self.bytes.len() as u32);
    }

    /// Where text `id` lies in `bytes`.
    fn span(&self, id: u32) -> std::ops::Range<usize> {
        span_of(&self.ends, id)
    }

    fn iter(&self) -> impl Iterator<Item = &str> {
        (0..self.len() as u32).map(|id| self.get(id))
    }

    /// Whether the ends cut `bytes` into texts (a stored index is checked before use).
    fn is_consistent(&self) -> bool {
        self.ends.windows(2).all(|w| w[0] <= w[1])
            && self
                .ends
                .last()
                .map_or(self.bytes.is_empty(), |&e| e as usize == self.bytes.len())
            && self
                .ends
                .iter()
                .all(|&e| self.bytes.is_char_boundary(e as usize))
    }
}

/// The embeddable listed names (see [`embeddable`]), found by their tokens: a run of a party's
/// tokens that is one of them is a listed name embedded in the party's name. The table holds
/// record ids hashed by their tokens' texts, which it reads from the records (no copy of the
/// names).
#[derive(Default)]
struct EmbeddedNames {
    table: hashbrown::HashTable<u32>,
    /// Most tokens of an embeddable name: longer runs need not be looked up.
    max_tokens: usize,
}

/// Adds a token to the hash of a run of tokens.
fn add_token(hasher: &mut rustc_hash::FxHasher, text: &str) {
    use std::hash::Hasher;
    hasher.write(text.as_bytes());
    hasher.write_u8(0xff);
}

impl EmbeddedNames {
    fn hash_of(tokens: &[crate::text::Token]) -> u64 {
        use std::hash::Hasher;
        let mut hasher = rustc_hash::FxHasher::default();
        for t in tokens {
            add_token(&mut hasher, &t.text);
        }
        hasher.finish()
    }

    fn of(records: &[NameRecord]) -> EmbeddedNames {
        let mut names = EmbeddedNames::default();
        for (ri, r) in records.iter().enumerate() {
            if embeddable(&r.norm, r.kind) {
                names.max_tokens = names.max_tokens.max(r.norm.tokens.len());
                names.table.insert_unique(
                    EmbeddedNames::hash_of(&r.norm.tokens),
                    ri as u32,
                    |&r| EmbeddedNames::hash_of(&records[r as usize].norm.tokens),
                );
            }
        }
        names
    }

    /// The records whose name is exactly `run` (`hasher`: the run's tokens added in order).
    fn records<'a>(
        &'a self,
        records: &'a [NameRecord],
        hasher: &rustc_hash::FxHasher,
        run: &'a [crate::text::Token],
    ) -> impl Iterator<Item = u32> + 'a {
        use std::hash::Hasher;
        self.table
            .iter_hash(hasher.clone().finish())
            .copied()
            .filter(move |&r| {
                let tokens = &records[r as usize].norm.tokens;
                tokens.len() == run.len() && tokens.iter().zip(run).all(|(a, b)| a.text == b.text)
            })
    }
}

/// Folded skeleton -> (record, mask of the token that has it).
type SkeletonRecords = HashMap<Vec<u8>, Vec<(u32, u64)>>;

/// A token's consonants, folded as in [`folded_key`]: vowels (and `w`, `y` after the first
/// letter, which Arabic and Hebrew write for long vowels) dropped, transliteration siblings as
/// one letter, doubled letters once. `biriz` and `perez` both give `prs`: the scorer compares a
/// token from a script without short vowels with a Latin one by consonants, and the index finds
/// such pairs when their folded skeletons agree. None for fewer than two consonants.
pub fn folded_skeleton(token: &str) -> Option<Vec<u8>> {
    let mut out: Vec<u8> = Vec::with_capacity(token.len());
    for (k, &b) in token.as_bytes().iter().enumerate() {
        let vowel =
            matches!(b, b'a' | b'e' | b'i' | b'o' | b'u') || (k > 0 && matches!(b, b'w' | b'y'));
        if vowel {
            continue;
        }
        let f = match b {
            b'j' | b'y' => b'j',
            other => match fold_consonant(other) {
                Some(f) => f,
                None => continue,
            },
        };
        if out.last() != Some(&f) {
            out.push(f);
        }
    }
    (out.len() >= 2 && !out.iter().any(u8::is_ascii_digit)).then_some(out)
}

/// The stored parts of a [`NameIndex`], written by reference (fields in the order of
/// [`StoredNameIndex`], which reads them back).
#[derive(Serialize)]
pub(crate) struct StoredNameIndexRef<'a> {
    records: &'a [NameRecord],
    vocab_text: &'a Texts,
    postings: &'a Postings<u64>,
    grams: &'a HashMap<[u8; 3], u32>,
    gram_postings: &'a GramPostings,
    gram_count: &'a [u16],
    half_keys: &'a HalfKeys,
}

#[derive(Deserialize)]
pub(crate) struct StoredNameIndex {
    records: Vec<NameRecord>,
    vocab_text: Texts,
    postings: Postings<u64>,
    grams: HashMap<[u8; 3], u32>,
    gram_postings: GramPostings,
    gram_count: Vec<u16>,
    half_keys: HalfKeys,
}

/// The order of a listed token in gram postings: by length (so a lookup reads only the lengths
/// the scorer compares).
fn gram_order(len: usize) -> u16 {
    len.min(0xffff) as u16
}

/// (token, floor bits) -> vocabulary ids with their similarity to the token.
type LookupCache = HashMap<(Box<str>, u32), std::sync::Arc<[(u32, f32)]>>;

/// Entries kept in the lookup cache; beyond it lookups are made but not kept.
const LOOKUP_CACHE_ENTRIES: usize = 200_000;

/// Lists of ids per key, flattened into one array: `ids[offsets[k]..offsets[k + 1]]`, each with
/// a mask (which tokens of a record a vocabulary entry stands for). Built once from triples; far
/// fewer allocations than a `Vec` per key.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Postings<P> {
    offsets: Vec<u32>,
    ids: Vec<u32>,
    /// One per id: the token mask.
    payloads: Vec<P>,
}

/// Gram id -> the vocabulary ids whose folded key holds the gram, ascending. Vocabulary ids run
/// by kind and then length, so the ids of one [`gram_order`] range are one stretch of a list,
/// found by binary search on the ids themselves: no sort key is stored beside each id (on a
/// large list, 2 bytes for each of 40 million postings).
#[derive(Debug, Default, Serialize, Deserialize)]
struct GramPostings {
    offsets: Vec<u32>,
    ids: Vec<u32>,
    /// `(gram order, first id of that order)` for each order the searched entries have,
    /// ascending in both, then `(u32::MAX, one past the last searched entry)`.
    order_starts: Vec<(u32, u32)>,
}

/// The range of a key's list in a flattened array of lists.
fn list_range(offsets: &[u32], key: u32) -> std::ops::Range<usize> {
    let k = key as usize;
    match (offsets.get(k), offsets.get(k + 1)) {
        (Some(&a), Some(&b)) => a as usize..b as usize,
        _ => 0..0,
    }
}

/// Offsets of lists from the number of ids under each key: `offsets[k]..offsets[k + 1]`.
fn offsets_of(keys: usize, keys_of: impl IntoIterator<Item = u32>) -> Vec<u32> {
    let mut offsets = vec![0u32; keys + 1];
    for k in keys_of {
        offsets[k as usize + 1] += 1;
    }
    accumulate_offsets(&mut offsets);
    offsets
}

/// Offsets from each list's length stored at its key's `k + 1`: the running sums in place.
fn accumulate_offsets(offsets: &mut [u32]) {
    for k in 1..offsets.len() {
        offsets[k] += offsets[k - 1];
    }
}

impl<P> Postings<P> {
    fn range(&self, key: u32) -> std::ops::Range<usize> {
        list_range(&self.offsets, key)
    }
}

impl GramPostings {
    /// The ids whose gram order lies in `lo..=hi`, as a half-open id range.
    fn id_window(&self, lo: u16, hi: u16) -> (u32, u32) {
        let first_at = |order: u32| {
            let at = self.order_starts.partition_point(|&(o, _)| o < order);
            self.order_starts.get(at).map_or(u32::MAX, |&(_, id)| id)
        };
        (first_at(u32::from(lo)), first_at(u32::from(hi) + 1))
    }

    /// The ids of `gram`'s list within an [`id_window`](Self::id_window).
    #[inline]
    fn get_in(&self, gram: u32, (lo, hi): (u32, u32)) -> &[u32] {
        let ids = &self.ids[list_range(&self.offsets, gram)];
        let a = ids.partition_point(|&id| id < lo);
        let b = ids.partition_point(|&id| id < hi);
        &ids[a..b]
    }

    /// Whether stored gram postings fit an index of `grams` grams and `vocab_len` entries (every
    /// list ascending and within the vocabulary, the order table ascending).
    fn fits(&self, grams: usize, vocab_len: usize) -> bool {
        self.offsets.len() == grams + 1
            && self
                .offsets
                .last()
                .is_some_and(|&n| n as usize == self.ids.len())
            && self.offsets.windows(2).all(|w| w[0] <= w[1])
            && self.ids.iter().all(|&id| (id as usize) < vocab_len)
            && (0..grams as u32).all(|g| {
                let r = list_range(&self.offsets, g);
                self.ids[r].windows(2).all(|w| w[0] < w[1])
            })
            && self
                .order_starts
                .windows(2)
                .all(|w| w[0].0 < w[1].0 && w[0].1 <= w[1].1)
            && self
                .order_starts
                .last()
                .is_some_and(|&(o, id)| o == u32::MAX && id as usize <= vocab_len)
    }
}

/// Listed runs and listed tokens by halves of their keys ([`join_key`]), for the joined-word
/// rule ([`within_one_edit`]): a key one edit from a word's keeps its first half or its second
/// half as written (or, for two letters swapped across the middle, the word swapped back is
/// it), so a lookup probes both halves for each length the key can have (the word's, one less,
/// one more) and verifies what it finds. Exact, and a few probes a word, where a fuzzy search
/// over every listed run read most of a lookup's postings (BENCHMARKS.md). Single words use
/// it too, against listed tokens: two letters swapped in a short word (`aqas` / `aqsa`) leave it
/// too few shared trigrams.
#[derive(Debug, Default, Serialize, Deserialize)]
struct HalfKeys {
    /// Bucket (the top `bits` of a half's hash) -> `entries[offsets[b]..offsets[b + 1]]`.
    offsets: Vec<u32>,
    /// Per half, by bucket: a tag (16 bits of the half's hash above the other half's
    /// [`letter_mask`]) and the vocabulary id.
    entries: Vec<[u32; 2]>,
    bits: u32,
    /// The key of each listed token and run (ids `0..keys.ends.len()`), so that a probe's
    /// finds are verified without folding their texts again.
    keys: Keys,
}

/// Where item `id` lies in a buffer of items laid end to end, from each item's end.
pub(crate) fn span_of(ends: &[u32], id: u32) -> std::ops::Range<usize> {
    let id = id as usize;
    let start = if id == 0 { 0 } else { ends[id - 1] as usize };
    start..ends[id] as usize
}

/// Keys of entries `0..ends.len()` in one buffer (not text: folding keeps bytes, not
/// characters).
#[derive(Debug, Default, Serialize, Deserialize)]
struct Keys {
    bytes: Vec<u8>,
    ends: Vec<u32>,
}

impl Keys {
    /// The [`join_key`]s of entries `0..count`, in parallel: their lengths first, then each
    /// chunk written in place (no chunk's keys held beside the whole).
    fn of(texts: &Texts, count: u32) -> Keys {
        let mut ends: Vec<u32> = (0..count)
            .into_par_iter()
            .map_init(Vec::new, |key, id| {
                join_key_into(texts.get(id), key);
                key.len() as u32
            })
            .collect();
        accumulate_offsets(&mut ends);
        let mut bytes = vec![0u8; ends.last().map_or(0, |&e| e as usize)];
        let mut parts = Vec::new();
        let mut rest = &mut bytes[..];
        for first in (0..count).step_by(GRAM_CHUNK_ENTRIES) {
            let end = count.min(first + GRAM_CHUNK_ENTRIES as u32);
            let from = if first == 0 {
                0
            } else {
                ends[first as usize - 1]
            };
            let (part, tail) = rest.split_at_mut((ends[end as usize - 1] - from) as usize);
            parts.push((first..end, part));
            rest = tail;
        }
        parts.into_par_iter().for_each(|(ids, part)| {
            let (mut key, mut at) = (Vec::new(), 0);
            for id in ids {
                join_key_into(texts.get(id), &mut key);
                part[at..at + key.len()].copy_from_slice(&key);
                at += key.len();
            }
        });
        Keys { bytes, ends }
    }

    fn get(&self, id: u32) -> &[u8] {
        &self.bytes[span_of(&self.ends, id)]
    }

    /// Where key `id` starts in `bytes`.
    fn start(&self, id: u32) -> usize {
        span_of(&self.ends, id).start
    }
}

/// Which half of a key, of what length, of which kind of entry: one hash for the three.
fn half_key_hash(kind: EntryKind, suffix: bool, len: usize, half: &[u8]) -> u64 {
    use std::hash::Hasher;
    let mut h = rustc_hash::FxHasher::default();
    h.write_u8(kind as u8);
    h.write_u8(u8::from(suffix));
    h.write_usize(len);
    h.write(half);
    // A final mix: the buckets are the top bits.
    let mut x = h.finish();
    x ^= x >> 31;
    x = x.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    x ^ (x >> 29)
}

/// The bits of a half's hash a probe compares (the bucket is chosen by its top bits, at most
/// 30 of them; the lowest 16 carry a letter mask while the index is built).
fn half_check(hash: u64) -> u16 {
    (hash >> 16) as u16
}

/// Which letters a part of a key holds, a bit each: the low four bits of a byte, which tell
/// apart the eleven letters keys are made of (`a k s v t p g l m n r`; any other byte shares a
/// bit), and in the five bits none of them uses, whether the commonest repeat (`a` twice and
/// three times, `t`, `n` and `r` twice). An edit changes the count of at most two letters by
/// one, so at most two bits, which is the test of `HalfKeys::probe`; a shared bit makes it
/// looser, never wrong.
fn letter_mask(part: &[u8]) -> u16 {
    let (mut once, mut twice, mut thrice) = (0u16, 0u16, 0u16);
    for &b in part {
        let bit = 1u16 << (b & 15);
        thrice |= twice & bit;
        twice |= once & bit;
        once |= bit;
    }
    let repeat = |counts: u16, letter: u8, to: u32| ((counts >> (letter & 15)) & 1) << to;
    once | repeat(twice, b'a', 5)
        | repeat(thrice, b'a', 8)
        | repeat(twice, b't', 9)
        | repeat(twice, b'n', 10)
        | repeat(twice, b'r', 15)
}

/// The halves of a key (see [`HalfKeys`]): the first `len / 2` bytes and the rest.
fn key_halves(key: &[u8]) -> (&[u8], &[u8]) {
    key.split_at(key.len() / 2)
}

impl HalfKeys {
    /// The halves of the entries of the kinds the joined-word rule compares (listed tokens and
    /// runs), in parallel.
    fn build(texts: &Texts, kinds: &[EntryKind]) -> HalfKeys {
        // Listed tokens and runs are numbered before the exact-only entries (see
        // `numbering_key`): their keys are those of ids `0..searched`.
        let searched = kinds
            .iter()
            .position(|&k| k == EntryKind::ExactOnly)
            .unwrap_or(kinds.len()) as u32;
        debug_assert!(kinds[searched as usize..]
            .iter()
            .all(|&k| k == EntryKind::ExactOnly));
        let keys = Keys::of(texts, searched);
        // Each half's hash with, in its low 16 bits, the letters of the other half (see
        // `probe`). Computed twice (to count the buckets, then to fill them), rather than held
        // for every half beside the entries placed from them (55 MB on a million names).
        let halves = |id: u32| {
            let kind = kinds[id as usize];
            let key = keys.get(id);
            let (head, tail) = key_halves(key);
            let tagged = |hash: u64, rest: &[u8]| hash & !0xffff | u64::from(letter_mask(rest));
            [
                tagged(half_key_hash(kind, false, key.len(), head), tail),
                tagged(half_key_hash(kind, true, key.len(), tail), head),
            ]
        };
        let total = 2 * searched as usize;
        // Two to four halves a bucket.
        let bits = (usize::BITS - total.leading_zeros())
            .saturating_sub(2)
            .clamp(4, 30);
        let bucket = |hash: u64| (hash >> (64 - bits)) as u32;
        let offsets = offsets_of(1 << bits, (0..searched).flat_map(halves).map(bucket));
        let mut cursor = offsets[..offsets.len() - 1].to_vec();
        let mut entries = vec![[0u32; 2]; total];
        for id in 0..searched {
            for h in halves(id) {
                let at = &mut cursor[bucket(h) as usize];
                let tag = (u32::from(half_check(h)) << 16) | (h as u32 & 0xffff);
                entries[*at as usize] = [tag, id];
                *at += 1;
            }
        }
        HalfKeys {
            offsets,
            entries,
            bits,
            keys,
        }
    }

    /// Appends the ids whose half hashes to `hash` (and, rarely, a few others: they are
    /// verified) and whose other half may be one edit from the word's letters beside the half
    /// (`rest`, as a [`letter_mask`]): one edit adds or removes at most two letters of a mask,
    /// and most entries sharing a half (every `Muhammad` run of a length) differ in more.
    fn probe(&self, hash: u64, rest: u16, out: &mut Vec<u32>) {
        if self.bits == 0 {
            return;
        }
        let range = list_range(&self.offsets, (hash >> (64 - self.bits)) as u32);
        if let Some(entries) = self.entries.get(range) {
            let check = half_check(hash);
            out.extend(
                entries
                    .iter()
                    .filter(|e| {
                        (e[0] >> 16) as u16 == check && (e[0] as u16 ^ rest).count_ones() <= 2
                    })
                    .map(|e| e[1]),
            );
        }
    }

    /// Whether stored halves fit an index of `vocab_len` entries.
    fn fits(&self, vocab_len: usize) -> bool {
        (self.bits == 0 && self.offsets.is_empty() && self.entries.is_empty())
            || ((1..=30).contains(&self.bits)
                && self.offsets.len() == (1 << self.bits) + 1
                && self.offsets.windows(2).all(|w| w[0] <= w[1])
                && self
                    .offsets
                    .last()
                    .is_some_and(|&n| n as usize == self.entries.len())
                && self.keys.ends.len() <= vocab_len
                && self.keys.ends.windows(2).all(|w| w[0] <= w[1])
                && self
                    .keys
                    .ends
                    .last()
                    .map_or(self.keys.bytes.is_empty(), |&e| {
                        e as usize == self.keys.bytes.len()
                    })
                && self
                    .entries
                    .iter()
                    .all(|&[_, id]| (id as usize) < self.keys.ends.len()))
    }
}

/// Share of the larger folded-trigram count two tokens must share before they are compared: one
/// substitution destroys up to three trigrams, which is most of a short word's and little of a
/// long one's.
fn min_shared_grams(total: f32) -> f32 {
    if total <= 8.0 {
        (total * 0.25).max(1.0)
    } else {
        total * 0.34
    }
}

/// The lengths of the listed tokens a word of `len` bytes is compared with: the scorer does not
/// compare tokens whose lengths differ beyond [`MIN_LENGTH_RATIO`].
fn length_window(len: usize) -> (usize, usize) {
    let len = len as f32;
    (
        (len * MIN_LENGTH_RATIO).ceil() as usize,
        (len / MIN_LENGTH_RATIO).floor() as usize,
    )
}

/// Whether a lookup of the word `token` can find the listed token `listed`, pair by pair: they
/// are equal, or share the folded trigrams [`NameIndex::lookup`] asks of them, or their join keys
/// are one edit apart. The lookup returns exactly the listed tokens this holds for whose
/// similarity reaches the floor, and the scorer aligns a searched word with a listed token only
/// where it holds (see `score::pair_similarity`), so that what the index does not find cannot
/// align: the bound need not compare such pairs candidate by candidate.
pub(crate) fn lookup_finds(token: &str, listed: &str) -> bool {
    if token == listed {
        return true;
    }
    // A one-letter word is looked up as written (see `query_entries`).
    if token.len() < 2 {
        return false;
    }
    let (lo, hi) = length_window(token.len());
    if (gram_order(lo)..=gram_order(hi)).contains(&gram_order(listed.len())) {
        let (mut word, mut entry) = (Vec::new(), Vec::new());
        trigrams(&folded_key(token), &mut word);
        trigrams(&folded_key(listed), &mut entry);
        if !word.is_empty() {
            // Counted as the lookup's byte counters count (saturating).
            let shared = entry.iter().filter(|g| word.contains(g)).count().min(255) as u8;
            if shared >= word_share(word.len()) && shared >= entry_share(entry.len()) {
                return true;
            }
        }
    }
    within_one_edit(&join_key(listed), &join_key(token))
}

/// The share of grams an entry of `grams` grams asks of any word (the share asked of a pair is
/// the larger of both sides', [`min_shared_grams`] growing with the count). Entries past 63
/// grams (rare) are held to 63's, lower than theirs: a few more are verified, none is missed.
fn entry_share(grams: usize) -> u8 {
    min_shared_grams(grams.min(63) as f32).ceil() as u8
}

/// [`entry_share`] of every number of grams up to 63, for the lookup's counters.
fn own_shares() -> [u8; 64] {
    std::array::from_fn(entry_share)
}

/// The share of grams a word of `grams` grams asks of any entry, capped where the lookup's
/// counters saturate, so that a saturated count passes.
fn word_share(grams: usize) -> u8 {
    min_shared_grams(grams as f32).ceil().min(255.0) as u8
}

/// Per-thread buffers for vocabulary lookups: a dense counter per vocabulary entry.
#[derive(Default)]
struct Scratch {
    grams: Vec<[u8; 3]>,
    /// Per vocabulary entry of the index `owner`: the grams it shares with the word looked up
    /// (a byte: at most the word's number of distinct grams, saturating past 255, where the
    /// share needed is capped), and the share its own number of grams asks
    /// ([`own_shares`]). Side by side, so that the share test reads one place per entry: on a
    /// large list each read is a cache miss, and most entries are read once.
    counters: Vec<[u8; 2]>,
    /// The [`NameIndex::lookup_id`] `counters` were laid out for.
    owner: u64,
    /// Each entry counted, once (only where the lookup returns to them: see [`dense_scan`]).
    touched: Vec<u32>,
    /// Entries that passed the gram count, and their similarities.
    verify: Vec<u32>,
    sims: Vec<f32>,
    /// One bit per vocabulary entry, all clear between lookups (see [`sort_ids`]).
    bits: Vec<u64>,
}

/// The lookup reads its window of entries in order, rather than going back to each entry it
/// counted, once the postings it counts are at least this fraction of the window (one in eight):
/// a scan reads two bytes an entry in vector registers, a return to a counted entry is a
/// scattered read.
const DENSE_SCAN_RATIO: usize = 8;

/// Counts, for each entry of `lists`, the lists it is in (the first byte of its counter,
/// saturating), and with `touched`, writes each counted entry there once, returning how many.
///
/// # Safety
///
/// Every id of `lists` is below `counters.len()`, and `touched` is at least as long as the
/// lists together. (The gram postings hold vocabulary ids, built so and checked when a stored
/// index is read, `from_stored`; unchecked, since the checks were a third of the loop's
/// instructions, and this loop is most of a lookup's counting.)
unsafe fn count_grams(
    lists: &[&[u32]],
    counters: &mut [[u8; 2]],
    touched: Option<&mut [u32]>,
) -> usize {
    let Some(touched_ids) = touched else {
        for list in lists {
            for &id in *list {
                debug_assert!((id as usize) < counters.len());
                let c = &mut counters.get_unchecked_mut(id as usize)[0];
                *c = c.saturating_add(1);
            }
        }
        return 0;
    };
    // Without a branch per id: each id is written to `touched` and kept (the length advances)
    // only on its first count.
    let mut touched = 0;
    for list in lists {
        for &id in *list {
            debug_assert!((id as usize) < counters.len() && touched < touched_ids.len());
            let c = &mut counters.get_unchecked_mut(id as usize)[0];
            *touched_ids.get_unchecked_mut(touched) = id;
            touched += usize::from(*c == 0);
            *c = c.saturating_add(1);
        }
    }
    touched
}

/// The share test over a window of counters in order: the ids (`lo` the first's) whose shared
/// count reaches both `word_share` and their own share, ascending, pushed to `out`; every shared
/// count of the window is left at zero.
fn share_scan_dense(counters: &mut [[u8; 2]], lo: u32, word_share: u8, out: &mut Vec<u32>) {
    #[cfg(target_arch = "x86_64")]
    if !portable_share_scan() && std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU supports AVX2, checked just above.
        unsafe { share_scan_avx2(counters, lo, word_share, out) };
        return;
    }
    share_scan_portable(counters, lo, word_share, out);
}

#[cfg(test)]
thread_local! {
    /// Tests run the portable scan too, which a machine with AVX2 would never take.
    static PORTABLE_SCAN: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    /// And the return to each counted entry, which their small lists never take.
    static SPARSE_SCAN: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether a lookup that counted `postings` over a window of `window` entries reads the window
/// in order (see [`DENSE_SCAN_RATIO`]).
fn dense_scan(postings: usize, window: usize) -> bool {
    #[cfg(test)]
    if SPARSE_SCAN.get() {
        return false;
    }
    postings * DENSE_SCAN_RATIO >= window
}

/// Whether the scan must take the portable path (only ever in tests).
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
fn portable_share_scan() -> bool {
    #[cfg(test)]
    return PORTABLE_SCAN.get();
    #[cfg(not(test))]
    false
}

fn share_scan_portable(counters: &mut [[u8; 2]], lo: u32, word_share: u8, out: &mut Vec<u32>) {
    for (k, c) in counters.iter_mut().enumerate() {
        let [shared, own] = *c;
        // A share is at least 1: an entry counted nothing passes nothing.
        if shared >= word_share && shared >= own {
            out.push(lo + k as u32);
        }
        c[0] = 0;
    }
}

/// [`share_scan_portable`] thirty-two counters at a time: each pair of bytes one 16-bit lane,
/// the tests lane by lane, the lanes packed to one bit each.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn share_scan_avx2(counters: &mut [[u8; 2]], lo: u32, word_share: u8, out: &mut Vec<u32>) {
    use std::arch::x86_64::*;
    let chunks = counters.len() / 32;
    let low = _mm256_set1_epi16(0x00ff);
    let share = _mm256_set1_epi16(i16::from(word_share));
    for c in 0..chunks {
        let at = counters.as_mut_ptr().add(c * 32).cast::<u8>();
        // SAFETY: 64 bytes of counters from `at`, within the slice (`chunks` whole chunks).
        let (a, b) = (
            _mm256_loadu_si256(at.cast()),
            _mm256_loadu_si256(at.add(32).cast()),
        );
        let pass = |v: __m256i| {
            let (shared, own) = (_mm256_and_si256(v, low), _mm256_srli_epi16::<8>(v));
            // `shared >= x` is `max(shared, x) == shared`.
            _mm256_and_si256(
                _mm256_cmpeq_epi16(_mm256_max_epu16(shared, share), shared),
                _mm256_cmpeq_epi16(_mm256_max_epu16(shared, own), shared),
            )
        };
        // Sixteen lanes of all ones or zeros each, packed to bytes (in 128-bit halves, put
        // back in order by the permutation), then one bit a counter.
        let packed =
            _mm256_permute4x64_epi64::<0b11_01_10_00>(_mm256_packs_epi16(pass(a), pass(b)));
        let mut bits = _mm256_movemask_epi8(packed) as u32;
        _mm256_storeu_si256(at.cast(), _mm256_andnot_si256(low, a));
        _mm256_storeu_si256(at.add(32).cast(), _mm256_andnot_si256(low, b));
        let base = lo + (c * 32) as u32;
        while bits != 0 {
            out.push(base + bits.trailing_zeros());
            bits &= bits - 1;
        }
    }
    share_scan_portable(
        &mut counters[chunks * 32..],
        lo + (chunks * 32) as u32,
        word_share,
        out,
    );
}

/// Sorts distinct ids by setting their bits and reading them back in order: a lookup verifies
/// hundreds of entries, which a comparison sort orders in several times the instructions.
/// `bits` is left clear.
fn sort_ids(ids: &mut [u32], bits: &mut Vec<u64>) {
    let Some(&max) = ids.iter().max() else {
        return;
    };
    let min = ids.iter().copied().min().unwrap_or(0);
    if bits.len() <= max as usize / 64 {
        bits.resize(max as usize / 64 + 1, 0);
    }
    for &id in ids.iter() {
        bits[id as usize / 64] |= 1 << (id % 64);
    }
    let mut k = 0;
    let first = min as usize / 64;
    for (w, word) in bits[first..=max as usize / 64].iter_mut().enumerate() {
        let base = ((first + w) * 64) as u32;
        let mut word = std::mem::take(word);
        while word != 0 {
            ids[k] = base + word.trailing_zeros();
            k += 1;
            word &= word - 1;
        }
    }
}

thread_local! {
    static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::new(Scratch::default());
    static FOUND_SLOTS: std::cell::RefCell<Vec<u32>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// The candidates of one query as they are found: a slot per record of the index (its place in
/// `found`, or none), so that each posting reached is one indexed read rather than a hash
/// lookup; a query reaches thousands of records through common words. The slots are per thread
/// and left empty again when the query is done.
struct Found<'s> {
    slots: &'s mut Vec<u32>,
    found: Vec<(u32, CandidateFlags)>,
}

impl Found<'_> {
    const NONE: u32 = u32::MAX;

    fn entry(&mut self, record: u32) -> &mut CandidateFlags {
        let slot = &mut self.slots[record as usize];
        if *slot == Self::NONE {
            *slot = self.found.len() as u32;
            self.found.push((record, CandidateFlags::default()));
        }
        &mut self.found[*slot as usize].1
    }

    /// Asks for `record`'s slot ahead of [`Found::entry`].
    fn prefetch(&self, record: u32) {
        crate::prefetch(self.slots.as_ptr().wrapping_add(record as usize));
    }

    fn clear_slots(&mut self) {
        for &(record, _) in &self.found {
            self.slots[record as usize] = Self::NONE;
        }
    }

    fn finish(mut self) -> Vec<(u32, CandidateFlags)> {
        self.clear_slots();
        std::mem::take(&mut self.found)
    }
}

/// The slots are emptied however the query ends (a panic caught by the server included), so
/// the thread's next query starts from none.
impl Drop for Found<'_> {
    fn drop(&mut self) {
        self.clear_slots();
    }
}

/// Why a record became a candidate; the scorer decides whether it is a hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CandidateFlags {
    /// The whole listed name appears inside the party's name.
    pub embedded: bool,
    /// Bit i set: the query's token i (of the first 64) reached this record. Tokens that did not
    /// cannot align with it, which bounds its score (`Scorer::upper_bound`).
    pub reached_by: u64,
    /// Bit j set: the record's token j was reached by some query entry; the others cannot align.
    pub record_reached: u64,
    /// The best similarity with which each of the first [`SIM_SLOTS`] query tokens reached the
    /// record, in 255ths rounded up (so never below the real one).
    query_sims: [u8; SIM_SLOTS],
    /// The same for the record's first tokens.
    record_sims: [u8; SIM_SLOTS],
}

/// Tokens of a name whose best similarity a [`CandidateFlags`] keeps; beyond, a reached token
/// counts as matched exactly.
const SIM_SLOTS: usize = 16;

impl CandidateFlags {
    fn reach(&mut self, query_mask: u64, record_mask: u64, sim: f32) {
        self.reached_by |= query_mask;
        self.record_reached |= record_mask;
        // Rounded up without `ceil`, a library call on the baseline x86-64 target (this runs
        // for every posting a query reaches): the cast truncates a value in 0..=255.
        let scaled = sim.clamp(0.0, 1.0) * 255.0;
        let truncated = scaled as u8;
        let q = truncated + u8::from(f32::from(truncated) < scaled);
        for (bits, sims) in [
            (query_mask, &mut self.query_sims),
            (record_mask, &mut self.record_sims),
        ] {
            let mut b = bits & ((1 << SIM_SLOTS) - 1);
            while b != 0 {
                let i = b.trailing_zeros() as usize;
                sims[i] = sims[i].max(q);
                b &= b - 1;
            }
        }
    }

    fn sim(bits: u64, sims: &[u8; SIM_SLOTS], i: usize) -> f32 {
        if i >= 64 {
            1.0
        } else if bits & (1 << i) == 0 {
            0.0
        } else if i >= SIM_SLOTS {
            1.0
        } else {
            f32::from(sims[i]) / 255.0
        }
    }

    /// The best similarity with which query token `i` reached the record (0 if it did not).
    pub fn query_sim(&self, i: usize) -> f32 {
        CandidateFlags::sim(self.reached_by, &self.query_sims, i)
    }

    /// The best similarity with which the record's token `j` was reached (0 if it was not).
    pub fn record_sim(&self, j: usize) -> f32 {
        CandidateFlags::sim(self.record_reached, &self.record_sims, j)
    }
}

fn trigrams(key: &[u8], out: &mut Vec<[u8; 3]>) {
    out.clear();
    let mut padded = Vec::with_capacity(key.len() + 2);
    padded.push(b'$');
    padded.extend_from_slice(key);
    padded.push(b'$');
    if padded.len() < 3 {
        return;
    }
    for w in padded.windows(3) {
        let g = [w[0], w[1], w[2]];
        if !out.contains(&g) {
            out.push(g);
        }
    }
}

impl NameIndex {
    pub fn build(watchlist: &Watchlist) -> NameIndex {
        let records: Vec<NameRecord> = watchlist
            .entities
            .par_iter()
            .enumerate()
            .flat_map_iter(|(ei, e)| {
                // Aliases joined by a slash in one listed name are indexed one by one too.
                e.names.iter().enumerate().flat_map(move |(ni, n)| {
                    listed_name_readings(&n.text)
                        .into_iter()
                        .filter_map(move |reading| {
                            let norm = normalize(&reading, e.kind);
                            (!norm.is_empty()).then_some(NameRecord {
                                entity: ei as u32,
                                name: ni as u32,
                                kind: e.kind,
                                norm,
                            })
                        })
                })
            })
            .collect();

        let mut index = NameIndex {
            records: Vec::new(),
            vocab: VocabMap::default(),
            vocab_text: Texts::default(),
            postings: Postings::default(),
            grams: HashMap::default(),
            gram_postings: GramPostings::default(),
            gram_count: Vec::new(),
            half_keys: HalfKeys::default(),
            embedded: EmbeddedNames::default(),
            record_facts: Vec::new(),
            lookup_cache: Default::default(),
            skeleton_vocabulary: Default::default(),
            skeleton_records: Default::default(),
            lookup_id: next_lookup_id(),
        };
        let (vocab, vocab_text, entry_kind, postings) = build_vocabulary(&records);
        index.vocab = vocab;
        index.vocab_text = vocab_text;
        index.postings = postings;
        // The gram postings, in parallel, in two passes over chunks of entries: the grams each
        // chunk meets first, numbered in entry order (as one pass would), with the chunk's
        // count of each and each entry's number of grams; then each chunk's gram ids, written
        // into the lists in entry order, so each list comes out ascending. No flattened copy
        // of every entry's gram ids (4 bytes a gram, 160 MB on a million names) is held
        // beside the lists: only a batch of chunks' at a time.
        let texts = &index.vocab_text;
        // Only single listed tokens are searched by grams: runs and tokens are compared with
        // joined words through their keys' halves, the rest only as spelled.
        let searched = |id: usize| entry_kind[id] == EntryKind::Token;
        let chunks: Vec<std::ops::Range<usize>> = (0..texts.len())
            .step_by(GRAM_CHUNK_ENTRIES)
            .map(|lo| lo..texts.len().min(lo + GRAM_CHUNK_ENTRIES))
            .collect();
        let firsts: Vec<ChunkGrams> = chunks
            .par_iter()
            .map(|range| {
                let (mut seen, mut firsts) = (rustc_hash::FxHashMap::default(), Vec::new());
                let mut counts = Vec::with_capacity(range.len());
                let mut grams = Vec::new();
                for id in range.clone() {
                    if !searched(id) {
                        counts.push(0);
                        continue;
                    }
                    trigrams(&folded_key(texts.get(id as u32)), &mut grams);
                    counts.push(grams.len() as u16);
                    for g in &grams {
                        let at = *seen.entry(*g).or_insert_with(|| {
                            firsts.push((*g, 0));
                            firsts.len() - 1
                        });
                        firsts[at].1 += 1;
                    }
                }
                (firsts, counts)
            })
            .collect();
        // Each list's length at its gram's `k + 1`, then the offsets (see `offsets_of`).
        let mut offsets = vec![0u32];
        for (chunk_firsts, counts) in firsts {
            for (g, n) in chunk_firsts {
                let next = index.grams.len() as u32;
                let gid = *index.grams.entry(g).or_insert(next) as usize;
                if gid + 1 == offsets.len() {
                    offsets.push(0);
                }
                offsets[gid + 1] += n;
            }
            index.gram_count.extend(counts);
        }
        accumulate_offsets(&mut offsets);
        let mut cursor = offsets[..offsets.len() - 1].to_vec();
        let mut ids = vec![0u32; offsets[offsets.len() - 1] as usize];
        let (gram_ids, gram_count) = (&index.grams, &index.gram_count);
        for batch in chunks.chunks(GRAM_SCATTER_CHUNKS) {
            let batch_grams: Vec<Vec<u32>> = batch
                .par_iter()
                .map(|range| {
                    let (mut grams, mut out) = (Vec::new(), Vec::new());
                    for id in range.clone().filter(|&id| searched(id)) {
                        trigrams(&folded_key(texts.get(id as u32)), &mut grams);
                        out.extend(grams.iter().map(|g| gram_ids[g]));
                    }
                    out
                })
                .collect();
            for (range, grams) in batch.iter().zip(&batch_grams) {
                let mut grams = grams.iter();
                for id in range.clone() {
                    for &g in grams.by_ref().take(usize::from(gram_count[id])) {
                        ids[cursor[g as usize] as usize] = id as u32;
                        cursor[g as usize] += 1;
                    }
                }
            }
        }
        // Ordered by length: see `lookup`.
        let mut order_starts: Vec<(u32, u32)> = Vec::new();
        let mut searched_end = 0;
        for (id, (text, kind)) in texts.iter().zip(&entry_kind).enumerate() {
            if *kind != EntryKind::Token {
                continue;
            }
            let order = gram_order(text.len());
            if order_starts
                .last()
                .is_none_or(|&(o, _)| o != u32::from(order))
            {
                order_starts.push((u32::from(order), id as u32));
            }
            searched_end = id as u32 + 1;
        }
        order_starts.push((u32::MAX, searched_end));
        index.gram_postings = GramPostings {
            offsets,
            ids,
            order_starts,
        };
        debug_assert!(index.gram_postings.fits(index.grams.len(), texts.len()));
        index.half_keys = HalfKeys::build(texts, &entry_kind);

        index.records = records;
        index.build_derived();
        index
    }

    /// What is derived from the records and not stored: the map of embeddable names, and each
    /// record's facts for the first bound. Token runs looked up in a hash map rather than an
    /// Aho-Corasick automaton over the joined names: the same token-aligned matches, and about a
    /// tenth of the build time, which a prebuilt index pays at every start.
    fn build_derived(&mut self) {
        self.embedded = EmbeddedNames::of(&self.records);
        self.record_facts = self
            .records
            .par_iter()
            .map(|r| RecordFacts::of(&r.norm, r.kind))
            .collect();
    }

    /// What the first bound reads of record `id` ([`RecordFacts`]), without reading the record.
    pub fn record_facts(&self, id: u32) -> &RecordFacts {
        &self.record_facts[id as usize]
    }

    /// What a prebuilt index stores: everything but the vocabulary map (rebuilt from
    /// `vocab_text`), the automaton and the lookup cache.
    pub(crate) fn stored(&self) -> StoredNameIndexRef<'_> {
        StoredNameIndexRef {
            records: &self.records,
            vocab_text: &self.vocab_text,
            postings: &self.postings,
            grams: &self.grams,
            gram_postings: &self.gram_postings,
            gram_count: &self.gram_count,
            half_keys: &self.half_keys,
        }
    }

    /// The index from its stored parts, or why they do not fit together (a file that passed
    /// its checksum should always fit; this keeps a bad one from panicking later).
    pub(crate) fn from_stored(s: StoredNameIndex) -> Result<NameIndex, String> {
        let vocab_len = s.vocab_text.len();
        fn fits(p: &Postings<u64>, keys: usize, bound: usize) -> bool {
            p.offsets.len() == keys + 1
                && p.ids.len() == p.payloads.len()
                && p.offsets.last().is_some_and(|&n| n as usize == p.ids.len())
                && p.offsets.windows(2).all(|w| w[0] <= w[1])
                && p.ids.iter().all(|&id| (id as usize) < bound)
        }
        if !fits(&s.postings, vocab_len, s.records.len())
            || !s.gram_postings.fits(s.grams.len(), vocab_len)
            || s.gram_count.len() != vocab_len
            || !s.half_keys.fits(vocab_len)
            || s.grams.values().any(|&g| g as usize >= s.grams.len())
            || !s.vocab_text.is_consistent()
        {
            return Err("the name index is inconsistent".into());
        }
        let mut index = NameIndex {
            records: s.records,
            vocab: VocabMap::of(&s.vocab_text),
            vocab_text: s.vocab_text,
            postings: s.postings,
            grams: s.grams,
            gram_postings: s.gram_postings,
            gram_count: s.gram_count,
            half_keys: s.half_keys,
            embedded: EmbeddedNames::default(),
            record_facts: Vec::new(),
            lookup_cache: Default::default(),
            skeleton_vocabulary: Default::default(),
            skeleton_records: Default::default(),
            lookup_id: next_lookup_id(),
        };
        index.build_derived();
        Ok(index)
    }

    /// Folded skeletons of the vocabulary (acronyms aside) -> their ids.
    fn vocabulary_skeletons(&self) -> HashMap<Vec<u8>, Vec<u32>> {
        let mut map: HashMap<Vec<u8>, Vec<u32>> = HashMap::default();
        for (id, text) in self.vocab_text.iter().enumerate() {
            if text.starts_with(ACRONYM_MARK) {
                continue;
            }
            if let Some(key) = folded_skeleton(text) {
                map.entry(key).or_default().push(id as u32);
            }
        }
        map
    }

    /// Folded skeletons of the tokens of listed names written without short vowels -> (record,
    /// token mask).
    fn unvocalized_record_skeletons(&self) -> SkeletonRecords {
        let mut map = SkeletonRecords::default();
        for (ri, r) in self.records.iter().enumerate() {
            if !r.norm.unvocalized {
                continue;
            }
            for (j, t) in r.norm.tokens.iter().enumerate() {
                if let Some(key) = folded_skeleton(&t.text) {
                    map.entry(key)
                        .or_default()
                        .push((ri as u32, span_mask(j, j + 1)));
                }
            }
        }
        map
    }

    pub fn vocabulary_len(&self) -> usize {
        self.vocab_text.len()
    }

    /// Listed tokens and joined runs whose similarity to `token` reaches `floor`, with it (the
    /// token itself at 1.0 when listed). Through the lookup cache.
    pub fn similar_entries(&self, token: &str, floor: f32) -> Vec<(&str, f32)> {
        let mut ids = Vec::new();
        self.cached_lookup(token, floor, false, &mut ids);
        ids.into_iter()
            .map(|(id, sim)| (self.vocab_text.get(id), sim))
            .collect()
    }

    /// Vocabulary entries similar to `token` (the scorer's token floor), with their similarity.
    /// [`NameIndex::lookup`] through the shared cache.
    fn cached_lookup(&self, token: &str, floor: f32, tokens_only: bool, out: &mut Vec<(u32, f32)>) {
        let key = (
            Box::<str>::from(token),
            floor.to_bits() ^ u32::from(tokens_only),
        );
        if let Ok(cache) = self.lookup_cache.read() {
            if let Some(ids) = cache.get(&key) {
                out.extend_from_slice(ids);
                return;
            }
        }
        let start = out.len();
        SCRATCH.with_borrow_mut(|scratch| self.lookup(token, floor, tokens_only, scratch, out));
        if let Ok(mut cache) = self.lookup_cache.write() {
            if cache.len() < LOOKUP_CACHE_ENTRIES {
                cache.insert(key, out[start..].into());
            }
        }
    }

    /// Vocabulary entries whose similarity to `token` reaches `floor`: listed tokens, and listed
    /// runs the scorer's joined-word rule pairs with it. A joined run of the query
    /// (`tokens_only`) is compared with single listed tokens only, by that rule: the scorer
    /// aligns a run with a single token, never a run with a run.
    fn lookup(
        &self,
        token: &str,
        floor: f32,
        tokens_only: bool,
        scratch: &mut Scratch,
        out: &mut Vec<(u32, f32)>,
    ) {
        let start = out.len();
        let exact = self.vocab.get(&self.vocab_text, token);
        if let Some(id) = exact {
            out.push((id, 1.0));
        }
        if tokens_only {
            self.one_edit_entries(token, &[EntryKind::Token], floor, start, scratch, out);
            return;
        }
        self.fuzzy_tokens(token, floor, exact, scratch, out);
        // A swap of two letters leaves a short word too few grams (`aqas` / `aqsa`), which one
        // edit by halves finds; and the listed runs, only by halves.
        let kinds = [EntryKind::Token, EntryKind::Join];
        self.one_edit_entries(token, &kinds, floor, start, scratch, out);
    }

    /// Listed tokens whose similarity to `token` reaches `floor`, found through shared folded
    /// trigrams (`exact` aside).
    fn fuzzy_tokens(
        &self,
        token: &str,
        floor: f32,
        exact: Option<u32>,
        scratch: &mut Scratch,
        out: &mut Vec<(u32, f32)>,
    ) {
        trigrams(&folded_key(token), &mut scratch.grams);
        if scratch.grams.is_empty() {
            return;
        }
        if scratch.owner != self.lookup_id || scratch.counters.len() != self.vocab_text.len() {
            let shares = own_shares();
            scratch.counters.clear();
            scratch.counters.extend(
                self.gram_count
                    .iter()
                    .map(|&g| [0, shares[usize::from(g).min(63)]]),
            );
            scratch.owner = self.lookup_id;
        }
        let (lo, hi) = length_window(token.len());
        let gp = &self.gram_postings;
        let tokens = gp.id_window(gram_order(lo), gram_order(hi));
        let mut lists: Vec<&[u32]> = Vec::with_capacity(scratch.grams.len());
        for g in &scratch.grams {
            if let Some(&gid) = self.grams.get(g) {
                lists.push(gp.get_in(gid, tokens));
            }
        }
        let postings: usize = lists.iter().map(|l| l.len()).sum();
        // A share asked of a pair is the larger of the word's and the entry's (see
        // `own_shares`, `word_share`): a spelling the scorer finds this close keeps a share of
        // its folded trigrams; the rest is not worth the edit distance.
        let word_share = word_share(scratch.grams.len());
        let end = (tokens.1 as usize).min(self.vocab_text.len());
        let window = (tokens.0 as usize).min(end)..end;
        scratch.verify.clear();
        // Every id of the lists is a vocabulary id, and `counters` has one for each (see
        // `count_grams`).
        assert!(scratch.counters.len() >= self.vocab_text.len());
        if dense_scan(postings, window.len()) {
            // Common grams: most of the window is counted, and reading it in order (in vector
            // registers) costs less than going back to each counted entry.
            // SAFETY: see above; no `touched`.
            unsafe { count_grams(&lists, &mut scratch.counters, None) };
            // The exact entry is already out: no count passes no share.
            if let Some(id) = exact {
                scratch.counters[id as usize][0] = 0;
            }
            let lo = window.start as u32;
            share_scan_dense(
                &mut scratch.counters[window],
                lo,
                word_share,
                &mut scratch.verify,
            );
        } else {
            if scratch.touched.len() < postings {
                scratch.touched.resize(postings, 0);
            }
            // SAFETY: see above; `touched` was just made as long as the postings.
            let touched =
                unsafe { count_grams(&lists, &mut scratch.counters, Some(&mut scratch.touched)) };
            if let Some(id) = exact {
                scratch.counters[id as usize][0] = 0;
            }
            let counters = &mut scratch.counters[..];
            for &id in &scratch.touched[..touched] {
                let [shared, entry_share] = counters[id as usize];
                counters[id as usize][0] = 0;
                if shared >= word_share && shared >= entry_share {
                    scratch.verify.push(id);
                }
            }
            // In id order, as the dense scan gives them.
            sort_ids(&mut scratch.verify, &mut scratch.bits);
        }
        // Verified thirty-two at a time (see `token_similarities`), in id order: by length, and
        // through the texts front to back.
        self.verify_entries(token, floor, &scratch.verify, &mut scratch.sims, out);
    }

    /// The entries `ids` whose similarity to `token` reaches `floor`, pushed to `out` with it:
    /// verified thirty-two at a time (see `token_similarities`).
    fn verify_entries(
        &self,
        token: &str,
        floor: f32,
        ids: &[u32],
        sims: &mut Vec<f32>,
        out: &mut Vec<(u32, f32)>,
    ) {
        // As bytes: slicing a `str` would read each text's first byte (a cache miss on a large
        // list) before the kernel asks for it ahead of time.
        let all_texts = self.vocab_text.bytes.as_bytes();
        let ends = &self.vocab_text.ends;
        let texts: Vec<&[u8]> = ids
            .iter()
            .enumerate()
            .map(|(k, &id)| {
                // Scattered on a large list: the ends of the texts sixteen ahead asked for now.
                if let Some(&ahead) = ids.get(k + 16) {
                    crate::prefetch(ends.as_ptr().wrapping_add(ahead as usize));
                }
                &all_texts[self.vocab_text.span(id)]
            })
            .collect();
        token_similarities_of_bytes(token, &texts, sims);
        for (&id, &sim) in ids.iter().zip(sims.iter()) {
            if sim >= floor {
                out.push((id, sim));
            }
        }
    }

    /// Entries of `kinds` whose keys are at most one edit from `token`'s ([`within_one_edit`]:
    /// the joined-word rule) and whose similarity to it reaches `floor`; those already in
    /// `out[start..]` aside. Compared with the scorer's own similarity, swaps included.
    fn one_edit_entries(
        &self,
        token: &str,
        kinds: &[EntryKind],
        floor: f32,
        start: usize,
        scratch: &mut Scratch,
        out: &mut Vec<(u32, f32)>,
    ) {
        let key = join_key(token);
        let n = key.len();
        scratch.verify.clear();
        // `rest`: the word's letters beside the half (see `HalfKeys::probe`).
        let mut probe = |suffix: bool, len: usize, half: &[u8], rest: &[u8]| {
            let rest = letter_mask(rest);
            for &kind in kinds {
                let hash = half_key_hash(kind, suffix, len, half);
                self.half_keys.probe(hash, rest, &mut scratch.verify);
            }
        };
        // A key one edit from the word's keeps one of its halves as the word has it.
        for len in n.saturating_sub(1)..=n + 1 {
            let (head, tail) = (len / 2, len - len / 2);
            if head <= n {
                probe(false, len, &key[..head], &key[head..]);
            }
            if tail <= n {
                probe(true, len, &key[n - tail..], &key[..n - tail]);
            }
        }
        // Unless two letters across the middle are swapped: then the word swapped back is it.
        let middle = n / 2;
        if middle >= 1 && middle < n {
            let mut swapped = key.clone();
            swapped.swap(middle - 1, middle);
            probe(false, n, &swapped[..middle], &swapped[middle..]);
        }
        if scratch.verify.is_empty() {
            return;
        }
        scratch.verify.sort_unstable();
        scratch.verify.dedup();
        let found = &out[start..];
        let keys = &self.half_keys.keys;
        // The probes' finds are scattered over the keys: each key's end is asked for sixteen
        // finds ahead, and its bytes eight ahead (from the end asked for before), so that
        // several reads are under way at once on a large list.
        let finds = &mut scratch.verify;
        let mut kept = 0;
        for k in 0..finds.len() {
            if let Some(&ahead) = finds.get(k + 16) {
                crate::prefetch(keys.ends.as_ptr().wrapping_add(ahead as usize));
            }
            if let Some(&ahead) = finds.get(k + 8) {
                crate::prefetch(keys.bytes.as_ptr().wrapping_add(keys.start(ahead)));
            }
            // Kept in place: `kept` never passes `k`, and the finds ahead are not written yet.
            let id = finds[k];
            if within_one_edit(keys.get(id), &key) && !found.iter().any(|&(f, _)| f == id) {
                finds[kept] = id;
                kept += 1;
            }
        }
        finds.truncate(kept);
        // Together, as `fuzzy_tokens` verifies (most are runs, long for the pairwise distance).
        self.verify_entries(token, floor, &scratch.verify, &mut scratch.sims, out);
    }

    /// Records worth scoring against `query`, with why they were found: every record with a token
    /// (or joined run, or acronym) whose similarity to one of the query's reaches `floor` (the
    /// scorer's token floor, since a hit needs an aligned distinctive pair).
    pub fn candidates(&self, query: &NormName, floor: f32) -> Vec<(u32, CandidateFlags)> {
        self.candidates_in_orders(query, &[], floor)
    }

    /// [`NameIndex::candidates`], with the query's tokens also read in other orders: a person's
    /// `SURNAME, Given` is scored given name first, and the scorer joins neighbours in that
    /// order (`SHIR AMIN, Javad Bordbar` is `Javad Bordbar Shir Amin`, whose `Bordbar Shir
    /// Amin` is the listed `BORDBARSHERAMIN`).
    pub fn candidates_in_orders(
        &self,
        query: &NormName,
        orders: &[&NormName],
        floor: f32,
    ) -> Vec<(u32, CandidateFlags)> {
        FOUND_SLOTS.with_borrow_mut(|slots| {
            if slots.len() < self.records.len() {
                slots.resize(self.records.len(), Found::NONE);
            }
            let mut found = Found {
                slots,
                found: Vec::new(),
            };
            self.find_candidates(query, orders, floor, &mut found);
            found.finish()
        })
    }

    fn find_candidates(
        &self,
        query: &NormName,
        orders: &[&NormName],
        floor: f32,
        found: &mut Found,
    ) {
        let mut entries = Vec::new();
        query_entries(query, &mut entries);
        for order in orders {
            reordered_runs(query, order, &mut entries);
        }
        let mut ids = Vec::new();
        for e in &entries {
            ids.clear();
            if e.fuzzy {
                self.cached_lookup(&e.text, floor, e.mask.count_ones() > 1, &mut ids);
            } else if let Some(id) = self.vocab.get(&self.vocab_text, &e.text) {
                ids.push((id, 1.0));
            }
            for &(id, sim) in &ids {
                let range = self.postings.range(id);
                let records = &self.postings.ids[range.clone()];
                for (k, (&r, &m)) in records
                    .iter()
                    .zip(&self.postings.payloads[range])
                    .enumerate()
                {
                    // A common word's records are scattered over the slots: asked for ahead.
                    if let Some(&ahead) = records.get(k + 16) {
                        found.prefetch(ahead);
                    }
                    if e.singles_only && m.count_ones() > 1 {
                        continue;
                    }
                    found.entry(r).reach(e.mask, m, sim);
                }
            }
        }
        // A name in a script without short vowels against Latin letters: by consonants.
        let skeleton_records = (!query.unvocalized).then(|| {
            self.skeleton_records
                .get_or_init(|| self.unvocalized_record_skeletons())
        });
        let tokens_with_skeletons = if skeleton_records.is_some_and(|m| m.is_empty()) {
            &[][..]
        } else {
            &query.tokens[..]
        };
        for (i, t) in tokens_with_skeletons.iter().enumerate() {
            let Some(key) = folded_skeleton(&t.text) else {
                continue;
            };
            let mask = span_mask(i, i + 1);
            if query.unvocalized {
                let vocabulary = self
                    .skeleton_vocabulary
                    .get_or_init(|| self.vocabulary_skeletons());
                for &id in vocabulary.get(&key).into_iter().flatten() {
                    let range = self.postings.range(id);
                    for (r, &m) in self.postings.ids[range.clone()]
                        .iter()
                        .zip(&self.postings.payloads[range])
                    {
                        found.entry(*r).reach(mask, m, 1.0);
                    }
                }
            } else if let Some(records) = skeleton_records {
                for &(r, m) in records.get(&key).into_iter().flatten() {
                    found.entry(r).reach(mask, m, 1.0);
                }
            }
        }
        let tokens = &query.tokens;
        for start in 0..tokens.len() {
            let mut hasher = rustc_hash::FxHasher::default();
            let longest = tokens.len().min(start + self.embedded.max_tokens);
            for end in start + 1..=longest {
                add_token(&mut hasher, &tokens[end - 1].text);
                for r in self
                    .embedded
                    .records(&self.records, &hasher, &tokens[start..end])
                {
                    let f = found.entry(r);
                    f.embedded = true;
                    f.reach(u64::MAX, u64::MAX, 1.0);
                }
            }
        }
    }
}

/// A listed name can be searched for inside longer names when it is distinctive on its own. A
/// single word is, for an organisation (a brand: Tradetools); a person's or a vessel's single
/// name is usually an ordinary word or given name (the tankers DANIEL and FOREST), and finding
/// it inside a company's name says nothing.
fn embeddable(n: &NormName, kind: EntityKind) -> bool {
    let words = n
        .tokens
        .iter()
        .filter(|t| t.class == TokenClass::Word)
        .count();
    let single_word_ok = !matches!(kind, EntityKind::Person | EntityKind::Vessel);
    words >= 2
        || (words == 1 && n.tokens.len() >= 2)
        || (single_word_ok && words == 1 && n.key().len() >= 6)
}

/// What a listed name contributes to the vocabulary, each entry passed to `f` with the mask of
/// the name's tokens it stands for.
/// How a vocabulary entry can be reached: single tokens and joined runs by similarity (the
/// scorer aligns them fuzzily), acronyms and unspaced names only by their exact text (the scorer
/// compares initials exactly).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum EntryKind {
    ExactOnly,
    Join,
    Token,
}

fn vocabulary_entries(n: &NormName, mut f: impl FnMut(&str, u64, EntryKind)) {
    for (i, t) in n.tokens.iter().enumerate() {
        f(&t.text, span_mask(i, i + 1), EntryKind::Token);
    }
    let mut buf = String::new();
    for len in 2..=3 {
        for (start, w) in n.tokens.windows(len).enumerate() {
            buf.clear();
            w.iter().for_each(|t| buf.push_str(&t.text));
            f(&buf, span_mask(start, start + len), EntryKind::Join);
        }
    }
    // The scorer pairs a single token of one name with the initials of a run of the other,
    // never initials with initials: acronyms live apart from tokens in the vocabulary.
    let initials = n.initials();
    for_each_run_initials(&initials, |a, start, end| {
        buf.clear();
        buf.push(ACRONYM_MARK);
        buf.push_str(a);
        f(&buf, acronym_span_mask(n, start, end), EntryKind::ExactOnly)
    });
    // The name written without spaces, legal form included (Mumo OOO / Mumoooo).
    if initials.len() > 1 {
        buf.clear();
        n.acronym_words().for_each(|w| buf.push_str(w));
        f(&buf, span_mask(0, n.tokens.len()), EntryKind::ExactOnly);
    }
}

/// Starts the vocabulary entries of listed acronyms (no token contains it).
const ACRONYM_MARK: char = '\u{1}';

/// The tokens a run `start..end` of `acronym_source` covers (legal forms peeled off the ends
/// are in the source but not among the tokens), as the scorer maps an acronym onto a name.
pub(crate) fn acronym_span_mask(n: &NormName, start: usize, end: usize) -> u64 {
    let off = n.acronym_offset;
    let lo = start.max(off) - off;
    let hi = end.min(off + n.tokens.len());
    if hi <= off || hi - off <= lo {
        return 0;
    }
    span_mask(lo, hi - off)
}

struct QueryEntry {
    text: String,
    fuzzy: bool,
    /// Only single listed tokens count (the query's acronyms: the scorer pairs initials with a
    /// token, not with a joined run that happens to be spelled alike).
    singles_only: bool,
    /// The query tokens this entry stands for, as a bit mask.
    mask: u64,
}

fn span_mask(start: usize, end: usize) -> u64 {
    (start..end.min(64)).fold(0, |m, i| m | (1u64 << i))
}

/// The query's tokens (bit i: token i) that are not looked up on their own. A match on generic
/// words, particles or initials alone is capped below any alert when a distinctive word is left
/// over, so with a distinctive word in the query those tokens need not find candidates on their
/// own (runs that contain them still do). Their similarity to a candidate is therefore unknown
/// to the index, and a bound on a candidate's score must assume they align.
pub fn unsearched_tokens(n: &NormName) -> u64 {
    let distinctive = n.tokens.iter().any(|t| {
        matches!(
            t.class,
            TokenClass::Word | TokenClass::Number | TokenClass::Patronymic
        )
    });
    if !distinctive {
        return 0;
    }
    n.tokens
        .iter()
        .take(64)
        .enumerate()
        .filter(|(_, t)| {
            matches!(
                t.class,
                TokenClass::Generic | TokenClass::Particle | TokenClass::Initial
            )
        })
        .fold(0, |mask, (i, _)| mask | (1 << i))
}

fn query_entries(n: &NormName, out: &mut Vec<QueryEntry>) {
    let unsearched = unsearched_tokens(n);
    for (i, t) in n.tokens.iter().enumerate() {
        if i < 64 && unsearched & (1 << i) != 0 {
            continue;
        }
        out.push(QueryEntry {
            text: t.text.to_string(),
            fuzzy: t.text.len() >= 2 && t.class != TokenClass::Number,
            singles_only: false,
            mask: span_mask(i, i + 1),
        });
        // A listed name this word is the acronym of (the scorer's rule: 2 to 8 letters).
        if crate::score::could_spell_initials(t.text.as_bytes()) {
            out.push(QueryEntry {
                text: format!("{ACRONYM_MARK}{}", t.text),
                fuzzy: false,
                singles_only: false,
                mask: span_mask(i, i + 1),
            });
        }
    }
    // Joined runs find a listed single word spelled as two or three (Trade Tools / Tradetools).
    for len in 2..=3 {
        for (start, w) in n.tokens.windows(len).enumerate() {
            out.push(QueryEntry {
                text: w.iter().map(|t| t.text.as_str()).collect(),
                fuzzy: true,
                singles_only: false,
                mask: span_mask(start, start + len),
            });
        }
    }
    // A listed word that is the acronym of a run of the query's words.
    let initials = n.initials();
    for_each_run_initials(&initials, |acro, start, end| {
        out.push(QueryEntry {
            text: acro.to_string(),
            fuzzy: false,
            singles_only: true,
            mask: acronym_span_mask(n, start, end),
        })
    });
    if initials.len() > 1 {
        out.push(QueryEntry {
            text: n.acronym_words().collect(),
            fuzzy: false,
            singles_only: false,
            mask: span_mask(0, n.tokens.len()),
        });
    }
}

/// The joined runs of `order` (the query's tokens in another order) that the query's own order
/// does not have, as entries standing for the query's tokens of the same texts.
fn reordered_runs(query: &NormName, order: &NormName, out: &mut Vec<QueryEntry>) {
    let same_order = query.tokens.len() == order.tokens.len()
        && query
            .tokens
            .iter()
            .zip(&order.tokens)
            .all(|(a, b)| a.text == b.text);
    if same_order {
        return;
    }
    let positions = |text: &str| {
        query
            .tokens
            .iter()
            .enumerate()
            .filter(|(_, t)| t.text == text)
            .fold(0u64, |m, (i, _)| m | span_mask(i, i + 1))
    };
    for len in 2..=3 {
        for w in order.tokens.windows(len) {
            let text: String = w.iter().map(|t| t.text.as_str()).collect();
            if out.iter().any(|e| e.fuzzy && e.text == text) {
                continue;
            }
            out.push(QueryEntry {
                mask: w.iter().fold(0, |m, t| m | positions(&t.text)),
                text,
                fuzzy: true,
                singles_only: false,
            });
        }
    }
}

/// Initials of the acronyms a name could be written as: of the whole name, and of every run of
/// 3..=8 words (two letters of a partial run say too little; the scorer applies the same rule).
/// `f` gets the initials and the run's bounds in the words (`initials`: their first letters).
fn for_each_run_initials(initials: &[u8], mut f: impl FnMut(&str, usize, usize)) {
    for start in 0..initials.len() {
        for end in start + 2..=(start + 8).min(initials.len()) {
            let whole = start == 0 && end == initials.len();
            let run = &initials[start..end];
            if (end - start >= 3 || whole) && run.iter().all(u8::is_ascii_alphabetic) {
                // Initials are ASCII letters, so this is valid UTF-8.
                f(std::str::from_utf8(run).unwrap_or_default(), start, end);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::score::distance::token_similarity;

    fn list(names: &[&str]) -> Watchlist {
        Watchlist::from_names(EntityKind::Organization, names.iter().copied())
    }

    /// Names enough for several interning batches, of words drawn from a small stock (so that
    /// most entries repeat across names and shards), one of them with a join equal to a token.
    fn many_names() -> Vec<String> {
        let words = [
            "sernia", "robin", "trade", "tools", "planar", "ocs", "casic", "nord",
        ];
        let mut names: Vec<String> = (0..INTERN_BATCH_RECORDS + 3 * INTERN_CHUNK_RECORDS + 7)
            .map(|i| {
                let (a, b, c) = (i % 8, (i / 8) % 8, i / 64);
                format!("{} {} {c}x", words[a], words[b])
            })
            .collect();
        names.push("Robin Trade Robintrade".into());
        names
    }

    #[test]
    fn the_vocabulary_is_numbered_alike_on_any_number_of_threads() {
        let names = many_names();
        let watchlist = list(&names.iter().map(String::as_str).collect::<Vec<_>>());
        let build = |threads| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| NameIndex::build(&watchlist))
        };
        let (one, two) = (build(1), build(2));
        let texts = |i: &NameIndex| i.vocab_text.iter().map(str::to_string).collect::<Vec<_>>();
        assert_eq!(texts(&one), texts(&two));
        assert_eq!(one.postings.offsets, two.postings.offsets);
        assert_eq!(one.postings.ids, two.postings.ids);
        assert_eq!(one.postings.payloads, two.postings.payloads);
        assert_eq!(one.gram_postings.offsets, two.gram_postings.offsets);
        assert_eq!(one.gram_postings.ids, two.gram_postings.ids);
        assert_eq!(one.half_keys.entries, two.half_keys.entries);
        assert_eq!(
            one.gram_postings.order_starts,
            two.gram_postings.order_starts
        );

        // Every text is found again under its id, ids run by kind then length, and each entry's
        // records come in record order, each with the entry's tokens.
        let idx = two;
        let mut seen = std::collections::HashSet::new();
        for (id, text) in idx.vocab_text.iter().enumerate() {
            assert_eq!(
                idx.vocab.get(&idx.vocab_text, text),
                Some(id as u32),
                "{text}"
            );
            assert!(seen.insert(text), "{text} twice");
            let records = &idx.postings.ids[idx.postings.range(id as u32)];
            assert!(
                !records.is_empty() && records.windows(2).all(|w| w[0] < w[1]),
                "{text}"
            );
        }
        assert_eq!(idx.vocab.get(&idx.vocab_text, "notlisted"), None);
        // By kind (tokens, joins, exact-only), each kind by length: two steps back at most.
        let lengths: Vec<usize> = idx.vocab_text.iter().map(str::len).collect();
        assert!(lengths.windows(2).filter(|w| w[1] < w[0]).count() <= 2);
        // Each name with the word once: one posting each.
        let id = |t: &str| idx.vocab.get(&idx.vocab_text, t).unwrap();
        let with_sernia = names
            .iter()
            .filter(|n| n.split(' ').any(|w| w == "sernia"))
            .count();
        assert_eq!(idx.postings.range(id("sernia")).len(), with_sernia);
        assert_eq!(with_sernia, 8407);
        // The join equal to a token in one name: one entry, standing for all three tokens.
        let last = (idx.records.len() - 1) as u32;
        let range = idx.postings.range(id("robintrade"));
        let at = idx.postings.ids[range.clone()]
            .iter()
            .position(|&r| r == last)
            .unwrap();
        assert_eq!(idx.postings.payloads[range][at], 0b111);

        // Gram lists: ascending, each entry's key holding the gram, every entry's grams listed.
        let gp = &idx.gram_postings;
        let vocab_len = idx.vocab_text.len();
        assert!(gp.fits(idx.grams.len(), vocab_len));
        let listed: usize = idx.gram_count.iter().map(|&n| usize::from(n)).sum();
        assert_eq!(gp.ids.len(), listed);
        let mut grams = Vec::new();
        for (gram, &gid) in idx.grams.iter().take(300) {
            for &id in &gp.ids[list_range(&gp.offsets, gid)] {
                trigrams(&folded_key(idx.vocab_text.get(id)), &mut grams);
                assert!(grams.contains(gram), "{}", idx.vocab_text.get(id));
            }
        }
        // A window of lengths is exactly the single tokens of those lengths; joins after them,
        // not searched by grams.
        let tokens_end = gp.id_window(0, u16::MAX).1;
        let (lo, hi) = gp.id_window(gram_order(5), gram_order(7));
        let tokens_of_5_to_7 = (0..tokens_end)
            .filter(|&id| (5..=7).contains(&idx.vocab_text.get(id).len()))
            .count();
        assert!(lo < hi && hi <= tokens_end);
        assert!((tokens_end..vocab_len as u32).all(|id| idx.gram_count[id as usize] == 0));
        assert_eq!((hi - lo) as usize, tokens_of_5_to_7);
        assert!((lo..hi).all(|id| (5..=7).contains(&idx.vocab_text.get(id).len())));
        // Every listed token and run under both halves of its key.
        assert!(idx.half_keys.fits(vocab_len));
        let halves_hold = |text: &str, kind: EntryKind| {
            let id = idx.vocab.get(&idx.vocab_text, text).unwrap();
            let key = join_key(text);
            let (head, tail) = key_halves(&key);
            [(false, head, tail), (true, tail, head)]
                .iter()
                .all(|&(suffix, half, rest)| {
                    let mut ids = Vec::new();
                    let hash = half_key_hash(kind, suffix, key.len(), half);
                    idx.half_keys.probe(hash, letter_mask(rest), &mut ids);
                    ids.contains(&id)
                })
        };
        // The letters beside the half tell most entries sharing it apart.
        let mut ids = Vec::new();
        let key = join_key("planarocs");
        let (head, _) = key_halves(&key);
        let hash = half_key_hash(EntryKind::Join, false, key.len(), head);
        idx.half_keys.probe(hash, letter_mask(b"xyzw"), &mut ids);
        assert!(ids.is_empty());
        assert!(halves_hold("sernia", EntryKind::Token));
        assert!(halves_hold("planarocs", EntryKind::Join));
        assert!(!halves_hold("planarocs", EntryKind::Token));
        let tokens_and_runs = idx.half_keys.keys.ends.len();
        assert!(tokens_and_runs > tokens_end as usize);
        assert_eq!(idx.half_keys.entries.len(), 2 * tokens_and_runs);
        // The list of a gram within the window: its entries there, and only those.
        trigrams(&folded_key("sernia"), &mut grams);
        let gid = idx.grams[&grams[1]];
        let all = &gp.ids[list_range(&gp.offsets, gid)];
        let within: Vec<u32> = all
            .iter()
            .copied()
            .filter(|id| (lo..hi).contains(id))
            .collect();
        assert!(!within.is_empty());
        assert_eq!(gp.get_in(gid, (lo, hi)), &within[..]);
    }

    fn found(idx: &NameIndex, q: &str) -> Vec<u32> {
        let mut v: Vec<u32> = idx
            .candidates(&normalize(q, EntityKind::Unknown), 0.7)
            .iter()
            .map(|&(r, _)| idx.records[r as usize].entity)
            .collect();
        v.sort();
        v
    }

    proptest::proptest! {
        #[test]
        fn ids_sort_by_their_bits(ids in proptest::collection::hash_set(0u32..5000, 0..300)) {
            let mut ids: Vec<u32> = ids.into_iter().collect();
            let mut expected = ids.clone();
            expected.sort_unstable();
            let mut bits = vec![0u64; 3];
            sort_ids(&mut ids, &mut bits);
            proptest::prop_assert_eq!(ids, expected);
            proptest::prop_assert!(bits.iter().all(|&w| w == 0));
        }

        /// One edit of a part changes at most two bits of its letter mask (the probe's test).
        #[test]
        fn one_edit_changes_two_mask_bits_at_most(
            part in "[aktnrs5]{0,9}",
            op in 0..4u8,
            at in 0..10usize,
            letter in proptest::sample::select(b"aktnrs5x".to_vec()),
        ) {
            let edited = crate::text::folded::one_edit(part.as_bytes(), op, at, letter);
            let changed = (letter_mask(part.as_bytes()) ^ letter_mask(&edited)).count_ones();
            proptest::prop_assert!(changed <= 2, "{part} / {:?}: {changed}", edited);
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
        /// The scorer aligns a word with a listed token only where [`lookup_finds`] holds and
        /// their similarity reaches the floor; the lookup must return every such token, or the
        /// bound prunes what the scorer would align.
        #[test]
        fn the_lookup_returns_every_token_it_finds_pair_by_pair(
            listed in proptest::collection::vec("[aeiouyhkcqsztdbpgjvwfmnrl]{1,11}", 1..40),
            edits in proptest::collection::vec(
                (0usize..40, 0u8..4, 0usize..12, proptest::sample::select(b"aeiuhkcszdtbpgjvfmnrl".to_vec())),
                1..20,
            ),
        ) {
            use crate::score::distance::TOKEN_FLOOR;
            use crate::text::folded::one_edit;
            let names: Vec<String> = listed.chunks(2).map(|c| c.join(" ")).collect();
            let names: Vec<&str> = names.iter().map(String::as_str).collect();
            // The window read in order (in vector registers and without), and each counted
            // entry gone back to: the same finds.
            let mut by_scan = Vec::new();
            for (portable, sparse) in [(false, false), (true, false), (false, true)] {
                PORTABLE_SCAN.set(portable);
                SPARSE_SCAN.set(sparse);
                let idx = NameIndex::build(&list(&names));
                let mut finds = Vec::new();
                for &(k, op, at, letter) in &edits {
                    // A listed word with two edits of it: near the floor, on either side.
                    let once = one_edit(listed[k % listed.len()].as_bytes(), op, at, letter);
                    let word = String::from_utf8(one_edit(&once, (op + 1) % 4, at / 2, letter)).unwrap();
                    let found: Vec<&str> = idx
                        .similar_entries(&word, TOKEN_FLOOR)
                        .into_iter()
                        .map(|(text, _)| text)
                        .collect();
                    for token in idx.records.iter().flat_map(|r| &r.norm.tokens) {
                        let token = token.text.as_str();
                        if token_similarity(&word, token) >= TOKEN_FLOOR && lookup_finds(&word, token) {
                            proptest::prop_assert!(found.contains(&token), "{word} / {token}: {found:?}");
                        }
                    }
                    finds.push(found.iter().map(|t| t.to_string()).collect::<Vec<_>>());
                }
                by_scan.push(finds);
            }
            PORTABLE_SCAN.set(false);
            SPARSE_SCAN.set(false);
            proptest::prop_assert_eq!(&by_scan[0], &by_scan[1]);
            proptest::prop_assert_eq!(&by_scan[0], &by_scan[2]);
        }

        /// The window's share test in vector registers is the portable one, and both leave
        /// every shared count at zero and the entries' own shares as they were.
        #[test]
        fn the_share_scan_in_vectors_is_the_portable_one(
            counters in proptest::collection::vec((0u8..6, 1u8..5), 0..300),
            word_share in 1u8..5,
            lo in 0u32..1000,
        ) {
            let counters: Vec<[u8; 2]> = counters.into_iter().map(|(s, o)| [s, o]).collect();
            let expected: Vec<u32> = counters
                .iter()
                .enumerate()
                .filter(|(_, &[s, o])| s >= word_share && s >= o)
                .map(|(k, _)| lo + k as u32)
                .collect();
            for portable in [false, true] {
                PORTABLE_SCAN.set(portable);
                let mut scanned = counters.clone();
                let mut out = Vec::new();
                share_scan_dense(&mut scanned, lo, word_share, &mut out);
                proptest::prop_assert_eq!(&out, &expected);
                proptest::prop_assert!(scanned.iter().zip(&counters).all(|(a, b)| a[0] == 0 && a[1] == b[1]));
            }
            PORTABLE_SCAN.set(false);
        }
    }

    #[test]
    fn finds_typos_joins_and_acronyms() {
        let idx = NameIndex::build(&list(&[
            "Serniya Engineering",
            "Trade Tools",
            "China Aerospace Science and Industry Corporation",
            "Planar",
        ]));
        assert_eq!(found(&idx, "Sernia Enginering"), vec![0]);
        assert_eq!(found(&idx, "Tradetools LLC"), vec![1]);
        assert_eq!(found(&idx, "CASIC"), vec![2]);
        assert_eq!(found(&idx, "Planar Systems Inc"), vec![3]);
        assert!(found(&idx, "Nordic Components AB").is_empty());
    }

    #[test]
    fn joined_words_one_folded_edit_apart_are_found_both_ways() {
        let idx = NameIndex::build(&list(&["Trade Tools", "Sernianet", "Planar"]));
        // A listed run against a party's single word, a letter added, left out or changed.
        assert_eq!(found(&idx, "Tradetoolz"), vec![0]);
        assert_eq!(found(&idx, "Tradtools"), vec![0]);
        assert_eq!(found(&idx, "Tradetoals"), vec![0]);
        assert_eq!(found(&idx, "Tradertools"), vec![0]);
        // A party's run against a listed single word.
        assert_eq!(found(&idx, "Sernia Nett"), vec![1]);
        assert_eq!(found(&idx, "Serna Net"), vec![1]);
        // Two folded edits: not the word (the scorer's rule, `within_one_edit`).
        assert!(found(&idx, "Tradertoolk").is_empty());
        assert!(found(&idx, "Serni Anmek").is_empty());
        let run = idx.similar_entries("tradtools", 0.7);
        assert!(run.iter().any(|&(t, sim)| t == "tradetools" && sim >= 0.7));
    }

    #[test]
    fn embedded_names_are_flagged() {
        let idx = NameIndex::build(&list(&["Almaz-Antey"]));
        let c = idx.candidates(
            &normalize("Almaz-Antey Telecommunications", EntityKind::Unknown),
            0.7,
        );
        assert!(c.iter().any(|(_, f)| f.embedded));
    }
}
