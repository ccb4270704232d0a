//! Roles: a name and the permissions it grants. The seed's six roles are created with every
//! clinic, in the seed's order, so role ids 1..6 mean what the seed's dummy data expects.
use antrean_store::Op;
use serde::{Deserialize, Serialize};

use crate::error::DomainResult;
use crate::permission::Permission::{self, *};
use crate::record::{self, Record, Unique};
use crate::tenant::Tenant;

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
pub const DOCTOR: &str = "Dokter";

/// The seed's roles with the permissions a small clinic expects of each.
pub fn defaults() -> Vec<Role> {
    let view_master = [PolyView, StatusView, PatientsView, SchedulesView, ReservationsView, QueueView, CheckupsView];
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
            permissions: with(&[UsersView, RolesView, ConfigView, DashboardView, ReportsView, ReportsExport, AuditView]),
        },
        Role { name: DOCTOR.into(), permissions: with(&[QueueDoctor, CheckupsManage]) },
        Role { name: "Perawat Anamnesa".into(), permissions: with(&[PatientsManage, QueueAnamnesa, QueueCancel]) },
        Role { name: "Perawat Asisten".into(), permissions: with(&[QueueDoctor]) },
        Role {
            name: "Administrasi".into(),
            permissions: with(&[
                PatientsManage,
                SchedulesManage,
                ReservationsCreate,
                ReservationsUpdate,
                QueueCancel,
                CheckupsManage,
                ConfigView,
            ]),
        },
    ]
}

pub fn seed_ops(tenant: &Tenant, ts: &str) -> Vec<Op> {
    record::seed_ops(tenant, defaults(), ts).expect("the default roles serialise")
}

/// The union of the permissions of the given live roles.
pub async fn permissions_of(deps: &crate::Deps, tenant: &Tenant, role_ids: &[i64]) -> DomainResult<Vec<(i64, String, Vec<Permission>)>> {
    let mut out = Vec::new();
    for id in role_ids {
        if let Some(r) = record::get::<Role>(deps, tenant, *id).await? {
            if !r.is_trashed() {
                out.push((r.id, r.data.name, r.data.permissions));
            }
        }
    }
    Ok(out)
}
