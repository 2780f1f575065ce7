//! samla-store
