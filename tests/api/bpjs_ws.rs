//! BPJS antrean online, Mobile JKN → clinic (WS RS): the token, status antrean, ambil antrean
//! (a real reservation, 202 for a patient the clinic does not know), info pasien baru, sisa
//! antrean, check-in (task 1 for a new patient, 3 for a known one), batal, and ambil antrean racing reception for the last place.
use futures::future::join;
use serde_json::{json, Value};

use crate::bpjs::{keys, Bridge, WS_PASSWORD, WS_USER};
use crate::helpers::{Store, TestApp};
use crate::on_both_stores;
use crate::reservations::{day, schedule};

async fn ws(app: &TestApp, path: &str, headers: &[(&str, &str)], body: Option<Value>) -> Value {
    let method = if path == "token" { reqwest::Method::GET } else { reqwest::Method::POST };
    call(app, method, &format!("/api/bpjs/ws/default/{path}"), headers, body).await
}

async fn call(app: &TestApp, method: reqwest::Method, path: &str, headers: &[(&str, &str)], body: Option<Value>) -> Value {
    let mut req = app.client.request(method, format!("{}{path}", app.base));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().await.unwrap();
    assert_eq!(res.status(), 200, "BPJS's WS answers HTTP 200 and puts its code in metadata");
    res.json().await.unwrap()
}

struct Jkn {
    token: String,
}

impl Jkn {
    async fn sign_in(app: &TestApp) -> Jkn {
        let r = ws(app, "token", &[("x-username", WS_USER), ("x-password", WS_PASSWORD)], None).await;
        assert_eq!(r["metadata"], json!({"message": "Ok", "code": 200}), "{r}");
        Jkn {
            token: r["response"]["token"].as_str().unwrap().to_string(),
        }
    }
    async fn call(&self, app: &TestApp, path: &str, body: Value) -> Value {
        ws(app, path, &[("x-username", WS_USER), ("x-token", &self.token)], Some(body)).await
    }
}

fn code(v: &Value) -> i64 {
    v["metadata"]["code"].as_i64().unwrap_or_else(|| panic!("no metadata code: {v}"))
}

fn take(card: &str, date: &str) -> Value {
    json!({"nomorkartu": card, "nik": "3212345678987654", "nohp": "085635228888", "kodepoli": "ANA", "norm": "", "tanggalperiksa": date,
        "kodedokter": 12345, "jampraktek": "08:00-16:00", "jeniskunjungan": 1, "nomorreferensi": "0001R0040116A000001"})
}

async fn new_patient(jkn: &Jkn, app: &TestApp, card: &str, name: &str, phone: &str) -> String {
    let r = jkn
        .call(
            app,
            "pasienbaru",
            json!({"nomorkartu": card, "nik": "3212345678987654", "nomorkk": "3212345678987654", "nama": name, "jeniskelamin": "L",
            "tanggallahir": "1985-03-01", "nohp": phone, "alamat": "Jl. Mawar 1", "kodeprop": "32", "namaprop": "Jawa Barat"}),
        )
        .await;
    assert_eq!(code(&r), 200, "{r}");
    assert_eq!(r["metadata"]["message"], "Harap datang ke admisi untuk melengkapi data rekam medis");
    r["response"]["norm"].as_str().unwrap().to_string()
}

