//! samla-api
