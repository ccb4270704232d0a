//! One module per endpoint group of the seed's module table.
pub mod auth;
pub mod master_data;
pub mod platform;
