//! Batch screening: rows in, screened rows out, in input order, in parallel, in bounded memory.
//!
//! Rows are read in chunks; each chunk's parties are screened on all cores (rayon) and the chunk
//! is written before the next is read, so memory does not grow with the input and a pipeline sees
//! results as they come. Not here: the CLI's progress bar and summary printing (the caller gets a
//! [`Summary`] and a per-chunk callback).

use std::collections::BTreeMap;
use std::io::{Read, Write};

use rayon::prelude::*;
use serde::Serialize;

use crate::error::Result;
use crate::input::ShipmentReader;
use crate::output::{ResultWriter, ScreenedRow};
use crate::policy::Decision;
use crate::screen::{PartyResult, Screener};

/// Rows screened per parallel chunk.
pub const CHUNK_ROWS: usize = 2048;

#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    pub rows: u64,
    pub parties: u64,
    /// Rows by decision.
    pub rows_by_decision: BTreeMap<&'static str, u64>,
    /// Parties by decision.
    pub parties_by_decision: BTreeMap<&'static str, u64>,
    /// Hit counts per listed entity (`list:id name`), for the summary.
    pub entities_hit: BTreeMap<String, u64>,
}

impl Summary {
    /// The worst row decision seen.
    pub fn worst(&self) -> Decision {
        [
            Decision::Error,
            Decision::Block,
            Decision::Review,
            Decision::Clear,
        ]
        .into_iter()
        .find(|d| self.rows_by_decision.get(d.as_str()).copied().unwrap_or(0) > 0)
        .unwrap_or(Decision::Clear)
    }

    fn add(&mut self, s: &ScreenedRow) {
        self.rows += 1;
        *self
            .rows_by_decision
            .entry(s.decision().as_str())
            .or_insert(0) += 1;
        for r in &s.results {
            self.parties += 1;
            *self
                .parties_by_decision
                .entry(r.decision.as_str())
                .or_insert(0) += 1;
            for h in r.hits.iter().filter(|h| h.decision != Decision::Clear) {
                *self
                    .entities_hit
                    .entry(format!("{}:{} {}", h.list, h.entity_id, h.entity_name))
                    .or_insert(0) += 1;
            }
        }
    }
}

/// Screens every row of `reader` into `writer`. `on_chunk` is called with the rows done so far.
pub fn run<R: Read, W: Write>(
    reader: &mut ShipmentReader<R>,
    screener: &Screener,
    writer: &mut ResultWriter<W>,
    mut on_chunk: impl FnMut(u64),
) -> Result<Summary> {
    let mut summary = Summary::default();
    let mut chunk = Vec::with_capacity(CHUNK_ROWS);
    loop {
        chunk.clear();
        while chunk.len() < CHUNK_ROWS {
            match reader.next_row()? {
                Some(r) => chunk.push(r),
                None => break,
            }
        }
        if chunk.is_empty() {
            break;
        }
        let screened: Vec<ScreenedRow> = chunk
            .par_drain(..)
            .map(|row| {
                let results: Vec<PartyResult> = if row.error.is_some() {
                    Vec::new()
                } else {
                    row.parties.iter().map(|p| screener.screen(p)).collect()
                };
                ScreenedRow { row, results }
            })
            .collect();
        for s in &screened {
            writer.write(s)?;
            summary.add(s);
        }
        writer.flush()?;
        on_chunk(summary.rows);
    }
    writer.flush()?;
    Ok(summary)
}
