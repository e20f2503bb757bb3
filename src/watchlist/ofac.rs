//! OFAC SDN list in the legacy CSV layout: a directory with `sdn.csv`, `alt.csv`, `add.csv` and
//! optionally `sdn_comments.csv` (any filename case, no header rows, `-0-` for null).
//!
//! What it is for: one pass per file into model entities, with aliases, addresses, programs, and
//! the identifiers, links, websites and weak aliases OFAC writes in free-text remarks. What it is
//! not for: dates or places of birth, vessel tonnage and other facts redflag does not screen on;
//! they stay readable in the entity's remarks text.

use std::collections::HashMap;
use std::path::Path;
use std::sync::LazyLock;

use super::csvfile::{split_list, CsvFile};
use super::stats::{Loaded, Problem};
use super::{country_of, find_file_ci, push_country, push_name, sha256_hex, single_list, Format};
use crate::error::{Error, Result};
use crate::model::{
    Address, Entity, EntityKind, Identifier, NameType, Relation, RelationKind, Status, Watchlist,
};

/// The list label hits cite.
pub const LIST_NAME: &str = "ofac-sdn";
const LIST_TITLE: &str = "US SDN";

/// Identifier labels of SDN remarks (`data/ofac_identifiers.tsv`), longest first so that a
/// longer label is never cut short by a shorter one that prefixes it.
static ID_LABELS: LazyLock<Vec<(&'static str, &'static str)>> = LazyLock::new(|| {
    let mut labels: Vec<_> = crate::tables::rows(include_str!("../../data/ofac_identifiers.tsv"))
        .filter(|r| r.len() >= 2)
        .map(|r| (r[0], r[1]))
        .collect();
    labels.sort_by_key(|(label, _)| std::cmp::Reverse(label.len()));
    labels
});

pub fn load(dir: &Path) -> Result<Watchlist> {
    read(dir).map(|loaded| loaded.watchlist)
}

/// Loads the directory and reports what was skipped (rows of unknown entries, unresolved links).
pub fn read(dir: &Path) -> Result<Loaded> {
    let file = |name: &str| find_file_ci(dir, name);
    let sdn_path = file("sdn.csv").ok_or_else(|| {
        Error::WatchlistUnavailable(format!("{}: no sdn.csv in this directory", dir.display()))
    })?;
    // The files that hang off sdn.csv are read and parsed while it is (most of a load is
    // parsing); their rows are joined to its entries afterwards, in file order. A file's first
    // error is reported in the order the files were read one after another.
    let ((sdn, alt), (add, comments)) = rayon::join(
        || {
            rayon::join(
                || read_sdn(&sdn_path),
                || read_side(file("alt.csv"), 5, alt_name),
            )
        },
        || {
            rayon::join(
                || read_side(file("add.csv"), 6, add_address),
                // Remarks longer than the SDN field continue here, mid-word.
                || read_side(file("sdn_comments.csv"), 2, |rec| rec[1].to_string()),
            )
        },
    );
    let (sdn, mut entities, mut remarks_text, by_id) = sdn?;
    let (alt, add, comments) = (alt?, add?, comments?);
    let mut problems = Vec::new();
    let mut hashed: Vec<(String, &[u8])> = vec![(file_name(&sdn_path), sdn.bytes())];
    if let Some(alt) = &alt {
        alt.join(
            &by_id,
            &mut problems,
            &mut hashed,
            |i, (name_type, name)| {
                if let Some(name) = name {
                    push_name(&mut entities[i], name, *name_type);
                }
            },
        );
    }
    if let Some(add) = &add {
        add.join(&by_id, &mut problems, &mut hashed, |i, address| {
            if let Some(country) = &address.country {
                push_country(&mut entities[i], country);
            }
            if !address.is_empty() {
                entities[i].addresses.push(address.clone());
            }
        });
    }
    if let Some(comments) = &comments {
        comments.join(&by_id, &mut problems, &mut hashed, |i, more| {
            remarks_text[i].push_str(more);
        });
    }

    let primary_ids: HashMap<String, String> = entities
        .iter()
        .rev()
        .map(|e| (e.primary_name().to_string(), e.id.clone()))
        .collect();
    for (entity, text) in entities.iter_mut().zip(&remarks_text) {
        apply_remarks(entity, text, &primary_ids, &sdn.origin, &mut problems);
    }

    hashed.sort_by(|a, b| a.0.cmp(&b.0));
    let hash = sha256_hex(hashed.iter().map(|(_, bytes)| *bytes));
    let path = dir.display().to_string();
    Ok(Loaded {
        watchlist: single_list(LIST_NAME, Format::Ofac, &path, None, hash, entities),
        problems,
    })
}

