//! Reading shipment exports: delimiter detection, party columns from the header, rows to parties.
//!
//! ERP exports name their columns in many ways (`Consignee`, `Ship-to Name`, `ship_to_street`).
//! The header is matched against role stems (`data/roles.tsv`) and part names
//! (`data/column_parts.tsv`) to find, for each party role, its name column and the address columns
//! beside it; `--party ROLE=COLUMN[,ADDRESS_COLUMNS...]` overrides the detection. Each data row
//! becomes a [`ShipmentRow`] with its parties; a row that cannot be read (ragged, invalid UTF-8, no
//! party name) carries an error instead, so it is reported, never dropped. Not here: screening.

use std::collections::HashMap;
use std::io::Read;
use std::sync::LazyLock;

use crate::error::{Error, Location, Result};
use crate::model::Address;
use crate::screen::Party;
use crate::tables;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Part {
    Name,
    Street,
    City,
    PostalCode,
    Region,
    Country,
    Id,
}

struct ColumnVocab {
    /// (stem, role), longest stem first.
    stems: Vec<(&'static str, &'static str)>,
    parts: HashMap<&'static str, Part>,
}

static VOCAB: LazyLock<ColumnVocab> = LazyLock::new(|| {
    let mut stems = Vec::new();
    for r in tables::rows(include_str!("../data/roles.tsv")) {
        for stem in &r[1..] {
            stems.push((*stem, r[0]));
        }
    }
    stems.sort_by_key(|(s, _)| std::cmp::Reverse(s.len()));
    let mut parts = HashMap::new();
    for r in tables::rows(include_str!("../data/column_parts.tsv")) {
        let part = match r[0] {
            "name" => Part::Name,
            "street" => Part::Street,
            "city" => Part::City,
            "postal_code" => Part::PostalCode,
            "region" => Part::Region,
            "country" => Part::Country,
            _ => Part::Id,
        };
        for rest in &r[1..] {
            parts.insert(*rest, part);
        }
    }
    ColumnVocab { stems, parts }
});

/// A header name with case, spaces, underscores, hyphens and dots removed.
pub fn header_key(h: &str) -> String {
    h.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .map(|c| match c {
            'ä' => 'a',
            'ö' => 'o',
            'ü' => 'u',
            'ß' => 's',
            c => c,
        })
        .collect()
}

/// Which role and part a column holds, if it is a party column.
pub fn classify_column(header: &str) -> Option<(&'static str, Part)> {
    let key = header_key(header);
    let vocab = &*VOCAB;
    for (stem, role) in &vocab.stems {
        if let Some(rest) = key.strip_prefix(stem) {
            if let Some(part) = vocab.parts.get(rest) {
                return Some((role, *part));
            }
        }
    }
    None
}

/// Where one party's fields sit in a row.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PartyColumns {
    pub role: String,
    pub name: usize,
    pub street: Vec<usize>,
    pub city: Option<usize>,
    pub postal_code: Option<usize>,
    pub region: Option<usize>,
    pub country: Option<usize>,
}

/// The party columns of a file, detected from its header or given with `--party`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Layout {
    pub headers: Vec<String>,
    pub parties: Vec<PartyColumns>,
}

