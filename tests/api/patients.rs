//! Seed section "Patient": select (search, Laravel's paginator), detail, update. Patients come
//! from reservations; these tests register them through the domain (`patient::register`, what
//! reservation create calls) on the app's own store (`TestApp::deps`).
use antrean_domain::audit::Actor;
use antrean_domain::patient::{self, Patient, PatientForm};
use antrean_domain::record::Stored;
use antrean_domain::{Deps, DomainError, FieldErrors, Tenant};
use futures::future::join_all;
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{assert_error, Store, TestApp};
use crate::on_both_stores;

/// Registers a patient in `clinic` as reservation create will.
pub async fn register_in(deps: &Deps, clinic: &str, body: Value) -> Result<Stored<Patient>, DomainError> {
    let mut errors = FieldErrors::new();
    let form = PatientForm::parse(&mut errors, &body);
    errors.into_result()?;
    patient::register(deps, &Tenant::parse(clinic).unwrap(), &Actor::system("test"), &form.unwrap()).await
}

pub async fn register(deps: &Deps, body: Value) -> Stored<Patient> {
    register_in(deps, "default", body.clone()).await.unwrap_or_else(|e| panic!("register {body}: {e:?}"))
}

/// The seed's three patients (ids 1, 2, 3 here).
pub async fn seed_patients(deps: &Deps) {
    for (name, n) in [("Saipul Anwar", 0), ("Rachmat Hidayat", 1), ("Ansori", 2)] {
        register(
            deps,
            json!({"patient_name": name, "no_bpjs": format!("000123456789{n}"), "whatsapp_number": format!("08123456789{n}"),
                "email": format!("{}@gmail.com", name.split(' ').next().unwrap().to_lowercase())}),
        )
        .await;
    }
}

fn keys(v: &Value) -> Vec<&str> {
    v.as_object().unwrap().keys().map(String::as_str).collect()
}

fn ids(r: &crate::helpers::Reply) -> Vec<i64> {
    r.body["data"]["data"].as_array().unwrap_or_else(|| panic!("{r:?}")).iter().map(|p| p["id"].as_i64().unwrap()).collect()
}

const PATIENT_KEYS: [&str; 9] = ["id", "patient_name", "no_bpjs", "whatsapp_number", "email", "chat_id", "created_at", "updated_at", "deleted_at"];

