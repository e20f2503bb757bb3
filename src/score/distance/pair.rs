//! The distance of one pair of tokens in vector instructions, one anti-diagonal at a time.
//!
//! The scorer and the score bound compare tokens one pair at a time (through the memo), and each
//! pair the memo has not seen cost a scalar run of the recurrence, cell by cell: a fifth of the
//! instructions of a screened name. The cells of one anti-diagonal (`i + j` fixed) depend only on
//! the diagonals before it, so here the shorter token's rows are the lanes of one SSE2 vector
//! (row 0 and up to fifteen letters) and each diagonal is a few dozen vector operations, where
//! the scalar recurrence spends about as many instructions on each cell. Not here: comparing one
//! token with many (the lookup's kernel, thirty-two tokens a run, in the parent module), or the
//! recurrence's definition, which is the scalar [`super::scalar_distance10`]'s: this computes
//! exactly what it does (a proptest compares them on near and unrelated spellings).

#[cfg(target_arch = "x86_64")]
use super::{is_vowel, sibling_group, FULL, SWAP};

/// Lanes of one vector: row 0 and the shorter token's letters.
const ROWS: usize = 16;
/// Longest shorter token taken.
pub(super) const MAX_SHORTER: usize = ROWS - 1;
/// Longest longer token taken (the buffers of its reversed columns are on the stack).
pub(super) const MAX_LONGER: usize = 48;
/// Largest bound taken: cells saturate at 255, which must stay over every bound.
pub(super) const MAX_BOUND: u32 = 200;
/// The reversed column buffers: every diagonal's load, one vector at an offset from 1 to
/// `n + m + 1`, stays inside.
#[cfg(target_arch = "x86_64")]
const COLUMNS: usize = MAX_SHORTER + MAX_LONGER + ROWS + 2;

/// What the recurrence needs of a byte, read from one table entry.
#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy)]
struct ByteClass {
    /// 0xff for a vowel.
    vowel: u8,
    /// The sibling group; where none, a value no group has, different on each side (two
    /// ungrouped letters are no siblings).
    group_rows: u8,
    group_columns: u8,
    /// The insertion or deletion cost of the byte alone (not doubled, not a final `s`).
    alone: u8,
    /// Bytes written twice next to one of the same key (`c`/`k`/`q` one key, every other byte
    /// its own), as [`super::indel_cost10`] has it.
    double_key: u8,
    digit: bool,
}

#[cfg(target_arch = "x86_64")]
static CLASSES: [ByteClass; 256] = {
    let mut classes = [ByteClass {
        vowel: 0,
        group_rows: 0xff,
        group_columns: 0xfe,
        alone: FULL as u8,
        double_key: 0,
        digit: false,
    }; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        let class = &mut classes[b];
        let group = sibling_group(c);
        if group != 0 {
            class.group_rows = group;
            class.group_columns = group;
        }
        if is_vowel(c) {
            class.vowel = 0xff;
            class.alone = 7;
        } else if c == b'h' {
            class.alone = 5;
        }
        class.double_key = if group == 1 { b'k' } else { c };
        class.digit = c.is_ascii_digit();
        b += 1;
    }
    classes
};

/// Each byte of `s` with its class and its insertion or deletion cost, as
/// [`super::indel_costs10`] gives it, in one pass and from one table.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn for_each_byte(s: &[u8], mut f: impl FnMut(usize, u8, &ByteClass, u8)) {
    let n = s.len();
    let mut before: Option<&ByteClass> = None;
    let mut this = &CLASSES[usize::from(s[0])];
    for i in 0..n {
        let after = s.get(i + 1).map(|&d| &CLASSES[usize::from(d)]);
        let key = this.double_key;
        let doubled = before.is_some_and(|p| p.double_key == key)
            || after.is_some_and(|p| p.double_key == key);
        let cost = if this.digit {
            FULL as u8
        } else if doubled {
            3
        } else if s[i] == b's' && after.is_none() && before.is_some_and(|p| p.vowel == 0) {
            // A nominative `-s` after a consonant.
            5
        } else {
            this.alone
        };
        f(i, s[i], this, cost);
        before = Some(this);
        if let Some(next) = after {
            this = next;
        }
    }
}

