//! Strict CSV reading shared by the CSV list loaders (OFAC, CSL, OpenSanctions simple, UK).
//!
//! What it is for: turning a CSV file into records with line numbers, and refusing files that
//! cannot be read whole (ragged rows, invalid UTF-8, a file cut inside a quoted field), so no
//! loader ever returns a shorter list. It is not for interpreting columns: each loader does that.

use std::collections::HashMap;
use std::path::Path;

use csv::StringRecord;

use super::read_file;
use crate::error::{Error, Location, Result};

/// A CSV file held in memory, with the name used in error messages.
pub struct CsvFile {
    pub origin: String,
    data: Vec<u8>,
    /// Lines dropped before the CSV proper, added back to reported line numbers.
    skipped_lines: u64,
}

impl CsvFile {
    /// Reads the file, dropping a UTF-8 BOM and the DOS end-of-file marker (0x1A) that OFAC's
    /// legacy files still carry, which would otherwise read as a ragged last row.
    pub fn read(path: &Path) -> Result<CsvFile> {
        let mut data = read_file(path)?;
        while matches!(data.last(), Some(0x1a | b'\r' | b'\n')) {
            data.pop();
        }
        if data.starts_with(b"\xef\xbb\xbf") {
            data.drain(..3);
        }
        Ok(CsvFile {
            origin: path.display().to_string(),
            data,
            skipped_lines: 0,
        })
    }

    pub fn bytes(&self) -> &[u8] {
        &self.data
    }

    pub fn header_line(&self) -> u64 {
        self.skipped_lines + 1
    }

    pub fn at(&self, line: u64) -> Location {
        Location::new(self.origin.as_str()).line(line)
    }

    /// Skips the first `n` lines (the UK list puts a "Last Updated" line before its header).
    pub fn skip_lines(&mut self, n: usize) {
        let mut cut = 0;
        for _ in 0..n {
            match self.data[cut..].iter().position(|&b| b == b'\n') {
                Some(p) => cut += p + 1,
                None => cut = self.data.len(),
            }
        }
        self.skipped_lines += n as u64;
        self.data.drain(..cut);
    }

    /// Calls `each` with every record of a header-less file and its 1-based line. Every row
    /// must have as many fields as the first.
    pub fn records(&self, each: impl FnMut(&StringRecord, u64) -> Result<()>) -> Result<()> {
        self.check_quotes_closed()?;
        let mut reader = self.reader(false);
        self.each_record(&mut reader, each)
    }

    /// Reads the header row into [`Columns`] (which must include `required`), then calls
    /// `each` with every record and its 1-based line.
    pub fn rows(
        &self,
        required: &[&str],
        mut each: impl FnMut(&Columns, &StringRecord, u64) -> Result<()>,
    ) -> Result<()> {
        self.check_quotes_closed()?;
        let mut reader = self.reader(true);
        let headers = reader.headers().map_err(|e| self.csv_error(e))?.clone();
        let columns = Columns::new(&self.origin, self.header_line(), &headers, required)?;
        self.each_record(&mut reader, |rec, line| each(&columns, rec, line))
    }

    fn reader(&self, has_headers: bool) -> csv::Reader<&[u8]> {
        csv::ReaderBuilder::new()
            .has_headers(has_headers)
            .flexible(false)
            .from_reader(self.data.as_slice())
    }

    fn each_record(
        &self,
        reader: &mut csv::Reader<&[u8]>,
        mut each: impl FnMut(&StringRecord, u64) -> Result<()>,
    ) -> Result<()> {
        let mut record = StringRecord::new();
        let (mut counted_to, mut newlines) = (0usize, 0u64);
        loop {
            match reader.read_record(&mut record) {
                Ok(true) => {
                    let start = self.record_start(record.position().map_or(0, |p| p.byte()));
                    newlines += self.data[counted_to..start]
                        .iter()
                        .filter(|&&b| b == b'\n')
                        .count() as u64;
                    counted_to = start;
                    each(&record, newlines + 1 + self.skipped_lines)?;
                }
                Ok(false) => return Ok(()),
                Err(e) => return Err(self.csv_error(e)),
            }
        }
    }