async fn mobile_jkn_takes_checks_in_and_cancels_a_number(store: Store) {
    let b = Bridge::open(store, Some(30), true).await;
    let app = b.app();
    let wrong = ws(app, "token", &[("x-username", WS_USER), ("x-password", "not-the-password")], None).await;
    assert_eq!(wrong["metadata"], json!({"message": "Username atau Password Tidak Sesuai", "code": 201}));
    let stale = ws(app, "statusantrean", &[("x-username", WS_USER), ("x-token", "made-up")], Some(json!({}))).await;
    assert_eq!(stale["metadata"], json!({"message": "Token Expired", "code": 201}));
    let jkn = Jkn::sign_in(app).await;
    let today = b.desk.today.clone();

    let status = json!({"kodepoli": "ANA", "kodedokter": 12345, "tanggalperiksa": today, "jampraktek": "08:00-16:00"});
    let r = jkn.call(app, "statusantrean", status.clone()).await;
    assert_eq!(
        r["response"],
        json!({"namapoli": "Poli Umum", "namadokter": "dr. harris", "totalantrean": 0, "sisaantrean": 0, "antreanpanggil": "-", "sisakuotajkn": 30,
            "kuotajkn": 30, "sisakuotanonjkn": 30, "kuotanonjkn": 30, "keterangan": "Peserta harap 30 menit lebih awal guna pencatatan administrasi."})
    );
    let unknown_poly = jkn
        .call(app, "statusantrean", json!({"kodepoli": "INT", "kodedokter": 12345, "tanggalperiksa": today}))
        .await;
    assert_eq!(unknown_poly["metadata"], json!({"message": "Poli Tidak Ditemukan", "code": 201}));

    // A patient the clinic does not know: 202, then info pasien baru, then the number.
    let r = jkn.call(app, "ambilantrean", take("0000000000077", &today)).await;
    assert_eq!(code(&r), 202, "{r}");
    let norm = new_patient(&jkn, app, "0000000000077", "Budi Santoso", "081277777777").await;
    let r = jkn.call(app, "ambilantrean", take("0000000000077", &today)).await;
    assert_eq!(code(&r), 200, "{r}");
    let got = &r["response"];
    assert_eq!(
        (got["nomorantrean"].as_str(), got["angkaantrean"].as_i64(), got["norm"].as_str()),
        (Some("A-1"), Some(1), Some(norm.as_str()))
    );
    assert_eq!((got["sisakuotajkn"].as_i64(), got["kuotajkn"].as_i64()), (Some(29), Some(30)));
    let kodebooking = got["kodebooking"].as_str().unwrap().to_string();
    let again = jkn.call(app, "ambilantrean", take("0000000000077", &today)).await;
    assert_eq!(
        again["metadata"],
        json!({"message": "Nomor Antrean Hanya Dapat Diambil 1 Kali Pada Tanggal Yang Sama", "code": 201})
    );

    // It is a real reservation: reception's queue shows it.
    let queue = app.get(&format!("/api/queue?date={today}&poly_id={}", b.desk.poly), &b.desk.admin).await;
    assert_eq!(queue.body["data"]["total"], 1, "{queue:?}");
    assert_eq!(jkn.call(app, "statusantrean", status.clone()).await["response"]["totalantrean"], 1);
    let sisa = jkn.call(app, "sisaantrean", json!({"kodebooking": kodebooking})).await;
    assert_eq!(code(&sisa), 200, "{sisa}");
    assert_eq!(
        (sisa["response"]["nomorantrean"].as_str(), sisa["response"]["sisaantrean"].as_i64()),
        (Some("A-1"), Some(0))
    );

    // Booked from the app: only the add goes until the patient checks in. Registered through
    // info pasien baru and never seen: a new patient, so the check-in is task 1 (waiting for
    // admission), and the desk's admission steps are tasks 2 and 3.
    assert_eq!(b.run().await["delivered"], 1);
    let waktu = chrono::Utc::now().timestamp_millis();
    assert_eq!(code(&jkn.call(app, "checkin", json!({"kodebooking": kodebooking, "waktu": waktu})).await), 200);
    assert_eq!(code(&jkn.call(app, "checkin", json!({"kodebooking": kodebooking, "waktu": waktu + 5})).await), 200, "twice is harmless");
    assert_eq!(b.run().await["delivered"], 1);
    let ev = b.fake.events();
    assert_eq!(
        (ev[1].path.as_str(), ev[1].body["taskid"].as_i64(), ev[1].body["waktu"].as_i64()),
        ("antrean/updatewaktu", Some(1), Some(waktu))
    );
    assert_eq!(ev[0].body["pasienbaru"], 1, "registered through info pasien baru, never seen before");
    let id = queue.body["data"]["data"][0]["reservation_id"].as_i64().unwrap_or_else(|| panic!("{queue:?}"));
    for step in ["admission", "admitted", "admitted"] {
        let r = app.patch(&format!("/api/bpjs/visits/{id}/{step}"), &b.desk.admin, json!(null)).await;
        assert_eq!(r.status, 200, "{step}: {r:?}");
    }
    assert_eq!(b.run().await["delivered"], 2);
    let tasks: Vec<i64> = b.fake.events().iter().filter_map(|c| c.body["taskid"].as_i64()).collect();
    assert_eq!(tasks, [1, 2, 3]);

    let r = jkn
        .call(app, "batalantrean", json!({"kodebooking": kodebooking, "keterangan": "berhalangan"}))
        .await;
    assert_eq!(r["metadata"], json!({"message": "Ok", "code": 200}));
    let again = jkn
        .call(app, "batalantrean", json!({"kodebooking": kodebooking, "keterangan": "berhalangan"}))
        .await;
    assert_eq!(
        again["metadata"],
        json!({"message": "Antrean Tidak Ditemukan atau Sudah Dibatalkan", "code": 201})
    );
    assert_eq!(b.run().await["delivered"], 1);
    assert_eq!(b.fake.events().last().unwrap().path, "antrean/batal");
    let status_after = jkn.call(app, "statusantrean", status).await;
    assert_eq!(status_after["response"]["sisakuotajkn"], 30, "the place is back");
}

