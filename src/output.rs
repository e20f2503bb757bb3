//! Writing screening results: CSV (every input column plus the decision and best hit) and JSON
//! lines (one object per party per row). Both write every row, in input order, error rows included.
//! Not here: deciding anything (`screen`, `policy`) or reading input (`input`).

use std::io::Write;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::input::ShipmentRow;
use crate::policy::Decision;
use crate::screen::{Hit, PartyResult};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    Csv,
    Jsonl,
}

/// Columns appended to the input columns in CSV output.
pub const CSV_COLUMNS: [&str; 10] = [
    "redflag_decision",
    "redflag_party",
    "redflag_name",
    "redflag_entity_id",
    "redflag_entity_name",
    "redflag_list",
    "redflag_score",
    "redflag_hit_kind",
    "redflag_explanation",
    "redflag_error",
];

/// Columns appended after [`CSV_COLUMNS`] when screening with a decision store: the analyst
/// decision applied to the hit shown (its id and disposition), so a suppressed hit shows as such.
pub const DECISION_COLUMNS: [&str; 2] = ["redflag_decision_id", "redflag_disposition"];

/// A screened row: the row as read and one result per party (same order as `row.parties`).
pub struct ScreenedRow {
    pub row: ShipmentRow,
    pub results: Vec<PartyResult>,
}

impl ScreenedRow {
    /// The row's decision: the worst of its parties', or error when it could not be screened.
    pub fn decision(&self) -> Decision {
        if self.row.error.is_some() {
            return Decision::Error;
        }
        self.results
            .iter()
            .map(|r| r.decision)
            .max()
            .unwrap_or(Decision::Error)
    }
}

/// One party's result as a JSON object: a `screen --format jsonl` line, and the per-party shape
/// of the HTTP API's `/v1/screen` response (which adds the caller's `reference`).
#[derive(Serialize)]
pub struct JsonParty<'a> {
    /// 1-based data row (CLI) or position of the party in the request (API).
    pub row: u64,
    /// The party's role.
    pub party: &'a str,
    pub name: &'a str,
    pub decision: Decision,
    pub hits: &'a [Hit],
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<&'a str>,
}

pub struct ResultWriter<W: Write> {
    format: OutputFormat,
    /// Whether CSV rows carry [`DECISION_COLUMNS`].
    decisions: bool,
    csv: Option<csv::Writer<W>>,
    raw: Option<W>,
}

fn io_err(e: std::io::Error) -> Error {
    Error::io("<output>", e)
}

impl<W: Write> ResultWriter<W> {
    pub fn new(out: W, format: OutputFormat, headers: &[String]) -> Result<ResultWriter<W>> {
        ResultWriter::with_decisions(out, format, headers, false)
    }

    /// A writer whose CSV rows also carry [`DECISION_COLUMNS`] when `decisions` is set.
    pub fn with_decisions(
        out: W,
        format: OutputFormat,
        headers: &[String],
        decisions: bool,
    ) -> Result<ResultWriter<W>> {
        match format {
            OutputFormat::Csv => {
                let mut w = csv::WriterBuilder::new().flexible(true).from_writer(out);
                let mut h: Vec<&str> = headers.iter().map(String::as_str).collect();
                h.extend(CSV_COLUMNS);
                if decisions {
                    h.extend(DECISION_COLUMNS);
                }
                w.write_record(&h).map_err(csv_err)?;
                Ok(ResultWriter {
                    format,
                    decisions,
                    csv: Some(w),
                    raw: None,
                })
            }
            OutputFormat::Jsonl => Ok(ResultWriter {
                format,
                decisions,
                csv: None,
                raw: Some(out),
            }),
        }
    }

    pub fn write(&mut self, s: &ScreenedRow) -> Result<()> {
        match self.format {
            OutputFormat::Csv => self.write_csv(s),
            OutputFormat::Jsonl => self.write_jsonl(s),
        }
    }