/// sdn.csv: the file, its entities, each one's remarks, and each ent_num's entity.
type SdnFile = (CsvFile, Vec<Entity>, Vec<String>, HashMap<String, usize>);

fn read_sdn(path: &Path) -> Result<SdnFile> {
    let sdn = CsvFile::read(path)?;
    let mut entities: Vec<Entity> = Vec::new();
    let mut remarks_text: Vec<String> = Vec::new();
    let mut by_id: HashMap<String, usize> = HashMap::new();
    sdn.records(|rec, line| {
        expect_fields(&sdn, rec, 12, line)?;
        let id = rec[0].trim().to_string();
        if id.is_empty() || by_id.contains_key(&id) {
            return Err(Error::data(
                sdn.at(line).field("ent_num"),
                format!("missing or duplicate ent_num `{id}`"),
            ));
        }
        by_id.insert(id.clone(), entities.len());
        entities.push(sdn_entity(id, rec));
        remarks_text.push(value(&rec[11]).unwrap_or("").to_string());
        Ok(())
    })?;
    Ok((sdn, entities, remarks_text, by_id))
}

/// An alt.csv row: the kind of alias and the name.
fn alt_name(rec: &csv::StringRecord) -> (NameType, Option<String>) {
    let name_type = match value(&rec[2]).map(str::to_ascii_lowercase).as_deref() {
        Some("fka") | Some("f.k.a.") => NameType::Former,
        Some("weak aka") => NameType::Weak,
        _ => NameType::Alias,
    };
    (name_type, value(&rec[3]).map(str::to_string))
}

/// An add.csv row's address.
fn add_address(rec: &csv::StringRecord) -> Address {
    ofac_address(value(&rec[2]), value(&rec[3]), value(&rec[4]))
}

/// A file whose rows hang off sdn.csv entries by ent_num, parsed: each row's line, ent_num and
/// what it says.
struct SideFile<T> {
    path: std::path::PathBuf,
    file: CsvFile,
    rows: Vec<(u64, String, T)>,
}

/// Reads and parses a side file, if there is one; rows of `fields` fields each.
fn read_side<T>(
    path: Option<std::path::PathBuf>,
    fields: usize,
    parse: impl Fn(&csv::StringRecord) -> T,
) -> Result<Option<SideFile<T>>> {
    let Some(path) = path else {
        return Ok(None);
    };
    let file = CsvFile::read(&path)?;
    let mut rows = Vec::new();
    file.records(|rec, line| {
        expect_fields(&file, rec, fields, line)?;
        rows.push((line, rec[0].trim().to_string(), parse(rec)));
        Ok(())
    })?;
    Ok(Some(SideFile { path, file, rows }))
}

impl<T> SideFile<T> {
    /// Calls `each` with the index of each row's entry, in file order. Rows of entries not in
    /// sdn.csv are skipped and reported.
    fn join<'a>(
        &'a self,
        by_id: &HashMap<String, usize>,
        problems: &mut Vec<Problem>,
        hashed: &mut Vec<(String, &'a [u8])>,
        mut each: impl FnMut(usize, &T),
    ) {
        for (line, id, row) in &self.rows {
            match by_id.get(id.as_str()) {
                Some(&i) => each(i, row),
                None => problems.push(unknown_entry(&self.file, *line, id)),
            }
        }
        hashed.push((file_name(&self.path), self.file.bytes()));
    }
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default()
}

fn expect_fields(file: &CsvFile, rec: &csv::StringRecord, n: usize, line: u64) -> Result<()> {
    if rec.len() == n {
        return Ok(());
    }
    Err(Error::data(
        file.at(line),
        format!(
            "row has {} fields, an OFAC row of this file has {n}",
            rec.len()
        ),
    ))
}

fn unknown_entry(file: &CsvFile, line: u64, id: &str) -> Problem {
    Problem::new(
        file.at(line).field("ent_num"),
        format!("ent_num `{}` is not in sdn.csv; row skipped", id.trim()),
    )
}

