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
    #[serde(serialize_with = "short_float")]
    pub review: f32,
    /// A name hit on a listed entity at or above this score blocks.
    #[serde(serialize_with = "short_float")]
    pub block: f32,
    /// Hits below this score are not reported at all.
    #[serde(serialize_with = "short_float")]
    pub report: f32,
}

/// Writes an `f32` as the short decimal it was written as (`0.8`, not `0.800000011920929`):
/// `--explain-policy` output is read by people and pasted back into policy files.
fn short_float<S: serde::Serializer>(x: &f32, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_f64((f64::from(*x) * 1e6).round() / 1e6)
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

/// How much a shipment rule weighs when it fires. A rule flag is evidence against the shipment,
/// so it can ask for review or block, never clear it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Review,
    Block,
}

impl From<Severity> for Decision {
    fn from(s: Severity) -> Decision {
        match s {
            Severity::Review => Decision::Review,
            Severity::Block => Decision::Block,
        }
    }
}

/// The settings of one shipment rule (`[rules.<name>]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RuleSettings {
    pub enabled: bool,
    pub severity: Severity,
}

impl RuleSettings {
    const fn on(severity: Severity) -> RuleSettings {
        RuleSettings {
            enabled: true,
            severity,
        }
    }
}

/// A `[rules.<name>]` table as written: keys left out keep the rule's default.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleOverride {
    enabled: Option<bool>,
    severity: Option<Severity>,
}

impl RuleOverride {
    fn apply(self, default: RuleSettings) -> RuleSettings {
        RuleSettings {
            enabled: self.enabled.unwrap_or(default.enabled),
            severity: self.severity.unwrap_or(default.severity),
        }
    }
}

/// Settings of the shipment rules of `check` (what each rule does: `crate::rules`). Typed, so a
/// misspelt rule or key in a policy file is an error with its line, not a silently ignored table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", from = "RulesFile")]
pub struct Rules {
    pub chpl_goods: RuleSettings,
    pub sanctioned_destination: RuleSettings,
    pub transshipment_route: RuleSettings,
    pub forwarder_as_end_user: RuleSettings,
    pub consignee_country_mismatch: RuleSettings,
}

impl Default for Rules {
    /// The defaults documented in README.md: a sanctioned destination blocks; every other flag is
    /// a reason for a person to look.
    fn default() -> Self {
        Rules {
            chpl_goods: RuleSettings::on(Severity::Review),
            sanctioned_destination: RuleSettings::on(Severity::Block),
            transshipment_route: RuleSettings::on(Severity::Review),
            forwarder_as_end_user: RuleSettings::on(Severity::Review),
            consignee_country_mismatch: RuleSettings::on(Severity::Review),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "kebab-case", deny_unknown_fields)]
struct RulesFile {
    chpl_goods: RuleOverride,
    sanctioned_destination: RuleOverride,
    transshipment_route: RuleOverride,
    forwarder_as_end_user: RuleOverride,
    consignee_country_mismatch: RuleOverride,
}

impl From<RulesFile> for Rules {
    fn from(f: RulesFile) -> Rules {
        let d = Rules::default();
        Rules {
            chpl_goods: f.chpl_goods.apply(d.chpl_goods),
            sanctioned_destination: f.sanctioned_destination.apply(d.sanctioned_destination),
            transshipment_route: f.transshipment_route.apply(d.transshipment_route),
            forwarder_as_end_user: f.forwarder_as_end_user.apply(d.forwarder_as_end_user),
            consignee_country_mismatch: f
                .consignee_country_mismatch
                .apply(d.consignee_country_mismatch),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Policy {
    pub thresholds: Thresholds,
    /// Shipment rules (`check`): enabled and severity per rule.
    pub rules: Rules,
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

    /// The policy in force as TOML (`check --explain-policy`); it parses back to the same policy.
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_tables_override_only_the_keys_given() {
        let p = Policy::parse(
            "[rules.chpl-goods]\nenabled = false\n[rules.transshipment-route]\nseverity = \"block\"\n",
            "p.toml",
        )
        .unwrap();
        let d = Rules::default();
        assert!(!p.rules.chpl_goods.enabled);
        assert_eq!(p.rules.chpl_goods.severity, d.chpl_goods.severity);
        assert!(p.rules.transshipment_route.enabled);
        assert_eq!(p.rules.transshipment_route.severity, Severity::Block);
        assert_eq!(p.rules.sanctioned_destination, d.sanctioned_destination);
    }

    #[test]
    fn explained_policy_reads_back_the_same() {
        let mut p = Policy::default();
        p.rules.forwarder_as_end_user.enabled = false;
        p.thresholds.review = 0.85;
        let text = p.to_toml();
        assert!(text.contains("review = 0.85"), "{text}");
        assert!(text.contains("[rules.sanctioned-destination]"), "{text}");
        assert_eq!(Policy::parse(&text, "x").unwrap(), p);
    }

    #[test]
    fn unknown_rules_keys_and_severities_name_their_line() {
        for (text, line) in [
            (
                "[thresholds]\nreview = 0.8\n\n[rules.chpl-good]\nenabled = false\n",
                4,
            ),
            (
                "[rules.chpl-goods]\nenabled = true\nseverty = \"block\"\n",
                3,
            ),
            ("[rules.chpl-goods]\nseverity = \"clear\"\n", 2),
        ] {
            let e = Policy::parse(text, "p.toml").unwrap_err();
            assert!(
                e.to_string().starts_with(&format!("p.toml:{line}:")),
                "{text:?}: {e}"
            );
            assert_eq!(e.exit_code(), crate::error::exit::CONFIG);
        }
    }
}
