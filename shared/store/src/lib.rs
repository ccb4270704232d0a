//! Storage for the clinic queue: the table port and its two adapters.
pub mod port;
pub mod counted;
#[cfg(any(feature = "embedded", feature = "dynamodb"))]
mod cursor;
#[cfg(feature = "embedded")]
pub mod embedded;
#[cfg(feature = "dynamodb")]
pub mod dynamodb;

pub use port::*;
