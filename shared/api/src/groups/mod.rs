//! One module per endpoint group of the seed's module table.
pub mod appointments;
pub mod auth;
pub mod boards;
pub mod configuration;
pub mod master_data;
pub mod platform;
pub mod privacy;
pub mod reminders;
pub mod queue;
pub mod report;
pub mod schedule;
pub mod site;
pub mod ticket;