/// A field's value, or None for OFAC's null `-0-` (the last field of a file may lose its final
/// dash) and for blanks.
fn value(field: &str) -> Option<&str> {
    let v = field.trim();
    (!v.is_empty() && v != "-0-" && v != "-0").then_some(v)
}

fn sdn_entity(id: String, rec: &csv::StringRecord) -> Entity {
    let kind = match value(&rec[2]).map(str::to_ascii_lowercase).as_deref() {
        Some("individual") => EntityKind::Person,
        Some("vessel") => EntityKind::Vessel,
        Some("aircraft") => EntityKind::Aircraft,
        _ => EntityKind::Organization,
    };
    let mut entity = Entity {
        id,
        kind,
        status: Status {
            listed: true,
            lists: vec![LIST_TITLE.to_string()],
            programs: parse_programs(value(&rec[3]).unwrap_or("")),
            ..Status::default()
        },
        ..Entity::default()
    };
    if let Some(name) = value(&rec[1]) {
        push_name(&mut entity, name, NameType::Primary);
    }
    if let Some(call_sign) = value(&rec[5]) {
        entity
            .identifiers
            .push(identifier("Call Sign", call_sign, None));
    }
    if let Some(flag) = value(&rec[9]) {
        push_country(&mut entity, &country_of(flag));
    }
    for (label, field) in [("Title", 4), ("Vessel owner", 10)] {
        if let Some(v) = value(&rec[field]) {
            entity.remarks.push(format!("{label}: {v}"));
        }
    }
    entity
}

/// `SDGT] [IRGC` (the legacy file drops the outer brackets), `[SDGT] [IRGC]` or `CUBA`.
pub fn parse_programs(field: &str) -> Vec<String> {
    split_list(field, ']')
        .flat_map(|p| split_list(p, '['))
        .map(str::to_string)
        .collect()
}

fn identifier(scheme: &str, value: &str, country: Option<String>) -> Identifier {
    Identifier {
        scheme: scheme.to_string(),
        value: value.to_string(),
        country,
        source: None,
    }
}

/// Builds an address from add.csv fields, splitting a postal code off the combined
/// "city/state/province/postal code" field.
fn ofac_address(street: Option<&str>, locality: Option<&str>, country: Option<&str>) -> Address {
    let (city, postal_code) = locality.map_or((None, None), split_postal_code);
    Address {
        text: street.unwrap_or("").to_string(),
        city,
        postal_code,
        region: None,
        country: country.map(country_of),
        source: None,
    }
}

/// Splits `Zurich CH-8022`, `London EC3N 1DY`, `117292 Moscow` into city and postal code: the
/// postal code is the run of tokens holding a digit at the end (or, failing that, the start).
pub fn split_postal_code(locality: &str) -> (Option<String>, Option<String>) {
    let tokens: Vec<&str> = locality.split_whitespace().collect();
    let has_digit = |t: &&&str| t.chars().any(|c| c.is_ascii_digit());
    let trailing = tokens.iter().rev().take_while(has_digit).count();
    let (city, postal): (Vec<&str>, Vec<&str>) = if trailing > 0 && trailing <= 2 {
        let (c, p) = tokens.split_at(tokens.len() - trailing);
        (c.to_vec(), p.to_vec())
    } else {
        let leading = tokens.iter().take_while(has_digit).count();
        if leading > 0 && leading <= 2 && leading < tokens.len() {
            let (p, c) = tokens.split_at(leading);
            (c.to_vec(), p.to_vec())
        } else {
            (tokens, Vec::new())
        }
    };
    let join = |parts: Vec<&str>| {
        let s = parts.join(" ");
        let s = s.trim_matches(|c: char| c == ',' || c.is_whitespace());
        (!s.is_empty()).then(|| s.to_string())
    };
    (join(city), join(postal))
}

/// What the free-text remarks of an SDN entry say, as far as screening cares.
#[derive(Debug, Default, PartialEq)]
pub struct Remarks {
    pub identifiers: Vec<Identifier>,
    pub names: Vec<(NameType, String)>,
    pub linked_to: Vec<String>,
    pub countries: Vec<String>,
    /// Websites and email addresses, as written (`Website www.x.ru`).
    pub contacts: Vec<String>,
}

