//! Address parsing: free text or a list's address record into [`ParsedAddress`].
//!
//! One pass of token scanning over the folded text, no regular expressions: it runs for every
//! party of every screened row and every address of every list. Markers (`d.`, `korp.`, `et`,
//! `office`, `P.O. Box`) take the value beside them; a street type (`ul.`, `Road`) takes the name
//! words beside it; the number beside the street name is the house. Whatever the parser cannot
//! place is left out rather than guessed into a part, so a comparison sees fewer, surer parts.
//!
//! Not for: validating addresses or keeping them displayable (keys are folded and lossy).

use super::terms::{alnum, tokenize, Kind, Term, VOCAB};
use super::{ParsedAddress, UnitPart};
use crate::geo;
use crate::model::Address;
use crate::text::translit::fold;

/// Parses a list's address record. Structured fields (country, postal code, city) win over what
/// the text says; the city field may carry the postcode too (`Moscow 127322`, as OFAC writes it).
pub fn parse(addr: &Address) -> ParsedAddress {
    let city_field = addr
        .city
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty());
    let mut p = scan(&addr.text, city_field.is_none());
    if let Some(code) = addr.country.as_deref().and_then(geo::country_code) {
        p.country = Some(code.to_string());
    }
    if let Some(city) = city_field {
        let c = scan_city(city);
        if c.city.is_some() {
            p.city = c.city;
        }
        if c.postal_code.is_some() {
            p.postal_code = c.postal_code;
        }
        if p.country.is_none() {
            p.country = c.country;
        }
    }
    if let Some(pc) = addr
        .postal_code
        .as_deref()
        .map(alnum)
        .filter(|s| !s.is_empty())
    {
        p.postal_code = Some(pc);
    }
    p.raw = addr.full();
    p.folded = folded_key(&p.raw);
    p
}

/// Parses one line of free text that may also hold the city, postcode and country
/// (`d. 57A etazh 2 pom. 211 kom. 211-13, ul. Vavilova, Moscow 117292, Russia`).
pub fn parse_text(text: &str) -> ParsedAddress {
    let mut p = scan(text, true);
    p.raw = text.trim().to_string();
    p.folded = folded_key(text);
    p
}

fn folded_key(text: &str) -> String {
    let folded = fold(text);
    let mut out = String::with_capacity(folded.len() + 2);
    out.push(' ');
    for t in folded
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|t| !t.is_empty())
    {
        out.push_str(t);
        out.push(' ');
    }
    out
}

/// What a token has been found to be. Tokens start `Free` and are claimed at most once.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Role {
    Free,
    /// Part of something already placed (a value, a postcode, a city, a name).
    Used,
    /// A marker that took a value, or a street type word.
    Marker,
}

struct Tok<'a> {
    text: &'a str,
    seg: usize,
    role: Role,
    /// The terms that start at this token (several when a word is ambiguous, like `str`).
    terms: Vec<Term>,
}

struct Scan<'a> {
    toks: Vec<Tok<'a>>,
    p: ParsedAddress,
}

fn scan(text: &str, guess_city: bool) -> ParsedAddress {
    let folded = fold(text);
    let mut segs = tokenize(&folded);
    let country = take_country(&mut segs);
    let mut s = Scan {
        toks: Vec::new(),
        p: ParsedAddress {
            country: country.map(str::to_string),
            ..ParsedAddress::default()
        },
    };
    for (seg, words) in segs.iter().enumerate() {
        for (i, w) in words.iter().enumerate() {
            let terms = VOCAB.at(&words[i..]).collect();
            s.toks.push(Tok {
                text: w,
                seg,
                role: Role::Free,
                terms,
            });
        }
    }
    s.markers();
    s.postcodes();
    let city_seg = if guess_city { s.city(segs.len()) } else { None };
    s.street(city_seg);
    s.place(city_seg);
    s.p
}

