//! BPJS antrean online, clinic → BPJS, against the fake BPJS of `fake_bpjs.rs`: signed calls,
//! the seed's `antrean/add` body, task ids in order, retries with backoff, "already there"
//! and final refusals, unmapped polies, the sync list, secrets never answered.
use chrono::TimeZone;
use serde_json::{json, Value};

use crate::fake_bpjs::{Answer, FakeBpjs, CONS_ID, SECRET, USER_KEY};
use crate::helpers::{assert_error, Store, TestApp};
use crate::on_both_stores;
use crate::reservations::{clinic_today, Desk};
use crate::users::staff_token;

pub const WS_USER: &str = "mobilejkn";
pub const WS_PASSWORD: &str = "fake-ws-password-0001";

pub struct Bridge {
    pub desk: Desk,
    pub fake: FakeBpjs,
}

pub fn config_body(fake: &FakeBpjs, secret: &str) -> Value {
    json!({"tier": "rs", "base_url": fake.url, "cons_id": CONS_ID, "secret_key": secret, "user_key": USER_KEY,
        "ws_username": WS_USER, "ws_password": WS_PASSWORD})
}

impl Bridge {
    /// A desk (poly, doctor, today's 08:00–16:00 schedule) with BPJS configured against a fake
    /// BPJS and, when `mapped`, the poly mapped to `ANA` and the doctor to 12345.
    pub async fn open(store: Store, quota: Option<i64>, mapped: bool) -> Bridge {
        Self::open_tier(store, quota, mapped, "rs").await
    }

    /// The same on a tier: `rs` (FKTRL) or `fktp` (klinik pratama).
    pub async fn open_tier(store: Store, quota: Option<i64>, mapped: bool, tier: &str) -> Bridge {
        // Only the test sends (POST /api/bpjs/sync/run): no background run between its steps.
        std::env::set_var("WEBHOOK_RETRY_SECONDS", "0");
        // Nor right after the request (groups::bpjs::prompt), unless the test asked for it.
        if std::env::var("BPJS_PROMPT_SECONDS").is_err() {
            std::env::set_var("BPJS_PROMPT_SECONDS", "0");
        }
        let desk = Desk::open(store, quota).await;
        let fake = FakeBpjs::start().await;
        let mut config = config_body(&fake, SECRET);
        config["tier"] = json!(tier);
        let r = desk.app.put("/api/bpjs/config", &desk.admin, config).await;
        assert_eq!(r.status, 200, "{r:?}");
        let b = Bridge { desk, fake };
        if mapped {
            let r = b.map(json!({"polies": [{"poly_id": b.desk.poly, "kodepoli": "ANA", "prefix": "A"}], "doctors": [{"doctor_id": b.desk.doctor, "kodedokter": 12345}]})).await;
            assert_eq!(r.status, 200, "{r:?}");
        }
        b
    }

    pub fn app(&self) -> &TestApp {
        &self.desk.app
    }

    pub async fn map(&self, body: Value) -> crate::helpers::Reply {
        self.app().put("/api/bpjs/mapping", &self.desk.admin, body).await
    }

    /// Sends what is due now (`POST /api/bpjs/sync/run`).
    pub async fn run(&self) -> Value {
        let r = self.app().post("/api/bpjs/sync/run", &self.desk.admin, json!(null)).await;
        assert_eq!(r.status, 200, "{r:?}");
        r.body["data"].clone()
    }

    pub async fn sync(&self) -> Vec<Value> {
        let r = self.app().get(&format!("/api/bpjs/sync?date={}", self.desk.today), &self.desk.admin).await;
        assert_eq!(r.status, 200, "{r:?}");
        r.body["data"].as_array().cloned().unwrap()
    }

    /// A run an hour from now, when every backoff has passed (the test cannot wait for it):
    /// the same domain call as the route and the scheduled worker, with a later clock.
    pub async fn run_later(&self) -> Value {
        let deps = crate::webhooks::later(&self.app().deps().await, std::time::Duration::from_secs(3600));
        // The dev server's sender: the fake BPJS listens on loopback.
        let sender = antrean_domain::webhook::http::ReqwestSender::development().unwrap();
        let tenant = antrean_domain::Tenant::parse("default").unwrap();
        json!(antrean_domain::webhook::retry_clinic(&deps, &sender, &tenant).await.unwrap())
    }

