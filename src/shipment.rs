//! One shipment and the pre-shipment check: may it go?
//!
//! A [`Shipment`] is its parties (role, name, address, country), its goods as HS codes, its route
//! as ISO country codes in order and its destination. It is read from a JSON document (the shape in
//! `schemas/shipment.schema.json`), built from command-line values, or gathered from the rows of a
//! shipment CSV that carry one shipment id. Every way in goes through [`ShipmentInput::validate`],
//! so every shipment is checked the same way: a country redflag cannot read, an HS code that is not
//! one, or a shipment without parties is bad data, never silently skipped — a check that cannot
//! read its input must not answer clear.
//!
//! [`check`] screens every party with the [`Screener`] and applies the shipment rules
//! (`crate::rules`); the answer is the worst of both, and `Error` when any party could not be
//! screened. Not here: the rules themselves (`rules`), watchlist freshness (`freshness`), printing.

use std::collections::HashMap;
use std::io::Read;
use std::sync::LazyLock;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Location, Result};
use crate::input::{classify_column, header_key, InputOptions, Part};
use crate::model::Address;
use crate::policy::Decision;
use crate::rules::{self, RuleFlag};
use crate::screen::{Party, PartyResult, Screener};

/// A shipment ready to check: roles canonical, countries and route as ISO alpha-2 codes, HS codes
/// as written (each known to be a valid code; see [`hs_digits`]).
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Shipment {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub parties: Vec<Party>,
    pub hs_codes: Vec<String>,
    pub route: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub destination: Option<String>,
}

/// A shipment as given, before validation: the JSON document shape, also filled from command-line
/// flags and CSV rows. Unknown JSON fields are errors: a misspelt `hs_code` must not mean "no goods".
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShipmentInput {
    #[serde(default)]
    pub id: Option<String>,
    pub parties: Vec<PartyInput>,
    #[serde(default)]
    pub hs_codes: Vec<String>,
    /// Country codes or names in order; a JSON string is split like `--route` (`DE,KZ,RU`).
    #[serde(default)]
    pub route: RouteInput,
    #[serde(default)]
    pub destination: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartyInput {
    pub role: String,
    pub name: String,
    #[serde(default)]
    pub address: Option<AddressInput>,
    #[serde(default)]
    pub country: Option<String>,
}

/// An address as one line (`"Dostyk Ave 180, 050051 Almaty"`) or in parts.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum AddressInput {
    Line(String),
    Parts(Address),
}

#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(untagged)]
pub enum RouteInput {
    #[default]
    None,
    List(Vec<String>),
    Text(String),
}

impl RouteInput {
    fn into_vec(self) -> Vec<String> {
        match self {
            RouteInput::None => Vec::new(),
            RouteInput::List(v) => v,
            RouteInput::Text(s) => split_route(&s),
        }
    }
}

