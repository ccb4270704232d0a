//! Roles: a name and the permissions it grants. The seed's six roles are created with every
//! clinic, in the seed's order, so role ids 1..6 mean what the seed's dummy data expects.
use std::collections::HashMap;

use antrean_store::Op;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::audit::Actor;
use crate::error::{DomainError, DomainResult, FieldErrors};
use crate::permission::Permission::{self, *};
use crate::record::{self, Record, Stored, Unique};
use crate::tenant::Tenant;
use crate::{validate, Deps};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Role {
    pub name: String,
    #[serde(default)]
    pub permissions: Vec<Permission>,
}

impl Record for Role {
    const KIND: &'static str = "ROLE";
    const LABEL: &'static str = "Role";
    fn unique(&self) -> Vec<Unique> {
        vec![Unique::new("name", &self.name)]
    }
}

pub const SUPER_ADMIN: &str = "Super Admin";
/// The seeded Super Admin role: it cannot be deleted, so some role can always manage users.
pub const SUPER_ADMIN_ID: i64 = 1;
pub const DOCTOR: &str = "Dokter";

/// The seed's roles with the permissions a small clinic expects of each.
pub fn defaults() -> Vec<Role> {
    let view_master = [PolyView, StatusView, PatientsView, SchedulesView, SlotsView, AppointmentsView, ReservationsView, QueueView, CheckupsView];
    let with = |extra: &[Permission]| -> Vec<Permission> {
        let mut p: Vec<Permission> = view_master.iter().chain(extra).copied().collect();
        p.sort();
        p.dedup();
        p
    };
    vec![
        Role { name: SUPER_ADMIN.into(), permissions: Permission::ALL.to_vec() },
        Role {
            name: "Kepala Klinik".into(),
            permissions: with(&[UsersView, RolesView, ConfigView, DashboardView, ReportsView, ReportsExport, AuditView, BpjsView, RoomsManage, QueueSettings, QueueCloseDay]),
        },
        Role { name: DOCTOR.into(), permissions: with(&[QueueDoctor, CheckupsManage]) },
        Role { name: "Perawat Anamnesa".into(), permissions: with(&[PatientsManage, QueueAnamnesa, QueueCancel]) },
        Role { name: "Perawat Asisten".into(), permissions: with(&[QueueDoctor, QueueService]) },
        Role {
            name: "Administrasi".into(),
            permissions: with(&[
                PatientsManage,
                SchedulesManage,
                ReservationsCreate,
                ReservationsUpdate,
                AppointmentsBook,
                QueueCancel,
                CheckupsManage,
                ConfigView,
                RoomsManage,
                QueueCloseDay,
                QueueService,
            ]),
        },
    ]
}

pub fn seed_ops(tenant: &Tenant, ts: &str) -> Vec<Op> {
    record::seed_ops(tenant, defaults(), ts).expect("the default roles serialise")
}

/// The permissions of the given live roles, given roles already read (the authentication
/// batch took them along): only the others are read, in one batch.
pub async fn permissions_of_read(
    deps: &crate::Deps,
    tenant: &Tenant,
    role_ids: &[i64],
    mut read: HashMap<i64, Stored<Role>>,
) -> DomainResult<Vec<(i64, String, Vec<Permission>)>> {
    let missing: Vec<antrean_store::Key> = role_ids.iter().filter(|id| !read.contains_key(id)).map(|id| record::record_key::<Role>(tenant, *id)).collect();
    if !missing.is_empty() {
        for item in deps.table.get_many(&missing, None).await?.into_iter().flatten() {
            let r: Stored<Role> = record::decode(item)?;
            read.insert(r.id, r);
        }
    }
    Ok(role_ids
        .iter()
        .filter_map(|id| read.remove(id))
        .filter(|r| !r.is_trashed())
        .map(|r| (r.id, r.data.name, r.data.permissions))
        .collect())
}

/// A valid role create/update form: `{"name": "administrator", "permissions": ["poly.view"]}`.
#[derive(Debug, Clone, PartialEq)]
pub struct RoleForm {
    pub name: String,
    /// `None` when the body does not name any: create gives none, update keeps the old ones.
    pub permissions: Option<Vec<Permission>>,
}

impl RoleForm {
    pub fn parse(body: &Value) -> DomainResult<RoleForm> {
        let mut errors = FieldErrors::new();
        let name = validate::required_string(&mut errors, body, "name", 255);
        let permissions = match body.get("permissions") {
            None | Some(Value::Null) => None,
            Some(Value::Array(list)) => {
                let names: Vec<String> = list.iter().map(|v| v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string())).collect();
                match crate::permission::parse_list(&names) {
                    Ok(p) => Some(p),
                    Err(unknown) => {
                        errors.add("permissions", format!("The permissions field names unknown permissions: {}.", unknown.join(", ")));
                        None
                    }
                }
            }
            Some(_) => {
                errors.add("permissions", "The permissions field must be an array.");
                None
            }
        };
        errors.into_result()?;
        Ok(RoleForm { name: name.unwrap(), permissions })
    }
}

