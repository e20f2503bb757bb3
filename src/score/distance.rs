//! Token-to-token similarity: a weighted edit distance tuned for names across transliterations.
//!
//! Plain Levenshtein treats every edit alike; names vary in predictable ways. Here a vowel for a
//! vowel (Serniya/Sernia, Muhammad/Mohammed), a letter for its transliteration sibling (c/k/q,
//! s/z, i/y/j, v/w), an `h` in or out (kh/k, sh/s), a doubled letter and a swap of neighbours cost
//! less than an unrelated letter. Digits must agree. Similarity is one minus the distance over the
//! longer length, with short tokens held stricter, since one edit in a three-letter name is a
//! different name. Not here: aligning the tokens of two names (`score`).

/// Tokens whose similarity is below this are not aligned at all.
pub const TOKEN_FLOOR: f32 = 0.70;
/// Tokens whose lengths differ by more than this ratio are not compared at all.
pub const MIN_LENGTH_RATIO: f32 = 0.6;

const fn is_vowel(c: u8) -> bool {
    matches!(c, b'a' | b'e' | b'i' | b'o' | b'u' | b'y')
}

/// Transliteration siblings: letters that stand for the same sound in different schemes.
const fn sibling_group(c: u8) -> u8 {
    match c {
        b'c' | b'k' | b'q' => 1,
        b's' | b'z' => 2,
        b'i' | b'y' | b'j' => 3,
        b'v' | b'w' | b'f' => 4,
        b'd' | b't' => 5,
        b'b' | b'p' => 6,
        b'g' | b'h' => 7,
        _ => 0,
    }
}

/// Costs are kept in tenths: every weight below is a multiple of 0.1, so integer sums are exact
/// and the one-to-many kernel ([`token_similarities`]) computes exactly what the scalar one does.
type Tenths = u16;

mod pair;

/// A substitution, a digit or an unrelated letter: the full cost.
const FULL: Tenths = 10;
/// A swap of neighbours (and a sibling letter, see [`substitution_cost10`]).
const SWAP: Tenths = 6;

fn substitution_cost10(a: u8, b: u8) -> Tenths {
    if a == b {
        0
    } else if a.is_ascii_digit() || b.is_ascii_digit() {
        FULL
    } else if is_vowel(a) && is_vowel(b) {
        5
    } else {
        let ga = sibling_group(a);
        if ga != 0 && ga == sibling_group(b) {
            6
        } else {
            FULL
        }
    }
}

/// Cost of inserting or deleting `s[i]`, in tenths.
fn indel_cost10(s: &[u8], i: usize) -> Tenths {
    let c = s[i];
    // A letter next to itself, or `c`/`k`/`q` next to another of them (`ck` spells one sound:
    // Frederick / Frederic), is written twice.
    let same = |d: u8| d == c || (sibling_group(c) == 1 && sibling_group(d) == 1);
    let doubled = (i > 0 && same(s[i - 1])) || (i + 1 < s.len() && same(s[i + 1]));
    if c.is_ascii_digit() {
        FULL
    } else if doubled {
        3
    } else if c == b'h' {
        5
    } else if c == b's' && i + 1 == s.len() && i > 0 && !is_vowel(s[i - 1]) {
        // A nominative `-s` after a consonant (Latvian, Lithuanian: Lavrovs / Lavrov).
        5
    } else if is_vowel(c) {
        7
    } else {
        FULL
    }
}

/// [`indel_cost10`] of every byte of `s`, into `out` (as long as `s`): one pass over the token,
/// each byte's cost and spelling group read from a table, where the distance asked for the
/// costs byte by byte through the tests.
fn indel_costs10(s: &[u8], out: &mut [u8]) {
    struct Tables {
        /// The cost of a byte alone (not doubled, not a final `s`).
        alone: [u8; 256],
        /// Bytes written twice when next to one of their own group (`c`/`k`/`q` one group, each
        /// other byte its own).
        group: [u16; 256],
        vowel: [bool; 256],
    }
    static TABLES: std::sync::OnceLock<Tables> = std::sync::OnceLock::new();
    let t = TABLES.get_or_init(|| Tables {
        alone: std::array::from_fn(|c| {
            let c = c as u8;
            if c == b'h' {
                5
            } else if is_vowel(c) {
                7
            } else {
                FULL as u8
            }
        }),
        group: std::array::from_fn(|c| {
            let b = c as u8;
            if sibling_group(b) == 1 {
                u16::from(b'k')
            } else {
                c as u16
            }
        }),
        vowel: std::array::from_fn(|c| is_vowel(c as u8)),
    });
    let n = s.len();
    // Groups of the neighbours; 0x100 (no byte's) past either end.
    let mut before = 0x100u16;
    for i in 0..n {
        let c = s[i];
        let group = t.group[c as usize];
        let after = s.get(i + 1).map_or(0x100, |&d| t.group[d as usize]);
        // A doubled digit costs in full.
        out[i] = if c.is_ascii_digit() {
            FULL as u8
        } else if group == before || group == after {
            3
        } else if c == b's' && i + 1 == n && i > 0 && !t.vowel[s[i - 1] as usize] {
            5
        } else {
            t.alone[c as usize]
        };
        before = group;
    }
}

/// Weighted optimal-string-alignment distance between two ASCII tokens.
pub fn weighted_distance(a: &[u8], b: &[u8]) -> f32 {
    bounded_distance(a, b, f32::INFINITY).unwrap_or(f32::INFINITY)
}

/// Substitution costs of every pair of bytes, computed once: the distance's inner loop is a
/// table read, not a chain of tests.
/// In bytes (every cost fits): half the table's cache lines.
fn substitution_table() -> &'static [[u8; 256]; 256] {
    static TABLE: std::sync::OnceLock<Box<[[u8; 256]; 256]>> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        let mut t = Box::new([[0; 256]; 256]);
        for a in 0..256usize {
            for b in 0..256usize {
                t[a][b] = substitution_cost10(a as u8, b as u8) as u8;
            }
        }
        t
    })
}

/// A bound in units as a bound in tenths (a hair of slack for bounds computed in `f32`).
fn tenths_bound(max: f32) -> u32 {
    if max.is_finite() {
        // The cast truncates, which is the floor of a value at or above 0 and gives 0 below
        // it: `floor` itself is a library call on the baseline x86-64 target, and this runs
        // for each pair the bound and the memo compare.
        (max * 10.0 + 1e-3) as u32
    } else {
        u32::MAX
    }
}

/// As [`weighted_distance`], but gives up (None) as soon as the distance must exceed `max`:
/// most compared tokens are unrelated, and their rows pass the bound within a few letters.
pub fn bounded_distance(a: &[u8], b: &[u8], max: f32) -> Option<f32> {
    bounded_distance10(a, b, tenths_bound(max)).map(|d| d as f32 / 10.0)
}

