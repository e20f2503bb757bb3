//! The HTML report of a screening run: one self-contained file an analyst can read offline and
//! forward (inline CSS, no scripts, fonts, images or links to anything outside the file).
//!
//! [`render`] turns a [`ReportRun`] (plain data: the run, its lists, counts per decision and the
//! flagged parties with their hits) into HTML; it knows nothing of the CLI, so `screen --report`
//! and an audit command that reads a stored run share it. [`ReportCollector`] builds a
//! `ReportRun` while a batch streams past, keeping only flagged parties, at most a fixed number,
//! so the report's memory does not grow with the input. Every value that comes from an input or
//! a list is HTML-escaped by [`escape`]. Not here: screening, deciding or storing anything.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};
use std::fmt::Write as _;

use crate::model::{EntityKind, ListInfo};
use crate::output::ScreenedRow;
use crate::policy::Decision;
use crate::score::{compare_names, NameMatch, PairKind};
use crate::screen::{Hit, HitKind, Party, PartyResult};

/// Flagged parties `screen --report` lists; beyond it the report says how many more there were.
pub const PARTIES_SHOWN: usize = 1000;

/// Everything the report shows, as plain data.
#[derive(Debug, Clone, Default)]
pub struct ReportRun {
    /// The store's run id, when the run was recorded.
    pub run_id: Option<String>,
    /// How a stored run ended (`complete`, or `incomplete` with why), for `audit report`.
    pub status: Option<String>,
    /// When the run started (RFC 3339, UTC).
    pub started_at: String,
    pub redflag_version: String,
    /// The input as named on the command line (`<stdin>` for `-`), or the caller's label.
    pub input: String,
    pub lists: Vec<ListInfo>,
    pub rows: u64,
    pub parties: u64,
    /// Rows and parties by decision (`clear`, `review`, `block`, `error`).
    pub rows_by_decision: BTreeMap<String, u64>,
    pub parties_by_decision: BTreeMap<String, u64>,
    /// Parties with at least one hit a recorded decision applied to.
    pub parties_with_decisions: u64,
    /// Flagged parties, worst first (then in input order).
    pub flagged: Vec<FlaggedParty>,
    /// Flagged parties left out of `flagged` (the cap); counted in the totals.
    pub flagged_not_shown: u64,
}

/// A party the report lists: one that is not clear, or has a hit a decision applied to.
#[derive(Debug, Clone, PartialEq)]
pub struct FlaggedParty {
    /// 1-based data row.
    pub row: u64,
    pub role: String,
    pub name: String,
    pub address: Option<String>,
    pub country: Option<String>,
    pub decision: Decision,
    /// Why the party (or its whole row) could not be screened.
    pub error: Option<String>,
    pub hits: Vec<ReportHit>,
}

/// A hit and, for name and ownership hits, how the party's name tokens align with the listed
/// name's.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportHit {
    pub hit: Hit,
    pub alignment: Option<NameMatch>,
}

impl FlaggedParty {
    /// The report's view of one screened party, or None when it is clear with no decision
    /// applied. `kind_of` says how the hit's entity's names are read (the screener's watchlist
    /// knows; a stored run without it can answer `EntityKind::Unknown`).
    pub fn from_result(
        row: u64,
        party: &Party,
        result: &PartyResult,
        kind_of: impl Fn(&Hit) -> EntityKind,
    ) -> Option<FlaggedParty> {
        let decided = result.hits.iter().any(|h| h.applied.is_some());
        if result.decision == Decision::Clear && !decided {
            return None;
        }
        let hits = result
            .hits
            .iter()
            .map(|h| ReportHit {
                // Aligned again here, off the screening path: `score()` never builds pairs, and
                // only the few reported hits of flagged parties need them.
                alignment: matches!(h.kind, HitKind::Name | HitKind::Ownership)
                    .then(|| compare_names(&party.name, &h.matched_name, kind_of(h))),
                hit: h.clone(),
            })
            .collect();
        Some(FlaggedParty {
            row,
            role: party.role.clone(),
            name: party.name.clone(),
            address: party
                .address
                .as_ref()
                .map(|a| a.full())
                .filter(|a| !a.is_empty()),
            country: party.country.clone(),
            decision: result.decision,
            error: result.error.clone(),
            hits,
        })
    }

    fn has_decision(&self) -> bool {
        self.hits.iter().any(|h| h.hit.applied.is_some())
    }
}