/// `bounded_distance10(a, b, max)` for `a` of 1 to [`MAX_SHORTER`] bytes, `b` of 1 to
/// [`MAX_LONGER`], `max` at most [`MAX_BOUND`] (the distance is symmetric: the caller passes
/// the shorter token as `a`).
#[cfg(target_arch = "x86_64")]
pub(super) fn bounded_distance10(a: &[u8], b: &[u8], max: u32) -> Option<u32> {
    use std::arch::x86_64::*;
    let (n, m) = (a.len(), b.len());
    assert!((1..=MAX_SHORTER).contains(&n) && (1..=MAX_LONGER).contains(&m) && max <= MAX_BOUND);

    // Rows, lane i for row i (letter a[i - 1]); lane 0 and lanes past the token are no letter
    // (a lane reads only the lanes below it, so those lanes only need to stay over the bound).
    let mut del = [255u8; ROWS];
    let mut letter = [0u8; ROWS];
    let mut vowel5 = [0u8; ROWS];
    let mut group = [0xffu8; ROWS];
    let mut no_letter = [0xffu8; ROWS];
    for_each_byte(a, |i, c, class, cost| {
        let lane = i + 1;
        letter[lane] = c;
        del[lane] = cost;
        vowel5[lane] = class.vowel & 5;
        group[lane] = class.group_rows;
        no_letter[lane] = 0;
    });

    // Columns, reversed: at position p, b's letter j = K - p (1-based, K = n + m + 1), so that
    // the load at K - d gives lane i the letter of its cell on diagonal d, j = d - i. Past either
    // end: byte 0 (tokens hold none), no class, insertion 255, and `outside` set.
    let k = n + m + 1;
    let mut byte = [0u8; COLUMNS];
    let mut vowel = [0u8; COLUMNS];
    let mut group_b = [0xfeu8; COLUMNS];
    let mut insert = [255u8; COLUMNS];
    let mut outside = [0xffu8; COLUMNS];
    for_each_byte(b, |j, c, class, cost| {
        let p = k - (j + 1);
        byte[p] = c;
        vowel[p] = class.vowel;
        group_b[p] = class.group_columns;
        insert[p] = cost;
        outside[p] = 0;
    });

    // SAFETY: SSE2 is part of x86_64. Every row load reads one of the 16-byte arrays above;
    // every column load reads 16 bytes at an offset from 1 (`k - d` on the last diagonal) to
    // k = n + m + 1 (`k - d + 1` on the first), so up to byte n + m + 16 < `COLUMNS` (n and m
    // at most MAX_SHORTER and MAX_LONGER, asserted above).
    unsafe {
        let row = |v: &[u8; ROWS]| _mm_loadu_si128(v.as_ptr().cast());
        let (del, letter, vowel5, group, no_letter) = (
            row(&del),
            row(&letter),
            row(&vowel5),
            row(&group),
            row(&no_letter),
        );
        // A swap brings `a[i - 1] a[i]` to `b[j - 1] b[j]`, two different letters (rows 2 to n).
        let ones = _mm_set1_epi8(-1);
        let letter_before = _mm_slli_si128(letter, 1);
        let may_swap = _mm_andnot_si128(
            _mm_or_si128(_mm_cmpeq_epi8(letter, letter_before), no_letter),
            _mm_slli_si128(ones, 2),
        );
        let column = |v: &[u8; COLUMNS], at: usize| {
            debug_assert!(at + ROWS <= COLUMNS);
            _mm_loadu_si128(v.as_ptr().add(at).cast())
        };
        let splat = |c: u8| _mm_set1_epi8(c as i8);
        let (full, four, swap_cost, max_v) = (
            splat(FULL as u8),
            splat(FULL as u8 - SWAP as u8),
            splat(SWAP as u8),
            splat(max as u8),
        );
        // Diagonals d - 1 to d - 4; cells off the table are 255 (over every bound, and so is
        // whatever is added to them). Diagonal 0 is the cell (0, 0).
        let mut h1 = _mm_insert_epi16(ones, 0xff00u16 as i16 as i32, 0);
        let (mut h2, mut h3, mut h4) = (ones, ones, ones);
        // A path steps over at most three diagonals (a swap), so four in a row entirely over
        // the bound mean every path is.
        let mut over = 0;
        for d in 1..=n + m {
            let s = k - d;
            let b_here = column(&byte, s);
            let b_before = column(&byte, s + 1);
            let up = _mm_adds_epu8(_mm_slli_si128(h1, 1), del);
            let left = _mm_adds_epu8(h1, column(&insert, s));
            // As `substitution_cost10`: equal 0, two vowels 5, siblings 6, otherwise in full;
            // no cell where either side has no letter.
            let vowels = _mm_sub_epi8(full, _mm_and_si128(column(&vowel, s), vowel5));
            let siblings = _mm_sub_epi8(
                full,
                _mm_and_si128(_mm_cmpeq_epi8(column(&group_b, s), group), four),
            );
            let cost = _mm_or_si128(
                _mm_andnot_si128(
                    _mm_cmpeq_epi8(b_here, letter),
                    _mm_min_epu8(vowels, siblings),
                ),
                _mm_or_si128(no_letter, column(&outside, s)),
            );
            let diagonal = _mm_adds_epu8(_mm_slli_si128(h2, 1), cost);
            let swapped = _mm_and_si128(
                may_swap,
                _mm_and_si128(
                    _mm_cmpeq_epi8(b_before, letter),
                    _mm_cmpeq_epi8(b_here, letter_before),
                ),
            );
            let via_swap = _mm_or_si128(
                _mm_adds_epu8(_mm_slli_si128(h4, 2), swap_cost),
                _mm_andnot_si128(swapped, ones),
            );
            let cell = _mm_min_epu8(_mm_min_epu8(up, left), _mm_min_epu8(diagonal, via_swap));
            let in_reach = _mm_movemask_epi8(_mm_cmpeq_epi8(_mm_min_epu8(cell, max_v), cell));
            over = if in_reach == 0 { over + 1 } else { 0 };
            if over == 4 {
                return None;
            }
            (h4, h3, h2, h1) = (h3, h2, h1, cell);
        }
        let mut last = [0u8; ROWS];
        _mm_storeu_si128(last.as_mut_ptr().cast(), h1);
        let d = u32::from(last[n]);
        (d <= max).then_some(d)
    }
}

/// Elsewhere, the scalar recurrence.
#[cfg(not(target_arch = "x86_64"))]
pub(super) fn bounded_distance10(a: &[u8], b: &[u8], max: u32) -> Option<u32> {
    super::scalar_distance10(a, b, max)
}