/// The consonants of a token as one bit each, the members of a sibling group the distance
/// substitutes cheaply (`c`/`k`/`q`, `s`/`z`, `v`/`w`/`f`, `d`/`t`, `b`/`p`: [`sibling_group`])
/// as one, digits too; vowels and `h` not at all (`j` and `g`, whose siblings are a vowel and
/// `h`, keep their own bits).
fn consonant_set(token: &[u8]) -> u64 {
    static BITS: std::sync::OnceLock<[u64; 256]> = std::sync::OnceLock::new();
    let bits = BITS.get_or_init(|| {
        std::array::from_fn(|c| {
            let c = c as u8;
            if c == b'h' || is_vowel(c) {
                return 0;
            }
            match (sibling_group(c), c) {
                (g @ (1 | 2 | 4 | 5 | 6), _) => 1 << g,
                (_, b'a'..=b'z') => 1 << (8 + c - b'a'),
                (_, b'0'..=b'9') => 1 << (34 + c - b'0'),
                _ => 0,
            }
        })
    });
    token.iter().fold(0, |set, &c| set | bits[c as usize])
}

/// A lower bound on the distance, in tenths: each consonant (as [`consonant_set`] folds it) on
/// one side only costs at least half a full edit. Every occurrence of it must go: a substitution
/// (a full edit, which may also bring one of the other side's: half each; `g`/`h` or `j`/`i`,
/// six tenths, brings none), a deletion (a full edit, or five tenths for `-s`), or deletions of
/// a doubled letter (three tenths each, two at least). Sibling letters, vowels, `h` and swaps
/// change no consonant. Most pairs the scorer and the bound compare are unrelated words, which
/// this settles without the distance.
fn consonant_bound10(a: &[u8], b: &[u8]) -> u32 {
    5 * (consonant_set(a) ^ consonant_set(b)).count_ones()
}

/// [`bounded_distance`] in tenths.
fn bounded_distance10(a: &[u8], b: &[u8], max: u32) -> Option<u32> {
    if consonant_bound10(a, b) > max {
        return None;
    }
    let (n, m) = (a.len(), b.len());
    if n == 0 || m == 0 {
        let d: u32 = if n == 0 {
            (0..m).map(|j| u32::from(indel_cost10(b, j))).sum()
        } else {
            (0..n).map(|i| u32::from(indel_cost10(a, i))).sum()
        };
        return (d <= max).then_some(d);
    }
    // Most pairs the scorer and the bound compare are short words: one vector a diagonal.
    let (shorter, longer) = if n <= m { (a, b) } else { (b, a) };
    if shorter.len() <= pair::MAX_SHORTER
        && longer.len() <= pair::MAX_LONGER
        && max <= pair::MAX_BOUND
    {
        return pair::bounded_distance10(shorter, longer, max);
    }
    scalar_distance10(a, b, max)
}

/// [`bounded_distance10`] cell by cell, for tokens of at least one byte each.
fn scalar_distance10(a: &[u8], b: &[u8], max: u32) -> Option<u32> {
    let (n, m) = (a.len(), b.len());
    // Three rows for the transposition case, the insertion costs of `b` and the deletion
    // costs of `a`; names are short, so they live on the stack.
    const STACK: usize = 32;
    let w = m + 1;
    let mut stack = [0u32; 4 * STACK];
    let mut heap = Vec::new();
    let rows: &mut [u32] = if w <= STACK {
        &mut stack[..4 * w]
    } else {
        heap.resize(4 * w, 0);
        &mut heap
    };
    let (ins_b, rest) = rows.split_at_mut(w);
    let (prev2, rest) = rest.split_at_mut(w);
    let (prev, cur) = rest.split_at_mut(w);
    let (mut prev2, mut prev, mut cur) = (prev2, prev, cur);
    let (mut costs_stack, mut costs_heap) = ([0u8; 2 * STACK], Vec::new());
    let costs: &mut [u8] = if n + m <= 2 * STACK {
        &mut costs_stack[..n + m]
    } else {
        costs_heap.resize(n + m, 0);
        &mut costs_heap
    };
    let (del_a, ins_costs) = costs.split_at_mut(n);
    indel_costs10(a, del_a);
    indel_costs10(b, ins_costs);
    let subst = substitution_table();
    prev[0] = 0;
    for j in 1..=m {
        ins_b[j] = u32::from(ins_costs[j - 1]);
        prev[j] = prev[j - 1] + ins_b[j];
    }
    // The first row's minimum is its first cell: costs are never negative.
    let mut prev_min = 0u32;
    for i in 1..=n {
        let ai = a[i - 1];
        let del_a = u32::from(del_a[i - 1]);
        let sub_row = &subst[ai as usize];
        cur[0] = prev[0] + del_a;
        let mut row_min = cur[0];
        // A swap brings `a[i - 2] a[i - 1]` to `b[j - 2] b[j - 1]` (two different letters).
        let before = (i > 1 && a[i - 2] != ai).then(|| a[i - 2]);
        let (mut left, mut diagonal, mut b_before) = (cur[0], prev[0], None);
        let cells = cur[1..].iter_mut().zip(&prev[1..]).zip(&ins_b[1..]).zip(b);
        for (j, (((cell, &up), &ins), &bj)) in cells.enumerate() {
            let mut best = (up + del_a)
                .min(left + ins)
                .min(diagonal + u32::from(sub_row[bj as usize]));
            if before.is_some() && b_before == Some(ai) && before == Some(bj) {
                // `j` here is the cell's column minus one.
                best = best.min(prev2[j - 1] + u32::from(SWAP));
            }
            *cell = best;
            row_min = row_min.min(best);
            (left, diagonal, b_before) = (best, up, Some(bj));
        }
        // A transposition can reach back two rows, so only give up when both rows are over.
        if row_min > max && prev_min > max {
            return None;
        }
        prev_min = row_min;
        // Rotate rows: prev2 <- prev <- cur <- (old prev2, overwritten next round).
        std::mem::swap(&mut prev2, &mut prev);
        std::mem::swap(&mut prev, &mut cur);
    }
    (prev[m] <= max).then_some(prev[m])
}

/// What [`token_similarity`] decides before any distance: Some(similarity) when the pair is
/// settled by equality, numbers or lengths; otherwise the longer length and the length scale.
fn similarity_gate(ab: &[u8], bb: &[u8]) -> Result<(f32, f32), f32> {
    // Lengths first, as the cheapest test: tokens of very different lengths are never equal,
    // and numbers or not, they get 0.
    let Some(gate) = length_gate(ab.len(), bb.len()) else {
        return Err(0.0);
    };
    if ab == bb {
        return Err(1.0);
    }
    let a_num = ab.iter().all(u8::is_ascii_digit);
    let b_num = bb.iter().all(u8::is_ascii_digit);
    if a_num || b_num {
        return Err(0.0);
    }
    Ok(gate)
}

/// What two tokens' lengths decide: none when they differ too much to compare (different
/// words, whatever their letters), otherwise the longer length and the length scale.
fn length_gate(a: usize, b: usize) -> Option<(f32, f32)> {
    let (longer, shorter) = (a.max(b) as f32, a.min(b) as f32);
    // Short names: one real edit in four letters or fewer is a different name (Pol / Pot).
    let scale = if longer <= 4.0 { 1.3 } else { 1.0 };
    (shorter >= MIN_LENGTH_RATIO * longer).then_some((longer, scale))
}