/// Collects a report while rows stream past: flagged parties (the worst [`PARTIES_SHOWN`], or
/// the given cap) and the count of those left out. Counts per decision come from the batch
/// summary at the end.
pub struct ReportCollector {
    cap: usize,
    seen: usize,
    kept: BinaryHeap<Reverse<Ranked>>,
    not_shown: u64,
    with_decisions: u64,
}

/// A flagged party ordered by how much it needs to be shown: worse decision first, then earlier.
#[derive(Debug)]
struct Ranked {
    key: (Decision, Reverse<u64>, Reverse<usize>),
    party: FlaggedParty,
}

impl PartialEq for Ranked {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}
impl Eq for Ranked {}
impl PartialOrd for Ranked {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Ranked {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.key.cmp(&other.key)
    }
}

impl ReportCollector {
    pub fn new(cap: usize) -> ReportCollector {
        ReportCollector {
            cap,
            seen: 0,
            kept: BinaryHeap::new(),
            not_shown: 0,
            with_decisions: 0,
        }
    }

    /// Takes one flagged party; when more than `cap` are kept, the least pressing goes.
    pub fn add(&mut self, party: FlaggedParty) {
        if party.has_decision() {
            self.with_decisions += 1;
        }
        self.seen += 1;
        let key = (party.decision, Reverse(party.row), Reverse(self.seen));
        self.kept.push(Reverse(Ranked { key, party }));
        if self.kept.len() > self.cap {
            self.kept.pop();
            self.not_shown += 1;
        }
    }

    /// Counts a flagged party that [`add`](Self::add) would drop at once (the report is full of
    /// parties at least as pressing), without building it: its tokens need not be aligned.
    fn counted_only(&mut self, decision: Decision, decided: bool) -> bool {
        let full = self.kept.len() >= self.cap;
        // Later parties rank below earlier ones of the same decision, so only a worse one gets in.
        if full
            && self
                .kept
                .peek()
                .is_none_or(|Reverse(min)| decision <= min.key.0)
        {
            self.seen += 1;
            self.not_shown += 1;
            self.with_decisions += u64::from(decided);
            return true;
        }
        false
    }

    /// Takes the flagged parties of a screened row (a row that could not be read is one flagged
    /// entry with its error). `kind_of` as in [`FlaggedParty::from_result`].
    pub fn add_row(&mut self, s: &ScreenedRow, kind_of: impl Fn(&Hit) -> EntityKind) {
        if let Some(error) = &s.row.error {
            self.add(FlaggedParty {
                row: s.row.row,
                role: String::new(),
                name: String::new(),
                address: None,
                country: None,
                decision: Decision::Error,
                error: Some(error.clone()),
                hits: Vec::new(),
            });
            return;
        }
        for (p, r) in s.row.parties.iter().zip(&s.results) {
            let decided = r.hits.iter().any(|h| h.applied.is_some());
            let flagged = r.decision != Decision::Clear || decided;
            if !flagged || self.counted_only(r.decision, decided) {
                continue;
            }
            if let Some(f) = FlaggedParty::from_result(s.row.row, p, r, &kind_of) {
                self.add(f);
            }
        }
    }

    /// The report's flagged parties, worst first then in input order, into `run`.
    pub fn finish_into(self, run: &mut ReportRun) {
        let mut kept: Vec<Ranked> = self.kept.into_iter().map(|Reverse(r)| r).collect();
        kept.sort_by_key(|r| Reverse(r.key));
        run.flagged = kept.into_iter().map(|r| r.party).collect();
        run.flagged_not_shown = self.not_shown;
        run.parties_with_decisions = self.with_decisions;
    }
}

/// Escapes text for HTML element content and quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

const STYLE: &str = include_str!("report.css");

