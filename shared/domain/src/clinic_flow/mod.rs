//! The queue clinics actually run, built into the same engine (the same atomic writes, state
//! machine, boards, rollups and webhook): rooms with a doctor each ([`rooms`]), priority
//! patients and the clinic's policy for them ([`priority`], [`settings`]), services after the
//! doctor such as the pharmacy ([`services`]), and closing the day ([`end_of_day`]).
pub mod end_of_day;
pub mod mark_priority;
pub mod poly_transfer;
pub mod priority;
pub mod rooms;
pub mod roster;
pub mod services;
pub mod settings;
