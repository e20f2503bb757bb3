//! The decision policy: what a score means, and which hits block or ask for review.
//!
//! A user-editable TOML file (`--policy FILE`) overrides the defaults; `Policy::default()` is the
//! calibrated default documented in README.md and BENCHMARKS.md. The shipment rules of `check`
//! (goods, routes) read their settings from the same file. Not here: computing scores (`score`).

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Location, Result};
use crate::watchlist::line_of_offset;

/// A decision for a party, a row or a shipment. Ordered: the worst wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Decision {
    Clear,
    Review,
    Block,
    /// The party could not be screened: never clear.
    Error,
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Clear => "clear",
            Decision::Review => "review",
            Decision::Block => "block",
            Decision::Error => "error",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Thresholds {
    /// A name hit at or above this score is reported and asks for review.
    pub review: f32,
    /// A name hit on a listed entity at or above this score blocks.
    pub block: f32,
    /// Hits below this score are not reported at all.
    pub report: f32,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            review: 0.80,
            block: 0.90,
            report: 0.80,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Policy {
    pub thresholds: Thresholds,
    /// Shipment rules (`check`): free-form per-rule settings, read by `rules`.
    #[serde(default, skip_serializing_if = "toml::Table::is_empty")]
    pub rules: toml::Table,
}

impl Policy {
    pub fn load(path: &Path) -> Result<Policy> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        Policy::parse(&text, &path.display().to_string())
    }

    pub fn parse(text: &str, origin: &str) -> Result<Policy> {
        let policy: Policy = toml::from_str(text).map_err(|e| Error::Config {
            location: Location::new(origin)
                .line(e.span().map(|s| line_of_offset(text, s.start)).unwrap_or(1)),
            message: e.message().trim().to_string(),
        })?;
        let t = &policy.thresholds;
        if !(0.0..=1.0).contains(&t.review)
            || !(0.0..=1.0).contains(&t.block)
            || !(0.0..=1.0).contains(&t.report)
            || t.block < t.review
            || t.report > t.review
        {
            return Err(Error::Config {
                location: Location::new(origin).field("thresholds"),
                message: "thresholds must lie in 0..1 with report <= review <= block".into(),
            });
        }
        Ok(policy)
    }

    /// The policy in force as TOML (`check --explain-policy`).
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).unwrap_or_default()
    }
}
