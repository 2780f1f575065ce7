//! samla-simulator
