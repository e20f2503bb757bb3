//! Analyst decisions as screening results carry them: what an analyst decided about one hit
//! (one screened party against one listed entity), and how it changed that hit.
//!
//! This module only defines the shapes shared by screening, output, the report and the store.
//! Not here: storing, matching or expiring decisions (`store`).

use serde::{Deserialize, Serialize};

/// What an analyst decided about a hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Disposition {
    /// Not this entity: the hit is suppressed (shown, never dropped).
    FalsePositive,
    /// This is the entity: the hit blocks.
    TrueMatch,
    /// Handed on for a decision higher up: the hit stays at review at least.
    Escalated,
}

impl Disposition {
    pub const ALL: [Disposition; 3] = [
        Disposition::FalsePositive,
        Disposition::TrueMatch,
        Disposition::Escalated,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Disposition::FalsePositive => "false-positive",
            Disposition::TrueMatch => "true-match",
            Disposition::Escalated => "escalated",
        }
    }

    /// Parses the spelling `as_str` writes; also accepts `_` or a space for `-` and any letter
    /// case, since analysts type these into spreadsheets.
    pub fn parse(s: &str) -> Option<Disposition> {
        let s = s.trim().to_ascii_lowercase().replace(['_', ' '], "-");
        Disposition::ALL.into_iter().find(|d| d.as_str() == s)
    }
}

impl std::fmt::Display for Disposition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A stored decision applied to a hit: which one, what it said, and who made it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppliedDecision {
    /// The store's id of the decision.
    pub id: String,
    pub disposition: Disposition,
    pub reason: String,
    pub by: String,
    /// When it was decided (RFC 3339, UTC).
    pub decided_at: String,
    /// When it stops applying (RFC 3339, UTC), if it was given an expiry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dispositions_round_trip_and_tolerate_spreadsheet_spellings() {
        for d in Disposition::ALL {
            assert_eq!(Disposition::parse(d.as_str()), Some(d));
        }
        assert_eq!(
            Disposition::parse(" False_Positive "),
            Some(Disposition::FalsePositive)
        );
        assert_eq!(
            Disposition::parse("True match"),
            Some(Disposition::TrueMatch)
        );
        assert_eq!(Disposition::parse("clear"), None);
        assert_eq!(Disposition::parse(""), None);
    }
}