/// The report as one HTML document.
pub fn render(run: &ReportRun) -> String {
    let mut h = String::with_capacity(64 * 1024 + run.flagged.len() * 2048);
    let e = escape;
    let title = format!("redflag screening report: {}", run.input);
    // `write!` into a String cannot fail; the results are ignored on purpose throughout.
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>\n{STYLE}</style>\n</head>\n<body>\n<h1>{}</h1>\n",
        e(&title),
        e(&title)
    );
    render_run(&mut h, run);
    render_counts(&mut h, run);
    let _ = writeln!(h, "<h2>Flagged parties</h2>");
    if run.flagged.is_empty() {
        let _ = writeln!(
            h,
            "<p class=\"none\">No party needs attention: every party is clear.</p>"
        );
    }
    for p in &run.flagged {
        render_party(&mut h, p);
    }
    if run.flagged_not_shown > 0 {
        let _ = writeln!(
            h,
            "<p class=\"more\">{} more flagged parties not shown (the report lists the {} most \
             pressing: blocks and errors first, then in input order; the output file has them all).</p>",
            run.flagged_not_shown,
            run.flagged.len()
        );
    }
    let _ = writeln!(
        h,
        "<footer>Written by redflag {}. Clear parties are counted, not listed.</footer>\n</body>\n</html>",
        e(&run.redflag_version)
    );
    h
}

fn render_run(h: &mut String, run: &ReportRun) {
    let e = escape;
    let _ = writeln!(h, "<section class=\"run\"><h2>Run</h2><dl>");
    if let Some(id) = &run.run_id {
        let _ = writeln!(h, "<dt>Run id</dt><dd><code>{}</code></dd>", e(id));
    }
    if let Some(status) = &run.status {
        let _ = writeln!(h, "<dt>Status</dt><dd>{}</dd>", e(status));
    }
    let _ = writeln!(
        h,
        "<dt>Started</dt><dd>{}</dd><dt>redflag</dt><dd>{}</dd><dt>Input</dt><dd><code>{}</code></dd>",
        e(&run.started_at),
        e(&run.redflag_version),
        e(&run.input)
    );
    let _ = writeln!(h, "</dl>\n<table class=\"lists\"><thead><tr><th>List</th><th>Version</th><th>Format</th><th>Entries</th><th>Content SHA-256</th><th>Source</th></tr></thead><tbody>");
    for l in &run.lists {
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td><td><code class=\"hash\">{}</code></td><td><code>{}</code></td></tr>",
            e(&l.name),
            e(&l.version),
            e(&l.format),
            l.entity_count,
            e(&l.content_hash),
            e(&l.path)
        );
    }
    let _ = writeln!(h, "</tbody></table></section>");
}

fn render_counts(h: &mut String, run: &ReportRun) {
    let _ = writeln!(
        h,
        "<section class=\"counts\"><h2>Decisions</h2><table><thead><tr><th></th><th>total</th>"
    );
    let decisions = ["block", "review", "error", "clear"];
    for d in decisions {
        let _ = write!(h, "<th><span class=\"badge {d}\">{d}</span></th>");
    }
    let _ = writeln!(h, "</tr></thead><tbody>");
    for (label, total, by) in [
        ("Rows", run.rows, &run.rows_by_decision),
        ("Parties", run.parties, &run.parties_by_decision),
    ] {
        let _ = write!(h, "<tr><th>{label}</th><td class=\"num\">{total}</td>");
        for d in decisions {
            let n = by.get(d).copied().unwrap_or(0);
            let _ = write!(h, "<td class=\"num\">{n}</td>");
        }
        let _ = writeln!(h, "</tr>");
    }
    let _ = writeln!(
        h,
        "</tbody></table><p>Parties with a recorded decision applied: {}.</p></section>",
        run.parties_with_decisions
    );
}

fn render_party(h: &mut String, p: &FlaggedParty) {
    let e = escape;
    let shown = if p.decision == Decision::Clear && p.has_decision() {
        "suppressed"
    } else {
        p.decision.as_str()
    };
    let _ = writeln!(h, "<article class=\"party {shown}\">");
    let name = if p.name.is_empty() {
        "(row could not be read)".to_string()
    } else {
        e(&p.name)
    };
    let _ = writeln!(
        h,
        "<h3><span class=\"badge {shown}\">{shown}</span> <span class=\"pname\">{name}</span></h3>"
    );
    let _ = write!(h, "<p class=\"where\">row {}", p.row);
    if !p.role.is_empty() {
        let _ = write!(h, " · {}", e(&p.role));
    }
    if let Some(a) = &p.address {
        let _ = write!(h, " · {}", e(a));
    }
    // The address line usually ends with the country already.
    if let Some(c) = p.country.as_ref().filter(|c| {
        p.address
            .as_deref()
            .is_none_or(|a| !a.ends_with(c.as_str()))
    }) {
        let _ = write!(h, " · {}", e(c));
    }
    let _ = writeln!(h, "</p>");
    if let Some(err) = &p.error {
        let _ = writeln!(
            h,
            "<p class=\"failure\">Could not be screened: {}</p>",
            e(err)
        );
    }
    let (names, affiliates): (Vec<&ReportHit>, Vec<&ReportHit>) =
        p.hits.iter().partition(|r| r.hit.kind == HitKind::Name);
    for r in names {
        render_hit(h, r);
    }
    if !affiliates.is_empty() {
        let _ = writeln!(h, "<h4>Affiliate evidence</h4>");
        for r in affiliates {
            render_hit(h, r);
        }
    }
    let _ = writeln!(h, "</article>");
}