async fn ambil_antrean_and_reception_race_for_the_last_place(store: Store) {
    let b = Bridge::open(store, Some(30), true).await;
    let app = b.app();
    let jkn = Jkn::sign_in(app).await;
    new_patient(&jkn, app, "0000000000088", "Sari Dewi", "081288888888").await;
    for round in 1..=3 {
        let date = day(round);
        let sid = schedule(app, &b.desk.admin, b.desk.doctor, &date, "08:00", "16:00", Some(1)).await;
        let mut desk_body = b.desk.body(round as usize);
        desk_body["schedule_id"] = json!(sid);
        desk_body["date"] = json!(date);
        let (desk, mobile) = join(
            app.post("/api/reservation", &b.desk.admin, desk_body),
            jkn.call(app, "ambilantrean", take("0000000000088", &date)),
        )
        .await;
        let desk_won = desk.status == 200;
        let app_won = code(&mobile) == 200;
        assert!(desk_won != app_won, "exactly one gets the last place: desk {desk:?}, app {mobile}");
        if desk_won {
            assert_eq!(mobile["metadata"], json!({"message": "Kuota Penuh", "code": 201}));
        } else {
            assert_eq!((desk.status.as_u16(), desk.body["message"].as_str()), (422, Some("Quota is full")));
        }
        let status = jkn
            .call(
                app,
                "statusantrean",
                json!({"kodepoli": "ANA", "kodedokter": 12345, "tanggalperiksa": date, "jampraktek": "08:00-16:00"}),
            )
            .await;
        assert_eq!(
            (status["response"]["totalantrean"].as_i64(), status["response"]["sisakuotajkn"].as_i64()),
            (Some(1), Some(0)),
            "{status}"
        );
    }
}

