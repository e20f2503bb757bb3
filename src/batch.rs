//! Batch screening: rows in, screened rows out, in input order, in parallel, in bounded memory.
//!
//! A reader thread parses rows into a bounded queue; the screening loop takes them in chunks,
//! screens each chunk's parties on all cores (rayon) and writes and flushes the chunk before taking
//! the next, so memory does not grow with the input (at most two chunks of rows are held). A chunk
//! is whatever arrived within [`CHUNK_WAIT`] of its first row, up to [`CHUNK_ROWS`]: a fast file
//! fills whole chunks, while a slow pipe (an ERP writing rows as it goes) sees each row's result
//! shortly after writing it, without closing its end. Not here: the CLI's progress bar and summary printing (the caller gets a
//! [`Summary`] and a per-chunk callback).

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::sync::mpsc::{sync_channel, RecvTimeoutError};
use std::time::{Duration, Instant};

use rayon::prelude::*;
use serde::Serialize;

use crate::error::Result;
use crate::input::{ShipmentReader, ShipmentRow};
use crate::output::{ResultWriter, ScreenedRow};
use crate::policy::Decision;
use crate::screen::{PartyResult, Screener};

/// Rows screened per parallel chunk.
pub const CHUNK_ROWS: usize = 2048;

/// How long a chunk waits for more rows after its first before it is screened anyway.
pub const CHUNK_WAIT: Duration = Duration::from_millis(50);

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
pub fn run<R: Read + Send + 'static, W: Write>(
    reader: ShipmentReader<R>,
    screener: &Screener,
    writer: &mut ResultWriter<W>,
    mut on_chunk: impl FnMut(u64),
) -> Result<Summary> {
    let (tx, rx) = sync_channel::<Result<ShipmentRow>>(CHUNK_ROWS);
    // Detached on purpose: when writing fails, the caller returns at once; the reader thread ends
    // at its next send (the queue is gone) instead of holding the caller up on a stalled input.
    let feeder = std::thread::Builder::new()
        .name("redflag-reader".into())
        .spawn(move || {
            let mut reader = reader;
            while let Some(item) = reader.next_row().transpose() {
                let failed = item.is_err();
                if tx.send(item).is_err() || failed {
                    break;
                }
            }
        })
        .map_err(|e| crate::Error::io("<reader thread>", e))?;
    let mut summary = Summary::default();
    let mut chunk = Vec::with_capacity(CHUNK_ROWS);
    let mut more = true;
    while more {
        chunk.clear();
        match rx.recv() {
            Ok(item) => chunk.push(item?),
            Err(_) => break,
        }
        let deadline = Instant::now() + CHUNK_WAIT;
        while chunk.len() < CHUNK_ROWS {
            // Rows already queued are taken even once the deadline has passed.
            match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                Ok(item) => chunk.push(item?),
                Err(RecvTimeoutError::Timeout) => break,
                Err(RecvTimeoutError::Disconnected) => {
                    more = false;
                    break;
                }
            }
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
    let _ = feeder.join();
    Ok(summary)
}