async fn patients_read_and_update_like_the_seed(store: Store) {
    let app = TestApp::spawn(store).await;
    let t = app.admin_token().await;
    seed_patients(&app.deps().await).await;

    let list = app.get("/api/patients", &t).await;
    assert_eq!(list.status, 200, "{list:?}");
    assert_eq!((&list.body["status"], &list.body["message"]), (&json!("success"), &json!("Patient list retrieved successfully")));
    let page = &list.body["data"];
    assert_eq!(
        keys(page),
        [
            "current_page",
            "data",
            "first_page_url",
            "from",
            "last_page",
            "last_page_url",
            "links",
            "next_page_url",
            "path",
            "per_page",
            "prev_page_url",
            "to",
            "total"
        ]
    );
    assert_eq!(ids(&list), [3, 2, 1], "newest first, as the seed lists them");
    let ansori = &page["data"][0];
    assert_eq!(keys(ansori), PATIENT_KEYS);
    assert_eq!(ansori["patient_name"], "Ansori");
    assert_eq!(ansori["no_bpjs"], "0001234567892");
    assert_eq!(ansori["whatsapp_number"], "6281234567892", "stored in international form");
    assert_eq!(ansori["email"], "ansori@gmail.com");
    assert!(ansori["chat_id"].is_null() && ansori["deleted_at"].is_null());
    let path = format!("{}/api/patients", app.base);
    assert_eq!(page["path"], path);
    assert_eq!(page["first_page_url"], format!("{path}?page=1"));
    assert_eq!(page["last_page_url"], format!("{path}?page=1"));
    assert_eq!(
        (&page["from"], &page["to"], &page["total"], &page["per_page"], &page["last_page"]),
        (&json!(1), &json!(3), &json!(3), &json!(10), &json!(1))
    );
    assert!(page["next_page_url"].is_null() && page["prev_page_url"].is_null());
    assert_eq!(
        page["links"],
        json!([
            {"url": null, "label": "&laquo; Previous", "page": null, "active": false},
            {"url": format!("{path}?page=1"), "label": "1", "page": 1, "active": true},
            {"url": null, "label": "Next &raquo;", "page": null, "active": false}
        ])
    );

    let detail = app.get("/api/patients/1", &t).await;
    assert_eq!(detail.body["message"], "Patient detail retrieved successfully", "{detail:?}");
    assert_eq!(keys(&detail.body["data"]), PATIENT_KEYS);
    assert_eq!(detail.body["data"]["patient_name"], "Saipul Anwar");

    // The seed's update body.
    let body = json!({"patient_name": "Andi Wijaya", "whatsapp_number": "08123456789", "no_bpjs": "1234567890123", "email": "andi@mail.com"});
    let upd = app.put("/api/patients/1", &t, body).await;
    assert_eq!(upd.status, 200, "{upd:?}");
    assert_eq!(upd.body["message"], "Patient updated successfully");
    let d = &upd.body["data"];
    assert_eq!(keys(d), PATIENT_KEYS);
    assert_eq!(
        (&d["id"], &d["patient_name"], &d["no_bpjs"], &d["email"]),
        (&json!(1), &json!("Andi Wijaya"), &json!("1234567890123"), &json!("andi@mail.com"))
    );
    assert_eq!(d["whatsapp_number"], "628123456789");
    assert_eq!(d["created_at"], detail.body["data"]["created_at"]);
    assert_eq!(app.get("/api/patients/1", &t).await.body["data"], *d);

    // The search follows the new name and numbers; the old ones are free again.
    assert_eq!(ids(&app.get("/api/patients?search=andi", &t).await), [1]);
    assert_eq!(ids(&app.get("/api/patients?search=WIJAYA%20and", &t).await), [1]);
    assert!(ids(&app.get("/api/patients?search=saipul", &t).await).is_empty());
    assert_eq!(ids(&app.get("/api/patients?search=12345678901", &t).await), [1], "the start of a BPJS number");
    let deps = app.deps().await;
    let freed = register(&deps, json!({"patient_name": "Baru", "whatsapp_number": "081234567890", "no_bpjs": "0001234567890"})).await;
    assert_eq!(freed.id, 4);
}

async fn patient_search_and_pages(store: Store) {
    let app = TestApp::spawn(store).await;
    let t = app.admin_token().await;
    let deps = app.deps().await;
    let names = [
        "Siti Nurhaliza",
        "Budi Santoso",
        "Siti Aminah",
        "Andi Wijaya",
        "Nur Aisyah",
        "Siti Nur-Aisyah",
        "Agus",
        "Dewi Lestari",
        "Rina",
        "Joko",
        "Andika",
        "Putri",
    ];
    for (i, name) in names.iter().enumerate() {
        let wa = format!("08{}{:08}", if i % 2 == 0 { "12" } else { "57" }, i);
        register(&deps, json!({"patient_name": name, "whatsapp_number": wa, "no_bpjs": format!("{:013}", 9_000_000 + i)})).await;
    }

    let r = app.get("/api/patients?per_page=5&page=2", &t).await;
    assert_eq!(ids(&r), [7, 6, 5, 4, 3]);
    let page = &r.body["data"];
    assert_eq!(
        (&page["total"], &page["last_page"], &page["from"], &page["to"], &page["per_page"]),
        (&json!(12), &json!(3), &json!(6), &json!(10), &json!(5))
    );
    let path = format!("{}/api/patients", app.base);
    assert_eq!(page["next_page_url"], format!("{path}?per_page=5&page=3"), "links keep the other parameters");
    assert_eq!(page["prev_page_url"], format!("{path}?per_page=5&page=1"));
    assert_eq!(ids(&app.get("/api/patients?per_page=5&page=3", &t).await), [2, 1]);
    let past = app.get("/api/patients?per_page=5&page=4", &t).await;
    assert!(ids(&past).is_empty());
    assert!(past.body["data"]["from"].is_null() && past.body["data"]["to"].is_null());
    assert_eq!(past.body["data"]["total"], 12);
    let far = app.get("/api/patients?page=999999999999999999", &t).await;
    assert_eq!(far.status, 200, "{far:?}");
    assert!(ids(&far).is_empty());

    // Name words: every word of the search must start a word of the name.
    assert_eq!(ids(&app.get("/api/patients?search=siti", &t).await), [6, 3, 1]);
    assert_eq!(ids(&app.get("/api/patients?search=Siti%20Nur", &t).await), [6, 1]);
    assert_eq!(ids(&app.get("/api/patients?search=aisyah", &t).await), [6, 5]);
    assert_eq!(ids(&app.get("/api/patients?search=andi", &t).await), [11, 4]);
    assert_eq!(ids(&app.get("/api/patients?search=%20%20", &t).await).len(), 10, "a blank search is no search");
    let none = app.get("/api/patients?search=zzz", &t).await;
    assert!(ids(&none).is_empty());
    assert_eq!((&none.body["data"]["total"], &none.body["data"]["last_page"]), (&json!(0), &json!(1)));
    // Numbers: WhatsApp in any form, BPJS.
    assert_eq!(ids(&app.get("/api/patients?search=0857", &t).await), [12, 10, 8, 6, 4, 2]);
    assert_eq!(ids(&app.get("/api/patients?search=%2B62%20857", &t).await).len(), 6);
    assert_eq!(ids(&app.get("/api/patients?search=6285700000003", &t).await), [4]);
    assert_eq!(ids(&app.get("/api/patients?search=0000009000011", &t).await), [12]);
    let r = app.get("/api/patients?search=siti&per_page=2&page=2", &t).await;
    assert_eq!(ids(&r), [1]);
    assert_eq!(r.body["data"]["total"], 3);
    assert_eq!(r.body["data"]["prev_page_url"], format!("{path}?search=siti&per_page=2&page=1"));

    for (q, field, message) in [
        ("per_page=0", "per_page", "The per page field must be at least 1."),
        ("per_page=101", "per_page", "The per page field must not be greater than 100."),
        ("page=abc", "page", "The page field must be an integer."),
    ] {
        let r = app.get(&format!("/api/patients?{q}"), &t).await;
        assert_error(&r, 422, message);
        assert_eq!(r.body["errors"], json!({field: [message]}));
    }
}