/// Whether two tokens can reach [`TOKEN_FLOOR`] by their lengths and consonants alone (the
/// gate and `consonant_bound10`); false only when they cannot. The score bound compares an
/// unpaired query word with every unpaired word of hundreds of candidates; most are unrelated
/// words, settled here without the memo's hashing or a distance.
pub fn may_reach_floor(a: &str, b: &str) -> bool {
    let (ab, bb) = (a.as_bytes(), b.as_bytes());
    match length_gate(ab.len(), bb.len()) {
        Some((longer, scale)) => consonant_bound10(ab, bb) <= max_distance10(longer, scale),
        None => false,
    }
}

/// The largest distance, in tenths, that keeps a pair at or above [`TOKEN_FLOOR`]: below the
/// floor a token does not align, so its exact similarity does not matter.
fn max_distance10(longer: f32, scale: f32) -> u32 {
    tenths_bound((1.0 - TOKEN_FLOOR) * longer / scale + 1e-4)
}

/// [`max_distance10`] for the pairs the kernel takes, from a table (no float rounding per pair).
/// By longer length, then scale 1 and 1.3.
fn kernel_max_distances10() -> &'static [[Cell; 2]; KERNEL_MAX_LEN + 1] {
    static TABLE: std::sync::OnceLock<[[Cell; 2]; KERNEL_MAX_LEN + 1]> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        std::array::from_fn(|l| {
            [1.0, 1.3].map(|scale| max_distance10(l as f32, scale).min(u32::from(MAX_CELL)) as Cell)
        })
    })
}

fn similarity_of(d10: u32, longer: f32, scale: f32) -> f32 {
    (1.0 - scale * (d10 as f32 / 10.0) / longer).max(0.0)
}

/// Similarity of two tokens in 0..1. Numbers must be equal; short tokens are held stricter.
pub fn token_similarity(a: &str, b: &str) -> f32 {
    let (ab, bb) = (a.as_bytes(), b.as_bytes());
    let (longer, scale) = match similarity_gate(ab, bb) {
        Ok(gate) => gate,
        Err(settled) => return settled,
    };
    gated_similarity(ab, bb, longer, scale)
}

/// The similarity of a pair [`similarity_gate`] let through, from its distance.
fn gated_similarity(ab: &[u8], bb: &[u8], longer: f32, scale: f32) -> f32 {
    match bounded_distance10(ab, bb, max_distance10(longer, scale)) {
        Some(d) => similarity_of(d, longer, scale),
        None => 0.0,
    }
}

/// Token similarities already computed while screening one party name: the candidates of a
/// name share words (a surname, a given name, a company's brand), and each of its tokens and
/// joined runs meets each of them many times; about half the pairs the scorer compares for one
/// name were compared before. Only pairs that need a distance are kept.
#[derive(Default)]
pub struct SimilarityMemo {
    /// Pairs of texts of up to eight bytes (nearly every word), keyed by the bytes themselves:
    /// no string is hashed, compared or copied.
    short: hashbrown::HashMap<(u64, u64), f32, rustc_hash::FxBuildHasher>,
    pairs: hashbrown::HashTable<(compact_str::CompactString, compact_str::CompactString, f32)>,
    /// Keeps nothing: for one pair of names compared alone.
    off: bool,
}

impl SimilarityMemo {
    /// A memo that keeps nothing (comparing one pair of names, nothing repeats).
    pub fn off() -> SimilarityMemo {
        SimilarityMemo {
            off: true,
            ..Default::default()
        }
    }

    fn hash(a: &str, b: &str) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut h = rustc_hash::FxHasher::default();
        a.hash(&mut h);
        b.hash(&mut h);
        h.finish()
    }

    /// [`token_similarity`]`(a, b)`, computed once.
    pub fn similarity(&mut self, a: &str, b: &str) -> f32 {
        let (ab, bb) = (a.as_bytes(), b.as_bytes());
        let (longer, scale) = match similarity_gate(ab, bb) {
            Ok(gate) => gate,
            Err(settled) => return settled,
        };
        if self.off {
            return gated_similarity(ab, bb, longer, scale);
        }
        if let (Some(x), Some(y)) = (pack8(ab), pack8(bb)) {
            return *self
                .short
                .entry((x, y))
                .or_insert_with(|| gated_similarity(ab, bb, longer, scale));
        }
        let hash = Self::hash(a, b);
        if let Some(&(_, _, sim)) = self.pairs.find(hash, |(x, y, _)| x == a && y == b) {
            return sim;
        }
        let sim = gated_similarity(ab, bb, longer, scale);
        self.pairs
            .insert_unique(hash, (a.into(), b.into(), sim), |(x, y, _)| {
                Self::hash(x, y)
            });
        sim
    }
}

/// A text of up to eight bytes as one number, zero-padded; none for a text holding a zero byte
/// (tokens never do), which padding would make ambiguous.
fn pack8(b: &[u8]) -> Option<u64> {
    // Two overlapping loads (the bytes they share are the same), not a copy of a variable
    // length: that was a call to `memcpy` for every pair the bound compares.
    let n = b.len();
    let u16_at = |i: usize| u64::from(u16::from_le_bytes([b[i], b[i + 1]]));
    let u32_at = |i: usize| u64::from(u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]));
    let x = match n {
        0 => 0,
        1 => u64::from(b[0]),
        2..=3 => u16_at(0) | u16_at(n - 2) << (8 * (n - 2)),
        4..=8 => u32_at(0) | u32_at(n - 4) << (8 * (n - 4)),
        _ => return None,
    };
    // A zero byte among the text's own (the padding's filled with ones for the test).
    let filled = x | u64::MAX.checked_shl(8 * b.len() as u32).unwrap_or(0);
    let has_zero = filled.wrapping_sub(0x0101_0101_0101_0101) & !filled & 0x8080_8080_8080_8080;
    (has_zero == 0).then_some(x)
}

/// Lanes of the one-to-many kernel: thirty-two 8-bit cells fill a 256-bit vector register.
const LANES: usize = 32;
/// Longest token the kernel takes; longer ones go through [`token_similarity`].
const KERNEL_MAX_LEN: usize = 64;
/// A distance in tenths in the kernel. Eight bits hold every distance the kernel must give
/// exactly: the largest bound (three tenths a letter of the longest token it takes, 192) is
/// below [`MAX_CELL`], and a cell that saturates at 255 is over every lane's bound, as is any
/// cell computed from it (the costs of a path's prefixes never exceed its whole cost).
type Cell = u8;
/// Largest distance bound the kernel is given (it must stay below the saturated 255).
const MAX_CELL: Cell = 254;
type Lanes = [Cell; LANES];

