//! Text normalization: script folding, tokenization, legal forms and name classes.

pub mod translit;
