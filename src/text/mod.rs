//! Text normalization: script folding (`translit`) and names to classed tokens (`normalize`).
//! Address text has its own parser in `address`; this module only knows names.

pub mod folded;
pub mod normalize;
pub mod translit;

pub use normalize::{
    has_parenthesised_part, is_lineage_particle, listed_name_readings, name_variants, normalize,
    Initials, LegalForm, NormName, PreparedName, Token, TokenClass,
};
