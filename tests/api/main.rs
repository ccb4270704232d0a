//! Black-box tests: each test starts the dev server (in-process, on a free port) on a fresh
//! store and talks HTTP to it, like a client written from the seed document would.
//! `on_both_stores!` runs every test on the embedded store and on DynamoDB Local.
mod helpers;

mod appointments;
mod auth;
mod board_calls;
mod board_page;
mod board_state;
mod bpjs;
mod bpjs_backfill;
mod bpjs_codes;
mod bpjs_tasks;
mod bpjs_ws;
mod checkup_schedules;
mod clinic_flow;
mod clinic_flow_roster;
mod clinic_flow_transfer;
mod configuration;
mod configuration_faq;
mod dashboard;
mod edge;
mod fake_bpjs;
mod faults;
mod live;
mod live_aws;
mod logs;
mod n8n_workflows;
mod patients;
mod platform;
mod poly;
mod privacy;
mod queue;
mod queue_reports;
mod recovery;
mod reminders;
mod reports;
mod reservations;
mod roles;
mod schedules;
mod security;
mod status;
mod tickets;
mod store_budget;
mod table_scan;
mod users;
mod webhooks;
