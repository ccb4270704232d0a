//! What the appointment tests share: a clinic on the embedded store and a clock they move.
use std::sync::{Arc, Mutex};

use chrono::{DateTime, TimeZone, Utc};
use serde_json::{json, Value};

use crate::audit::Actor;
use crate::poly::Poly;
use crate::tenant::Tenant;
use crate::user::User;
use crate::{Clock, Deps};

/// A clock the test moves: holds run out without anyone waiting.
pub struct TestClock(Mutex<DateTime<Utc>>);

impl Clock for TestClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap()
    }
}

impl TestClock {
    pub fn pass(&self, minutes: i64) {
        *self.0.lock().unwrap() += chrono::Duration::minutes(minutes);
    }
}

/// A clinic (Asia/Jakarta, the default) with Poli Umum and doctor 1, at 2030-01-09 08:00 clinic time.
pub async fn clinic() -> (tempfile::TempDir, Deps, Arc<TestClock>, Tenant, Actor) {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(TestClock(Mutex::new(Utc.with_ymd_and_hms(2030, 1, 9, 1, 0, 0).unwrap())));
    let deps = crate::test_deps(dir.path(), clock.clone());
    let tenant = Tenant::parse("klinik").unwrap();
    let ts = "2030-01-01T00:00:00.000000Z";
    deps.table.write(crate::role::seed_ops(&tenant, ts)).await.unwrap();
    deps.table.write(crate::record::seed_ops(&tenant, vec![Poly { name: "Poli Umum".into() }], ts).unwrap()).await.unwrap();
    let doctor = User {
        name: "Harris".into(),
        email: "harris@mail.com".into(),
        email_verified_at: None,
        poly_id: Some(1),
        username: "harris".into(),
        roles: vec![3],
        role_since: vec![],
        whatsapp_number: None,
        sessions_revoked_ms: None,
    };
    deps.table.write(crate::record::seed_ops(&tenant, vec![doctor], ts).unwrap()).await.unwrap();
    (dir, deps, clock, tenant, Actor::system("test"))
}

pub fn visitor(n: usize) -> Value {
    json!({"patient_name": format!("Pasien {n}"), "whatsapp_number": format!("0813{n:08}")})
}

pub fn with(mut body: Value, extra: Value) -> Value {
    if let (Value::Object(b), Value::Object(e)) = (&mut body, extra) {
        b.extend(e);
    }
    body
}

