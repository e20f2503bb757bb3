//! redflag: an entity screening engine for export compliance.
//!
//! The library does all the work; the `redflag` binary only parses arguments and maps errors to
//! exit codes. Data flows one way (see ARCHITECTURE.md):
//! input -> parties -> normalize -> candidates (index) -> score -> affiliates -> decide -> output.

pub mod address;
pub mod affiliates;
pub mod batch;
pub mod bound;
pub mod decision;
pub mod encoding;
pub mod error;
pub mod freshness;
pub mod geo;
pub mod index;
pub mod input;
pub mod model;
pub mod output;
pub mod policy;
pub mod prebuilt;
pub mod report;
pub mod rules;
pub mod score;
pub mod screen;
pub mod server;
pub mod shipment;
pub mod store;
pub mod tables;
pub mod text;
pub mod watchlist;

pub use error::{Error, Result};

/// A hint that `p` will be read soon; nothing on targets without one.
#[inline(always)]
pub(crate) fn prefetch<T>(p: *const T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch never faults and reads nothing the program sees, whatever the address.
    unsafe {
        std::arch::x86_64::_mm_prefetch(p.cast::<i8>(), std::arch::x86_64::_MM_HINT_T0);
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}