    pub async fn moves(&self, id: i64, moves: &[&str]) {
        for mv in moves {
            let r = self.app().patch(&format!("/api/queue/{id}/{mv}"), &self.desk.admin, json!(null)).await;
            assert_eq!(r.status, 200, "{mv}: {r:?}");
        }
    }
}

pub fn keys(v: &Value) -> Vec<&str> {
    v.as_object()
        .unwrap_or_else(|| panic!("not an object: {v}"))
        .keys()
        .map(String::as_str)
        .collect()
}

pub fn statuses(row: &Value) -> Vec<(String, String)> {
    row["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["event"].as_str().unwrap().to_string(), e["status"].as_str().unwrap().to_string()))
        .collect()
}

pub fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
}

const SEED_ADD_KEYS: [&str; 23] = [
    "kodebooking",
    "jenispasien",
    "nomorkartu",
    "nik",
    "nohp",
    "kodepoli",
    "namapoli",
    "pasienbaru",
    "norm",
    "tanggalperiksa",
    "kodedokter",
    "namadokter",
    "jampraktek",
    "jeniskunjungan",
    "nomorreferensi",
    "nomorantrean",
    "angkaantrean",
    "estimasidilayani",
    "sisakuotajkn",
    "kuotajkn",
    "sisakuotanonjkn",
    "kuotanonjkn",
    "keterangan",
];