/// The FKTP tier: Mobile JKN's calls on a klinik pratama, and what the clinic sends BPJS.
async fn a_klinik_pratama_answers_antrean_fktp(store: Store) {
    let b = Bridge::open_tier(store, Some(30), true, "fktp").await;
    let app = b.app();
    let fktp = |m: reqwest::Method, path: &str, token: Option<&str>, body: Option<Value>| {
        let path = format!("/api/bpjs/fktp/default/{path}");
        let token = token.map(str::to_string);
        async move {
            match token {
                Some(t) => call(app, m, &path, &[("x-username", WS_USER), ("x-token", &t)], body).await,
                None => call(app, m, &path, &[("x-username", WS_USER), ("x-password", WS_PASSWORD)], body).await,
            }
        }
    };
    let auth = fktp(reqwest::Method::GET, "auth", None, None).await;
    assert_eq!(code(&auth), 200, "{auth}");
    let token = auth["response"]["token"].as_str().unwrap().to_string();
    let t = Some(token.as_str());
    let today = b.desk.today.clone();
    let status = fktp(reqwest::Method::GET, &format!("antrean/status/ANA/{today}"), t, None).await;
    assert_eq!(
        status["response"],
        json!([{"namapoli": "Poli Umum", "totalantrean": 0, "sisaantrean": 0, "antreanpanggil": "-",
            "keterangan": "Peserta harap 30 menit lebih awal guna pencatatan administrasi.", "kodedokter": 12345, "namadokter": "dr. harris", "jampraktek": "08:00-16:00"}])
    );
    let card = "0000000000066";
    let body = json!({"nomorkartu": card, "nik": "3212345678987654", "kodepoli": "ANA", "tanggalperiksa": today, "keluhan": "demam", "kodedokter": 12345,
        "jampraktek": "08:00-16:00", "norm": "", "nohp": "081266666666"});
    assert_eq!(
        code(&fktp(reqwest::Method::POST, "antrean", t, Some(body.clone())).await),
        202,
        "unknown card: register first"
    );
    let peserta = fktp(
        reqwest::Method::POST,
        "peserta",
        t,
        Some(json!({"nomorkartu": card, "nama": "Wati", "nohp": "081266666666", "jeniskelamin": "P"})),
    )
    .await;
    assert_eq!(code(&peserta), 200, "{peserta}");
    let taken = fktp(reqwest::Method::POST, "antrean", t, Some(body)).await;
    assert_eq!(code(&taken), 200, "{taken}");
    assert_eq!(taken["response"]["nomorantrean"], "A-1");
    assert_eq!(
        keys(&taken["response"]),
        ["nomorantrean", "angkaantrean", "namapoli", "sisaantrean", "antreanpanggil", "keterangan"]
    );
    let sisa = fktp(reqwest::Method::GET, &format!("antrean/sisapeserta/{card}/ANA/{today}"), t, None).await;
    assert_eq!(
        (sisa["response"]["nomorantrean"].as_str(), sisa["response"]["sisaantrean"].as_i64()),
        (Some("A-1"), Some(0)),
        "{sisa}"
    );

    // Outbound on FKTP: add without booking code; the doctor's call is antrean/panggil; batal by card.
    let desk_id = b.desk.reserve(2).await;
    b.moves(desk_id, &["anamnesa", "waitingdoctor", "withdoctor"]).await;
    let batal = fktp(
        reqwest::Method::PUT,
        "antrean/batal",
        t,
        Some(json!({"tanggalperiksa": today, "kodepoli": "ANA", "nomorkartu": card, "alasan": "sakit"})),
    )
    .await;
    assert_eq!(batal["metadata"], json!({"message": "Ok", "code": 200}));
    b.run().await;
    let ev = b.fake.events();
    let paths: Vec<&str> = ev.iter().map(|c| c.path.as_str()).collect();
    assert_eq!(paths.iter().filter(|p| **p == "antrean/add").count(), 2, "{paths:?}");
    assert!(ev.iter().all(|c| c.signed && c.body.get("kodebooking").is_none()), "FKTP has no booking code");
    let panggil = ev.iter().find(|c| c.path == "antrean/panggil").expect("the doctor's call is reported");
    assert_eq!(keys(&panggil.body), ["tanggalperiksa", "kodepoli", "nomorkartu", "status", "waktu"]);
    assert_eq!(
        (panggil.body["status"].as_i64(), panggil.body["nomorkartu"].as_str()),
        (Some(1), Some("0000000000002"))
    );
    let cancel = ev.iter().find(|c| c.path == "antrean/batal").expect("the cancel is reported");
    assert_eq!(cancel.body["nomorkartu"], card);
    assert!(!paths.contains(&"antrean/updatewaktu"), "FKTP has no task ids");
}

on_both_stores!(
    mobile_jkn_takes_checks_in_and_cancels_a_number,
    ambil_antrean_and_reception_race_for_the_last_place,
    a_klinik_pratama_answers_antrean_fktp
);