/// Per-lane columns of the tokens compared in one kernel run (index j: the tokens' byte j - 1).
struct LaneColumns {
    /// One more than the others: a token's byte after its last, 0.
    byte: [Lanes; KERNEL_MAX_LEN + 2],
    /// 0xff where the byte is a vowel.
    vowel: [Lanes; KERNEL_MAX_LEN + 1],
    /// The sibling group, 0xfe where none (never equal to a query byte's "none", 0xff).
    group: [Lanes; KERNEL_MAX_LEN + 1],
    insert: [Lanes; KERNEL_MAX_LEN + 1],
}

/// `token` compared with each of `others`: `out[k]` is `token_similarity(token, others[k])`,
/// computed thirty-two at a time. The index verifies hundreds of listed words per query word this
/// way; the rows of the query word are shared and every cell is one vector operation.
pub fn token_similarities(token: &str, others: &[&str], out: &mut Vec<f32>) {
    let others: Vec<&[u8]> = others.iter().map(|o| o.as_bytes()).collect();
    token_similarities_of_bytes(token, &others, out)
}

/// How many texts ahead [`token_similarities_of_bytes`] asks for a text: on a large list
/// each is a read from memory, and a few entries' gate tests do not cover its wait.
const PREFETCH_AHEAD: usize = 24;

/// [`token_similarities`] with the others as bytes (the index slices them from its texts
/// without reading them first).
pub fn token_similarities_of_bytes(token: &str, others: &[&[u8]], out: &mut Vec<f32>) {
    out.clear();
    out.resize(others.len(), 0.0);
    let a = token.as_bytes();
    // What the gate decides from the other token's length alone, this token's being fixed
    // (`length_gate`), with the largest distance that keeps the pair at the floor: read per
    // length rather than worked out per pair (a lookup verifies hundreds of entries).
    let max_by_length = kernel_max_distances10();
    let by_length: [Option<KernelGate>; KERNEL_MAX_LEN + 1] = std::array::from_fn(|m| {
        length_gate(a.len(), m).map(|(longer, scale)| KernelGate {
            longer,
            scale,
            max: max_by_length[(longer as usize).min(KERNEL_MAX_LEN)][usize::from(scale != 1.0)],
        })
    });
    // The pairs that need a distance (index in `others`), in the order given: a kernel run's
    // width is its longest token, so runs of one length waste few columns, and the index
    // passes its entries by length already (by kind, then length). Sorting them cost more than
    // the padding it saved.
    let mut pending: Vec<u32> = Vec::with_capacity(others.len());
    // A number is settled by equality alone, and a token past the kernel's length by the
    // scalar distance: both through the general gate.
    let general = a.len() > KERNEL_MAX_LEN || a.iter().all(u8::is_ascii_digit);
    for (k, other) in others.iter().enumerate() {
        // The texts are scattered over a large vocabulary: ask for those a few ahead.
        if let Some(ahead) = others.get(k + PREFETCH_AHEAD) {
            crate::prefetch(ahead.as_ptr());
        }
        let b: &[u8] = other;
        if !general && b.len() <= KERNEL_MAX_LEN {
            // As `similarity_gate`: lengths (0), equal (1), a number (0); `out` starts at 0.
            if by_length[b.len()].is_some() {
                if b == a {
                    out[k] = 1.0;
                } else if !b.iter().all(u8::is_ascii_digit) {
                    pending.push(k as u32);
                }
            }
            continue;
        }
        match similarity_gate(a, b) {
            Err(settled) => out[k] = settled,
            Ok((longer, scale)) => out[k] = gated_similarity(a, b, longer, scale),
        }
    }
    if pending.is_empty() {
        return;
    }
    let profile: Vec<(u8, Cell, Cell, Cell)> = (0..a.len())
        .map(|i| {
            let c = a[i];
            let group = match sibling_group(c) {
                0 => 0xff,
                g => g,
            };
            (
                c,
                indel_cost10(a, i) as Cell,
                if is_vowel(c) { 5 } else { 0 },
                group,
            )
        })
        .collect();
    // The kernel's columns and rows, kept per thread: zeroing their 14 KB for every query word
    // cost more than many lookups' kernel runs. Each run writes the columns and rows it reads.
    KERNEL_SCRATCH.with_borrow_mut(|scratch| {
        let (columns, rows) = &mut **scratch;
        let run = PendingRun {
            pending: &pending,
            others,
            by_length: &by_length,
            profile: &profile,
        };
        run_pending(&run, columns, rows, out);
    });
}

/// What a pair's lengths decide for the kernel (see [`length_gate`]): the longer length and the
/// length scale, and the largest distance, in tenths, that keeps the pair at the floor.
#[derive(Clone, Copy)]
struct KernelGate {
    longer: f32,
    scale: f32,
    max: Cell,
}

/// The pairs of one [`token_similarities_of_bytes`] that need the kernel.
struct PendingRun<'a> {
    /// Indexes in `others`, each of a token within the kernel's length that passed the gate.
    pending: &'a [u32],
    others: &'a [&'a [u8]],
    /// By the other token's length.
    by_length: &'a [Option<KernelGate>; KERNEL_MAX_LEN + 1],
    profile: &'a [(u8, Cell, Cell, Cell)],
}

/// The kernel's per-thread buffers (see [`token_similarities_of_bytes`]).
type KernelScratch = (LaneColumns, [[Lanes; KERNEL_MAX_LEN + 1]; 3]);

thread_local! {
    static KERNEL_SCRATCH: std::cell::RefCell<Box<KernelScratch>> = std::cell::RefCell::new(Box::new((
        LaneColumns {
            byte: [[0; LANES]; KERNEL_MAX_LEN + 2],
            vowel: [[0; LANES]; KERNEL_MAX_LEN + 1],
            group: [[0xfe; LANES]; KERNEL_MAX_LEN + 1],
            insert: [[FULL as Cell; LANES]; KERNEL_MAX_LEN + 1],
        },
        [[[0 as Cell; LANES]; KERNEL_MAX_LEN + 1]; 3],
    )));
}

/// The kernel runs of [`token_similarities_of_bytes`]: the pending pairs thirty-two at a time,
/// each lane's similarity into `out`.
fn run_pending(
    run: &PendingRun,
    columns: &mut LaneColumns,
    rows: &mut [[Lanes; KERNEL_MAX_LEN + 1]; 3],
    out: &mut [f32],
) {
    let gate = |b: &[u8]| run.by_length[b.len()].expect("a pending pair passed the gate");
    for chunk in run.pending.chunks(LANES) {
        let width = chunk
            .iter()
            .map(|&k| run.others[k as usize].len())
            .max()
            .unwrap_or(0);
        let mut max = [0 as Cell; LANES];
        let mut len = [0usize; LANES];
        // Byte 0 past each token's end (and before its start, `byte[0]`, never written).
        for j in 1..=width + 1 {
            columns.byte[j] = [0; LANES];
        }
        for (l, &k) in chunk.iter().enumerate() {
            let b = run.others[k as usize];
            len[l] = b.len();
            max[l] = gate(b).max;
            for (column, &c) in columns.byte[1..].iter_mut().zip(b) {
                column[l] = c;
            }
        }
        derive_columns_fast(columns, width);
        let mut kernel_run = KernelRun {
            profile: run.profile,
            columns,
            rows,
            width,
            max: &max,
            len: &len,
        };
        if let Some(d) = run_kernel(&mut kernel_run) {
            for (l, &k) in chunk.iter().enumerate() {
                let d = d[l];
                if d <= max[l] {
                    let g = gate(run.others[k as usize]);
                    out[k as usize] = similarity_of(u32::from(d), g.longer, g.scale);
                }
            }
        }
    }
}