impl Layout {
    /// Detects party columns from the header. `overrides` are `ROLE=COLUMN[,ADDRESS_COLUMNS...]`.
    pub fn detect(headers: &[String], overrides: &[String], file: &str) -> Result<Layout> {
        let mut parties: Vec<PartyColumns> = Vec::new();
        if overrides.is_empty() {
            // Per role, the name column: a `<role> Name` column beats a bare `<role>` column.
            let mut by_role: HashMap<&str, PartyColumns> = HashMap::new();
            let mut name_rank: HashMap<&str, u8> = HashMap::new();
            let mut order: Vec<&str> = Vec::new();
            for (i, h) in headers.iter().enumerate() {
                let Some((role, part)) = classify_column(h) else {
                    continue;
                };
                if !order.contains(&role) {
                    order.push(role);
                }
                let pc = by_role.entry(role).or_insert_with(|| PartyColumns {
                    role: role.to_string(),
                    name: usize::MAX,
                    ..Default::default()
                });
                match part {
                    Part::Name => {
                        let rank = if header_key(h).ends_with("name") {
                            2
                        } else {
                            1
                        };
                        if rank > *name_rank.get(role).unwrap_or(&0) {
                            pc.name = i;
                            name_rank.insert(role, rank);
                        }
                    }
                    Part::Street => pc.street.push(i),
                    Part::City => pc.city = Some(i),
                    Part::PostalCode => pc.postal_code = Some(i),
                    Part::Region => pc.region = Some(i),
                    Part::Country => pc.country = Some(i),
                    Part::Id => {}
                }
            }
            for role in order {
                let pc = by_role.remove(role).unwrap_or_default();
                if pc.name != usize::MAX {
                    parties.push(pc);
                }
            }
        } else {
            for spec in overrides {
                parties.push(parse_override(spec, headers, file)?);
            }
        }
        if parties.is_empty() {
            return Err(Error::data(
                Location::new(file).line(1),
                format!(
                    "no party column recognised in the header ({}); name one with --party ROLE=COLUMN",
                    headers.join(", ")
                ),
            ));
        }
        Ok(Layout {
            headers: headers.to_vec(),
            parties,
        })
    }
}

fn parse_override(spec: &str, headers: &[String], file: &str) -> Result<PartyColumns> {
    let (role, cols) = spec.split_once('=').ok_or_else(|| {
        Error::Usage(format!(
            "--party {spec}: expected ROLE=COLUMN[,ADDRESS_COLUMNS...]"
        ))
    })?;
    let find = |name: &str| -> Result<usize> {
        let key = header_key(name);
        headers
            .iter()
            .position(|h| header_key(h) == key)
            .ok_or_else(|| {
                Error::data(
                    Location::new(file).line(1).field(name.trim()),
                    format!("--party {spec}: no column `{}` in the header", name.trim()),
                )
            })
    };
    let mut names = cols.split(',');
    let mut pc = PartyColumns {
        role: role.trim().to_string(),
        name: find(names.next().unwrap_or(""))?,
        ..Default::default()
    };
    for c in names {
        let i = find(c)?;
        match classify_column(&headers[i]).map(|(_, p)| p) {
            Some(Part::City) => pc.city = Some(i),
            Some(Part::PostalCode) => pc.postal_code = Some(i),
            Some(Part::Region) => pc.region = Some(i),
            Some(Part::Country) => pc.country = Some(i),
            _ => pc.street.push(i),
        }
    }
    Ok(pc)
}

/// One data row: its cells (as read) and its parties, or why it cannot be screened.
#[derive(Debug, Clone, PartialEq)]
pub struct ShipmentRow {
    /// 1-based data row number (the header is row 0).
    pub row: u64,
    /// 1-based line in the file where the row starts.
    pub line: u64,
    pub cells: Vec<String>,
    pub parties: Vec<Party>,
    pub error: Option<String>,
}

/// Detects the delimiter from the header line: the most frequent of `,` `;` tab and `|`.
pub fn detect_delimiter(head: &[u8]) -> u8 {
    let line_end = head.iter().position(|&b| b == b'\n').unwrap_or(head.len());
    let line = &head[..line_end];
    [b',', b';', b'\t', b'|']
        .into_iter()
        .max_by_key(|d| line.iter().filter(|b| *b == d).count())
        .filter(|d| line.contains(d))
        .unwrap_or(b',')
}

