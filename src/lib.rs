//! samla: harvests the open-data catalogs of a region's municipalities into one DCAT-AP-SE
//! model, indexes them and serves a regional search API.
//!
//! This package is the composition root: it wires the library crates (config, harvester,
//! store, indexer, api, simulator) into the `samla` command. It is the only place that
//! depends on all of them.

pub mod app;
pub mod progress;