async fn events_reach_bpjs_signed_in_order_with_the_seed_body(store: Store) {
    let b = Bridge::open(store, Some(30), true).await;
    let mut body = b.desk.body(2);
    body["nik"] = json!("3212345678987654");
    body["nomorreferensi"] = json!("0001R0040116A000001");
    body["jeniskunjungan"] = json!(1);
    let r = b.app().post("/api/reservation", &b.desk.admin, body).await;
    assert_eq!(r.status, 200, "{r:?}");
    let id = r.body["data"]["reservation"]["id"].as_i64().unwrap();
    let detail = b.app().get(&format!("/api/reservation/{id}"), &b.desk.admin).await;
    let kodebooking = format!("{}{:04}{:04}", clinic_today().format("%Y%m%d"), b.desk.poly, 1);
    assert_eq!(detail.body["data"]["reservation"]["antrean_bpjs"]["kodebooking"], kodebooking, "{detail:?}");
    assert!(b.fake.events().is_empty(), "prompt sends are off here: only the outbox worker sends");

    assert_eq!(b.run().await, json!({"delivered": 2, "failed": 0, "expired": 0}));
    let ev = b.fake.events();
    assert_eq!(ev.iter().map(|c| c.path.as_str()).collect::<Vec<_>>(), ["antrean/add", "antrean/updatewaktu"]);
    assert!(ev.iter().all(|c| c.signed && c.method == "POST"), "every call carries a valid signature");
    let add = &ev[0].body;
    assert_eq!(keys(add), SEED_ADD_KEYS, "the seed's body, in its order");
    let start = chrono_tz::Asia::Jakarta
        .from_local_datetime(&clinic_today().and_hms_opt(8, 0, 0).unwrap())
        .unwrap()
        .timestamp_millis();
    assert_eq!(
        *add,
        json!({"kodebooking": kodebooking, "jenispasien": "JKN", "nomorkartu": "0000000000002", "nik": "3212345678987654", "nohp": "081200000002",
            "kodepoli": "ANA", "namapoli": "Poli Umum", "pasienbaru": 1, "norm": "000001", "tanggalperiksa": b.desk.today, "kodedokter": 12345,
            "namadokter": "dr. harris", "jampraktek": "08:00-16:00", "jeniskunjungan": 1, "nomorreferensi": "0001R0040116A000001", "nomorantrean": "A-1",
            "angkaantrean": 1, "estimasidilayani": start, "sisakuotajkn": 29, "kuotajkn": 30, "sisakuotanonjkn": 29, "kuotanonjkn": 30,
            "keterangan": "Peserta harap 30 menit lebih awal guna pencatatan administrasi."})
    );
    assert_eq!(keys(&ev[1].body), ["kodebooking", "taskid", "waktu"]);
    assert_eq!(
        (ev[1].body["kodebooking"].as_str(), ev[1].body["taskid"].as_i64()),
        (Some(kodebooking.as_str()), Some(3))
    );

    b.moves(id, &["anamnesa", "waitingdoctor", "withdoctor", "done"]).await;
    // The visit is over but BPJS has not yet had its tasks: the patient cannot be erased yet.
    let pid = detail.body["data"]["reservation"]["patient_id"].as_i64().unwrap();
    let early = b.app().post(&format!("/api/patients/{pid}/erase"), &b.desk.admin, json!({"confirm": true})).await;
    assert_eq!(early.status.as_u16(), 409, "{early:?}");
    assert_eq!(b.run().await["delivered"], 2);
    let ev = b.fake.events();
    let tasks: Vec<i64> = ev.iter().skip(1).map(|c| c.body["taskid"].as_i64().unwrap()).collect();
    assert_eq!(tasks, [3, 4, 5]);
    let times: Vec<i64> = ev.iter().skip(1).map(|c| c.body["waktu"].as_i64().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "task times increase: {times:?}");

    let rows = b.sync().await;
    assert_eq!(rows.len(), 1);
    assert_eq!((rows[0]["reservation_id"].as_i64(), rows[0]["status"].as_str()), (Some(id), Some("sent")));
    assert_eq!(
        statuses(&rows[0]),
        pairs(&[("add", "sent"), ("task3", "sent"), ("task4", "sent"), ("task5", "sent")])
    );
    assert_eq!(rows[0]["events"][0]["message"], "200 Ok");
    // Nothing is sent twice.
    assert_eq!(b.run_later().await["delivered"], 0);
    assert_eq!(b.fake.events().len(), 4);

    // Erasing the patient (UU PDP) also erases what the reservation kept for BPJS.
    let erased = b
        .app()
        .post(&format!("/api/patients/{pid}/erase"), &b.desk.admin, json!({"confirm": true}))
        .await;
    assert_eq!(erased.status, 200, "{erased:?}");
    let after = b.app().get(&format!("/api/reservation/{id}"), &b.desk.admin).await;
    let visit = &after.body["data"]["reservation"]["antrean_bpjs"];
    assert_eq!(
        (visit["nomorkartu"].as_str(), visit["nik"].as_str(), visit["nomorreferensi"].as_str()),
        (Some(""), Some(""), Some("")),
        "{visit}"
    );
    assert_eq!(visit["kodebooking"], kodebooking, "the booking code stays: BPJS knows the visit by it");
}

async fn a_failing_bpjs_is_retried_with_backoff_and_already_there_counts_as_delivered(store: Store) {
    let b = Bridge::open(store, Some(30), true).await;
    b.fake
        .script("antrean/add", vec![Answer::Http(503), Answer::Meta(208, "Terdapat duplikasi Kode Booking")]);
    b.fake.script("antrean/updatewaktu", vec![Answer::Meta(201, "TaskId=3 sudah ada")]);
    b.desk.reserve(2).await;
    assert_eq!(b.run().await, json!({"delivered": 0, "failed": 1, "expired": 0}));
    assert_eq!(b.fake.events().len(), 1, "task 3 waits until the add is accepted");
    let rows = b.sync().await;
    assert_eq!(rows[0]["status"], "pending");
    assert_eq!(statuses(&rows[0]), pairs(&[("add", "pending"), ("task3", "pending")]));
    assert_eq!(rows[0]["events"][0]["attempts"], 1);
    assert!(rows[0]["events"][0]["message"].as_str().unwrap().contains("503"), "{rows:?}");
    // Not due again before its backoff.
    assert_eq!(b.run().await, json!({"delivered": 0, "failed": 0, "expired": 0}));
    assert_eq!(b.fake.events().len(), 1);

    assert_eq!(b.run_later().await["delivered"], 2);
    let ev = b.fake.events();
    assert_eq!(
        ev.iter().map(|c| c.path.as_str()).collect::<Vec<_>>(),
        ["antrean/add", "antrean/add", "antrean/updatewaktu"]
    );
    assert_eq!(ev[0].body, ev[1].body, "a retry sends the same body");
    let rows = b.sync().await;
    assert_eq!(rows[0]["status"], "sent");
    assert_eq!(rows[0]["events"][0]["message"], "208 Terdapat duplikasi Kode Booking");
    assert_eq!(rows[0]["events"][1]["message"], "201 TaskId=3 sudah ada");
}

