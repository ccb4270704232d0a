//! Permissions: what a role (or an API key) lets its holder do. Every route names one.
use serde::{Deserialize, Serialize};

macro_rules! permissions {
    ($($variant:ident => $name:literal : $what:literal,)*) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum Permission {
            $(#[serde(rename = $name)] $variant,)*
        }

        impl Permission {
            pub const ALL: &'static [Permission] = &[$(Permission::$variant,)*];

            pub fn as_str(self) -> &'static str {
                match self { $(Permission::$variant => $name,)* }
            }

            /// What it allows, in the clinic's words (for the README table and error messages).
            pub fn describe(self) -> &'static str {
                match self { $(Permission::$variant => $what,)* }
            }

            pub fn parse(s: &str) -> Option<Permission> {
                match s { $($name => Some(Permission::$variant),)* _ => None }
            }
        }
    };
}

permissions! {
    UsersView => "users.view": "see staff accounts",
    UsersManage => "users.manage": "create, edit, delete and restore staff accounts",
    RolesView => "roles.view": "see roles and their permissions",
    RolesManage => "roles.manage": "create, edit, delete and restore roles",
    PolyView => "poly.view": "see polies",
    PolyManage => "poly.manage": "create, edit, delete and restore polies",
    StatusView => "status.view": "see queue statuses",
    StatusManage => "status.manage": "edit queue status labels",
    PatientsView => "patients.view": "see patients",
    PatientsManage => "patients.manage": "edit patient details",
    PatientsPrivacy => "patients.privacy": "export everything stored about a patient, erase a patient's personal data (UU PDP) and read who looked at a patient's record",
    SchedulesView => "schedules.view": "see doctor schedules",
    SchedulesManage => "schedules.manage": "create, edit and delete doctor schedules",
    ReservationsView => "reservations.view": "see reservations",
    ReservationsCreate => "reservations.create": "register patients and hand out queue numbers",
    ReservationsUpdate => "reservations.update": "edit reservations",
    QueueView => "queue.view": "see the queue",
    QueueAnamnesa => "queue.anamnesa": "call patients to anamnesa and send them on to the doctor",
    QueueDoctor => "queue.doctor": "call patients in to the doctor and finish them",
    QueueCancel => "queue.cancel": "mark patients no-show or cancelled",
    SlotsView => "slots.view": "see bookable time slots, availability and the appointment calendar",
    AppointmentsView => "appointments.view": "see appointments",
    AppointmentsBook => "appointments.book": "book, reschedule, cancel and check in appointments",
    AppointmentsHold => "appointments.hold": "hold a time slot for a few minutes and confirm it (patient apps)",
    CheckupsView => "checkups.view": "see check-up schedules",
    CheckupsManage => "checkups.manage": "create, edit and delete check-up schedules",
    ConfigView => "config.view": "see templates, reminders, WhatsApp settings, configs and FAQ",
    ConfigManage => "config.manage": "change templates, reminders, WhatsApp settings, configs and FAQ",
    DashboardView => "dashboard.view": "read the dashboards",
    ReportsView => "reports.view": "read reports",
    ReportsExport => "reports.export": "download reports as XLSX",
    AuditView => "audit.view": "read the user activity trail",
    ApiKeysManage => "api_keys.manage": "create, list and revoke API keys (n8n)",
    RemindersSend => "reminders.send": "fetch the reminders due and mark them sent (n8n)",
    BoardsManage => "boards.manage": "create, list, limit and revoke display boards",
    BoardWatch => "board.watch": "watch the live queue board",
    BpjsView => "bpjs.view": "see the BPJS antrean configuration (never its secrets), mapping and sync list",
    BpjsManage => "bpjs.manage": "configure BPJS antrean, map polies and doctors to BPJS codes, send due BPJS events now, queue reservations BPJS has not had (backfill)",
    RoomsManage => "rooms.manage": "create, edit and remove a poly's rooms and their doctors, and the services (pharmacy, laboratory, cashier)",
    QueueService => "queue.service": "serve patients sent on to a service: call them, prepare and hand out medicine",
    QueueSettings => "queue.settings": "set the priority criteria and policy and the day's close time",
    QueueCloseDay => "queue.close_day": "close a queue day by hand (waiting numbers become no-shows)",
}

/// Documented as the strings clients send and receive (`"poly.view"`), not the Rust names.
impl utoipa::PartialSchema for Permission {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .enum_values(Some(Permission::ALL.iter().map(|p| p.as_str())))
            .into()
    }
}

impl utoipa::ToSchema for Permission {}

/// Parses a list of permission names; unknown names are returned as the error.
pub fn parse_list(names: &[String]) -> Result<Vec<Permission>, Vec<String>> {
    let mut ok = Vec::new();
    let mut bad = Vec::new();
    for n in names {
        match Permission::parse(n.trim()) {
            Some(p) if !ok.contains(&p) => ok.push(p),
            Some(_) => {}
            None => bad.push(n.clone()),
        }
    }
    if bad.is_empty() {
        ok.sort();
        Ok(ok)
    } else {
        Err(bad)
    }
}

/// What an API key for n8n gets when its creator names nothing: read what the workflows in
/// `infra/n8n/` read (polies and statuses name what a reminder is about).
pub const N8N_DEFAULT: &[Permission] = &[
    Permission::PolyView,
    Permission::StatusView,
    Permission::PatientsView,
    Permission::SchedulesView,
    Permission::ReservationsView,
    Permission::QueueView,
    Permission::CheckupsView,
    Permission::ConfigView,
    Permission::RemindersSend,
];