/// Opens a CSV stream for [`ShipmentReader`]: peeks at the header to detect the delimiter (or
/// takes `forced`), then chains the peeked bytes back in front of the rest, so stdin works too.
pub fn sniff_delimiter<'a>(
    mut input: Box<dyn Read + 'a>,
    forced: Option<u8>,
    file: &str,
) -> Result<(u8, impl Read + 'a)> {
    let mut head = vec![0u8; 8192];
    let mut len = 0;
    while len < head.len() {
        let n = input
            .read(&mut head[len..])
            .map_err(|e| Error::io(file, e))?;
        if n == 0 {
            break;
        }
        len += n;
        if head[..len].contains(&b'\n') {
            break;
        }
    }
    head.truncate(len);
    let delimiter = forced.unwrap_or_else(|| detect_delimiter(&head));
    Ok((delimiter, std::io::Cursor::new(head).chain(input)))
}

/// Streams the rows of a shipment CSV.
pub struct ShipmentReader<R: Read> {
    reader: csv::Reader<R>,
    pub layout: Layout,
    file: String,
    row: u64,
    record: csv::ByteRecord,
}

impl<R: Read> ShipmentReader<R> {
    /// Reads the header and detects the layout. `head` is the start of the input (for the delimiter).
    pub fn new(
        input: R,
        delimiter: u8,
        overrides: &[String],
        file: &str,
    ) -> Result<ShipmentReader<R>> {
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .flexible(true)
            .has_headers(true)
            .from_reader(input);
        let header = reader
            .byte_headers()
            .map_err(|e| csv_error(e, file))?
            .clone();
        if header.is_empty() || header.iter().all(|h| h.is_empty()) {
            return Err(Error::data(
                Location::new(file).line(1),
                "the file is empty: no header row",
            ));
        }
        let mut headers = Vec::with_capacity(header.len());
        for (i, h) in header.iter().enumerate() {
            let h = std::str::from_utf8(h).map_err(|_| {
                Error::data(
                    Location::new(file)
                        .line(1)
                        .field(format!("column {}", i + 1)),
                    "invalid UTF-8 in the header",
                )
            })?;
            headers.push(h.trim_start_matches('\u{feff}').trim().to_string());
        }
        let layout = Layout::detect(&headers, overrides, file)?;
        Ok(ShipmentReader {
            reader,
            layout,
            file: file.to_string(),
            row: 0,
            record: csv::ByteRecord::new(),
        })
    }

    /// The next row, or None at the end. A CSV syntax error that loses the position is an Err.
    pub fn next_row(&mut self) -> Result<Option<ShipmentRow>> {
        match self.reader.read_byte_record(&mut self.record) {
            Ok(false) => return Ok(None),
            Ok(true) => {}
            Err(e) => return Err(csv_error(e, &self.file)),
        }
        self.row += 1;
        let line = self.record.position().map(|p| p.line()).unwrap_or(0);
        let mut cells = Vec::with_capacity(self.record.len());
        let mut error = None;
        for (i, f) in self.record.iter().enumerate() {
            match std::str::from_utf8(f) {
                Ok(s) => cells.push(s.to_string()),
                Err(_) => {
                    cells.push(String::from_utf8_lossy(f).into_owned());
                    let col = self.layout.headers.get(i).cloned().unwrap_or_default();
                    error.get_or_insert_with(|| {
                        format!("{}:{line} (column `{col}`): invalid UTF-8", self.file)
                    });
                }
            }
        }
        let expected = self.layout.headers.len();
        if cells.len() != expected && error.is_none() {
            error = Some(format!(
                "{}:{line}: expected {expected} fields, found {}",
                self.file,
                cells.len()
            ));
        }
        let parties = if error.is_none() {
            self.parties(&cells)
        } else {
            Vec::new()
        };
        if error.is_none() && parties.is_empty() {
            error = Some(format!("{}:{line}: no party name in this row", self.file));
        }
        Ok(Some(ShipmentRow {
            row: self.row,
            line,
            cells,
            parties,
            error,
        }))
    }

