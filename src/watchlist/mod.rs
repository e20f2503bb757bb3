//! Watchlist loading: format detection, the per-format loaders, merging, and list versions.
//!
//! Each loader turns one file (or OFAC directory) into a [`Watchlist`] of model entities with a
//! [`ListInfo`] saying which file and version it was. A loader either returns the whole list or an
//! error naming file and line: never a partial list. Indexing and scoring are not done here.

pub mod csl;
mod csvfile;
pub mod diff;
pub mod eu;
pub mod ftm;
pub mod native;
pub mod ofac;
pub mod os_simple;
pub mod stats;
pub mod uk;
pub mod un;
mod xmlwalk;

pub use stats::{stats, validate, Loaded, Problem, Stats};

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::error::{Error, Location, Result};
use crate::model::{Entity, ListInfo, Name, NameType, Watchlist};

/// The seed watchlist compiled into the binary: used when no `--watchlist` is given.
pub const SEED_TOML: &str = include_str!("../../watchlists/seed.toml");

/// A list format redflag reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// redflag's own TOML format (`watchlists/seed.toml`).
    Native,
    /// OFAC legacy CSV: a directory with sdn.csv, alt.csv, add.csv.
    Ofac,
    /// US Consolidated Screening List CSV.
    Csl,
    /// UN Security Council consolidated list XML.
    Un,
    /// FollowTheMoney JSON lines (OpenSanctions).
    Ftm,
    /// OpenSanctions targets.simple.csv.
    OsSimple,
    /// EU Financial Sanctions Files XML 1.1.
    Eu,
    /// UK Sanctions List CSV.
    Uk,
}

impl Format {
    pub const ALL: [Format; 8] = [
        Format::Native,
        Format::Ofac,
        Format::Csl,
        Format::Un,
        Format::Ftm,
        Format::OsSimple,
        Format::Eu,
        Format::Uk,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Format::Native => "native",
            Format::Ofac => "ofac",
            Format::Csl => "csl",
            Format::Un => "un",
            Format::Ftm => "ftm",
            Format::OsSimple => "os-simple",
            Format::Eu => "eu",
            Format::Uk => "uk",
        }
    }

    pub fn parse(s: &str) -> Option<Format> {
        Format::ALL
            .into_iter()
            .find(|f| f.as_str().eq_ignore_ascii_case(s.trim()))
    }
}

/// Loads the seed list compiled into the binary.
pub fn seed() -> Watchlist {
    let mut wl = native::parse_str(SEED_TOML, "builtin:seed")
        .expect("the compiled-in seed watchlist is valid (checked by tests)");
    wl.lists[0].builtin = true;
    wl
}

/// Loads every path (format detected unless forced) and merges them, in order.
pub fn load_all(paths: &[PathBuf], forced: Option<Format>) -> Result<Watchlist> {
    let mut merged = Watchlist::default();
    for path in paths {
        merged.merge(load(path, forced)?);
    }
    Ok(merged)
}

/// Loads one watchlist file or directory.
pub fn load(path: &Path, forced: Option<Format>) -> Result<Watchlist> {
    let format = match forced {
        Some(f) => f,
        None => detect(path)?,
    };
    read(path, format).map(|loaded| loaded.watchlist)
}

/// Loads one list in a known format, with the non-fatal problems its loader met.
pub fn read(path: &Path, format: Format) -> Result<Loaded> {
    let whole = |wl: Result<Watchlist>| {
        wl.map(|watchlist| Loaded {
            watchlist,
            problems: Vec::new(),
        })
    };
    if format != Format::Ofac && path.is_dir() {
        return Err(Error::WatchlistUnavailable(format!(
            "{}: is a directory; only the OFAC format is a directory",
            path.display()
        )));
    }
    let loaded = match format {
        Format::Native => whole(native::load(path)),
        Format::Ofac => ofac::read(path),
        Format::Csl => whole(csl::load(path)),
        Format::Un => whole(un::load(path)),
        Format::Ftm => ftm::read(path),
        Format::OsSimple => whole(os_simple::load(path)),
        Format::Eu => whole(eu::load(path)),
        Format::Uk => whole(uk::load(path)),
    }?;
    let mut loaded = loaded;
    // Loaders grow each entity's lists as they read; the slack is half the names' memory on a
    // large list, kept for the whole run.
    loaded.watchlist.entities.shrink_to_fit();
    for e in &mut loaded.watchlist.entities {
        e.names.shrink_to_fit();
        e.status.programs.shrink_to_fit();
    }
    // An official list with no entries is an empty or cut file, not a list that designates no one.
    if format != Format::Native && loaded.watchlist.entities.is_empty() {
        return Err(Error::data(
            Location::new(path.display().to_string()).line(1),
            format!(
                "no entries found: the file is empty, cut, or not a {} list",
                format.as_str()
            ),
        ));
    }
    Ok(loaded)
}

