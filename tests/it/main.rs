//! samla's integration tests: one binary, real HTTP on loopback, real files on disk.

mod api;
mod browser;
mod e2e;
mod harvest;
mod incremental;
mod interfaces;
mod links;
mod model;
mod pipeline;
mod platforms;
mod quality;
mod realworld;
mod reports;
mod runner;
mod support;