    fn parties(&self, cells: &[String]) -> Vec<Party> {
        let get = |i: Option<usize>| {
            i.and_then(|i| cells.get(i))
                .map(|s| s.trim())
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        self.layout
            .parties
            .iter()
            .filter_map(|pc| {
                let name = get(Some(pc.name))?;
                let street: Vec<String> = pc.street.iter().filter_map(|&i| get(Some(i))).collect();
                let address = Address {
                    text: street.join(", "),
                    city: get(pc.city),
                    postal_code: get(pc.postal_code),
                    region: get(pc.region),
                    country: get(pc.country),
                    source: None,
                };
                let country = address.country.clone();
                Some(Party {
                    role: pc.role.clone(),
                    name,
                    address: (!address.is_empty()).then_some(address),
                    country,
                    kind: Default::default(),
                })
            })
            .collect()
    }
}

fn csv_error(e: csv::Error, file: &str) -> Error {
    let line = e.position().map(|p| p.line()).unwrap_or(0);
    Error::data(Location::new(file).line(line), e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_recognised_by_synonyms() {
        assert_eq!(
            classify_column("Ship-to Street"),
            Some(("consignee", Part::Street))
        );
        assert_eq!(
            classify_column("ship_to_name"),
            Some(("consignee", Part::Name))
        );
        assert_eq!(
            classify_column("Consignee"),
            Some(("consignee", Part::Name))
        );
        assert_eq!(classify_column("Sold-to Party"), Some(("buyer", Part::Id)));
        assert_eq!(
            classify_column("Forwarding Agent"),
            Some(("forwarder", Part::Name))
        );
        assert_eq!(
            classify_column("END USER COUNTRY"),
            Some(("end_user", Part::Country))
        );
        assert_eq!(
            classify_column("Notify Party"),
            Some(("notify", Part::Name))
        );
        assert_eq!(classify_column("Value EUR"), None);
    }

    #[test]
    fn layout_prefers_name_columns_over_ids() {
        let headers: Vec<String> = ["Sold-to Party", "Sold-to Name", "Sold-to City", "HS Code"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let l = Layout::detect(&headers, &[], "f.csv").unwrap();
        assert_eq!(l.parties.len(), 1);
        assert_eq!(l.parties[0].name, 1);
        assert_eq!(l.parties[0].city, Some(2));
    }

    #[test]
    fn delimiter_detection() {
        assert_eq!(detect_delimiter(b"a;b;c\n1,2;3"), b';');
        assert_eq!(detect_delimiter(b"a,b,c\n"), b',');
        assert_eq!(detect_delimiter(b"a\tb\n"), b'\t');
        assert_eq!(detect_delimiter(b"abc\n"), b',');
    }

    #[test]
    fn ragged_rows_and_bad_utf8_become_error_rows() {
        let data = b"Shipper,Consignee\nA Co,B Co\nC Co\n\xff\xfe,D Co\n,\n".to_vec();
        let mut r = ShipmentReader::new(&data[..], b',', &[], "t.csv").unwrap();
        let rows: Vec<ShipmentRow> = std::iter::from_fn(|| r.next_row().unwrap()).collect();
        assert_eq!(rows.len(), 4);
        assert!(rows[0].error.is_none());
        assert_eq!(rows[0].parties.len(), 2);
        assert!(rows[1]
            .error
            .as_deref()
            .unwrap()
            .contains("t.csv:3: expected 2 fields, found 1"));
        assert!(rows[2]
            .error
            .as_deref()
            .unwrap()
            .contains("column `Shipper`"));
        assert!(rows[3].error.as_deref().unwrap().contains("no party name"));
    }

    #[test]
    fn no_party_column_is_an_error_naming_the_file() {
        let e = ShipmentReader::new(&b"a,b\n1,2\n"[..], b',', &[], "x.csv")
            .err()
            .unwrap();
        assert!(e.to_string().starts_with("x.csv:1"), "{e}");
    }
}
