//! The one integration-test binary: drives the library and the `redflag` binary end to end.
//! Each area has its own module; `util` holds the temporary work-dir helper and `../shared` lookup.

mod address;
mod affiliates;
mod check;
mod compare;
mod diff;
mod http;
mod index;
mod prebuilt;
mod report;
mod screen;
mod serve;
mod store;
mod streams;
mod util;

mod lists;
mod watchlist_cmd;