/// Takes a country off the last segment (or the first, as Russian addresses write it). A whole
/// segment may be a country; only a segment that also holds a postcode may end in one.
fn take_country(segs: &mut Vec<Vec<&str>>) -> Option<&'static str> {
    let last = segs.len().checked_sub(1)?;
    // `117292, Россия, г. Москва, ...`: the country may follow a leading postcode.
    let after_postcode = segs.len() > 2
        && segs[0]
            .iter()
            .all(|t| t.bytes().all(|b| b.is_ascii_digit()));
    let firsts = if after_postcode { [0, 1] } else { [0, 0] };
    for idx in [last, firsts[0], firsts[1]] {
        let seg = &segs[idx];
        let has_postcode = seg.iter().any(|t| t.bytes().all(|b| b.is_ascii_digit()));
        let longest = seg.len().min(4);
        for n in (1..=longest).rev() {
            if n < seg.len() && !has_postcode {
                continue;
            }
            let part = if idx == last {
                &seg[seg.len() - n..]
            } else {
                &seg[..n]
            };
            if !part.iter().all(|w| geo::is_country_word(w)) {
                continue;
            }
            if let Some(code) = geo::country_code_by_name(&part.join(" ")) {
                let seg = &mut segs[idx];
                if idx == last {
                    seg.truncate(seg.len() - n);
                } else {
                    seg.drain(..n);
                }
                if seg.is_empty() {
                    segs.remove(idx);
                }
                return Some(code);
            }
        }
    }
    None
}

/// The city field of a list record: city words, and a postcode if it has one.
fn scan_city(text: &str) -> ParsedAddress {
    let folded = fold(text);
    let mut segs = tokenize(&folded);
    let country = take_country(&mut segs);
    let mut p = ParsedAddress {
        country: country.map(str::to_string),
        ..ParsedAddress::default()
    };
    let Some(first) = segs.first() else {
        return p;
    };
    let mut words = Vec::new();
    for (i, t) in first.iter().enumerate() {
        if let Some((pc, _)) = postcode_at(t, first.get(i + 1).copied()) {
            p.postal_code.get_or_insert(pc);
        } else if t.bytes().all(|b| b.is_ascii_alphabetic() || b == b'-')
            && VOCAB.kind_at(&first[i..], Kind::City).is_none()
        {
            words.push(*t);
        }
    }
    if !words.is_empty() {
        p.city = Some(city_key(&words.join(" ")));
    }
    p
}

/// Canonical city key: the table's name for a known city, else the words with hyphens as
/// spaces (`Sankt-Peterburg` and `Sankt Peterburg` are one city).
fn city_key(folded: &str) -> String {
    VOCAB
        .city(folded)
        .map(str::to_string)
        .unwrap_or_else(|| folded.replace('-', " "))
}

fn has_digit(t: &str) -> bool {
    t.bytes().any(|b| b.is_ascii_digit())
}

fn is_alpha(t: &str) -> bool {
    t.bytes().all(|b| b.is_ascii_alphabetic())
}

/// `3rd`, `21st`, `7th`: a floor or part of a street name, never a house number.
fn is_ordinal(t: &str) -> bool {
    let digits = t.bytes().take_while(u8::is_ascii_digit).count();
    digits > 0 && matches!(&t[digits..], "st" | "nd" | "rd" | "th")
}

fn is_roman(t: &str) -> bool {
    t.len() <= 6 && t.bytes().all(|b| b"ivxlc".contains(&b))
}

/// A postcode starting at token `t` (followed by `next`): five or more digits, a
/// letter-prefixed code (`ch-8022`), or a UK postcode in its two halves (`ec3n 1dy`). Returns
/// the postcode key and the number of tokens it spans.
fn postcode_at(t: &str, next: Option<&str>) -> Option<(String, usize)> {
    if t.len() >= 5 && t.bytes().all(|b| b.is_ascii_digit()) {
        return Some((t.to_string(), 1));
    }
    if let Some((pre, num)) = t.split_once('-') {
        if (1..=2).contains(&pre.len())
            && is_alpha(pre)
            && (4..=6).contains(&num.len())
            && num.bytes().all(|b| b.is_ascii_digit())
        {
            return Some((alnum(t), 1));
        }
    }
    match next {
        Some(n) if is_uk_outward(t) && is_uk_inward(n) => Some((format!("{t}{n}"), 2)),
        _ => None,
    }
}

fn is_uk_outward(t: &str) -> bool {
    let b = t.as_bytes();
    let letters = b.iter().take_while(|c| c.is_ascii_alphabetic()).count();
    (1..=2).contains(&letters)
        && (2..=4).contains(&b.len())
        && b.get(letters).is_some_and(u8::is_ascii_digit)
        && b.iter().all(u8::is_ascii_alphanumeric)
}