/// Detects a list's format from its contents (not its name).
pub fn detect(path: &Path) -> Result<Format> {
    let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
    if meta.is_dir() {
        if find_file_ci(path, "sdn.csv").is_some() {
            return Ok(Format::Ofac);
        }
        return Err(Error::WatchlistUnavailable(format!(
            "{}: a directory is read as an OFAC legacy list, but it holds no sdn.csv",
            path.display()
        )));
    }
    let head = read_head(path, 4096)?;
    let text = String::from_utf8_lossy(&head);
    let text = text.trim_start_matches('\u{feff}').trim_start();
    let first_line = text.lines().next().unwrap_or("").to_ascii_lowercase();
    let lower = text.to_ascii_lowercase();
    if text.starts_with('{') && lower.contains("\"schema\"") {
        return Ok(Format::Ftm);
    }
    if text.starts_with('<') {
        if lower.contains("<consolidated_list") {
            return Ok(Format::Un);
        }
        if lower.contains("<export") && lower.contains("sanctionentity") {
            return Ok(Format::Eu);
        }
    }
    if first_line.contains("entity_number") && first_line.contains("source") {
        return Ok(Format::Csl);
    }
    if first_line.starts_with("id,schema,name") {
        return Ok(Format::OsSimple);
    }
    // The UK list may put a `Last Updated` line before its header.
    let header = if first_line.starts_with("last updated") {
        text.lines().nth(1).unwrap_or("").to_ascii_lowercase()
    } else {
        first_line.clone()
    };
    if header.contains("name 6") && (header.contains("unique id") || header.contains("group id")) {
        return Ok(Format::Uk);
    }
    if lower.contains("[[entity]]") || lower.contains("[list]") {
        return Ok(Format::Native);
    }
    Err(Error::data(
        Location::new(path.display().to_string()).line(1),
        "cannot tell which watchlist format this is; give --watchlist-format",
    ))
}

fn read_head(path: &Path, n: usize) -> Result<Vec<u8>> {
    use std::io::Read;
    let mut f = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut buf = vec![0; n];
    let mut len = 0;
    while len < n {
        let k = f.read(&mut buf[len..]).map_err(|e| Error::io(path, e))?;
        if k == 0 {
            break;
        }
        len += k;
    }
    buf.truncate(len);
    Ok(buf)
}

/// Finds `name` in `dir`, ignoring ASCII case (OFAC ships SDN.CSV or sdn.csv).
pub fn find_file_ci(dir: &Path, name: &str) -> Option<PathBuf> {
    std::fs::read_dir(dir).ok()?.flatten().find_map(|e| {
        let file_name = e.file_name();
        let s = file_name.to_string_lossy();
        s.eq_ignore_ascii_case(name).then(|| e.path())
    })
}

/// Hex SHA-256 over byte slices, in order.
pub fn sha256_hex<'a>(parts: impl IntoIterator<Item = &'a [u8]>) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Builds the [`ListInfo`] of a loaded file: the version is its publication date when known,
/// otherwise the first 16 hex digits of its content hash.
pub fn list_info(
    name: &str,
    format: Format,
    path: &str,
    published: Option<String>,
    content_hash: String,
    entity_count: usize,
) -> ListInfo {
    let version = match &published {
        Some(p) => p.clone(),
        None => format!("sha256:{}", &content_hash[..16.min(content_hash.len())]),
    };
    ListInfo {
        name: name.to_string(),
        format: format.as_str().to_string(),
        path: path.to_string(),
        published,
        version,
        content_hash,
        entity_count,
        builtin: false,
        modified: None,
    }
}