/// [`derive_columns`] in 256-bit vectors where the processor has them.
fn derive_columns_fast(columns: &mut LaneColumns, width: usize) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        #[target_feature(enable = "avx2")]
        unsafe fn derive_columns_avx2(columns: &mut LaneColumns, width: usize) {
            derive_columns(columns, width)
        }
        // SAFETY: the CPU supports AVX2, checked just above.
        return unsafe { derive_columns_avx2(columns, width) };
    }
    derive_columns(columns, width)
}

/// Each lane's byte classes and insertion costs, from its bytes: [`is_vowel`] and
/// [`sibling_group`] of each byte, and its insertion cost as [`indel_cost10`] charges it from its
/// neighbours, computed for thirty-two tokens at once from the byte columns (the compiler turns
/// each test into vector operations; letter by letter, the same tests were most of a kernel run).
/// Past a token's end the values are of no use and never read.
#[inline(always)]
fn derive_columns(columns: &mut LaneColumns, width: usize) {
    for j in 1..=width {
        let (before, this, after) = (columns.byte[j - 1], columns.byte[j], columns.byte[j + 1]);
        let (mut vowel, mut group, mut insert) = ([0; LANES], [0; LANES], [0; LANES]);
        for l in 0..LANES {
            let (p, c, n) = (before[l], this[l], after[l]);
            let (c_vowel, c_group) = (is_vowel(c), sibling_group(c));
            vowel[l] = if c_vowel { 0xff } else { 0 };
            group[l] = if c_group == 0 { 0xfe } else { c_group };
            // As `indel_cost10`: a letter next to itself (or `c`/`k`/`q` next to another of
            // them) is doubled; byte 0 is no letter (before the start, past the end).
            let same = |d: u8| (d == c) | ((c_group == 1) & (sibling_group(d) == 1));
            let doubled = ((p != 0) & same(p)) | ((n != 0) & same(n));
            let final_s = (c == b's') & (n == 0) & (p != 0) & !is_vowel(p);
            let mut cost = if c_vowel { 7 } else { FULL as Cell };
            cost = if final_s | (c == b'h') { 5 } else { cost };
            cost = if doubled { 3 } else { cost };
            cost = if c.is_ascii_digit() {
                FULL as Cell
            } else {
                cost
            };
            insert[l] = cost;
        }
        columns.vowel[j] = vowel;
        columns.group[j] = group;
        columns.insert[j] = insert;
    }
}

/// One kernel run: the query word's rows and thirty-two tokens' columns.
struct KernelRun<'a> {
    /// Per query byte: the byte, its deletion cost, its vowel cost share, its sibling group.
    profile: &'a [(u8, Cell, Cell, Cell)],
    columns: &'a LaneColumns,
    /// Three rows of cells (the one computed, the two before): only the first `width + 1`
    /// columns are read, each after it is written.
    rows: &'a mut [[Lanes; KERNEL_MAX_LEN + 1]; 3],
    /// The longest token's length: the columns computed.
    width: usize,
    /// Each lane's largest distance of interest, and its token's length.
    max: &'a Lanes,
    len: &'a [usize; LANES],
}

#[cfg(test)]
thread_local! {
    /// Tests run the portable kernel too, which a machine with AVX2 would never take.
    static PORTABLE_KERNEL: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

fn run_kernel(run: &mut KernelRun) -> Option<Lanes> {
    #[cfg(test)]
    if PORTABLE_KERNEL.get() {
        return kernel(run);
    }
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU supports AVX2, checked just above.
        return unsafe { kernel_avx2(run) };
    }
    kernel(run)
}

/// [`kernel`] written with AVX2 instructions, one 32-lane vector per cell. Left to the
/// compiler, the lanes' running row minimum came out as 32 scalar compares a cell, and the cells
/// behind a run-time check that the rows and columns do not overlap: several times the
/// instructions of the recurrence itself.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
// Rows and columns are indexed in lockstep, as in `kernel`.
#[allow(clippy::needless_range_loop)]
unsafe fn kernel_avx2(run: &mut KernelRun) -> Option<Lanes> {
    use std::arch::x86_64::*;
    let (profile, columns, width, max, len) =
        (run.profile, run.columns, run.width, run.max, run.len);
    let rows = &mut *run.rows;
    // SAFETY (all loads and stores below): each `Lanes` is 32 bytes, one unaligned vector.
    let load = |lanes: &Lanes| unsafe { _mm256_loadu_si256(lanes.as_ptr().cast()) };
    let store = |lanes: &mut Lanes, v: __m256i| unsafe {
        _mm256_storeu_si256(lanes.as_mut_ptr().cast(), v)
    };
    let splat = |c: Cell| _mm256_set1_epi8(c as i8);
    // Unsigned `a <= b` per lane, as a mask.
    let at_most = |a: __m256i, b: __m256i| _mm256_cmpeq_epi8(_mm256_min_epu8(a, b), a);
    let (full, swap_cost) = (splat(FULL as Cell), splat(SWAP as Cell));
    let [prev2, prev, cur] = rows;
    let (mut prev2, mut prev, mut cur) = (prev2, prev, cur);
    let mut left = _mm256_setzero_si256();
    store(&mut prev[0], left);
    for j in 1..=width {
        left = _mm256_adds_epu8(left, load(&columns.insert[j]));
        store(&mut prev[j], left);
    }
    let max = load(max);
    let mut prev_in_reach = _mm256_set1_epi8(-1);
    for (i, &(ai, del_a, vowel_a, group_a)) in profile.iter().enumerate() {
        let a_before = (i > 0).then(|| profile[i - 1].0).filter(|&p| p != ai);
        let (a, del, vowel, group) = (splat(ai), splat(del_a), splat(vowel_a), splat(group_a));
        let mut left = _mm256_adds_epu8(load(&prev[0]), del);
        store(&mut cur[0], left);
        let mut row_min = left;
        let mut diagonal = load(&prev[0]);
        for j in 1..=width {
            let b = load(&columns.byte[j]);
            let vowel_cost =
                _mm256_sub_epi8(full, _mm256_and_si256(load(&columns.vowel[j]), vowel));
            let siblings = _mm256_cmpeq_epi8(load(&columns.group[j]), group);
            let sibling_cost = _mm256_blendv_epi8(full, swap_cost, siblings);
            // Zero where the bytes are equal.
            let cost = _mm256_andnot_si256(
                _mm256_cmpeq_epi8(b, a),
                _mm256_min_epu8(vowel_cost, sibling_cost),
            );
            let up = load(&prev[j]);
            let mut cell = _mm256_min_epu8(
                _mm256_min_epu8(
                    _mm256_adds_epu8(up, del),
                    _mm256_adds_epu8(left, load(&columns.insert[j])),
                ),
                _mm256_adds_epu8(diagonal, cost),
            );
            if let (Some(p), true) = (a_before, j > 1) {
                let swapped = _mm256_and_si256(
                    _mm256_cmpeq_epi8(load(&columns.byte[j - 1]), a),
                    _mm256_cmpeq_epi8(b, splat(p)),
                );
                let via = _mm256_adds_epu8(load(&prev2[j - 2]), swap_cost);
                cell = _mm256_blendv_epi8(cell, _mm256_min_epu8(cell, via), swapped);
            }
            store(&mut cur[j], cell);
            row_min = _mm256_min_epu8(row_min, cell);
            left = cell;
            diagonal = up;
        }
        // A transposition can reach back two rows, so a lane gives up when both rows are over.
        let in_reach = at_most(row_min, max);
        if _mm256_movemask_epi8(_mm256_or_si256(in_reach, prev_in_reach)) == 0 {
            return None;
        }
        prev_in_reach = in_reach;
        std::mem::swap(&mut prev2, &mut prev);
        std::mem::swap(&mut prev, &mut cur);
    }
    Some(std::array::from_fn(|l| prev[len[l]][l]))
}

