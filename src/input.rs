//! Reading shipment exports (CSV or JSON lines, in any supported encoding): delimiter detection,
//! party columns from the header, rows to parties.
//!
//! ERP exports name their columns in many ways (`Consignee`, `Ship-to Name`, `ship_to_street`).
//! The header is matched against role stems (`data/roles.tsv`) and part names
//! (`data/column_parts.tsv`) to find, for each party role, its name column and the address columns
//! beside it; `--party ROLE=COLUMN[,ADDRESS_COLUMNS...]` overrides the detection. Each data row
//! becomes a [`ShipmentRow`] with its parties; a row that cannot be read (ragged, invalid UTF-8, no
//! party name, a malformed JSON line) carries an error instead, so it is reported, never dropped.
//! [`open`] puts it together: decoding to UTF-8 (`encoding`), the delimiter from the header line,
//! then the reader. JSON lines: one object per line whose keys are the column names; the first
//! object's keys, in order, are the header. Not here: screening.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Chain, Cursor, Read};
use std::sync::LazyLock;

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};

use crate::encoding::{DecodeReader, InputEncoding};
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

/// The syntax of an input: CSV (any delimiter) or JSON lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum InputFormat {
    #[default]
    Csv,
    Jsonl,
}

/// How to read an input; everything unset is detected.
#[derive(Debug, Clone, Default)]
pub struct InputOptions {
    pub format: InputFormat,
    /// Forced encoding; detected when None (see `encoding`).
    pub encoding: Option<InputEncoding>,
    /// Forced CSV delimiter; detected from the header line when None.
    pub delimiter: Option<u8>,
    /// `ROLE=COLUMN[,ADDRESS_COLUMNS...]` specs replacing header detection.
    pub party_overrides: Vec<String>,
}

/// The reader [`open`] returns: the decoded input with the peeked header put back in front.
pub type OpenedReader<R> = ShipmentReader<Chain<Cursor<Vec<u8>>, DecodeReader<R>>>;

/// Opens an input: decodes it to UTF-8, detects the delimiter from the header line (CSV) and
/// reads the header. `file` names the input in messages.
pub fn open<R: Read>(input: R, options: &InputOptions, file: &str) -> Result<OpenedReader<R>> {
    let mut decoded = DecodeReader::new(input, options.encoding);
    // Peek at the header line for the delimiter, then chain it back in front of the rest.
    let mut head = Vec::new();
    if options.format == InputFormat::Csv && options.delimiter.is_none() {
        head.resize(8192, 0);
        let mut len = 0;
        while len < head.len() {
            let n = decoded
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
    }
    let input = Cursor::new(head).chain(decoded);
    match options.format {
        InputFormat::Csv => {
            let delimiter = options
                .delimiter
                .unwrap_or_else(|| detect_delimiter(input.get_ref().0.get_ref()));
            ShipmentReader::new(input, delimiter, &options.party_overrides, file)
        }
        InputFormat::Jsonl => ShipmentReader::jsonl(input, &options.party_overrides, file),
    }
}

/// A JSON object with its keys in document order (serde_json's map sorts them).
struct OrderedObject(Vec<(String, serde_json::Value)>);

impl<'de> Deserialize<'de> for OrderedObject {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = OrderedObject;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(
                self,
                mut map: A,
            ) -> std::result::Result<OrderedObject, A::Error> {
                let mut out: Vec<(String, serde_json::Value)> = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, serde_json::Value>()? {
                    match out.iter_mut().find(|(key, _)| *key == k) {
                        Some(slot) => slot.1 = v,
                        None => out.push((k, v)),
                    }
                }
                Ok(OrderedObject(out))
            }
        }
        d.deserialize_map(V)
    }
}