fn is_uk_inward(t: &str) -> bool {
    let b = t.as_bytes();
    b.len() == 3 && b[0].is_ascii_digit() && b[1..].iter().all(u8::is_ascii_alphabetic)
}

impl<'a> Scan<'a> {
    fn same_seg(&self, i: usize, j: usize) -> bool {
        j < self.toks.len() && self.toks[i].seg == self.toks[j].seg
    }

    fn free(&self, j: usize) -> bool {
        self.toks.get(j).is_some_and(|t| t.role == Role::Free)
    }

    fn term(&self, j: usize, kind: Kind) -> Option<Term> {
        self.toks
            .get(j)?
            .terms
            .iter()
            .find(|t| t.kind == kind)
            .copied()
    }

    /// Whether token `j` can be the value of a marker of `kind` (`canonical` for units).
    fn value_like(&self, j: usize, kind: Kind, canonical: &str, after: bool) -> bool {
        let t = self.toks[j].text;
        let numeric = self.term(j, Kind::Number).is_some();
        let ordinal = is_ordinal(t) || self.term(j, Kind::Ordinal).is_some();
        match kind {
            Kind::House => has_digit(t) && !ordinal || numeric,
            Kind::PoBox => has_digit(t),
            // An ordinal before a marker belongs to it (`6th Floor`), never to the marker before.
            Kind::Building | Kind::Unit if after && ordinal => canonical == "fl",
            Kind::Building | Kind::Unit => {
                has_digit(t) || numeric || ordinal || t.len() == 1 || is_roman(t)
            }
            _ => false,
        }
    }

    fn value_text(&self, j: usize) -> String {
        let t = self.toks[j].text;
        if let Some(n) = self
            .term(j, Kind::Number)
            .or_else(|| self.term(j, Kind::Ordinal))
        {
            return n.canonical.to_string();
        }
        if is_ordinal(t) {
            return t.trim_end_matches(|c: char| c.is_ascii_alphabetic()).into();
        }
        t.to_string()
    }

    /// Markers take their values: after the marker, or before it for building and unit words
    /// written after the number (`2-31 Bldg`, `5th Floor`). A marker without a value is left a
    /// plain word (`Masarif Building` is a name).
    fn markers(&mut self) {
        let mut i = 0;
        while i < self.toks.len() {
            let Some((term, value)) = self.marker_at(i) else {
                i += 1;
                continue;
            };
            for k in i..i + term.len {
                self.toks[k].role = Role::Marker;
            }
            self.toks[value].role = Role::Used;
            let v = self.value_text(value);
            match term.kind {
                Kind::House => self.set_house(&v),
                Kind::PoBox => {
                    self.p.po_box.get_or_insert(alnum(&v));
                }
                Kind::Building => self.add_building(term.canonical, &v),
                _ => self.p.units.push(UnitPart {
                    kind: term.canonical,
                    value: v,
                }),
            }
            i = (i + term.len).max(value + 1);
        }
    }

    fn marker_at(&self, i: usize) -> Option<(Term, usize)> {
        if !self.free(i) {
            return None;
        }
        for term in &self.toks[i].terms {
            if !matches!(
                term.kind,
                Kind::House | Kind::Building | Kind::Unit | Kind::PoBox
            ) {
                continue;
            }
            // `str.` after a house number is stroenie; anywhere else it is a street type.
            if term.kind == Kind::Building
                && self.term(i, Kind::Type).is_some()
                && self.p.house.is_none()
            {
                continue;
            }
            let mut j = i + term.len;
            // `Office No. 5`, `d. # 5`: the number word between marker and value is noise.
            if term.kind != Kind::House
                && self.same_seg(i, j + 1)
                && self.term(j, Kind::House).is_some()
            {
                j += 1;
            }
            // A one-letter marker (`k 3`, `s 1`) takes only a number: `S.A.` is a legal form.
            let digit_only = self.toks[i].text.len() == 1;
            let fits = |j: usize| {
                self.value_like(j, term.kind, term.canonical, j > i)
                    && (!digit_only || has_digit(self.toks[j].text))
            };
            if self.same_seg(i, j) && self.free(j) && fits(j) {
                return Some((*term, j));
            }
            let before = i.checked_sub(1);
            if let Some(b) = before.filter(|_| matches!(term.kind, Kind::Building | Kind::Unit)) {
                if self.same_seg(b, i) && self.free(b) && fits(b) {
                    return Some((*term, b));
                }
            }
        }
        None
    }