/// The scalar [`bounded_distance10`] with thirty-two `b` tokens side by side: the same recurrence,
/// the query's byte, deletion cost and classes per row, each lane's byte classes per column.
/// Gives each lane's distance (at its own length `len`), or None when every lane has passed
/// its bound.
// Lanes are indexed in lockstep across several arrays: that is what the compiler vectorizes.
#[allow(clippy::needless_range_loop)]
#[inline(always)]
fn kernel(run: &mut KernelRun) -> Option<Lanes> {
    let KernelRun {
        profile,
        columns,
        ref mut rows,
        width,
        max,
        len,
    } = *run;
    let [prev2, prev, cur] = &mut **rows;
    let (mut prev2, mut prev, mut cur) = (prev2, prev, cur);
    prev[0] = [0; LANES];
    for j in 1..=width {
        for l in 0..LANES {
            prev[j][l] = prev[j - 1][l].saturating_add(columns.insert[j][l]);
        }
    }
    let mut prev_min = [0 as Cell; LANES];
    for (i, &(ai, del_a, vowel_a, group_a)) in profile.iter().enumerate() {
        let a_before = (i > 0).then(|| profile[i - 1].0).filter(|&p| p != ai);
        let mut row_min = [0 as Cell; LANES];
        for l in 0..LANES {
            cur[0][l] = prev[0][l].saturating_add(del_a);
            row_min[l] = cur[0][l];
        }
        for j in 1..=width {
            let (before, this) = cur.split_at_mut(j);
            let left = &before[j - 1];
            let this = &mut this[0];
            for l in 0..LANES {
                let b = columns.byte[j][l];
                let vowel_cost = FULL as Cell - (columns.vowel[j][l] & vowel_a);
                let sibling_cost = if columns.group[j][l] == group_a {
                    SWAP as Cell
                } else {
                    FULL as Cell
                };
                let cost = if b == ai {
                    0
                } else {
                    vowel_cost.min(sibling_cost)
                };
                let del = prev[j][l].saturating_add(del_a);
                let ins = left[l].saturating_add(columns.insert[j][l]);
                let sub = prev[j - 1][l].saturating_add(cost);
                this[l] = del.min(ins).min(sub);
            }
            if let (Some(p), true) = (a_before, j > 1) {
                for l in 0..LANES {
                    // Branch-free (`&`, a mask) so that the lanes stay in one vector.
                    let swap = (columns.byte[j - 1][l] == ai) & (columns.byte[j][l] == p);
                    let not_swap = Cell::from(!swap).wrapping_neg();
                    let via = prev2[j - 2][l].saturating_add(SWAP as Cell) | not_swap;
                    this[l] = this[l].min(via);
                }
            }
            for l in 0..LANES {
                row_min[l] = row_min[l].min(this[l]);
            }
        }
        // A transposition can reach back two rows, so a lane gives up when both rows are over.
        let mut all_over = true;
        for l in 0..LANES {
            all_over &= (row_min[l] > max[l]) & (prev_min[l] > max[l]);
        }
        if all_over {
            return None;
        }
        prev_min = row_min;
        std::mem::swap(&mut prev2, &mut prev);
        std::mem::swap(&mut prev, &mut cur);
    }
    Some(std::array::from_fn(|l| prev[len[l]][l]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sim(a: &str, b: &str) -> f32 {
        token_similarity(a, b)
    }

    #[test]
    fn transliteration_variants_are_close() {
        assert!(
            sim("serniya", "sernia") >= 0.85,
            "{}",
            sim("serniya", "sernia")
        );
        assert!(sim("muhammad", "mohammed") >= 0.85);
        assert!(sim("yablachkova", "yablochkova") >= 0.9);
        assert!(sim("vucic", "vukic") >= 0.85);
        assert!(sim("treydtuls", "tradetools") >= TOKEN_FLOOR);
    }

    #[test]
    fn typos_are_close_but_different_names_are_not() {
        assert!(sim("enginering", "engineering") >= 0.9);
        assert!(sim("lindemann", "lindeman") >= 0.9);
        assert!(sim("pol", "pot") < TOKEN_FLOOR);
        assert!(sim("lukashevich", "lukashenko") < 0.75);
        assert!(sim("ivanov", "lavrov") < TOKEN_FLOOR);
    }

    #[test]
    fn a_final_s_after_a_consonant_is_cheap() {
        assert!(sim("lavrovs", "lavrov") >= 0.9);
        assert!(sim("sergejs", "sergey") >= 0.8);
        // Only at the end, and after a consonant.
        assert!(sim("lavsrov", "lavrov") < 0.9);
        assert!(sim("costas", "costa") < 0.9);
    }

    #[test]
    fn one_to_many_matches_pairwise_on_transpositions() {
        let long = "abcdefghij".repeat(7);
        let near_long = format!("{}x", &long[..68]);
        let others = [
            "ibj",
            "roham",
            "gorahm",
            "ogrham",
            "gorham",
            "5",
            &long[..60],
            &near_long,
        ];
        for token in ["ijb", "gorham", &long, &long[..64]] {
            let mut many = Vec::new();
            token_similarities(token, &others, &mut many);
            for (other, sim) in others.iter().zip(&many) {
                assert_eq!(*sim, token_similarity(token, other), "{token} / {other}");
            }
        }
        assert!(token_similarity("ijb", "ibj") > 0.7);
    }

    #[test]
    fn numbers_must_agree() {
        assert_eq!(sim("5", "6"), 0.0);
        assert_eq!(sim("44", "44"), 1.0);
    }

    #[test]
    fn distance_is_symmetric_on_examples() {
        for (a, b) in [("kim", "kin"), ("sertal", "sertall"), ("abc", "cba")] {
            let d1 = weighted_distance(a.as_bytes(), b.as_bytes());
            let d2 = weighted_distance(b.as_bytes(), a.as_bytes());
            assert!((d1 - d2).abs() < 1e-6, "{a} {b}");
        }
    }

    fn indel_cost(s: &[u8], i: usize) -> f32 {
        f32::from(indel_cost10(s, i)) / 10.0
    }

    fn substitution_cost(a: u8, b: u8) -> f32 {
        f32::from(substitution_cost10(a, b)) / 10.0
    }

    /// The distance as the textbook full table: what the bounded, table-driven version must
    /// equal wherever it does not give up.
    fn reference(a: &[u8], b: &[u8]) -> f32 {
        let (n, m) = (a.len(), b.len());
        let mut d = vec![vec![0f32; m + 1]; n + 1];
        for i in 1..=n {
            d[i][0] = d[i - 1][0] + indel_cost(a, i - 1);
        }
        for j in 1..=m {
            d[0][j] = d[0][j - 1] + indel_cost(b, j - 1);
        }
        for i in 1..=n {
            for j in 1..=m {
                let mut best = (d[i - 1][j] + indel_cost(a, i - 1))
                    .min(d[i][j - 1] + indel_cost(b, j - 1))
                    .min(d[i - 1][j - 1] + substitution_cost(a[i - 1], b[j - 1]));
                if i > 1
                    && j > 1
                    && a[i - 1] == b[j - 2]
                    && a[i - 2] == b[j - 1]
                    && a[i - 1] != a[i - 2]
                {
                    best = best.min(d[i - 2][j - 2] + 0.6);
                }
                d[i][j] = best;
            }
        }
        d[n][m]
    }

    /// The kernel's similarities of `token` with `others`, given as texts and as bytes, with the
    /// AVX2 kernel (where the CPU has it) and the portable one, are the pairwise ones.
    fn one_to_many_is_pairwise(
        token: &str,
        others: &[String],
    ) -> Result<(), proptest::test_runner::TestCaseError> {
        let others: Vec<&str> = others.iter().map(String::as_str).collect();
        let mut many = Vec::new();
        token_similarities(token, &others, &mut many);
        proptest::prop_assert_eq!(many.len(), others.len());
        // The same as bytes, as the index gives them.
        let bytes: Vec<&[u8]> = others.iter().map(|o| o.as_bytes()).collect();
        let mut of_bytes = Vec::new();
        token_similarities_of_bytes(token, &bytes, &mut of_bytes);
        proptest::prop_assert_eq!(&many, &of_bytes);
        PORTABLE_KERNEL.set(true);
        let mut portable = Vec::new();
        token_similarities(token, &others, &mut portable);
        PORTABLE_KERNEL.set(false);
        proptest::prop_assert_eq!(&many, &portable);
        for (other, sim) in others.iter().zip(&many) {
            proptest::prop_assert_eq!(
                *sim,
                token_similarity(token, other),
                "{} / {}",
                token,
                other
            );
        }
        Ok(())
    }

    #[test]
    fn one_to_many_settles_equal_tokens_numbers_and_lengths_as_pairs_do() {
        for token in ["sernia", "123", "a1", "", "ab"] {
            let others: Vec<String> = [token, "123", "1234", "sernia", "serniya", "", "12a", "s"]
                .iter()
                .map(|s| s.to_string())
                .collect();
            one_to_many_is_pairwise(token, &others).unwrap();
        }
    }

    #[test]
    fn the_vector_pair_distance_takes_swaps_doubles_and_its_longest_tokens() {
        let cases: &[(&str, &str)] = &[
            ("ab", "ba"),
            ("akram", "arkam"),
            ("abab", "baba"),
            ("aab", "aba"),
            ("lavrovs", "lavrov"),
            ("frederick", "frederic"),
            ("muhammad", "mohammed"),
            ("s", "z"),
            ("a1", "a2"),
            (
                "abcdefghijklmno",
                "abcdefghijklmnoabcdefghijklmnoabcdefghijklmnoabc",
            ),
            ("abcdefghijklmno", "bacdefghijklmnp"),
            ("x", "abcdefghijklmnoabcdefghijklmnoabcdefghijklmnoabc"),
        ];
        for &(a, b) in cases {
            for max in [0, 3, 6, 12, 25, 60, pair::MAX_BOUND] {
                let (a, b) = (a.as_bytes(), b.as_bytes());
                assert_eq!(
                    vector_distance10(a, b, max),
                    scalar_distance10(a, b, max),
                    "{:?} / {:?} within {}",
                    a,
                    b,
                    max
                );
            }
        }
        // A swap of neighbours costs six tenths, a doubled letter three.
        assert_eq!(vector_distance10(b"ab", b"ba", 20), Some(6));
        assert_eq!(vector_distance10(b"akram", b"akkram", 20), Some(3));
    }

    /// The vector pair distance, the shorter token as its rows (as `bounded_distance10` calls it).
    fn vector_distance10(a: &[u8], b: &[u8], max: u32) -> Option<u32> {
        let (shorter, longer) = if a.len() <= b.len() { (a, b) } else { (b, a) };
        pair::bounded_distance10(shorter, longer, max)
    }

    /// `word` with `edits` applied, each (where, what, letter): 0 inserts the letter, 1 replaces
    /// the byte there with it, 2 swaps the byte there with the next, 3 deletes it (never the
    /// last byte left); `where` wraps around the word's length.
    fn edited(word: &str, edits: &[(usize, u8, String)]) -> Vec<u8> {
        let mut out = word.as_bytes().to_vec();
        for (at, op, letter) in edits {
            let at = at % (out.len() + 1);
            match op {
                0 => out.insert(at, letter.as_bytes()[0]),
                1 if at < out.len() => out[at] = letter.as_bytes()[0],
                2 if at + 1 < out.len() => out.swap(at, at + 1),
                3 if at < out.len() && out.len() > 1 => {
                    out.remove(at);
                }
                _ => {}
            }
        }
        out
    }

    /// Words over every sibling group, `h`, `y`, digits, doubled letters and a final `s`.
    const SIBLING_WORDS: &str = "[cgjhkqsyi]{0,7}|[abcdfghjkpqstvwxyz1ie]{0,10}";

    proptest::proptest! {
        #[test]
        fn similarity_is_symmetric(a in SIBLING_WORDS, b in SIBLING_WORDS) {
            // The weighted distance charges a deletion from one side as an insertion into the
            // other, and each from its own word's context: the same either way round.
            proptest::prop_assert_eq!(token_similarity(&a, &b), token_similarity(&b, &a));
        }

        #[test]
        fn the_memo_gives_each_pair_its_own_similarity(
            // Short texts (packed into numbers) and longer ones (hashed as strings), each pair
            // asked twice in one memo, with the same pairs padded by zero bytes in between.
            pairs in proptest::collection::vec(("[abk]{0,9}|[aeihks]{0,12}", "[abk]{0,9}"), 0..30),
        ) {
            let mut memo = SimilarityMemo::default();
            let padded = |t: &String| format!("{t}\0");
            for round in 0..2 {
                for (a, b) in &pairs {
                    proptest::prop_assert_eq!(memo.similarity(a, b), token_similarity(a, b));
                    if round == 0 {
                        let (a, b) = (padded(a), padded(b));
                        proptest::prop_assert_eq!(memo.similarity(&a, &b), token_similarity(&a, &b));
                    }
                }
            }
        }

        #[test]
        fn indel_costs_of_a_token_are_each_bytes_own(t in "[cgjhkqsyia1]{0,9}|[a-z0-9\\x00-\\x7f]{0,12}") {
            let mut costs = vec![0u8; t.len()];
            indel_costs10(t.as_bytes(), &mut costs);
            for (i, &c) in costs.iter().enumerate() {
                proptest::prop_assert_eq!(Tenths::from(c), indel_cost10(t.as_bytes(), i), "{:?} at {}", t, i);
            }
        }

        #[test]
        fn short_texts_pack_as_their_bytes(b in proptest::collection::vec(proptest::num::u8::ANY, 0..12)) {
            // The packing as a copy into eight zeroed bytes, for texts without a zero byte.
            let expected = (b.len() <= 8 && !b.contains(&0)).then(|| {
                let mut bytes = [0u8; 8];
                bytes[..b.len()].copy_from_slice(&b);
                u64::from_le_bytes(bytes)
            });
            proptest::prop_assert_eq!(pack8(&b), expected);
        }

        #[test]
        fn the_consonant_bound_is_never_above_the_distance(a in SIBLING_WORDS, b in SIBLING_WORDS) {
            let bound = consonant_bound10(a.as_bytes(), b.as_bytes());
            let distance = reference(a.as_bytes(), b.as_bytes());
            proptest::prop_assert!(
                bound as f32 / 10.0 <= distance + 1e-4,
                "{} / {}: bound {} distance {}", a, b, bound, distance
            );
        }

        #[test]
        fn the_vector_pair_distance_is_the_scalar_one(
            // Words over the letters the costs single out (vowels, siblings, `h`, a final `s`,
            // digits, a byte of a non-Latin letter), from one to the vector's fifteen letters.
            a in "[aeiouyhckqszjvwfdtbpgmnr1é]{1,13}s?",
            edits in proptest::collection::vec((0usize..50, 0u8..4, "[aeiouyhcksztdbpgjvwfmnr1]"), 0..6),
            other in "[aeiouyhckqsztdbpgmnr1]{1,48}",
            max in 0u32..=pair::MAX_BOUND,
        ) {
            // A near spelling of `a`, and an unrelated word, longer too: both the exact
            // distances and the early way out.
            let near = edited(&a, &edits);
            let a = a.as_bytes();
            for b in [&near[..], other.as_bytes()] {
                let scalar = scalar_distance10(a, b, max);
                proptest::prop_assert_eq!(scalar, scalar_distance10(b, a, max));
                if a.len().min(b.len()) <= pair::MAX_SHORTER
                    && a.len().max(b.len()) <= pair::MAX_LONGER
                {
                    proptest::prop_assert_eq!(
                        vector_distance10(a, b, max),
                        scalar,
                        "{:?} / {:?}, bound {}",
                        String::from_utf8_lossy(a),
                        String::from_utf8_lossy(b),
                        max
                    );
                }
            }
        }

        #[test]
        fn may_reach_floor_never_rules_out_a_pair_at_the_floor(
            a in "[a-z]{2,10}",
            edits in proptest::collection::vec((0usize..12, 0u8..4, "[aeiouyhcksztdbpgjvwfmnr]"), 0..4),
        ) {
            // A word and a few edits of it (the cheap ones among them): pairs near the floor,
            // which unrelated words never are.
            let b = String::from_utf8(edited(&a, &edits)).unwrap();
            if token_similarity(&a, &b) >= TOKEN_FLOOR {
                proptest::prop_assert!(may_reach_floor(&a, &b), "{} / {}", a, b);
                proptest::prop_assert!(may_reach_floor(&b, &a), "{} / {}", b, a);
            }
        }

        #[test]
        fn bounded_distance_is_the_full_distance_or_gives_up_above_the_bound(
            a in "[a-z0-9]{0,40}",
            b in "[a-z0-9]{0,40}",
            max in 0.0f32..6.0,
        ) {
            let full = reference(a.as_bytes(), b.as_bytes());
            match bounded_distance(a.as_bytes(), b.as_bytes(), max) {
                Some(d) => proptest::prop_assert!((d - full).abs() < 1e-4 && d <= max),
                None => proptest::prop_assert!(full > max),
            }
        }

        #[test]
        fn one_to_many_similarities_are_the_pairwise_ones(
            // Small alphabets, so that many pairs are close and their exact distances count.
            token in "[aeihksty1é]{0,12}",
            others in proptest::collection::vec("[aeihkstyj1ж]{0,14}|[a-z]{50,70}", 0..40),
        ) {
            one_to_many_is_pairwise(&token, &others)?;
        }

        #[test]
        fn one_to_many_similarities_are_the_pairwise_ones_for_every_sibling(
            // Every letter class the kernel derives from its byte columns.
            token in SIBLING_WORDS,
            others in proptest::collection::vec(SIBLING_WORDS, 0..40),
        ) {
            one_to_many_is_pairwise(&token, &others)?;
        }

        #[test]
        fn one_to_many_similarities_agree_on_swapped_letters(
            token in "[a-z]{2,12}",
            swaps in proptest::collection::vec((0usize..12, 0usize..12, "[a-z]"), 1..20),
        ) {
            // Variants of the token with neighbours swapped and a letter changed: the
            // transposition path of the recurrence decides their distances.
            let others: Vec<String> = swaps
                .iter()
                .map(|(i, j, c)| {
                    let mut b = token.clone().into_bytes();
                    let i = i % (b.len() - 1);
                    b.swap(i, i + 1);
                    let j = j % b.len();
                    if j != i && j != i + 1 {
                        b[j] = c.as_bytes()[0];
                    }
                    String::from_utf8(b).unwrap()
                })
                .collect();
            let others: Vec<&str> = others.iter().map(String::as_str).collect();
            let mut many = Vec::new();
            token_similarities(&token, &others, &mut many);
            for (other, sim) in others.iter().zip(&many) {
                proptest::prop_assert_eq!(*sim, token_similarity(&token, other), "{} / {}", token, other);
            }
        }

        #[test]
        fn similar_spellings_agree_with_the_reference(
            a in "[aeiostnrkhl]{1,12}",
            b in "[aeiostnrkhl]{1,12}",
        ) {
            let full = reference(a.as_bytes(), b.as_bytes());
            let d = weighted_distance(a.as_bytes(), b.as_bytes());
            proptest::prop_assert!((d - full).abs() < 1e-4);
        }
    }
}