/// Splits a route written on one line: `DE,KZ,RU`, `DE>LT>RU`, `DE → KZ → RU`, `DE;KZ`.
pub fn split_route(s: &str) -> Vec<String> {
    s.split([',', '>', ';', '|', '/', '→'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .collect()
}

/// Splits a cell or flag holding several HS codes (`8542.31; 8541.21`).
pub fn split_hs_codes(s: &str) -> impl Iterator<Item = &str> {
    s.split([',', ';', '|', '/', '\n'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
}

/// The digits of an HS code written with or without dots and spaces (`8542.31`, `8542 31 00`,
/// `854231`): 4 to 10 digits, or None when it is not an HS code. A 4-digit heading is kept as
/// such (it covers every HS-6 code under it); longer codes are national extensions of an HS-6.
pub fn hs_digits(code: &str) -> Option<String> {
    let mut digits = String::with_capacity(code.len());
    for c in code.chars() {
        match c {
            '0'..='9' => digits.push(c),
            '.' => {}
            c if c.is_whitespace() => {}
            _ => return None,
        }
    }
    (4..=10).contains(&digits.len()).then_some(digits)
}

/// The HS-6 subheading of a code (`8542.31.10` -> `854231`), or None when it has fewer digits.
pub fn hs6(code: &str) -> Option<String> {
    hs_digits(code)
        .filter(|d| d.len() >= 6)
        .map(|d| d[..6].into())
}

impl ShipmentInput {
    /// Checks and canonicalises a shipment. `origin` names the input in errors (a file, `<stdin>`,
    /// `command line`).
    pub fn validate(self, origin: &str) -> Result<Shipment> {
        let at = |field: String| Location::new(origin).field(field);
        let country = |field: String, value: &str| -> Result<String> {
            crate::geo::country_code(value)
                .map(str::to_string)
                .ok_or_else(|| Error::data(at(field), format!("unknown country `{value}`")))
        };
        if self.parties.is_empty() {
            return Err(Error::data(
                Location::new(origin),
                "the shipment has no party to screen",
            ));
        }
        let mut parties = Vec::with_capacity(self.parties.len());
        for (i, p) in self.parties.into_iter().enumerate() {
            let mut address = match p.address {
                None => None,
                Some(AddressInput::Line(text)) => Some(Address {
                    text,
                    ..Default::default()
                }),
                Some(AddressInput::Parts(a)) => Some(a),
            }
            .filter(|a| !a.is_empty());
            if let Some(c) = address.as_mut().and_then(|a| a.country.as_mut()) {
                *c = country(format!("parties[{i}].address.country"), c)?;
            }
            // The party's country, else its address's: screening and the rules read `country`.
            let party_country = match p.country.as_deref().map(str::trim) {
                Some(c) if !c.is_empty() => Some(country(format!("parties[{i}].country"), c)?),
                _ => address.as_ref().and_then(|a| a.country.clone()),
            };
            parties.push(Party {
                role: canonical_role(&p.role),
                name: p.name,
                address,
                country: party_country,
                kind: Default::default(),
            });
        }
        for (i, code) in self.hs_codes.iter().enumerate() {
            if hs_digits(code).is_none() {
                return Err(Error::data(
                    at(format!("hs_codes[{i}]")),
                    format!("`{code}` is not an HS code (4 to 10 digits, dots and spaces allowed)"),
                ));
            }
        }
        let route = self
            .route
            .into_vec()
            .iter()
            .enumerate()
            .map(|(i, c)| country(format!("route[{i}]"), c))
            .collect::<Result<Vec<_>>>()?;
        let destination = match self.destination.as_deref().map(str::trim) {
            Some(d) if !d.is_empty() => Some(country("destination".into(), d)?),
            _ => None,
        };
        Ok(Shipment {
            id: self.id.filter(|s| !s.trim().is_empty()),
            parties,
            hs_codes: self.hs_codes,
            route,
            destination,
        })
    }
}

/// The canonical role of a role as written (`End User`, `end-user`, `ship-to` -> `end_user`,
/// `consignee`), by the same vocabulary as CSV headers; an unknown role is kept, lowercased.
pub fn canonical_role(role: &str) -> String {
    match classify_column(role) {
        Some((r, Part::Name)) => r.to_string(),
        _ => role.trim().to_lowercase(),
    }
}

impl Shipment {
    /// Reads a shipment JSON document. `origin` names it in errors (with line and column).
    pub fn from_json(text: &str, origin: &str) -> Result<Shipment> {
        let input: ShipmentInput = serde_json::from_str(text).map_err(|e| {
            Error::data(
                Location::new(origin).line(e.line() as u64),
                format!("{e}")
                    .split(" at line ")
                    .next()
                    .unwrap_or("")
                    .to_string(),
            )
        })?;
        input.validate(origin)
    }

    /// Gathers one shipment from a shipment CSV: every row whose shipment-id column holds `id`.
    /// Party columns are found as `redflag screen` finds them; the id, HS code, route and
    /// destination columns by the header names in `data/shipment_columns.tsv`. Parties repeated
    /// on several rows are screened once; rows that disagree on route or destination are an error.
    pub fn from_csv<'a>(input: Box<dyn Read + 'a>, file: &str, id: &str) -> Result<Shipment> {
        // The same reading as `screen`: encoding and delimiter detected.
        let mut reader = crate::input::open(input, &InputOptions::default(), file)?;
        let headers = reader.layout.headers.clone();
        let column = |field: &str| {
            headers
                .iter()
                .position(|h| SHIPMENT_COLUMNS.get(header_key(h).as_str()) == Some(&field))
        };
        let id_col = column("id").ok_or_else(|| {
            Error::data(
                Location::new(file).line(1),
                format!(
                    "no shipment id column in the header ({}); see data/shipment_columns.tsv",
                    headers.join(", ")
                ),
            )
        })?;
        let (hs_col, route_col, dest_col) =
            (column("hs_code"), column("route"), column("destination"));
        let cell = |cells: &[String], col: Option<usize>| {
            col.and_then(|c| cells.get(c))
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
        };
        let mut parties: Vec<Party> = Vec::new();
        let mut hs_codes: Vec<String> = Vec::new();
        let mut route: Option<(String, u64)> = None;
        let mut destination: Option<(String, u64)> = None;
        let mut found = false;
        while let Some(row) = reader.next_row()? {
            if row.cells.get(id_col).map(|c| c.trim()) != Some(id.trim()) {
                continue;
            }
            found = true;
            if let Some(e) = row.error {
                return Err(Error::data(Location::new(format!("shipment {id}")), e));
            }
            for p in row.parties {
                if !parties.contains(&p) {
                    parties.push(p);
                }
            }
            for code in cell(&row.cells, hs_col)
                .iter()
                .flat_map(|c| split_hs_codes(c))
            {
                if !hs_codes.iter().any(|c| c == code) {
                    hs_codes.push(code.to_string());
                }
            }
            for (slot, col, what) in [
                (&mut route, route_col, "route"),
                (&mut destination, dest_col, "destination"),
            ] {
                let Some(value) = cell(&row.cells, col) else {
                    continue;
                };
                match slot {
                    Some((v, line)) if *v != value => {
                        return Err(Error::data(
                            Location::new(file)
                                .line(row.line)
                                .field(&headers[col.unwrap_or(0)]),
                            format!(
                                "shipment {id} has {what} `{value}` here and `{v}` on line {line}"
                            ),
                        ))
                    }
                    Some(_) => {}
                    None => *slot = Some((value, row.line)),
                }
            }
        }
        if !found {
            return Err(Error::data(
                Location::new(file).field(&headers[id_col]),
                format!("no row has shipment id `{id}`"),
            ));
        }
        ShipmentInput {
            id: Some(id.to_string()),
            parties: parties.into_iter().map(PartyInput::from).collect(),
            hs_codes,
            route: RouteInput::List(route.map(|(r, _)| split_route(&r)).unwrap_or_default()),
            destination: destination.map(|(d, _)| d),
        }
        .validate(&format!("{file} (shipment {id})"))
    }
}

/// A party read from a CSV row goes through the same validation as one from JSON.
impl From<Party> for PartyInput {
    fn from(p: Party) -> PartyInput {
        PartyInput {
            role: p.role,
            name: p.name,
            address: p.address.map(AddressInput::Parts),
            country: p.country,
        }
    }
}
/// Header key -> shipment field (`id`, `hs_code`, `route`, `destination`).
static SHIPMENT_COLUMNS: LazyLock<HashMap<&'static str, &'static str>> = LazyLock::new(|| {
    crate::tables::rows(include_str!("../data/shipment_columns.tsv"))
        .flat_map(|r| {
            let field = r[0];
            r[1..].iter().map(move |h| (*h, field)).collect::<Vec<_>>()
        })
        .collect()
});

/// One screened party of a shipment. Serialized flat: the party's fields, then its result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PartyCheck {
    #[serde(flatten)]
    pub party: Party,
    #[serde(flatten)]
    pub result: PartyResult,
}

/// Which list (and version) a check was made against: the audit trail of the answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ListVersion {
    pub name: String,
    pub version: String,
    pub entities: usize,
}

/// The answer for one shipment, with its evidence.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckResult {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The worst of the parties' decisions and the rule flags' severities; `error` when the
    /// check could not be made (a party that could not be screened, no party at all).
    pub decision: Decision,
    /// Every party in input order, with its decision and hits (best first).
    pub parties: Vec<PartyCheck>,
    /// The shipment rules that fired, worst first.
    pub flags: Vec<RuleFlag>,
    /// Why the decision is `error`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
    pub lists: Vec<ListVersion>,
}