    /// Sets the house number, splitting compact Russian forms: `21k3` is house 21 korpus 3,
    /// `5s1` house 5 stroenie 1.
    fn set_house(&mut self, v: &str) {
        if self.p.house.is_some() {
            return;
        }
        let digits = v.bytes().take_while(u8::is_ascii_digit).count();
        let rest = &v[digits..];
        for (pre, canonical) in [("korp", "k"), ("k", "k"), ("str", "s"), ("s", "s")] {
            if let Some(num) = rest.strip_prefix(pre) {
                if digits > 0 && !num.is_empty() && num.bytes().all(|b| b.is_ascii_digit()) {
                    self.p.house = Some(v[..digits].to_string());
                    self.add_building(canonical, num);
                    return;
                }
            }
        }
        self.p.house = Some(v.to_string());
    }

    fn add_building(&mut self, canonical: &str, v: &str) {
        let part = format!("{canonical}{v}");
        match &mut self.p.building {
            Some(b) => {
                b.push(' ');
                b.push_str(&part);
            }
            None => self.p.building = Some(part),
        }
    }

    fn postcodes(&mut self) {
        for i in 0..self.toks.len() {
            if !self.free(i) {
                continue;
            }
            let next = Some(i + 1)
                .filter(|&n| self.same_seg(i, n) && self.free(n))
                .map(|n| self.toks[n].text);
            if let Some((pc, n)) = postcode_at(self.toks[i].text, next) {
                for j in i..i + n {
                    self.toks[j].role = Role::Used;
                }
                self.p.postal_code.get_or_insert(pc);
            }
        }
    }

    fn seg_range(&self, seg: usize) -> std::ops::Range<usize> {
        let start = self.toks.iter().position(|t| t.seg == seg).unwrap_or(0);
        let end = self
            .toks
            .iter()
            .rposition(|t| t.seg == seg)
            .map_or(start, |e| e + 1);
        start..end
    }

    /// Finds the city: after a city marker (`g. Moskva`), or as the last segment when it is
    /// only a few words (plus a short postcode) and something says it is a city: a postcode, a
    /// known city name, or a country after it. Returns the segment taken.
    fn city(&mut self, nsegs: usize) -> Option<usize> {
        for i in 0..self.toks.len() {
            let Some(term) = self.term(i, Kind::City).filter(|_| self.free(i)) else {
                continue;
            };
            let start = i + term.len;
            let words: Vec<usize> = (start..self.toks.len())
                .take_while(|&j| self.same_seg(i, j) && self.free(j) && is_alpha(self.toks[j].text))
                .collect();
            if !words.is_empty() {
                self.take_city(i..i + term.len, &words);
                return Some(self.toks[i].seg);
            }
        }
        let seg = nsegs.checked_sub(1)?;
        let range = self.seg_range(seg);
        if range.is_empty() {
            return None;
        }
        let mut words = Vec::new();
        let mut short_code = None;
        let mut postcode = false;
        for j in range.clone() {
            let t = &self.toks[j];
            match t.role {
                Role::Used if self.p.postal_code.is_some() => postcode = true,
                Role::Free if is_alpha(t.text) && t.terms.is_empty() => words.push(j),
                Role::Free
                    if (3..=4).contains(&t.text.len())
                        && t.text.bytes().all(|b| b.is_ascii_digit())
                        && short_code.is_none() =>
                {
                    short_code = Some(j);
                }
                _ => return None,
            }
        }
        let name: Vec<&str> = words.iter().map(|&j| self.toks[j].text).collect();
        let known = VOCAB.city(&name.join(" ")).is_some();
        // A lone segment is a city only when nothing else is there to be the street.
        let alone = seg == 0 && !(postcode || known || self.p.country.is_some());
        // `Tokyo 103`: a short number is a postcode only beside a known city name.
        if words.is_empty()
            || words.len() > 3
            || alone
            || short_code.is_some() && !known
            || !(postcode || known || self.p.country.is_some())
        {
            return None;
        }
        if let Some(j) = short_code {
            self.toks[j].role = Role::Used;
            self.p
                .postal_code
                .get_or_insert(self.toks[j].text.to_string());
        }
        self.take_city(0..0, &words);
        Some(seg)
    }