fn render_hit(h: &mut String, r: &ReportHit) {
    let e = escape;
    let hit = &r.hit;
    let kind = match hit.kind {
        HitKind::Name => "name",
        HitKind::Address => "shared address",
        HitKind::Ownership => "ownership / control",
    };
    let status = if hit.listed { "listed" } else { "watched" };
    let _ = writeln!(
        h,
        "<div class=\"hit\"><p class=\"hitline\"><span class=\"badge {d}\">{d}</span> \
         <span class=\"score\">{:.3}</span> <span class=\"kind\">{kind}</span> \
         <b>{}</b> <span class=\"ref\">{}:{} · version {} · {status}</span></p>",
        hit.score,
        e(&hit.entity_name),
        e(&hit.list),
        e(&hit.entity_id),
        e(&hit.list_version),
        d = hit.decision.as_str(),
    );
    let matched = match hit.kind {
        HitKind::Address => "listed address",
        _ => "matched listed name",
    };
    let _ = writeln!(
        h,
        "<p class=\"matched\">{matched}: <q>{}</q></p>",
        e(&hit.matched_name)
    );
    if let Some(m) = &r.alignment {
        render_alignment(h, m);
    }
    let _ = writeln!(h, "<p class=\"explanation\">{}</p>", e(&hit.explanation));
    if let Some(d) = &hit.applied {
        let _ = write!(
            h,
            "<div class=\"applied {}\"><b>Decision {}</b>: {} — {} (by {}, {}",
            d.disposition.as_str(),
            e(&d.id),
            d.disposition.as_str(),
            e(&d.reason),
            e(&d.by),
            e(&d.decided_at)
        );
        if let Some(x) = &d.expires_at {
            let _ = write!(h, ", expires {}", e(x));
        }
        let _ = writeln!(h, ")</div>");
    }
    let _ = writeln!(h, "</div>");
}