/// The worst of the parties' decisions and the flags' severities; error when any error.
fn overall(parties: &[PartyCheck], flags: &[RuleFlag], errors: &[String]) -> Decision {
    if !errors.is_empty() {
        return Decision::Error;
    }
    parties
        .iter()
        .map(|p| p.result.decision)
        .chain(flags.iter().map(|f| f.severity))
        .max()
        .unwrap_or(Decision::Clear)
}

impl CheckResult {
    /// Applies the analyst decisions in force to each party's hits and recomputes the decision
    /// (a rule flag still counts: a decision is about a listed entity, not about goods or routes).
    pub fn apply_decisions(&mut self, screener: &Screener, book: &crate::store::DecisionBook) {
        for p in &mut self.parties {
            book.apply(screener, &p.party, &mut p.result);
        }
        self.recompute_decision();
    }

    /// Recomputes the shipment's decision after its parties' results changed.
    pub fn recompute_decision(&mut self) {
        self.decision = overall(&self.parties, &self.flags, &self.errors);
    }
}

/// Checks one shipment: screens every party and applies the enabled shipment rules.
pub fn check(screener: &Screener, shipment: &Shipment) -> CheckResult {
    let parties: Vec<PartyCheck> = shipment
        .parties
        .iter()
        .map(|p| PartyCheck {
            party: p.clone(),
            result: screener.screen(p),
        })
        .collect();
    let flags = rules::evaluate(shipment, &screener.policy);
    let mut errors: Vec<String> = parties
        .iter()
        .filter(|p| p.result.decision == Decision::Error)
        .map(|p| {
            p.result
                .error
                .clone()
                .unwrap_or_else(|| format!("{}: could not be screened", p.party.role))
        })
        .collect();
    if parties.is_empty() {
        errors.push("the shipment has no party to screen".into());
    }
    let decision = overall(&parties, &flags, &errors);
    CheckResult {
        id: shipment.id.clone(),
        decision,
        parties,
        flags,
        errors,
        lists: screener
            .watchlist
            .lists
            .iter()
            .map(|l| ListVersion {
                name: l.name.clone(),
                version: l.version.clone(),
                entities: l.entity_count,
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn party(role: &str, name: &str) -> PartyInput {
        PartyInput {
            role: role.into(),
            name: name.into(),
            ..Default::default()
        }
    }

    #[test]
    fn hs_codes_with_and_without_dots() {
        assert_eq!(hs6("8542.31").as_deref(), Some("854231"));
        assert_eq!(hs6("8542 31 00").as_deref(), Some("854231"));
        assert_eq!(hs6("854231").as_deref(), Some("854231"));
        assert_eq!(hs6(" 8542.31.10.00 ").as_deref(), Some("854231"));
        assert_eq!(hs_digits("8542").as_deref(), Some("8542"));
        assert_eq!(hs6("8542"), None);
        assert_eq!(hs_digits("85"), None);
        assert_eq!(hs_digits("8542-31"), None);
        assert_eq!(hs_digits("HS8542"), None);
        assert_eq!(hs_digits("12345678901"), None);
    }

    proptest! {
        #[test]
        fn dots_and_spaces_never_change_the_hs6(
            code in "[0-9]{6,10}",
            seps in proptest::collection::vec("[. ]{0,2}", 11),
        ) {
            let mut written = seps[0].clone();
            for (i, c) in code.chars().enumerate() {
                written.push(c);
                written.push_str(&seps[i + 1]);
            }
            prop_assert_eq!(hs6(&written), Some(code[..6].to_string()));
        }
    }

    #[test]
    fn routes_split_on_any_separator() {
        assert_eq!(split_route("DE, KZ,RU"), ["DE", "KZ", "RU"]);
        assert_eq!(split_route("DE>LT>RU"), ["DE", "LT", "RU"]);
        assert_eq!(split_route("DE → KZ → RU"), ["DE", "KZ", "RU"]);
        assert!(split_route(" ").is_empty());
    }

    #[test]
    fn validation_canonicalises_roles_and_countries() {
        let s = ShipmentInput {
            id: Some("S1".into()),
            parties: vec![
                PartyInput {
                    country: Some("Kazakhstan".into()),
                    ..party("Ship-to", "Almaty Instrument Supply LLP")
                },
                PartyInput {
                    address: Some(AddressInput::Parts(Address {
                        text: "ул. Яблочкова, д. 21".into(),
                        country: Some("Россия".into()),
                        ..Default::default()
                    })),
                    ..party("End User", "ООО «Робин Трейд»")
                },
            ],
            hs_codes: vec!["8542.31".into()],
            route: RouteInput::Text("DE>Kazakhstan>RUS".into()),
            destination: Some("ru".into()),
        }
        .validate("t")
        .unwrap();
        assert_eq!(s.parties[0].role, "consignee");
        assert_eq!(s.parties[0].country.as_deref(), Some("KZ"));
        assert_eq!(s.parties[1].role, "end_user");
        assert_eq!(s.parties[1].country.as_deref(), Some("RU"));
        assert_eq!(s.route, ["DE", "KZ", "RU"]);
        assert_eq!(s.destination.as_deref(), Some("RU"));
    }

    #[test]
    fn bad_input_is_bad_data_with_its_field() {
        let base = || ShipmentInput {
            parties: vec![party("shipper", "A GmbH")],
            ..Default::default()
        };
        let cases = [
            (
                ShipmentInput {
                    parties: vec![],
                    ..base()
                },
                "no party",
            ),
            (
                ShipmentInput {
                    route: RouteInput::Text("DE,Atlantis".into()),
                    ..base()
                },
                "route[1]",
            ),
            (
                ShipmentInput {
                    destination: Some("XX".into()),
                    ..base()
                },
                "destination",
            ),
            (
                ShipmentInput {
                    hs_codes: vec!["85A2".into()],
                    ..base()
                },
                "hs_codes[0]",
            ),
        ];
        for (input, needle) in cases {
            let e = input.validate("t.json").unwrap_err();
            assert_eq!(e.exit_code(), crate::error::exit::DATAERR);
            assert!(e.to_string().contains(needle), "{e}");
        }
    }

    #[test]
    fn json_errors_name_the_line() {
        let e =
            Shipment::from_json("{\n\"parties\": [],\n\"hs_code\": []\n}", "s.json").unwrap_err();
        assert!(e.to_string().starts_with("s.json:3"), "{e}");
        assert!(e.to_string().contains("hs_code"), "{e}");
    }

    #[test]
    fn fixtures_parse() {
        for f in ["shipment.json", "clean-shipment.json"] {
            let path = format!("{}/fixtures/{f}", env!("CARGO_MANIFEST_DIR"));
            let s = Shipment::from_json(&std::fs::read_to_string(&path).unwrap(), &path).unwrap();
            assert_eq!(s.parties.len(), 4, "{f}");
        }
    }

    #[test]
    fn csv_rows_of_one_shipment() {
        let csv = "Shipment ID,Consignee,Consignee Country,End User,HS Code,Route,Destination\n\
                   S1,Almaty Instrument Supply LLP,KZ,Robin Trade,8542.31,DE>KZ>RU,RU\n\
                   S2,Dupré SAS,FR,,7318.15,DE>FR,FR\n\
                   S1,Almaty Instrument Supply LLP,KZ,,8541.21,DE>KZ>RU,RU\n";
        let s = Shipment::from_csv(Box::new(csv.as_bytes()), "t.csv", "S1").unwrap();
        assert_eq!(s.parties.len(), 2);
        assert_eq!(s.hs_codes, ["8542.31", "8541.21"]);
        assert_eq!(s.route, ["DE", "KZ", "RU"]);
        assert_eq!(s.destination.as_deref(), Some("RU"));
        let e = Shipment::from_csv(Box::new(csv.as_bytes()), "t.csv", "S9").unwrap_err();
        assert!(e.to_string().contains("no row has shipment id `S9`"), "{e}");
        let conflict = format!("{csv}S1,X Ltd,KZ,,,DE>KZ,RU\n");
        let e = Shipment::from_csv(Box::new(conflict.as_bytes()), "t.csv", "S1").unwrap_err();
        assert!(e.to_string().contains("t.csv:5"), "{e}");
    }
}
