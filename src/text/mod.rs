//! Text normalization: script folding (`translit`) and names to classed tokens (`normalize`).
//! Address text has its own parser in `address`; this module only knows names.

pub mod normalize;
pub mod translit;

pub use normalize::{
    has_parenthesised_part, is_lineage_particle, name_variants, normalize, LegalForm, NormName,
    Token, TokenClass,
};
