//! Addresses: parsing an address into comparable parts and comparing two addresses at levels
//! (same premises, same building, same street, same city).
//!
//! This is what the shared-address check stands on: a counterparty registered in the building of
//! a listed entity is an affiliate candidate, and one building holding many listed shells is a
//! mass-registration address. Parsing is token scanning over the folded text with the vocabulary
//! in `data/address_terms.tsv` (Latin and Cyrillic abbreviations), tolerant of the ways lists
//! write the same place: `Ul. Yablachkova D. 21 Korpus 3` = `ул. Яблочкова, д. 21, корп. 3`.
//!
//! Not for: geocoding, validating that an address exists, or formatting addresses for display
//! (the parsed keys are folded and lossy). Deciding what a shared address means for a party is the
//! affiliate stage's job; this module only says how close two addresses are, and why.

mod compare;
mod index;
mod parse;
mod terms;

use serde::{Deserialize, Serialize};

pub use compare::{compare, AddressLevel, AddressMatch};
pub use index::{clusters, AddressHit, AddressIndex, DEFAULT_MASS_REGISTRATION};
pub use parse::{parse, parse_text};

/// One part of a unit: a kind (`fl` floor, `pom` premises, `kom` room, `of` office, `ste` suite,
/// `unit`, `apt`, `shop`) and its value as written, folded (`3`, `viii`, `211-13`).
///
/// Stored (in a prebuilt index) as (kind, value); the kind is mapped back to the compiled-in
/// term on load, so it stays a pointer into the binary and nothing is leaked. (Deserialize is
/// written out: serde's derive would demand `'de: 'static` for the `&'static str`.)
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct UnitPart {
    pub kind: &'static str,
    pub value: String,
}

impl<'de> Deserialize<'de> for UnitPart {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let (kind, value) = <(String, String)>::deserialize(d)?;
        match terms::canonical(&kind) {
            Some(kind) => Ok(UnitPart { kind, value }),
            None => Err(serde::de::Error::custom(format!(
                "unknown address unit `{kind}`"
            ))),
        }
    }
}

/// An address split into comparable parts. Every key is folded lowercase ASCII, so Latin and
/// Cyrillic spellings of one place give the same keys. Parts the address does not state are None.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ParsedAddress {
    /// ISO 3166-1 alpha-2.
    pub country: Option<String>,
    /// Letters and digits only (`127322`, `ec3n1dy`).
    pub postal_code: Option<String>,
    /// Canonical city key: `moscow` for Moscow, Moskva and Москва.
    pub city: Option<String>,
    /// Street name without the street-type word, letters and digits only (`yablachkova`).
    pub street: Option<String>,
    /// Canonical street type: `street`, `avenue` (prospekt), `lane` (pereulok), `road`, ...
    pub street_type: Option<String>,
    /// House number with its letter or range (`57a`, `21`, `115-60`).
    pub house: Option<String>,
    /// Building within the house: `k3` (korpus, bldg, block), `s1` (stroenie), `lit...`.
    pub building: Option<String>,
    /// Units finer than the building, in the order written (floor, premises, room, office...).
    pub units: Vec<UnitPart>,
    pub po_box: Option<String>,
    /// A building or estate name without a number (`epworth house`), kept for the explanation.
    pub place: Option<String>,
    /// The address as given, one line.
    pub raw: String,
    /// `raw` folded, punctuation as single spaces, padded with a space at both ends: lets the
    /// comparison check whether one side's city is mentioned anywhere in the other.
    pub folded: String,
}

impl ParsedAddress {
    /// The units as one key, e.g. `fl3 pomviii kom1i`; None when no unit is stated.
    pub fn unit_key(&self) -> Option<String> {
        if self.units.is_empty() {
            return None;
        }
        let parts: Vec<String> = self
            .units
            .iter()
            .map(|u| format!("{}{}", u.kind, u.value))
            .collect();
        Some(parts.join(" "))
    }

    /// True when the address names a street and a house number: the least that can identify
    /// a building.
    pub fn has_building(&self) -> bool {
        self.street.is_some() && self.house.is_some()
    }
}