/// The aligned tokens as chips: party token ↔ listed token, exact, fuzzy (any inexact pairing:
/// typo, transliteration, joined words, acronym, initial) or missing on one side.
fn render_alignment(h: &mut String, m: &NameMatch) {
    let e = escape;
    let _ = write!(h, "<p class=\"tokens\">");
    for p in &m.pairs {
        if p.kind == PairKind::Exact {
            let _ = write!(
                h,
                "<span class=\"tok exact\" title=\"exact\">{} ↔ {}</span> ",
                e(&p.query),
                e(&p.candidate)
            );
        } else {
            let how = format!("{:?}", p.kind).to_lowercase();
            let _ = write!(
                h,
                "<span class=\"tok fuzzy\" title=\"{how}\">{} ↔ {} <small>{how} {:.2}</small></span> ",
                e(&p.query),
                e(&p.candidate),
                p.similarity
            );
        }
    }
    for t in &m.unmatched_query {
        let _ = write!(
            h,
            "<span class=\"tok missing\" title=\"only in the party's name\">{} ↔ ∅</span> ",
            e(t)
        );
    }
    for t in &m.unmatched_candidate {
        let _ = write!(
            h,
            "<span class=\"tok missing\" title=\"only in the listed name\">∅ ↔ {}</span> ",
            e(t)
        );
    }
    let _ = writeln!(h, "</p>");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decision::{AppliedDecision, Disposition};
    use crate::policy::Policy;
    use crate::screen::Screener;

    fn flagged(name: &str, screener: &Screener, row: u64) -> Option<FlaggedParty> {
        let party = Party {
            role: "consignee".into(),
            name: name.into(),
            ..Default::default()
        };
        let r = screener.screen(&party);
        FlaggedParty::from_result(row, &party, &r, |_| EntityKind::Unknown)
    }

    #[test]
    fn values_from_inputs_and_lists_are_escaped() {
        assert_eq!(
            escape(r#"<script>alert("x")</script> & 'y'"#),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;"
        );
        let s = Screener::new(crate::watchlist::seed(), Policy::default());
        let mut p = flagged("Robin Trade", &s, 1).expect("a block");
        p.name = "<script>document.title='x'</script> \"Robin\" & Trade".into();
        p.hits[0].hit.applied = Some(AppliedDecision {
            id: "<b>d1</b>".into(),
            disposition: Disposition::TrueMatch,
            reason: "a&b".into(),
            by: "<i>ann</i>".into(),
            decided_at: "2026-01-01T00:00:00Z".into(),
            expires_at: None,
        });
        let html = render(&ReportRun {
            input: "<in>.csv".into(),
            flagged: vec![p],
            ..Default::default()
        });
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("<b>d1") && !html.contains("<i>ann"));
        assert!(html.contains(
            "&lt;script&gt;document.title=&#39;x&#39;&lt;/script&gt; &quot;Robin&quot; &amp; Trade"
        ));
        assert!(html.contains("<title>redflag screening report: &lt;in&gt;.csv</title>"));
    }

    #[test]
    fn the_report_references_nothing_outside_itself() {
        let s = Screener::new(crate::watchlist::seed(), Policy::default());
        let html = render(&ReportRun {
            flagged: vec![flagged("Serniya Engineering", &s, 3).unwrap()],
            ..Default::default()
        });
        for needle in [
            "src=", "href=", "url(", "@import", "<link", "<script", "http://", "https://",
        ] {
            assert!(!html.contains(needle), "{needle}");
        }
        assert!(html.contains("<span class=\"tok exact\" title=\"exact\">serniya ↔ serniya</span>"));
    }

    #[test]
    fn a_hit_suppressed_by_a_decision_is_shown_with_the_decision() {
        let s = Screener::new(crate::watchlist::seed(), Policy::default());
        let party = Party {
            role: "buyer".into(),
            name: "Robin Trade".into(),
            ..Default::default()
        };
        let mut r = s.screen(&party);
        r.decision = Decision::Clear;
        for h in &mut r.hits {
            h.decision = Decision::Clear;
            h.applied = Some(AppliedDecision {
                id: "dec-7".into(),
                disposition: Disposition::FalsePositive,
                reason: "a bakery in Riga".into(),
                by: "ann".into(),
                decided_at: "2026-01-01T00:00:00Z".into(),
                expires_at: Some("2027-01-01T00:00:00Z".into()),
            });
        }
        let p = FlaggedParty::from_result(9, &party, &r, |_| EntityKind::Unknown).unwrap();
        let mut c = ReportCollector::new(10);
        c.add(p);
        let mut run = ReportRun::default();
        c.finish_into(&mut run);
        assert_eq!(run.parties_with_decisions, 1);
        let html = render(&run);
        assert!(html.contains("<article class=\"party suppressed\">"));
        assert!(html.contains(
            "<b>Decision dec-7</b>: false-positive — a bakery in Riga (by ann, \
             2026-01-01T00:00:00Z, expires 2027-01-01T00:00:00Z)"
        ));
    }

    #[test]
    fn clear_parties_are_not_flagged_and_the_cap_keeps_the_worst() {
        let s = Screener::new(crate::watchlist::seed(), Policy::default());
        assert!(flagged("Hagedorn Bauteile GmbH", &s, 1).is_none());
        let mut c = ReportCollector::new(2);
        let review = flagged("Foreign Intelligence Service (SVR)", &s, 1).unwrap();
        assert_eq!(review.decision, Decision::Review);
        c.add(review.clone());
        let mut later_review = review.clone();
        later_review.row = 2;
        c.add(later_review);
        let block = flagged("Robin Trade", &s, 3).unwrap();
        assert_eq!(block.decision, Decision::Block);
        c.add(block);
        let mut run = ReportRun::default();
        c.finish_into(&mut run);
        let kept: Vec<(u64, Decision)> = run.flagged.iter().map(|p| (p.row, p.decision)).collect();
        assert_eq!(kept, [(3, Decision::Block), (1, Decision::Review)]);
        assert_eq!(run.flagged_not_shown, 1);
        assert!(render(&run).contains("1 more flagged parties not shown"));
    }
}