/// The watchlist of one loaded file: its entities and a [`ListInfo`] naming it.
pub fn single_list(
    name: &str,
    format: Format,
    path: &str,
    published: Option<String>,
    content_hash: String,
    entities: Vec<crate::model::Entity>,
) -> Watchlist {
    let info = list_info(name, format, path, published, content_hash, entities.len());
    Watchlist {
        lists: vec![info],
        entities,
    }
}

/// Path of a hand-written list sample under `fixtures/lists`.
#[cfg(test)]
pub(crate) fn fixture_path(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/lists")
        .join(rel)
}

/// Reads a whole file, mapping errors to [`Error::Io`] with the path.
pub fn read_file(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| Error::io(path, e))
}

/// Reads a whole file as UTF-8 (a BOM is dropped); invalid UTF-8 is a data error with its line.
pub fn read_utf8(path: &Path) -> Result<(String, Vec<u8>)> {
    let bytes = read_file(path)?;
    match std::str::from_utf8(&bytes) {
        Ok(s) => Ok((s.trim_start_matches('\u{feff}').to_string(), bytes.clone())),
        Err(e) => {
            let line = bytes[..e.valid_up_to()]
                .iter()
                .filter(|&&b| b == b'\n')
                .count()
                + 1;
            Err(Error::data(
                Location::new(path.display().to_string()).line(line as u64),
                "invalid UTF-8",
            ))
        }
    }
}

/// ISO alpha-2 code of a country name when [`crate::geo`] knows it, else the name as written.
pub fn country_of(name: &str) -> String {
    let name = name.trim();
    crate::geo::country_code(name).map_or_else(|| name.to_string(), str::to_string)
}

/// Adds a country to an entity once.
pub fn push_country(entity: &mut Entity, country: &str) {
    let country = country.trim();
    if !country.is_empty() && !entity.countries.iter().any(|c| c == country) {
        entity.countries.push(country.to_string());
    }
}

/// Adds a name to an entity unless it already has that text (lists repeat names across
/// fields, e.g. an OFAC alias in alt.csv and again as a weak a.k.a. in remarks).
pub fn push_name<'e>(
    entity: &'e mut Entity,
    text: &str,
    name_type: NameType,
) -> Option<&'e mut Name> {
    let text = text.trim();
    if text.is_empty() || entity.names.iter().any(|n| n.text == text) {
        return None;
    }
    entity.names.push(Name::new(text, name_type));
    entity.names.last_mut()
}

/// 1-based line number of a byte offset in `text`.
pub fn line_of_offset(text: &str, offset: usize) -> u64 {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count() as u64
        + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    use super::fixture_path as fixture;

    #[test]
    fn detects_every_fixture() {
        for (rel, format) in [
            ("ofac", Format::Ofac),
            ("csl.csv", Format::Csl),
            ("csl_with_id.csv", Format::Csl),
            ("un.xml", Format::Un),
            ("sample.ftm.json", Format::Ftm),
            ("targets.simple.csv", Format::OsSimple),
            ("eu.xml", Format::Eu),
            ("uk.csv", Format::Uk),
        ] {
            assert_eq!(detect(&fixture(rel)).unwrap(), format, "{rel}");
            let wl = load(&fixture(rel), None).unwrap();
            assert!(!wl.entities.is_empty(), "{rel}");
            assert_eq!(wl.lists[0].format, format.as_str());
            assert_eq!(wl.lists[0].entity_count, wl.entities.len());
        }
    }

    #[test]
    fn a_wrongly_forced_format_is_an_error() {
        for (rel, forced) in [
            ("csl.csv", Format::Uk),
            ("csl.csv", Format::OsSimple),
            ("uk.csv", Format::Csl),
            ("un.xml", Format::Eu),
            ("eu.xml", Format::Un),
            ("un.xml", Format::Ftm),
            ("sample.ftm.json", Format::Csl),
            ("targets.simple.csv", Format::Native),
            ("csl.csv", Format::Ofac),
            ("ofac", Format::Csl),
        ] {
            let err = load(&fixture(rel), Some(forced));
            assert!(err.is_err(), "{rel} read as {}", forced.as_str());
        }
    }
}
