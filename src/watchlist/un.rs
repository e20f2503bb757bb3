//! stub
use std::path::Path;
use crate::error::Result;
use crate::model::Watchlist;
pub fn load(_p: &Path) -> Result<Watchlist> { todo!() }