async fn patient_update_errors_change_nothing(store: Store) {
    let app = TestApp::spawn(store).await;
    let t = app.admin_token().await;
    seed_patients(&app.deps().await).await;
    let before = app.get("/api/patients/2", &t).await.body["data"].clone();
    let good = json!({"patient_name": "X", "whatsapp_number": "0811111111"});

    assert_error(&app.put("/api/patients/99", &t, good.clone()).await, 404, "Patient not found");
    assert_error(&app.put("/api/patients/abc", &t, good.clone()).await, 404, "Patient not found");
    assert_error(&app.get("/api/patients/99", &t).await, 404, "Patient not found");
    assert_error(&app.get("/api/patients/0", &t).await, 404, "Patient not found");

    let r = app.put("/api/patients/2", &t, json!({})).await;
    assert_error(&r, 422, "The patient name field is required.");
    assert_eq!(
        r.body["errors"],
        json!({"patient_name": ["The patient name field is required."], "whatsapp_number": ["The whatsapp number field is required when no bpjs is not present."]})
    );
    let r = app.put("/api/patients/2", &t, json!({"patient_name": "X", "whatsapp_number": "12ab", "no_bpjs": "123", "email": "nope"})).await;
    assert_eq!(
        r.body["errors"],
        json!({"no_bpjs": ["The no bpjs field must be 13 digits."], "whatsapp_number": ["The whatsapp number field must be a valid phone number."],
               "email": ["The email field must be a valid email address."]}),
        "{r:?}"
    );
    // Patient 1's numbers, in other spellings: both are named at once.
    let r = app.put("/api/patients/2", &t, json!({"patient_name": "X", "whatsapp_number": "+62 812-3456-7890", "no_bpjs": "0001234567890"})).await;
    assert_error(&r, 422, "The whatsapp number has already been taken.");
    assert_eq!(
        r.body["errors"],
        json!({"whatsapp_number": ["The whatsapp number has already been taken."], "no_bpjs": ["The no bpjs has already been taken."]})
    );
    let r = app.put("/api/patients/2", &t, json!({"patient_name": "X", "whatsapp_number": "0812 3456 7890"})).await;
    assert_eq!(r.body["errors"], json!({"whatsapp_number": ["The whatsapp number has already been taken."]}), "{r:?}");
    let raw = app
        .client
        .put(format!("{}/api/patients/2", app.base))
        .bearer_auth(&t)
        .header("content-type", "application/json")
        .body("{")
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status(), 400);
    assert_eq!(app.get("/api/patients/2", &t).await.body["data"], before, "nothing above changed the patient");

    // Keeping its own numbers is no clash; a BPJS number alone is enough.
    let r =
        app.put("/api/patients/2", &t, json!({"patient_name": "Rachmat H.", "whatsapp_number": "6281234567891", "no_bpjs": "0001234567891"})).await;
    assert_eq!(r.status, 200, "{r:?}");
    let r = app.put("/api/patients/2", &t, json!({"patient_name": "Rachmat H.", "no_bpjs": "0001234567891"})).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert!(r.body["data"]["whatsapp_number"].is_null() && r.body["data"]["email"].is_null());
    assert!(ids(&app.get("/api/patients?search=62812345678", &t).await).iter().all(|id| *id != 2), "its old number left the index");

    // Registering (reservations) keeps the same rules.
    let deps = app.deps().await;
    match register_in(&deps, "default", json!({"patient_name": "Y", "whatsapp_number": "081234567892", "no_bpjs": "0001234567890"})).await {
        Err(DomainError::Validation(e)) => assert_eq!(
            Value::Object(e.0),
            json!({"whatsapp_number": ["The whatsapp number has already been taken."], "no_bpjs": ["The no bpjs has already been taken."]})
        ),
        other => panic!("{other:?}"),
    }
    let racers =
        join_all((0..8).map(|i| register_in(&deps, "default", json!({"patient_name": format!("R{i}"), "whatsapp_number": "0899999999"})))).await;
    assert_eq!(racers.iter().filter(|r| r.is_ok()).count(), 1, "{racers:?}");
    assert_eq!(app.get("/api/patients", &t).await.body["data"]["total"], 4, "the losers burned no id");
}

