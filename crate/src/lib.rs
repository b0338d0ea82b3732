//! runbrake-core (placeholder while the core is written)
#![forbid(unsafe_code)]