    fn take_city(&mut self, marker: std::ops::Range<usize>, words: &[usize]) {
        for j in marker {
            self.toks[j].role = Role::Marker;
        }
        let name: Vec<&str> = words.iter().map(|&j| self.toks[j].text).collect();
        for &j in words {
            self.toks[j].role = Role::Used;
        }
        self.p.city = Some(city_key(&name.join(" ")));
    }

    fn name_word(&self, j: usize) -> bool {
        let Some(t) = self.toks.get(j) else {
            return false;
        };
        t.role == Role::Free
            && (is_alpha(t.text) || is_ordinal(t.text))
            && t.terms.iter().all(|t| t.kind == Kind::Ordinal)
    }

    fn house_like(&self, j: usize) -> bool {
        self.free(j)
            && self.toks[j].text.as_bytes()[0].is_ascii_digit()
            && !is_ordinal(self.toks[j].text)
            || self.free(j) && self.term(j, Kind::Number).is_some()
    }

    /// Name words next to `at` going one way, in the same segment.
    fn name_run(&self, at: usize, forward: bool) -> Vec<usize> {
        let mut run = Vec::new();
        let mut j = at;
        loop {
            let next = if forward {
                j.checked_add(1)
            } else {
                j.checked_sub(1)
            };
            let Some(n) = next.filter(|&n| self.same_seg(at, n) && self.name_word(n)) else {
                break;
            };
            run.push(n);
            j = n;
        }
        if !forward {
            run.reverse();
        }
        run
    }

    /// Finds the street name and type, then the house number beside them.
    fn street(&mut self, city_seg: Option<usize>) {
        let types: Vec<(usize, Term)> = (0..self.toks.len())
            .filter(|&i| self.free(i) && Some(self.toks[i].seg) != city_seg)
            .filter_map(|i| Some((i, self.term(i, Kind::Type)?)))
            .collect();
        let mut chosen = None;
        if let Some(&(first, _)) = types.first() {
            let seg = self.toks[first].seg;
            let in_seg: Vec<&(usize, Term)> = types
                .iter()
                .filter(|(i, _)| self.toks[*i].seg == seg)
                .collect();
            // `St. James Street`: a type word with no name after it is the real type.
            let pick = in_seg
                .iter()
                .rev()
                .find(|(i, t)| self.name_run(i + t.len - 1, true).is_empty())
                .or(in_seg.first())
                .copied();
            if let Some(&(i, t)) = pick {
                let last = i + t.len - 1;
                let before = self.name_run(i, false);
                let mut after = self.name_run(last, true);
                // `Calle 7`, `Carrera 50`: a numbered street, when no name is written before.
                if before.is_empty()
                    && after.is_empty()
                    && self.same_seg(i, last + 1)
                    && self.free(last + 1)
                    && has_digit(self.toks[last + 1].text)
                    && self.toks.get(last + 2).is_some_and(|n| {
                        n.seg != self.toks[i].seg
                            || n.role != Role::Free
                            || self.term(last + 2, Kind::House).is_some()
                            || has_digit(n.text)
                    })
                {
                    after.push(last + 1);
                }
                let prefix = !after.is_empty() && (before.is_empty() || in_seg.len() == 1);
                let name = if prefix { after } else { before };
                if !name.is_empty() {
                    chosen = Some((i..last + 1, name, t.canonical, prefix));
                }
            }
        }
        let Some((type_range, name, canonical, prefix)) = chosen else {
            if !self.glued_street(city_seg) {
                self.untyped_street();
            }
            return;
        };
        for j in type_range.clone() {
            self.toks[j].role = Role::Marker;
        }
        self.set_street(&name, Some(canonical));
        let first = name[0].min(type_range.start);
        let last = name[name.len() - 1].max(type_range.end - 1);
        self.house_near(first, last, prefix, city_seg);
    }