/// Parses SDN remarks: `;`-separated items such as `Passport X123 (Russia)`, `Linked To: NAME`,
/// `a.k.a. 'NAME'`, `Website www.x.com`, `nationality Iran`. Unknown items are ignored.
pub fn parse_remarks(text: &str) -> Remarks {
    let mut out = Remarks::default();
    let text = text.trim();
    let text = text.strip_suffix('.').unwrap_or(text);
    for item in split_list(text, ';') {
        let item = item.strip_prefix("alt. ").unwrap_or(item);
        if let Some((name_type, name)) = quoted_name(item) {
            out.names.push((name_type, name.to_string()));
        } else if let Some(target) = item.strip_prefix("Linked To:") {
            out.linked_to.push(target.trim().to_string());
        } else if item.starts_with("Website ") || item.starts_with("Email Address ") {
            out.contacts.push(item.to_string());
        } else if let Some(country) = item
            .strip_prefix("nationality ")
            .or_else(|| item.strip_prefix("citizen "))
        {
            out.countries.push(country_of(country));
        } else if let Some(id) = remark_identifier(item) {
            out.identifiers.push(id);
        }
    }
    out
}

/// `a.k.a. 'NAME'` (OFAC's weak aliases live in remarks), `f.k.a. 'NAME'`, `n.k.a. 'NAME'`.
fn quoted_name(item: &str) -> Option<(NameType, &str)> {
    let (name_type, rest) = [
        ("a.k.a.", NameType::Weak),
        ("f.k.a.", NameType::Former),
        ("n.k.a.", NameType::Alias),
    ]
    .into_iter()
    .find_map(|(prefix, t)| item.strip_prefix(prefix).map(|rest| (t, rest.trim())))?;
    let inner = rest.strip_prefix('\'')?;
    let end = inner.rfind('\'')?;
    let name = inner[..end].trim();
    (!name.is_empty()).then_some((name_type, name))
}

fn remark_identifier(item: &str) -> Option<Identifier> {
    let (rest, scheme) = ID_LABELS.iter().find_map(|(label, scheme)| {
        let rest = item.strip_prefix(label)?;
        rest.starts_with(' ').then_some((rest.trim(), *scheme))
    })?;
    let (scheme, rest) = match rest.strip_prefix("IMO ") {
        Some(imo) => ("IMO", imo.trim()),
        None => (scheme, rest),
    };
    let (value, country) = match rest.split_once(" (") {
        Some((v, c)) => {
            let country = c.split(')').next().unwrap_or("").trim();
            (v.trim(), (!country.is_empty()).then(|| country_of(country)))
        }
        None => (rest, None),
    };
    (!value.is_empty()).then(|| identifier(scheme, value, country))
}