async fn a_final_refusal_stops_the_retries_and_the_events_after_it(store: Store) {
    let b = Bridge::open(store, Some(30), true).await;
    b.fake.script("antrean/add", vec![Answer::Meta(201, "Rujukan tidak valid")]);
    let id = b.desk.reserve(2).await;
    assert_eq!(b.run().await, json!({"delivered": 0, "failed": 0, "expired": 2}));
    let rows = b.sync().await;
    assert_eq!(rows[0]["status"], "error");
    assert_eq!(statuses(&rows[0]), pairs(&[("add", "refused"), ("task3", "blocked")]));
    assert_eq!(rows[0]["events"][0]["message"], "201 Rujukan tidak valid");
    b.moves(id, &["anamnesa", "waitingdoctor", "withdoctor"]).await;
    b.run_later().await;
    assert_eq!(b.fake.events().len(), 1, "BPJS is asked once; nothing after a final refusal is sent");
    assert_eq!(
        statuses(&b.sync().await[0]),
        pairs(&[("add", "refused"), ("task3", "blocked"), ("task4", "blocked")])
    );
    let errors = b.app().get(&format!("/api/bpjs/sync?date={}&status=error", b.desk.today), &b.desk.admin).await;
    assert_eq!(errors.body["data"].as_array().unwrap().len(), 1);
    let sent = b.app().get(&format!("/api/bpjs/sync?date={}&status=sent", b.desk.today), &b.desk.admin).await;
    assert_eq!(sent.body["data"], json!([]));
}

async fn a_wrong_signature_is_refused_by_bpjs_until_the_clinic_fixes_its_secret(store: Store) {
    let b = Bridge::open(store, Some(30), true).await;
    let r = b.app().put("/api/bpjs/config", &b.desk.admin, config_body(&b.fake, "fake-wrong-secret")).await;
    assert_eq!(r.status, 200, "{r:?}");
    b.desk.reserve(1).await;
    assert_eq!(b.run().await["failed"], 1);
    let calls = b.fake.events();
    assert_eq!(calls.len(), 1);
    assert!(!calls[0].signed, "signed with the wrong secret");
    assert_eq!(b.sync().await[0]["events"][0]["message"], "401 Authentication failed");
    // Fixed: only the secret is sent again; the rest is kept.
    let r = b
        .app()
        .put(
            "/api/bpjs/config",
            &b.desk.admin,
            json!({"base_url": b.fake.url, "cons_id": CONS_ID, "secret_key": SECRET}),
        )
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(b.run_later().await["delivered"], 2);
    assert!(b.fake.events()[1..].iter().all(|c| c.signed));
    assert_eq!(b.fake.events()[1].body["jenispasien"], "NON JKN");
    assert_eq!(b.fake.events()[1].body["nomorkartu"], "");
}