/// A JSON value as a cell: strings as they are, null as empty, anything else as JSON text.
fn json_cell(v: serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s,
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Where rows come from.
enum Source<R: Read> {
    Csv {
        reader: csv::Reader<R>,
        record: csv::ByteRecord,
    },
    Jsonl {
        reader: BufReader<R>,
        /// Lines read so far.
        line: u64,
        buf: Vec<u8>,
        /// The first object, read for the header and not yet returned as a row.
        first: Option<(u64, OrderedObject)>,
    },
}

/// One row as read, before the party columns are looked at.
struct RawRow {
    line: u64,
    cells: Vec<String>,
    error: Option<String>,
}

/// Streams the rows of a shipment export (CSV or JSON lines).
pub struct ShipmentReader<R: Read> {
    source: Source<R>,
    pub layout: Layout,
    file: String,
    row: u64,
}

impl<R: Read> ShipmentReader<R> {
    /// Reads the CSV header and detects the layout.
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
            source: Source::Csv {
                reader,
                record: csv::ByteRecord::new(),
            },
            layout,
            file: file.to_string(),
            row: 0,
        })
    }

    /// Reads JSON lines: the first object's keys are the header. Blank lines are skipped.
    pub fn jsonl(input: R, overrides: &[String], file: &str) -> Result<ShipmentReader<R>> {
        let mut reader = BufReader::new(input);
        let mut buf = Vec::new();
        let mut line = 0;
        let first = loop {
            buf.clear();
            let n = reader
                .read_until(b'\n', &mut buf)
                .map_err(|e| Error::io(file, e))?;
            if n == 0 {
                return Err(Error::data(
                    Location::new(file).line(1),
                    "the input is empty: no JSON object",
                ));
            }
            line += 1;
            if buf.trim_ascii().is_empty() {
                continue;
            }
            let obj: OrderedObject = serde_json::from_slice(&buf).map_err(|e| {
                Error::data(
                    Location::new(file).line(line),
                    format!("malformed JSON: {e} (the first object's keys name the columns)"),
                )
            })?;
            break obj;
        };
        let headers: Vec<String> = first.0.iter().map(|(k, _)| k.trim().to_string()).collect();
        let layout = Layout::detect(&headers, overrides, file)?;
        Ok(ShipmentReader {
            source: Source::Jsonl {
                reader,
                line,
                buf,
                first: Some((line, first)),
            },
            layout,
            file: file.to_string(),
            row: 0,
        })
    }

    fn next_csv(&mut self) -> Result<Option<RawRow>> {
        let Source::Csv { reader, record } = &mut self.source else {
            return Ok(None);
        };
        match reader.read_byte_record(record) {
            Ok(false) => return Ok(None),
            Ok(true) => {}
            Err(e) => return Err(csv_error(e, &self.file)),
        }
        let line = record.position().map(|p| p.line()).unwrap_or(0);
        let mut cells = Vec::with_capacity(record.len());
        let mut error = None;
        for (i, f) in record.iter().enumerate() {
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
        Ok(Some(RawRow { line, cells, error }))
    }

    fn next_jsonl(&mut self) -> Result<Option<RawRow>> {
        let Source::Jsonl {
            reader,
            line,
            buf,
            first,
        } = &mut self.source
        else {
            return Ok(None);
        };
        let headers = &self.layout.headers;
        let (at, parsed) = match first.take() {
            Some((at, obj)) => (at, Ok(obj)),
            None => loop {
                buf.clear();
                let n = reader
                    .read_until(b'\n', buf)
                    .map_err(|e| Error::io(&self.file, e))?;
                if n == 0 {
                    return Ok(None);
                }
                *line += 1;
                if !buf.trim_ascii().is_empty() {
                    break (*line, serde_json::from_slice::<OrderedObject>(buf));
                }
            },
        };
        let mut cells = vec![String::new(); headers.len()];
        let error = match parsed {
            Err(e) => Some(format!("{}:{at}: malformed JSON: {e}", self.file)),
            Ok(obj) => {
                let mut error = None;
                for (k, v) in obj.0 {
                    match headers.iter().position(|h| *h == k.trim()) {
                        Some(i) => cells[i] = json_cell(v),
                        None => {
                            error.get_or_insert_with(|| {
                                format!(
                                    "{}:{at}: key `{k}` is not among the first object's keys, \
                                     which name the columns",
                                    self.file
                                )
                            });
                        }
                    }
                }
                error
            }
        };
        Ok(Some(RawRow {
            line: at,
            cells,
            error,
        }))
    }

    /// The next row, or None at the end. A CSV syntax error that loses the position is an Err.
    pub fn next_row(&mut self) -> Result<Option<ShipmentRow>> {
        let raw = match self.source {
            Source::Csv { .. } => self.next_csv()?,
            Source::Jsonl { .. } => self.next_jsonl()?,
        };
        let Some(RawRow {
            line,
            cells,
            mut error,
        }) = raw
        else {
            return Ok(None);
        };
        self.row += 1;
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
    fn jsonl_rows_follow_the_first_objects_keys() {
        let data = concat!(
            "{\"Shipper\": \"A Co\", \"Consignee\": \"B Co\", \"Value\": 10}\n",
            "\n",
            "{\"Consignee\": \"C Co\"}\n",
            "{\"Shipper\": \"D Co\",\n",
            "{\"Shipper\": \"E Co\", \"Buyer\": \"F Co\"}\n",
        );
        let mut r = ShipmentReader::jsonl(data.as_bytes(), &[], "t.jsonl").unwrap();
        assert_eq!(r.layout.headers, ["Shipper", "Consignee", "Value"]);
        let rows: Vec<ShipmentRow> = std::iter::from_fn(|| r.next_row().unwrap()).collect();
        assert_eq!(rows.len(), 4);
        assert_eq!(rows[0].cells, ["A Co", "B Co", "10"]);
        assert_eq!(rows[1].cells, ["", "C Co", ""]);
        assert_eq!((rows[1].line, rows[1].parties.len()), (3, 1));
        let e = rows[2].error.as_deref().unwrap();
        assert!(e.starts_with("t.jsonl:4: malformed JSON"), "{e}");
        assert!(rows[3].error.as_deref().unwrap().contains("`Buyer`"));
    }

    #[test]
    fn open_decodes_and_detects_the_delimiter() {
        let (bytes, _, _) =
            encoding_rs::WINDOWS_1251.encode("Shipper;Consignee\nA;ООО «Робин Трейд»\n");
        let mut r = open(&bytes[..], &InputOptions::default(), "r.csv").unwrap();
        let row = r.next_row().unwrap().unwrap();
        assert_eq!(row.parties[1].name, "ООО «Робин Трейд»");
    }

    #[test]
    fn no_party_column_is_an_error_naming_the_file() {
        let e = ShipmentReader::new(&b"a,b\n1,2\n"[..], b',', &[], "x.csv")
            .err()
            .unwrap();
        assert!(e.to_string().starts_with("x.csv:1"), "{e}");
    }
}