    fn write_csv(&mut self, s: &ScreenedRow) -> Result<()> {
        let decision = s.decision();
        // The party that decides the row, and its best hit.
        let worst = s
            .results
            .iter()
            .enumerate()
            .max_by(|(_, a), (_, b)| {
                a.decision.cmp(&b.decision).then_with(|| {
                    let sa = a.hits.first().map(|h| h.score).unwrap_or(0.0);
                    let sb = b.hits.first().map(|h| h.score).unwrap_or(0.0);
                    sa.total_cmp(&sb)
                })
            })
            // A party cleared by an analyst's decision still shows the hit it suppressed.
            .filter(|(_, r)| {
                r.decision != Decision::Clear || r.hits.iter().any(|h| h.applied.is_some())
            });
        let mut rec: Vec<String> = s.row.cells.iter().map(|c| neutralize(c)).collect();
        rec.push(decision.as_str().to_string());
        let (party, name, hit, error) = match worst {
            Some((i, r)) => (
                s.row.parties[i].role.as_str(),
                s.row.parties[i].name.as_str(),
                r.hits
                    .iter()
                    .find(|h| h.decision != Decision::Clear || h.applied.is_some())
                    .or(r.hits.first()),
                r.error.as_deref(),
            ),
            None => ("", "", None, None),
        };
        let error = error.or(s.row.error.as_deref()).unwrap_or("");
        rec.push(party.to_string());
        rec.push(neutralize(name));
        match hit {
            Some(h) => {
                rec.push(neutralize(&h.entity_id));
                rec.push(neutralize(&h.entity_name));
                rec.push(neutralize(&h.list));
                rec.push(format!("{:.3}", h.score));
                rec.push(format!("{:?}", h.kind).to_lowercase());
                rec.push(neutralize(&format!(
                    "{} (matched `{}`)",
                    h.explanation, h.matched_name
                )));
            }
            None => rec.extend(std::iter::repeat_n(String::new(), 6)),
        }
        rec.push(neutralize(error));
        if self.decisions {
            let applied = hit.and_then(|h| h.applied.as_ref());
            rec.push(applied.map(|a| a.id.clone()).unwrap_or_default());
            rec.push(
                applied
                    .map(|a| a.disposition.as_str().to_string())
                    .unwrap_or_default(),
            );
        }
        self.csv
            .as_mut()
            .expect("csv writer")
            .write_record(&rec)
            .map_err(csv_err)
    }

    fn write_jsonl(&mut self, s: &ScreenedRow) -> Result<()> {
        let out = self.raw.as_mut().expect("jsonl writer");
        if let Some(err) = &s.row.error {
            let line = serde_json::to_string(&JsonParty {
                row: s.row.row,
                party: "",
                name: "",
                decision: Decision::Error,
                hits: &[],
                error: Some(err),
            })
            .map_err(|e| Error::Usage(e.to_string()))?;
            return writeln!(out, "{line}").map_err(io_err);
        }
        for (p, r) in s.row.parties.iter().zip(&s.results) {
            let line = serde_json::to_string(&JsonParty {
                row: s.row.row,
                party: &p.role,
                name: &p.name,
                decision: r.decision,
                hits: &r.hits,
                error: r.error.as_deref(),
            })
            .map_err(|e| Error::Usage(e.to_string()))?;
            writeln!(out, "{line}").map_err(io_err)?;
        }
        Ok(())
    }

    /// Writes a batch's address cluster: a trailing `{"cluster": ...}` line in JSONL; nothing in
    /// CSV, whose rows are the input's (the summary on stderr lists clusters for both).
    pub fn write_cluster(&mut self, cluster: &crate::batch::Cluster) -> Result<()> {
        if let Some(out) = self.raw.as_mut() {
            let line = serde_json::to_string(&serde_json::json!({ "cluster": cluster }))
                .map_err(|e| Error::Usage(e.to_string()))?;
            writeln!(out, "{line}").map_err(io_err)?;
        }
        Ok(())
    }

    pub fn flush(&mut self) -> Result<()> {
        match (&mut self.csv, &mut self.raw) {
            (Some(w), _) => w.flush().map_err(io_err),
            (_, Some(w)) => w.flush().map_err(io_err),
            _ => Ok(()),
        }
    }
}

fn csv_err(e: csv::Error) -> Error {
    match e.into_kind() {
        csv::ErrorKind::Io(io) => io_err(io),
        other => Error::Usage(format!("{other:?}")),
    }
}

/// Makes a cell safe to open in a spreadsheet: a leading `=`, `+`, `-`, `@`, tab or carriage
/// return would be read as a formula, so such a cell gets a leading apostrophe.
pub fn neutralize(cell: &str) -> String {
    match cell.as_bytes().first() {
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r') => format!("'{cell}"),
        _ => cell.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn formulas_are_neutralised() {
        assert_eq!(super::neutralize("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(super::neutralize("-1"), "'-1");
        assert_eq!(super::neutralize("Robin Trade"), "Robin Trade");
    }
}