fn apply_remarks(
    entity: &mut Entity,
    text: &str,
    primary_ids: &HashMap<String, String>,
    origin: &str,
    problems: &mut Vec<Problem>,
) {
    if text.trim().is_empty() {
        return;
    }
    let parsed = parse_remarks(text);
    entity.identifiers.extend(parsed.identifiers);
    for (name_type, name) in parsed.names {
        push_name(entity, &name, name_type);
    }
    for country in parsed.countries {
        push_country(entity, &country);
    }
    for target_name in parsed.linked_to {
        let with_dot = format!("{target_name}.");
        match primary_ids
            .get(&target_name)
            .or_else(|| primary_ids.get(&with_dot))
        {
            Some(target) if *target != entity.id => entity.relations.push(Relation {
                kind: RelationKind::LinkedTo,
                target: target.clone(),
                percentage: None,
                source: None,
            }),
            _ => problems.push(Problem::new(
                crate::error::Location::new(origin).field(format!("ent_num {}", entity.id)),
                format!("Linked To: {target_name}: no entry with that name; kept in remarks only"),
            )),
        }
    }
    entity.remarks.extend(parsed.contacts);
    entity.remarks.push(text.trim().to_string());
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn fixture() -> Watchlist {
        load(&crate::watchlist::fixture_path("ofac")).unwrap()
    }

    #[test]
    fn loads_the_fixture_with_aliases_addresses_and_links() {
        let wl = fixture();
        assert_eq!(wl.entities.len(), 5);
        let bank = &wl.entities[wl.find("306").unwrap()];
        assert_eq!(bank.primary_name(), "BANCO NACIONAL DE CUBA");
        assert_eq!(bank.kind, EntityKind::Organization);
        assert_eq!(bank.status.programs, vec!["CUBA"]);
        assert!(bank
            .names
            .iter()
            .any(|n| n.text == "NATIONAL BANK OF CUBA" && n.name_type == NameType::Alias));
        assert!(bank
            .names
            .iter()
            .any(|n| n.text == "BNC" && n.name_type == NameType::Weak));
        let zurich = &bank.addresses[0];
        assert_eq!(zurich.text, "Zweierstrasse 35");
        assert_eq!(zurich.city.as_deref(), Some("Zurich"));
        assert_eq!(zurich.postal_code.as_deref(), Some("CH-8022"));

        let person = &wl.entities[wl.find("9001").unwrap()];
        assert_eq!(person.kind, EntityKind::Person);
        assert_eq!(person.status.programs, vec!["SDGT", "IRGC"]);
        assert!(person
            .identifiers
            .iter()
            .any(|i| i.scheme == "Passport" && i.value == "X1234567"));
        assert_eq!(person.relations.len(), 1);
        assert_eq!(person.relations[0].target, "306");
        // The continuation in sdn_comments.csv completes the remarks text mid-word.
        assert!(person
            .remarks
            .iter()
            .any(|r| r.contains("Website www.example-front.com")));
        assert!(person
            .names
            .iter()
            .any(|n| n.text == "SAMPLE ONE" && n.name_type == NameType::Former));

        let vessel = &wl.entities[wl.find("9002").unwrap()];
        assert_eq!(vessel.kind, EntityKind::Vessel);
        assert!(vessel
            .identifiers
            .iter()
            .any(|i| i.scheme == "IMO" && i.value == "9187629"));
    }

    #[test]
    fn programs_in_every_bracket_style() {
        assert_eq!(parse_programs("SDGT] [IRGC"), vec!["SDGT", "IRGC"]);
        assert_eq!(parse_programs("[SDGT] [IRGC]"), vec!["SDGT", "IRGC"]);
        assert_eq!(parse_programs("CUBA"), vec!["CUBA"]);
    }

    #[test]
    fn postal_codes_split_from_city() {
        let s = |x: &str| split_postal_code(x);
        assert_eq!(
            s("Zurich CH-8022"),
            (Some("Zurich".into()), Some("CH-8022".into()))
        );
        assert_eq!(
            s("London EC3N 1DY"),
            (Some("London".into()), Some("EC3N 1DY".into()))
        );
        assert_eq!(s("Havana"), (Some("Havana".into()), None));
        assert_eq!(
            s("117292 Moscow"),
            (Some("Moscow".into()), Some("117292".into()))
        );
    }

    #[test]
    fn remarks_identifiers_and_links() {
        let r = parse_remarks(
            "DOB 14 Jun 1975; Passport 717637093 (Russia); Tax ID No. 7707083893 (Russia); \
             Vessel Registration Identification IMO 9187629; alt. Website www.x.ru; \
             Email Address a@b.ru; Linked To: FEDERAL NEWS AGENCY LLC.",
        );
        let russia = country_of("Russia");
        assert_eq!(
            r.identifiers[0],
            identifier("Passport", "717637093", Some(russia.clone()))
        );
        assert_eq!(
            r.identifiers[1],
            identifier("Tax ID", "7707083893", Some(russia))
        );
        assert_eq!(r.identifiers[2], identifier("IMO", "9187629", None));
        assert_eq!(r.contacts, vec!["Website www.x.ru", "Email Address a@b.ru"]);
        assert_eq!(r.linked_to, vec!["FEDERAL NEWS AGENCY LLC"]);
    }

    proptest! {
        #[test]
        fn remarks_parser_never_panics(text in "\\PC{0,200}") {
            let _ = parse_remarks(&text);
        }

        #[test]
        fn passport_round_trips(number in "[A-Z0-9]{1,12}", country in "[A-Z][a-z]{2,12}") {
            let r = parse_remarks(&format!("DOB 1970; Passport {number} ({country})."));
            prop_assert_eq!(r.identifiers, vec![identifier("Passport", &number, Some(country_of(&country)))]);
        }
    }
}
