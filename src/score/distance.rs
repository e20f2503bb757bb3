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

fn is_vowel(c: u8) -> bool {
    matches!(c, b'a' | b'e' | b'i' | b'o' | b'u' | b'y')
}

/// Transliteration siblings: letters that stand for the same sound in different schemes.
fn sibling_group(c: u8) -> u8 {
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

fn substitution_cost(a: u8, b: u8) -> f32 {
    if a == b {
        0.0
    } else if a.is_ascii_digit() || b.is_ascii_digit() {
        1.0
    } else if is_vowel(a) && is_vowel(b) {
        0.5
    } else {
        let ga = sibling_group(a);
        if ga != 0 && ga == sibling_group(b) {
            0.6
        } else {
            1.0
        }
    }
}

/// Cost of inserting or deleting `c` at position `i` of `s`.
fn indel_cost(s: &[u8], i: usize) -> f32 {
    let c = s[i];
    let doubled = (i > 0 && s[i - 1] == c) || (i + 1 < s.len() && s[i + 1] == c);
    if c.is_ascii_digit() {
        1.0
    } else if doubled {
        0.3
    } else if c == b'h' {
        0.5
    } else if c == b's' && i + 1 == s.len() && i > 0 && !is_vowel(s[i - 1]) {
        // A nominative `-s` after a consonant (Latvian, Lithuanian: Lavrovs / Lavrov).
        0.5
    } else if is_vowel(c) {
        0.7
    } else {
        1.0
    }
}

/// Weighted optimal-string-alignment distance between two ASCII tokens.
pub fn weighted_distance(a: &[u8], b: &[u8]) -> f32 {
    bounded_distance(a, b, f32::INFINITY).unwrap_or(f32::INFINITY)
}

/// Substitution costs of every pair of bytes, computed once: the distance's inner loop is a
/// table read, not a chain of tests.
fn substitution_table() -> &'static [[f32; 256]; 256] {
    static TABLE: std::sync::OnceLock<Box<[[f32; 256]; 256]>> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        let mut t = Box::new([[0f32; 256]; 256]);
        for a in 0..256usize {
            for b in 0..256usize {
                t[a][b] = substitution_cost(a as u8, b as u8);
            }
        }
        t
    })
}

/// As [`weighted_distance`], but gives up (None) as soon as the distance must exceed `max`:
/// most compared tokens are unrelated, and their rows pass the bound within a few letters.
pub fn bounded_distance(a: &[u8], b: &[u8], max: f32) -> Option<f32> {
    let (n, m) = (a.len(), b.len());
    if n == 0 || m == 0 {
        let d: f32 = if n == 0 {
            (0..m).map(|j| indel_cost(b, j)).sum()
        } else {
            (0..n).map(|i| indel_cost(a, i)).sum()
        };
        return (d <= max).then_some(d);
    }
    // Three rows for the transposition case and the insertion costs of `b`; names are short,
    // so they live on the stack.
    const STACK: usize = 32;
    let w = m + 1;
    let mut stack = [0f32; 4 * STACK];
    let mut heap = Vec::new();
    let rows: &mut [f32] = if w <= STACK {
        &mut stack[..4 * w]
    } else {
        heap.resize(4 * w, 0f32);
        &mut heap
    };
    let (ins_b, rest) = rows.split_at_mut(w);
    let (prev2, rest) = rest.split_at_mut(w);
    let (prev, cur) = rest.split_at_mut(w);
    let (mut prev2, mut prev, mut cur) = (prev2, prev, cur);
    let subst = substitution_table();
    prev[0] = 0.0;
    for j in 1..=m {
        ins_b[j] = indel_cost(b, j - 1);
        prev[j] = prev[j - 1] + ins_b[j];
    }
    // The first row's minimum is its first cell: costs are never negative.
    let mut prev_min = 0.0f32;
    for i in 1..=n {
        let ai = a[i - 1];
        let del_a = indel_cost(a, i - 1);
        let sub_row = &subst[ai as usize];
        cur[0] = prev[0] + del_a;
        let mut row_min = cur[0];
        for j in 1..=m {
            let del = prev[j] + del_a;
            let ins = cur[j - 1] + ins_b[j];
            let sub = prev[j - 1] + sub_row[b[j - 1] as usize];
            let mut best = del.min(ins).min(sub);
            if i > 1 && j > 1 && ai == b[j - 2] && a[i - 2] == b[j - 1] && ai != a[i - 2] {
                best = best.min(prev2[j - 2] + 0.6);
            }
            cur[j] = best;
            row_min = row_min.min(best);
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

/// Similarity of two tokens in 0..1. Numbers must be equal; short tokens are held stricter.
pub fn token_similarity(a: &str, b: &str) -> f32 {
    if a == b {
        return 1.0;
    }
    let (ab, bb) = (a.as_bytes(), b.as_bytes());
    let a_num = ab.iter().all(u8::is_ascii_digit);
    let b_num = bb.iter().all(u8::is_ascii_digit);
    if a_num || b_num {
        return 0.0;
    }
    let longer = ab.len().max(bb.len()) as f32;
    let shorter = ab.len().min(bb.len()) as f32;
    // Tokens of very different lengths are different words, whatever their letters.
    if shorter < MIN_LENGTH_RATIO * longer {
        return 0.0;
    }
    // Short names: one real edit in four letters or fewer is a different name (Pol / Pot).
    let scale = if longer <= 4.0 { 1.3 } else { 1.0 };
    // Below the floor a token does not align, so its exact similarity does not matter.
    let max = (1.0 - TOKEN_FLOOR) * longer / scale + 1e-4;
    match bounded_distance(ab, bb, max) {
        Some(d) => (1.0 - scale * d / longer).max(0.0),
        None => 0.0,
    }
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

    proptest::proptest! {
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
