//! Loading of the data tables compiled into the binary (`data/*.tsv`).
//!
//! Tables of facts (legal forms, transliteration exceptions, country names, CHPL codes, generic
//! words) live in `data/` as tab-separated text so they can be reviewed and extended without
//! touching code. Each table is parsed once, lazily, by the module that owns it; this module only
//! knows the file syntax: `#` starts a comment line, blank lines are skipped, fields are
//! tab-separated and trimmed.

/// Iterates the data rows of a TSV table: each row as its trimmed, tab-separated fields.
pub fn rows(src: &'static str) -> impl Iterator<Item = Vec<&'static str>> {
    src.lines()
        .map(str::trim_end)
        .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .map(|l| l.split('\t').map(str::trim).collect())
}

#[cfg(test)]
mod tests {
    #[test]
    fn rows_skip_comments_and_blanks() {
        let src = "# header\n\na\tb\n  # indented comment\nc\t d \n";
        let rows: Vec<_> = super::rows(src).collect();
        assert_eq!(rows, vec![vec!["a", "b"], vec!["c", "d"]]);
    }
}
