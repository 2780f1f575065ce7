//! samla-indexer
