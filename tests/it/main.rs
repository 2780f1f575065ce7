//! samla's integration tests: one binary, real HTTP on loopback, real files on disk.

// The tests read whole answers from the servers they start on loopback, and some build a
// runtime of their own beside a blocking client: the bans in clippy.toml are for samla's code.
#![allow(clippy::disallowed_methods)]

mod api;
mod architecture;
mod browser;
mod deploy;
mod e2e;
mod harvest;
mod hostile;
mod incremental;
mod interfaces;
mod links;
mod model;
mod notify;
mod pg;
mod pipeline;
mod platforms;
mod protocol;
mod quality;
mod realworld;
mod reports;
mod runner;
mod store;
mod support;