pub async fn create(deps: &Deps, tenant: &Tenant, actor: &Actor, form: RoleForm) -> DomainResult<Stored<Role>> {
    let role = Role { name: form.name, permissions: form.permissions.unwrap_or_default() };
    record::create(deps, tenant, actor, role, |_| vec![]).await
}

pub async fn update(deps: &Deps, tenant: &Tenant, actor: &Actor, id: i64, form: RoleForm) -> DomainResult<Stored<Role>> {
    record::update::<Role>(deps, tenant, actor, id, |current| {
        let permissions = form.permissions.clone().unwrap_or_else(|| current.data.permissions.clone());
        Ok((Role { name: form.name.clone(), permissions }, vec![]))
    })
    .await
}

/// Soft delete; the Super Admin role is refused (409).
pub async fn trash(deps: &Deps, tenant: &Tenant, actor: &Actor, id: i64) -> DomainResult<()> {
    if id == SUPER_ADMIN_ID {
        return Err(DomainError::Conflict(
            "The Super Admin role cannot be deleted: the clinic would have no role to manage users.".into(),
        ));
    }
    record::trash::<Role>(deps, tenant, actor, id, vec![]).await
}

/// Live (or trashed) roles whose name contains `search` (case-insensitive), by id.
pub async fn list(deps: &Deps, tenant: &Tenant, trashed: bool, search: Option<&str>) -> DomainResult<Vec<Stored<Role>>> {
    let needle = search.map(|s| s.trim().to_lowercase()).filter(|s| !s.is_empty());
    let mut roles: Vec<Stored<Role>> = record::list::<Role>(deps, tenant, trashed)
        .await?
        .into_iter()
        .filter(|r| needle.as_deref().is_none_or(|n| r.data.name.to_lowercase().contains(n)))
        .collect();
    roles.sort_by_key(|r| r.id);
    Ok(roles)
}

/// The README's "Roles and permissions" table: every permission, what it allows, and which
/// default roles hold it. A test keeps README.md equal to it.
pub fn permissions_table() -> String {
    let roles = defaults();
    let mut out = String::from("| Permission | Allows | Default roles |\n| --- | --- | --- |\n");
    for p in Permission::ALL {
        let holders: Vec<&str> = roles.iter().filter(|r| r.permissions.contains(p)).map(|r| r.name.as_str()).collect();
        out.push_str(&format!("| `{}` | {} | {} |\n", p.as_str(), p.describe(), holders.join(", ")));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn forms_parse_permissions() {
        let f = RoleForm::parse(&json!({"name": "kasir", "permissions": ["queue.view", "poly.view", "queue.view"]})).unwrap();
        assert_eq!(f.permissions, Some(vec![PolyView, QueueView]));
        assert_eq!(RoleForm::parse(&json!({"name": "kasir"})).unwrap().permissions, None);
        match RoleForm::parse(&json!({"name": "kasir", "permissions": ["poly.view", "fly", 3]})) {
            Err(DomainError::Validation(e)) => {
                assert_eq!(e.0["permissions"], json!(["The permissions field names unknown permissions: fly, 3."]))
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn default_roles_do_their_jobs() {
        let roles = defaults();
        let has = |name: &str, p: Permission| roles.iter().find(|r| r.name == name).unwrap().permissions.contains(&p);
        assert_eq!(roles[0].name, SUPER_ADMIN);
        for p in [UsersManage, RolesManage, StatusManage, ConfigManage] {
            assert!(has(SUPER_ADMIN, p));
        }
        assert!(has("Administrasi", ReservationsCreate) && has("Administrasi", PatientsManage));
        assert!(has("Perawat Anamnesa", QueueAnamnesa));
        assert!(has(DOCTOR, QueueDoctor));
        assert!(has("Kepala Klinik", DashboardView) && has("Kepala Klinik", ReportsView));
        for name in ["Kepala Klinik", DOCTOR, "Perawat Anamnesa", "Perawat Asisten", "Administrasi"] {
            assert!(!has(name, UsersManage) && !has(name, RolesManage), "{name} must not manage accounts");
        }
    }

    /// README.md shows `permissions_table()` verbatim; regenerate it from the panic message.
    #[test]
    fn readme_table_matches_the_code() {
        let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md")).expect("README.md");
        let table = permissions_table();
        assert!(readme.contains(&table), "README.md's \"## Roles and permissions\" table is out of date; it should read:\n\n{table}");
    }
}
