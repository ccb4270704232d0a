//! Who is calling and what they may do: passwords, signed tokens with server-side sessions,
//! API keys for n8n, and login with lockout.
pub mod api_key;
pub mod login;
pub mod password;
pub mod principal;
pub mod recovery;
pub mod token;