    /// The house number beside a street name spanning tokens `first..=last`: after it for
    /// prefix types (`ul. Vavilova 57`), before it otherwise (`25 City Road`), else the first
    /// number-like token anywhere outside the city.
    fn house_near(&mut self, first: usize, last: usize, prefix: bool, city_seg: Option<usize>) {
        if self.p.house.is_some() {
            return;
        }
        let before = first.checked_sub(1).filter(|&b| self.same_seg(b, first));
        let after = Some(last + 1).filter(|&a| self.same_seg(first, a));
        let order = if prefix {
            [after, before]
        } else {
            [before, after]
        };
        let adjacent = order.into_iter().flatten().find(|&j| self.house_like(j));
        let house = adjacent.or_else(|| {
            (0..self.toks.len()).find(|&j| Some(self.toks[j].seg) != city_seg && self.house_like(j))
        });
        if let Some(j) = house {
            self.toks[j].role = Role::Used;
            let v = self.value_text(j);
            self.set_house(&v);
        }
    }

    fn set_street(&mut self, name: &[usize], canonical: Option<&'static str>) {
        let mut key = String::new();
        for &j in name {
            key.push_str(&alnum(self.toks[j].text));
            self.toks[j].role = Role::Used;
        }
        if !key.is_empty() {
            self.p.street = Some(key);
            self.p.street_type = canonical.map(str::to_string);
        }
    }

    /// `Zweierstrasse 35`, `Hauptstr. 5`: the street type glued to the name.
    fn glued_street(&mut self, city_seg: Option<usize>) -> bool {
        for i in 0..self.toks.len() {
            if !self.name_word(i) || Some(self.toks[i].seg) == city_seg {
                continue;
            }
            let t = self.toks[i].text;
            let glued = VOCAB
                .suffixes
                .iter()
                .find(|(suffix, _)| t.len() >= suffix.len() + 3 && t.ends_with(suffix.as_str()));
            if let Some((suffix, canonical)) = glued {
                self.p.street = Some(t[..t.len() - suffix.len()].to_string());
                self.p.street_type = Some(canonical.to_string());
                self.toks[i].role = Role::Used;
                self.house_near(i, i, false, city_seg);
                return true;
            }
        }
        false
    }

    /// No street type: the name is the words beside the first house number.
    fn untyped_street(&mut self) {
        let house_at = (0..self.toks.len()).find(|&j| self.house_like(j));
        let Some(h) = house_at.or_else(|| {
            // A house already taken by its marker (`Vavilova d. 57`): name before the marker.
            self.toks.iter().position(|t| {
                t.role == Role::Marker && t.terms.iter().any(|t| t.kind == Kind::House)
            })
        }) else {
            return;
        };
        let after = self.name_run(h, true);
        let name = if after.is_empty() {
            self.name_run(h, false)
        } else {
            after
        };
        if name.is_empty() {
            return;
        }
        if self.toks[h].role == Role::Free {
            self.toks[h].role = Role::Used;
            let v = self.value_text(h);
            self.set_house(&v);
        }
        self.set_street(&name, None);
    }