async fn patients_are_per_clinic_and_need_permissions(store: Store) {
    let app = TestApp::spawn(store).await;
    let admin = app.admin_token().await;
    seed_patients(&app.deps().await).await;
    let other = app.new_clinic("sehat").await;
    assert_error(&app.get("/api/patients/1", &other).await, 404, "Patient not found");
    assert_error(&app.put("/api/patients/1", &other, json!({"patient_name": "X", "no_bpjs": "0001234567899"})).await, 404, "Patient not found");
    let list = app.get("/api/patients?search=ansori", &other).await;
    assert_eq!(list.body["data"]["total"], 0, "{list:?}");
    assert_eq!(app.get("/api/patients", &other).await.body["data"]["total"], 0);
    // The other clinic's own patients have their own ids and numbers.
    let deps = app.deps().await;
    let theirs = register_in(&deps, "sehat", json!({"patient_name": "Ansori", "whatsapp_number": "081234567892"})).await.unwrap();
    assert_eq!(theirs.id, 1);
    assert_eq!(app.get("/api/patients/1", &other).await.body["data"]["whatsapp_number"], "6281234567892");
    assert_eq!(app.get("/api/patients/1", &admin).await.body["data"]["patient_name"], "Saipul Anwar");

    // Kepala Klinik (role 2) sees patients but does not edit them.
    let head = crate::users::staff_token(&app, &admin, "kepala", json!([2])).await;
    assert_eq!(app.get("/api/patients", &head).await.status, 200);
    assert_eq!(app.get("/api/patients/1", &head).await.status, 200);
    assert_error(
        &app.put("/api/patients/1", &head, json!({"patient_name": "X", "no_bpjs": "0001234567899"})).await,
        403,
        "This action is unauthorized.",
    );
    // A key that may only see polies sees no patients.
    let key = app.post("/api/auth/permanent-token", &admin, json!({"permissions": ["poly.view"]})).await.body["data"]["token"]
        .as_str()
        .unwrap()
        .to_string();
    for (method, path) in [(Method::GET, "/api/patients"), (Method::GET, "/api/patients/1"), (Method::PUT, "/api/patients/1")] {
        assert_error(
            &app.call(method, path, Some(&key), Some(json!({"patient_name": "X", "no_bpjs": "0001234567899"}))).await,
            403,
            "This action is unauthorized.",
        );
    }
    assert_eq!(app.get("/api/patients/1", &admin).await.body["data"]["patient_name"], "Saipul Anwar");
    assert_eq!(app.call(Method::GET, "/api/patients", None, None).await.status, 401);
}

on_both_stores!(
    patients_read_and_update_like_the_seed,
    patient_search_and_pages,
    patient_update_errors_change_nothing,
    patients_are_per_clinic_and_need_permissions,
);