    /// A quoted field left open at the end means the file was cut: the csv crate would
    /// silently return the partial field, so count quotes (escaped `""` pairs keep parity).
    fn check_quotes_closed(&self) -> Result<()> {
        let quotes = self.data.iter().filter(|&&b| b == b'"').count();
        if quotes % 2 == 0 {
            return Ok(());
        }
        let last = self.data.iter().rposition(|&b| b == b'"').unwrap_or(0);
        let line = self.data[..last].iter().filter(|&&b| b == b'\n').count() as u64 + 1;
        Err(Error::data(
            self.at(line + self.skipped_lines),
            "a quoted field is never closed: the file is truncated or not CSV",
        ))
    }

    /// The offset where a record's own text starts. The csv crate places a record after the
    /// `\r` of a CRLF, on the `\n` that still belongs to the previous line, so its own line
    /// numbers run one short in CRLF files (OFAC's); lines are counted here instead.
    fn record_start(&self, byte: u64) -> usize {
        let mut at = (byte as usize).min(self.data.len());
        while matches!(self.data.get(at), Some(b'\r' | b'\n')) {
            at += 1;
        }
        at
    }

    fn line_at(&self, byte: u64) -> u64 {
        let start = self.record_start(byte);
        self.data[..start].iter().filter(|&&b| b == b'\n').count() as u64 + 1
    }

    fn csv_error(&self, e: csv::Error) -> Error {
        let line = e.position().map_or(1, |p| self.line_at(p.byte())) + self.skipped_lines;
        let message = match e.kind() {
            csv::ErrorKind::UnequalLengths {
                expected_len, len, ..
            } => format!(
                "row has {len} fields where the file has {expected_len}: truncated or ragged row"
            ),
            csv::ErrorKind::Utf8 { .. } => "invalid UTF-8".to_string(),
            _ => e.to_string(),
        };
        Error::data(self.at(line), message)
    }
}

/// Column positions by header name, so loaders read columns by name, not position.
pub struct Columns {
    index: HashMap<String, usize>,
}

impl Columns {
    /// Maps a header row; `required` columns must be present (a wrongly detected or forced
    /// format fails here, on line 1, instead of yielding empty entities).
    pub fn new(
        origin: &str,
        header_line: u64,
        headers: &StringRecord,
        required: &[&str],
    ) -> Result<Columns> {
        let index: HashMap<String, usize> = headers
            .iter()
            .enumerate()
            .map(|(i, h)| (h.trim().to_ascii_lowercase(), i))
            .collect();
        let missing: Vec<&str> = required
            .iter()
            .filter(|c| !index.contains_key(&c.to_ascii_lowercase()))
            .copied()
            .collect();
        if !missing.is_empty() {
            return Err(Error::data(
                Location::new(origin).line(header_line),
                format!(
                    "header lacks column(s) {}: not this list format",
                    missing.join(", ")
                ),
            ));
        }
        Ok(Columns { index })
    }

    /// The trimmed value of column `name` (lowercase header) in `record`, or "" when absent.
    pub fn get<'r>(&self, record: &'r StringRecord, name: &str) -> &'r str {
        self.index
            .get(name)
            .and_then(|&i| record.get(i))
            .map_or("", str::trim)
    }

    /// The non-empty `;`-separated values of a column.
    pub fn list<'r>(&self, record: &'r StringRecord, name: &str) -> impl Iterator<Item = &'r str> {
        split_list(self.get(record, name), ';')
    }
}

/// Trimmed non-empty parts of `s` split on `sep`.
pub fn split_list(s: &str, sep: char) -> impl Iterator<Item = &str> {
    s.split(sep).map(str::trim).filter(|p| !p.is_empty())
}