async fn an_unmapped_poly_is_not_sent_and_codes_come_from_bpjs_lists(store: Store) {
    let b = Bridge::open(store, Some(30), false).await;
    let r = b
        .map(json!({"polies": [{"poly_id": b.desk.poly, "kodepoli": "XYZ"}], "doctors": [{"doctor_id": b.desk.doctor, "kodedokter": 999}]}))
        .await;
    assert_error(&r, 422, "BPJS has no poli with the code XYZ.");
    assert_eq!(r.body["errors"]["doctors.0.kodedokter"], json!(["BPJS has no doctor with the code 999."]));
    let refs = b.app().get("/api/bpjs/ref/poli", &b.desk.admin).await;
    assert_eq!(
        refs.body["data"],
        json!([{"kode": "ANA", "nama": "ANAK"}, {"kode": "INT", "nama": "PENYAKIT DALAM"}]),
        "decrypted from BPJS's answer"
    );
    assert!(b.fake.calls().iter().all(|c| c.signed));

    b.desk.reserve(2).await;
    assert_eq!(b.run().await["delivered"], 0);
    assert!(b.fake.events().is_empty());
    let rows = b.sync().await;
    assert_eq!(statuses(&rows[0]), pairs(&[("add", "skipped"), ("task3", "blocked")]));
    assert_eq!(
        rows[0]["events"][0]["message"],
        "Not sent: the poly Poli Umum has no BPJS code (kodepoli); map it in PUT /api/bpjs/mapping."
    );
}

async fn credentials_are_never_answered_and_only_managers_configure(store: Store) {
    let desk = Desk::open(store, None).await;
    let fake = FakeBpjs::start().await;
    let (app, admin) = (&desk.app, &desk.admin);
    assert_error(&app.get("/api/bpjs/config", admin).await, 404, "BPJS is not configured for this clinic.");
    let r = app.put("/api/bpjs/config", admin, json!({"base_url": "ftp://x", "cons_id": CONS_ID})).await;
    assert_eq!(r.status, 422, "{r:?}");
    assert_eq!(keys(&r.body["errors"]), ["base_url", "secret_key", "user_key"]);
    let mut metadata = config_body(&fake, SECRET);
    metadata["base_url"] = json!("http://169.254.169.254/latest");
    let r = app.put("/api/bpjs/config", admin, metadata).await;
    assert_eq!(
        r.body["errors"]["base_url"],
        json!(["The base url field is refused: link-local and metadata addresses are not allowed."]),
        "{r:?}"
    );
    assert_eq!(app.put("/api/bpjs/config", admin, config_body(&fake, SECRET)).await.status, 200);
    let r = app.get("/api/bpjs/config", admin).await;
    let text = r.body.to_string();
    assert!(!text.contains(SECRET) && !text.contains(USER_KEY) && !text.contains(WS_PASSWORD), "{text}");
    assert_eq!(
        (r.body["data"]["secret_key_set"].as_bool(), r.body["data"]["user_key_set"].as_bool()),
        (Some(true), Some(true))
    );
    assert_eq!(r.body["data"]["service_name"], "antreanrs");
    // Reception may not touch it (no bpjs.manage; no bpjs.view either).
    let staff = staff_token(app, admin, "admisi", json!([6])).await;
    assert_error(
        &app.put("/api/bpjs/config", &staff, config_body(&fake, SECRET)).await,
        403,
        "This action is unauthorized.",
    );
    assert_error(&app.get("/api/bpjs/sync", &staff).await, 403, "This action is unauthorized.");
}

async fn jkn_and_non_jkn_quotas_are_held_apart(store: Store) {
    let desk = Desk::open(store, None).await;
    let (app, admin) = (&desk.app, &desk.admin);
    let r = app
        .post("/api/schedule", admin, json!({"doctor_id": desk.doctor, "date": crate::reservations::day(1), "start_time": "17:00", "end_time": "20:00", "quota": 10, "quota_jkn": 1, "quota_non_jkn": 9}))
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    let sid = r.body["data"]["id"].as_i64().unwrap();
    let detail = app.get(&format!("/api/schedule/{sid}"), admin).await;
    assert_eq!(
        (detail.body["data"]["quota_jkn"].as_i64(), detail.body["data"]["quota_non_jkn"].as_i64()),
        (Some(1), Some(9))
    );
    let body = |n: usize, bpjs: bool| {
        let mut b = desk.body(n);
        b["schedule_id"] = json!(sid);
        b["date"] = json!(crate::reservations::day(1));
        b["bpjs"] = json!(bpjs);
        b
    };
    let first = app.post("/api/reservation", admin, body(1, true)).await;
    assert_eq!(first.status, 200, "{first:?}");
    assert_error(&app.post("/api/reservation", admin, body(2, true)).await, 422, "Quota is full");
    assert_eq!(
        app.post("/api/reservation", admin, body(3, false)).await.status,
        200,
        "the non-JKN quota has room"
    );
    let id = first.body["data"]["reservation"]["id"].as_i64().unwrap();
    assert_eq!(app.patch(&format!("/api/queue/{id}/cancelled"), admin, json!(null)).await.status, 200);
    assert_eq!(
        app.post("/api/reservation", admin, body(2, true)).await.status,
        200,
        "a cancel gives the JKN place back"
    );
    let bad = app
        .post(
            "/api/schedule",
            admin,
            json!({"doctor_id": desk.doctor, "date": crate::reservations::day(2), "start_time": "08:00", "end_time": "10:00", "quota_jkn": "x"}),
        )
        .await;
    assert_eq!(
        bad.body["errors"]["quota_jkn"],
        json!(["The quota jkn field must be an integer between 1 and 10000."])
    );
}

