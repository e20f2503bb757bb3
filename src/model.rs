//! The domain model: listed entities, their names, addresses, identifiers and relations, and the
//! watchlist that holds them.
//!
//! Every loader (native TOML, OFAC, CSL, UN, FollowTheMoney, EU, UK) produces these types and
//! nothing else, so the index, scorer and affiliate logic never see a list format. This module
//! holds plain data; normalization, indexing and scoring live in their own modules.

use serde::{Deserialize, Serialize};

/// What kind of thing an entity is. Drives which name rules apply (person vs organization).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum EntityKind {
    Person,
    Organization,
    Vessel,
    Aircraft,
    #[default]
    Unknown,
}

impl EntityKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EntityKind::Person => "person",
            EntityKind::Organization => "organization",
            EntityKind::Vessel => "vessel",
            EntityKind::Aircraft => "aircraft",
            EntityKind::Unknown => "unknown",
        }
    }

    /// Parses the kind names used by the lists and the CLI (`person`, `individual`, `org`,
    /// `company`, `entity`, `legalentity`, `vessel`, `aircraft`), case-insensitively.
    pub fn parse(s: &str) -> Option<EntityKind> {
        let s: String = s
            .chars()
            .filter(|c| c.is_alphanumeric())
            .collect::<String>()
            .to_lowercase();
        Some(match s.as_str() {
            "person" | "individual" | "people" => EntityKind::Person,
            "organization" | "organisation" | "org" | "company" | "entity" | "legalentity"
            | "publicbody" => EntityKind::Organization,
            "vessel" | "ship" => EntityKind::Vessel,
            "aircraft" | "airplane" => EntityKind::Aircraft,
            "any" | "unknown" | "" => EntityKind::Unknown,
            _ => return None,
        })
    }
}

