//! Folded keys: a name token spelled with the differences the scorer finds cheap taken out
//! (vowels, `h`, transliteration siblings, doubled letters), and the one-edit test on them that
//! decides whether a run of words written together is the same word. The index searches by
//! these keys; the scorer's joined-word rule asks for them. Not here: the weighted distance
//! itself (`score::distance`).

/// The folded key: vowels as `a`, transliteration siblings as one letter, `h` dropped, `ks` as
/// the `x` it transliterates (Aleksandr / Alexander), doubled letters collapsed. Two spellings the
/// scorer finds close usually have the same or a close key. (`x` is not spelled out as `ks`
/// instead: a typo to `x` would then cost a key two letters.)
pub fn folded_key(token: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(token.len());
    fold_into(token, true, &mut out);
    out
}

/// A consonant as the folded keys write it: transliteration siblings as one letter, `h` dropped
/// (None).
pub(crate) fn fold_consonant(b: u8) -> Option<u8> {
    Some(match b {
        b'c' | b'k' | b'q' => b'k',
        b's' | b'z' => b's',
        b'v' | b'w' | b'f' => b'v',
        b'd' | b't' => b't',
        b'b' | b'p' => b'p',
        b'h' => return None,
        other => other,
    })
}

/// The key the joined-word rule compares: folded as [`folded_key`] folds (vowels, `h`,
/// transliteration siblings), but only letters doubled in the text are merged, so that a letter
/// left out between two siblings (`Tradtools` for `Trade Tools`: `d`, `t`) costs one edit, as it
/// does in the text, rather than the two it costs once the siblings merge; and `x` is spelled
/// `ks` (Alexander / Aleksandr), so that two letters swapped next to a `ks` (`Aqas` / `Aqsa`)
/// stay one swap.
pub fn join_key_into(token: &str, out: &mut Vec<u8>) {
    fold_into(token, false, out);
}

/// The keys' folding into `out` (cleared first): with `merge_folded`, letters the key writes
/// alike merge when neighbours ([`folded_key`]); without, only letters doubled in the text
/// ([`join_key`]).
fn fold_into(token: &str, merge_folded: bool, out: &mut Vec<u8>) {
    out.clear();
    let mut previous = 0u8;
    for &b in token.as_bytes() {
        let doubled = b == previous;
        previous = b;
        let f = match b {
            b'a' | b'e' | b'i' | b'o' | b'u' | b'y' | b'j' => b'a',
            other => match fold_consonant(other) {
                Some(f) => f,
                None => continue,
            },
        };
        match out.last_mut() {
            _ if doubled => {}
            Some(last) if merge_folded && *last == f => {}
            Some(last) if merge_folded && *last == b'k' && f == b's' => *last = b'x',
            _ if !merge_folded && f == b'x' => out.extend_from_slice(b"ks"),
            _ => out.push(f),
        }
    }
}

/// [`join_key_into`] into a new buffer.
pub fn join_key(token: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(token.len());
    join_key_into(token, &mut out);
    out
}

/// Whether two keys ([`join_key`]) are at most one edit apart: a letter inserted, deleted or
/// replaced, or two neighbours swapped. The scorer's joined-word rule: `Trade Tools` is
/// `Tradetools` and `Andrang Heta` is `'Ndrangheta`, but a run that needs a second edit to
/// become the word is not the word, however close its letters (a run written together is a
/// deliberate spelling, and the index finds keys one edit apart by halves rather than by a
/// fuzzy search over every listed run).
/// (Generic over the letters: the legal-form matcher compares characters.)
pub fn within_one_edit<T: PartialEq>(a: &[T], b: &[T]) -> bool {
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    if long.len() - short.len() > 1 {
        return false;
    }
    let same = short.iter().zip(long).take_while(|(x, y)| x == y).count();
    if same == short.len() {
        return true;
    }
    if short.len() < long.len() {
        return short[same..] == long[same + 1..];
    }
    let swapped = same + 1 < short.len()
        && short[same] == long[same + 1]
        && short[same + 1] == long[same]
        && short[same + 2..] == long[same + 2..];
    swapped || short[same + 1..] == long[same + 1..]
}

/// `part` with one edit (`op`: 0 insert `letter`, 1 delete, 2 replace by `letter`, 3 swap with
/// the next letter) at `at` (clamped), or unchanged where the edit does not fit: for the
/// proptests of the one-edit rule and of the index's letter masks.
#[cfg(test)]
pub(crate) fn one_edit(part: &[u8], op: u8, at: usize, letter: u8) -> Vec<u8> {
    let mut edited = part.to_vec();
    let at = at.min(edited.len());
    match op {
        0 => edited.insert(at, letter),
        1 if at < edited.len() => {
            edited.remove(at);
        }
        2 if at < edited.len() => edited[at] = letter,
        3 if at + 1 < edited.len() => edited.swap(at, at + 1),
        _ => {}
    }
    edited
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn folded_keys_absorb_cheap_differences() {
        assert_eq!(folded_key("yablachkova"), folded_key("yablochkova"));
        assert_eq!(folded_key("muhammad"), folded_key("mohammed"));
        assert_eq!(folded_key("serniya"), folded_key("sernia"));
        assert_eq!(folded_key("alexander"), folded_key("aleksandar"));
    }

    #[test]
    fn one_edit_apart() {
        let one = |a: &str, b: &str| within_one_edit(&join_key(a), &join_key(b));
        assert!(one("tradetools", "tradetools"));
        assert!(one("andrangheta", "ndrangheta"));
        assert!(one("sernianet", "serniamet"));
        assert!(one("tradtools", "tradetools"));
        assert!(one("muhammadali", "mohammedali"));
        assert!(one("alaqas", "alaqsa"));
        assert!(one("aqas", "aqsa"));
        assert!(one("alexandertrade", "aleksandrtrade"));
        assert!(!one("sernianet", "sornamal"));
        assert!(!one("dondzhuan", "donjuan"));
        assert!(one("", "m"));
        assert!(!one("", "mn"));
    }

    proptest! {
        #[test]
        fn one_edit_is_a_distance_of_one(a in "[abkst]{0,8}", b in "[abkst]{0,8}") {
            let one = within_one_edit(a.as_bytes(), b.as_bytes());
            prop_assert_eq!(one, strsim::osa_distance(&a, &b) <= 1);
        }

        #[test]
        fn one_edit_of_a_key_is_within_one(
            a in "[abkst]{0,10}",
            op in 0..4u8,
            at in 0..12usize,
            letter in proptest::sample::select(b"abkstx".to_vec()),
        ) {
            let b = one_edit(a.as_bytes(), op, at, letter);
            prop_assert!(within_one_edit(a.as_bytes(), &b));
            prop_assert!(within_one_edit(&b, a.as_bytes()));
        }
    }
}