/// Bad BPJS fields on a reservation are refused with the seed's envelope, and nothing is made.
async fn bad_bpjs_fields_are_refused_and_the_routes_are_documented(store: Store) {
    let b = Bridge::open(store, Some(30), true).await;
    let mut body = b.desk.body(2);
    body["nik"] = json!("12ab");
    body["jeniskunjungan"] = json!(7);
    let r = b.app().post("/api/reservation", &b.desk.admin, body).await;
    assert_eq!(r.status, 422, "{r:?}");
    assert_eq!(r.body["errors"]["nik"], json!(["The nik field must be 16 digits."]));
    assert_eq!(r.body["errors"]["jeniskunjungan"], json!(["The jeniskunjungan field must be 1, 2, 3 or 4."]));
    assert_eq!(b.run().await, json!({"delivered": 0, "failed": 0, "expired": 0}), "nothing was queued");
    assert_eq!(b.sync().await, Vec::<Value>::new());
    let doc: Value = b
        .app()
        .client
        .get(format!("{}/api/openapi.json", b.app().base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for path in [
        "/api/bpjs/config",
        "/api/bpjs/mapping",
        "/api/bpjs/ref/poli",
        "/api/bpjs/ref/dokter",
        "/api/bpjs/sync",
        "/api/bpjs/sync/run",
        "/api/bpjs/sync/backfill",
        "/api/bpjs/visits/{id}/{step}",
        "/api/bpjs/ws/{clinic}/token",
        "/api/bpjs/ws/{clinic}/statusantrean",
        "/api/bpjs/ws/{clinic}/ambilantrean",
        "/api/bpjs/ws/{clinic}/sisaantrean",
        "/api/bpjs/ws/{clinic}/batalantrean",
        "/api/bpjs/ws/{clinic}/checkin",
        "/api/bpjs/ws/{clinic}/pasienbaru",
        "/api/bpjs/fktp/{clinic}/auth",
        "/api/bpjs/fktp/{clinic}/antrean/status/{kodepoli}/{tanggal}",
        "/api/bpjs/fktp/{clinic}/antrean/sisapeserta/{nokartu}/{kodepoli}/{tanggal}",
        "/api/bpjs/fktp/{clinic}/antrean",
        "/api/bpjs/fktp/{clinic}/peserta",
        "/api/bpjs/fktp/{clinic}/antrean/batal",
    ] {
        assert!(doc["paths"].get(path).is_some(), "{path} is not documented");
    }
}

on_both_stores!(
    bad_bpjs_fields_are_refused_and_the_routes_are_documented,
    events_reach_bpjs_signed_in_order_with_the_seed_body,
    a_failing_bpjs_is_retried_with_backoff_and_already_there_counts_as_delivered,
    a_final_refusal_stops_the_retries_and_the_events_after_it,
    a_wrong_signature_is_refused_by_bpjs_until_the_clinic_fixes_its_secret,
    an_unmapped_poly_is_not_sent_and_codes_come_from_bpjs_lists,
    credentials_are_never_answered_and_only_managers_configure,
    jkn_and_non_jkn_quotas_are_held_apart,
);
