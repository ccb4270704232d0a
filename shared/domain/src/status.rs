//! Queue statuses. Their codes (`status_name`) are what the queue engine keys on; labels and
//! information are the clinic's to edit. Seeded with every clinic, ids 1..7 in workflow order.
use antrean_store::Op;
use serde::{Deserialize, Serialize};

use crate::record::{self, Record, Unique};
use crate::tenant::Tenant;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Status {
    pub status_name: String,
    pub label: String,
    pub information: Option<String>,
}

impl Record for Status {
    const KIND: &'static str = "STATUS";
    const LABEL: &'static str = "Status";
    fn unique(&self) -> Vec<Unique> {
        vec![Unique::new("status_name", &self.status_name)]
    }
}

/// The workflow's codes, in order, with the clinic-facing defaults.
pub const WORKFLOW: &[(&str, &str, &str)] = &[
    ("WAITING", "Menunggu", "Menunggu dipanggil anamnesa"),
    ("ANAMNESA", "Anamnesa", "Sedang pemeriksaan oleh perawat"),
    ("WAITING_DOCTOR", "Menunggu Dokter", "Menunggu dipanggil dokter"),
    ("WITH_DOCTOR", "Dengan Dokter", "Sedang konsultasi dengan dokter"),
    ("DONE", "Selesai", "Selesai, bisa ambil obat/pulang"),
    ("NO_SHOW", "Tidak Hadir", "Tidak datang saat dipanggil"),
    ("CANCELLED", "Dibatalkan", "Batal oleh pasien atau admin"),
];

pub fn defaults() -> Vec<Status> {
    WORKFLOW
        .iter()
        .map(|(code, label, info)| Status { status_name: (*code).into(), label: (*label).into(), information: Some((*info).into()) })
        .collect()
}

pub fn seed_ops(tenant: &Tenant, ts: &str) -> Vec<Op> {
    record::seed_ops(tenant, defaults(), ts).expect("the default statuses serialise")
}