/// How a name relates to its entity. Former and weak names count as evidence, but less.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum NameType {
    #[default]
    Primary,
    Alias,
    /// Formerly known as (OFAC fka, FtM previousName).
    Former,
    /// Low-quality alias (OFAC "weak aka", UN quality Low, FtM weakAlias).
    Weak,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Name {
    pub text: String,
    #[serde(default, rename = "type")]
    pub name_type: NameType,
    /// BCP-47-ish language or script tag when the list gives one (`ru`, `zh`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
    /// Id of the source (article, list) this name comes from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

impl Name {
    pub fn new(text: impl Into<String>, name_type: NameType) -> Self {
        Name {
            text: text.into(),
            name_type,
            lang: None,
            source: None,
        }
    }
}

/// An address as a list gives it. `text` is the full line as written; the parts are filled
/// where the list separates them. Parsing into comparable parts is the address module's job.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Address {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// ISO 3166-1 alpha-2 where known, otherwise the country as written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

impl Address {
    /// The address as one line: text, postal code, city, region, country, without repeats.
    pub fn full(&self) -> String {
        let mut parts: Vec<&str> = Vec::new();
        if !self.text.trim().is_empty() {
            parts.push(self.text.trim());
        }
        for p in [&self.postal_code, &self.city, &self.region, &self.country]
            .into_iter()
            .flatten()
        {
            let p = p.trim();
            if !p.is_empty() && !parts.iter().any(|q| q.contains(p)) {
                parts.push(p);
            }
        }
        parts.join(", ")
    }

    pub fn is_empty(&self) -> bool {
        self.full().is_empty()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Identifier {
    /// Scheme as the list names it: `INN`, `OGRN`, `IMO`, `Registration Number`, `Passport`...
    pub scheme: String,
    pub value: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// A directed relation from the entity that holds it to `target`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RelationKind {
    /// This entity is owned by the target (`percentage` of it, when known).
    OwnedBy,
    /// This entity is controlled by the target (a person, a parent) without known ownership.
    ControlledBy,
    /// The target is a director/officer of this entity.
    DirectedBy,
    /// This entity is registered at the same address as the target.
    SharesAddressWith,
    /// This entity took over the business of the target.
    SuccessorOf,
    /// A link of unknown nature (OFAC "Linked To", FtM UnknownLink).
    LinkedTo,
}

impl RelationKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RelationKind::OwnedBy => "owned_by",
            RelationKind::ControlledBy => "controlled_by",
            RelationKind::DirectedBy => "directed_by",
            RelationKind::SharesAddressWith => "shares_address_with",
            RelationKind::SuccessorOf => "successor_of",
            RelationKind::LinkedTo => "linked_to",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Relation {
    #[serde(rename = "type")]
    pub kind: RelationKind,
    /// Entity id of the other end, in the same list.
    pub target: String,
    /// Ownership share in percent (0..=100) for `owned_by`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub percentage: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// Whether an entity is on an official sanctions/restriction list, or only watched.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Status {
    /// True when an official list designates this entity: a strong name hit blocks.
    /// False for watch entries (unlisted affiliates, state end users): a hit asks for review.
    pub listed: bool,
    /// The official list(s) when listed (`US SDN`, `UN`, `EU FSF`...).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lists: Vec<String>,
    /// Sanctions programs (`RUSSIA-EO14024`, `SDGT`...).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub programs: Vec<String>,
    /// Designation date as written by the source (ISO 8601 where known).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<String>,
    /// Why a watch entry is watched, or notes on the listing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// One entry of a watchlist.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Entity {
    /// The source list's own id (OFAC ent_num, UN reference number, FtM id, seed slug).
    pub id: String,
    /// Index into [`Watchlist::lists`] of the list this entity came from.
    #[serde(skip)]
    pub list: usize,
    pub kind: EntityKind,
    /// All names; the first `Primary` one is the display name.
    pub names: Vec<Name>,
    pub countries: Vec<String>,
    pub addresses: Vec<Address>,
    pub identifiers: Vec<Identifier>,
    pub relations: Vec<Relation>,
    pub status: Status,
    /// Websites, emails, remarks: kept for the analyst, not scored.
    pub remarks: Vec<String>,
}

impl Entity {
    /// The display name: the first primary name, else the first name.
    pub fn primary_name(&self) -> &str {
        self.names
            .iter()
            .find(|n| n.name_type == NameType::Primary)
            .or_else(|| self.names.first())
            .map(|n| n.text.as_str())
            .unwrap_or("")
    }

    /// SHA-256 (hex) of everything the list says about the entity: names, countries, addresses,
    /// identifiers, relations, status and remarks. Any change to the record changes it; that is
    /// what `watchlist diff` reports as changed and what makes a stored decision stop applying.
    pub fn fingerprint(&self) -> String {
        // serde_json writes struct fields in declaration order: the encoding is canonical.
        let bytes = serde_json::to_vec(self).unwrap_or_default();
        crate::watchlist::sha256_hex([bytes.as_slice()])
    }
}

/// Where a loaded list came from and which version of it was loaded.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ListInfo {
    /// Short label shown in hits: `seed`, `ofac-sdn`, `un`, `csl`, `opensanctions`, or the file stem.
    pub name: String,
    /// Format detected or forced (`native`, `ofac`, `csl`, `un`, `ftm`, `os-simple`, `eu`, `uk`).
    pub format: String,
    /// Path as given on the command line, or `builtin:seed`.
    pub path: String,
    /// Publication date where the file has one (ISO 8601), else None.
    pub published: Option<String>,
    /// The version hits cite: the publication date where known, else `sha256:<first 16 hex>`.
    pub version: String,
    /// SHA-256 of the file contents (all files, in name order, for a directory), hex.
    pub content_hash: String,
    pub entity_count: usize,
    /// True for the seed list compiled into the binary (exempt from staleness checks).
    pub builtin: bool,
    /// The source file's modification time as recorded when a prebuilt index was built from it:
    /// the age of a list without a publication date is measured from this, not from the file on
    /// disk (which may be gone, or newer than what the index holds). None when loaded directly.
    #[serde(skip)]
    pub modified: Option<std::time::SystemTime>,
}

/// Entities from one or more lists, merged. Entity ids are unique within a list, not across.
#[derive(Debug, Clone, Default)]
pub struct Watchlist {
    pub lists: Vec<ListInfo>,
    pub entities: Vec<Entity>,
}

impl Watchlist {
    /// A one-list watchlist of entities of one kind, one primary name each, ids `0`, `1`, ...
    /// (for tests, benchmarks and ad-hoc lists).
    pub fn from_names<S: Into<String>>(
        kind: EntityKind,
        names: impl IntoIterator<Item = S>,
    ) -> Self {
        Watchlist {
            lists: vec![ListInfo::default()],
            entities: names
                .into_iter()
                .enumerate()
                .map(|(i, n)| Entity {
                    id: i.to_string(),
                    kind,
                    names: vec![Name::new(n, NameType::Primary)],
                    ..Default::default()
                })
                .collect(),
        }
    }

    /// Appends another watchlist, re-pointing its entities at the appended list infos.
    pub fn merge(&mut self, other: Watchlist) {
        let offset = self.lists.len();
        self.lists.extend(other.lists);
        self.entities
            .extend(other.entities.into_iter().map(|mut e| {
                e.list += offset;
                e
            }));
    }

    /// Finds an entity by list-local id. `list:id` selects a list by name; a bare id searches all.
    pub fn find(&self, qualified_id: &str) -> Option<usize> {
        self.matching(None, qualified_id).into_iter().next()
    }

    /// Every entity an id names: in `list` when given, else in the list a `list:` prefix names
    /// (when it names a loaded list), else in any list (ids are unique within a list only).
    pub fn matching(&self, list: Option<&str>, qualified_id: &str) -> Vec<usize> {
        let (list, id) = match (list, qualified_id.split_once(':')) {
            (Some(l), _) => (Some(l), qualified_id),
            (None, Some((l, i))) if self.lists.iter().any(|li| li.name == l) => (Some(l), i),
            _ => (None, qualified_id),
        };
        self.entities
            .iter()
            .enumerate()
            .filter(|(_, e)| e.id == id && list.is_none_or(|l| self.lists[e.list].name == l))
            .map(|(i, _)| i)
            .collect()
    }

    pub fn list_of(&self, entity: &Entity) -> &ListInfo {
        &self.lists[entity.list]
    }

    /// The lists as one line for logs and summaries: `name version (N entities); ...`.
    pub fn summary(&self) -> String {
        self.lists
            .iter()
            .map(|l| format!("{} {} ({} entities)", l.name, l.version, l.entity_count))
            .collect::<Vec<_>>()
            .join("; ")
    }
}