    /// The first segment of plain words left over is a building or estate name.
    fn place(&mut self, city_seg: Option<usize>) {
        let Some(last) = self.toks.last() else {
            return;
        };
        for seg in 0..=last.seg {
            if Some(seg) == city_seg {
                continue;
            }
            let range = self.seg_range(seg);
            if range.is_empty()
                || !range.clone().all(|j| {
                    self.name_word(j) || self.toks[j].terms.iter().any(|t| t.kind == Kind::Building)
                })
            {
                continue;
            }
            let words: Vec<&str> = range.map(|j| self.toks[j].text).collect();
            self.p.place = Some(words.join(" "));
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// All parts on one line: country|postcode|city|street|type|house|building|units|place.
    fn parts(p: &ParsedAddress) -> String {
        let unit = p.unit_key();
        [
            &p.country,
            &p.postal_code,
            &p.city,
            &p.street,
            &p.street_type,
            &p.house,
            &p.building,
            &unit,
            &p.place,
        ]
        .iter()
        .map(|f| f.as_deref().unwrap_or("-"))
        .collect::<Vec<_>>()
        .join("|")
    }

    #[test]
    fn free_text() {
        let cases = [
            (
                "d. 57A etazh 2 pom. 211 kom. 211-13, ul. Vavilova, Moscow 117292, Russia",
                "RU|117292|moscow|vavilova|street|57a|-|fl2 pom211 kom211-13|-",
            ),
            (
                "Ul. Yablachkova D. 21 Korpus 3, Et 3 Pom VIII Kom 1I, Moscow 127322",
                "-|127322|moscow|yablachkova|street|21|k3|fl3 pomviii kom1i|-",
            ),
            (
                "ул. Яблочкова, д. 21, корп. 3, Москва",
                "-|-|moscow|yablochkova|street|21|k3|-|-",
            ),
            // Russian order: postcode, country, city first.
            (
                "117292, Россия, г. Москва, ул. Вавилова, д. 57А, стр. 1, оф. 5",
                "RU|117292|moscow|vavilova|street|57a|s1|of5|-",
            ),
            // `str.` is a street type before a name and stroenie after a house number.
            ("Lenin Str. 2, Alushta", "-|-|-|lenin|street|2|-|-|alushta"),
            ("str. Clinceni 3", "-|-|-|clinceni|street|3|-|-|-"),
            (
                "ul. Tverskaya d. 5 str. 1",
                "-|-|-|tverskaya|street|5|s1|-|-",
            ),
            ("Tverskaya ul., 5k2", "-|-|-|tverskaya|street|5|k2|-|-"),
            (
                "25 City Road, Epworth House, Office 320, London EC1Y 1AA",
                "-|ec1y1aa|london|city|road|25|-|of320|epworth house",
            ),
            (
                "Suite 3.15 One Fetter Lane, London",
                "-|-|london|fetter|lane|1|-|ste3.15|-",
            ),
            (
                "Dai-Ichi Bldg. 6th Floor, 10-2 Nihombashi, 2-chome, Chuo-ku",
                "-|-|-|nihombashi|-|10-2|-|fl6|-",
            ),
            (
                "No. 15, Palizvani (7th) Street, Gandhi (South) Avenue",
                "-|-|-|palizvani7th|street|15|-|-|-",
            ),
            (
                "Zweierstrasse 35, Zurich CH-8022",
                "-|ch8022|zurich|zweier|street|35|-|-|-",
            ),
        ];
        for (text, want) in cases {
            assert_eq!(parts(&parse_text(text)), want, "{text}");
        }
    }

    #[test]
    fn structured_record_fields_win() {
        let record = |text: &str, city: &str, country: &str| Address {
            text: text.into(),
            city: Some(city.into()),
            country: Some(country.into()),
            ..Address::default()
        };
        let p = parse(&record(
            "2 Partizanskii Ave, 2-31 Bldg",
            "Minsk 220033",
            "Belarus",
        ));
        assert_eq!(parts(&p), "BY|220033|minsk|partizanskii|avenue|2|k2-31|-|-");
        let p = parse(&record(
            "Ibex House, The Minories",
            "London EC3N 1DY",
            "United Kingdom",
        ));
        assert_eq!(parts(&p), "GB|ec3n1dy|london|-|-|-|-|-|ibex house");
    }

    #[test]
    fn po_boxes() {
        let p = parse_text("P.O. Box 708, Moscow 119330");
        assert_eq!(p.po_box.as_deref(), Some("708"));
        assert_eq!(p.city.as_deref(), Some("moscow"));
        assert_eq!(parse_text("а/я 708, Москва").po_box.as_deref(), Some("708"));
        assert_eq!(
            parse_text("PO Box 15875-1834").po_box.as_deref(),
            Some("158751834")
        );
    }

    #[test]
    fn empty_and_junk() {
        assert_eq!(parse_text("").street, None);
        assert_eq!(parse_text(",,, -0- ,").house, None);
        let _ = parse_text("d. d. d. korp korp , , str str 5");
    }

    proptest::proptest! {
        #[test]
        fn parse_never_panics(s in "\\PC{0,80}") {
            let _ = parse_text(&s);
        }

        #[test]
        fn parse_never_panics_on_address_like_text(
            words in proptest::collection::vec(
                "(ul\\.|d\\.|korp|str\\.|et|pom|kom|office|suite|P\\.O\\. Box|Road|,|[0-9]{1,6}[a-c]?|[A-Za-zА-я]{1,8}|3rd|one|-|#)",
                0..12,
            )
        ) {
            let _ = parse_text(&words.join(" "));
        }
    }
}
