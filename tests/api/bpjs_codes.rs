//! BPJS codes on the clinic's own polies and doctors: `kodepoli` / `prefix` on the poly body,
//! `kodedokter` on the user body, checked against BPJS's reference lists once BPJS is
//! configured, shown on the records, and the same mapping `PUT /api/bpjs/mapping` edits.
use serde_json::{json, Value};

use crate::bpjs::{keys, Bridge};
use crate::helpers::{assert_error, Store};
use crate::on_both_stores;
use crate::reservations::Desk;

fn doctor_body(kodedokter: Value) -> Value {
    json!({"name": "dr. harris", "username": "harris", "email": "harris@mail.com", "roles": [3], "poly_id": 1, "kodedokter": kodedokter})
}

async fn polies_and_doctors_carry_their_bpjs_codes(store: Store) {
    let b = Bridge::open(store, Some(30), false).await;
    let (app, t, poly, doctor) = (b.app(), b.desk.admin.clone(), b.desk.poly, b.desk.doctor);
    let path = format!("/api/poly/{poly}");
    let r = app.put(&path, &t, json!({"name": "Poli Umum", "kodepoli": "XYZ"})).await;
    assert_error(&r, 422, "BPJS has no poli with the code XYZ.");
    assert_eq!(r.body["errors"]["kodepoli"], json!(["BPJS has no poli with the code XYZ."]));
    assert!(app.get(&path, &t).await.body["data"].get("kodepoli").is_none(), "nothing changed");
    assert_error(&app.put(&path, &t, json!({"name": "Poli Umum", "prefix": "ABCD"})).await, 422, "The prefix must be 1 to 3 letters.");

    let r = app.put(&path, &t, json!({"name": "Poli Umum", "kodepoli": "ana", "prefix": "u"})).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!((r.body["data"]["kodepoli"].as_str(), r.body["data"]["prefix"].as_str()), (Some("ANA"), Some("U")));
    let shown = app.get(&path, &t).await.body["data"].clone();
    assert_eq!(keys(&shown), ["id", "name", "created_at", "updated_at", "deleted_at", "kodepoli", "prefix"], "the seed's fields, then BPJS's");
    assert_eq!(app.get("/api/poly", &t).await.body["data"][0]["kodepoli"], "ANA");
    // A rename without the code keeps it.
    let r = app.put(&path, &t, json!({"name": "Poli Umum"})).await;
    assert_eq!(r.body["data"]["kodepoli"], "ANA", "{r:?}");

    let upath = format!("/api/users/{doctor}");
    let r = app.put(&upath, &t, doctor_body(json!(999))).await;
    assert_error(&r, 422, "BPJS has no doctor with the code 999.");
    assert_error(&app.put(&upath, &t, doctor_body(json!("dr"))).await, 422, "The kodedokter field must be BPJS's doctor code (a number).");
    let r = app.put(&upath, &t, doctor_body(json!(12345))).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body["data"]["kodedokter"], 12345);
    assert_eq!(app.get(&upath, &t).await.body["data"]["kodedokter"], 12345);
    let mapping = app.get("/api/bpjs/mapping", &t).await.body["data"].clone();
    assert_eq!(mapping["polies"], json!([{"poly_id": poly, "kodepoli": "ANA", "namapoli": "Poli Umum", "prefix": "U"}]));
    assert_eq!(mapping["doctors"], json!([{"doctor_id": doctor, "kodedokter": 12345, "namadokter": "dr. harris"}]));

    // What BPJS gets comes from the records.
    b.desk.reserve(2).await;
    b.run().await;
    let add = &b.fake.events()[0].body;
    assert_eq!(
        (add["kodepoli"].as_str(), add["kodedokter"].as_i64(), add["nomorantrean"].as_str()),
        (Some("ANA"), Some(12345), Some("U-1")),
        "{add}"
    );

    // The mapping route edits the same codes: a null removes the poly's.
    let r = b.map(json!({"polies": [{"poly_id": poly, "kodepoli": null}]})).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert!(app.get(&path, &t).await.body["data"].get("kodepoli").is_none());
    assert_eq!(app.get(&upath, &t).await.body["data"]["kodedokter"], 12345, "the doctor's stays");
    let r = app.put(&upath, &t, doctor_body(Value::Null)).await;
    assert!(r.body["data"].get("kodedokter").is_none(), "{r:?}");
}

async fn before_bpjs_is_configured_codes_are_kept_as_given(store: Store) {
    let desk = Desk::open(store, None).await;
    let t = &desk.admin;
    let r = desk.app.post("/api/poly", t, json!({"name": "Poli Gigi", "kodepoli": "GIG"})).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(keys(&r.body["data"]), ["name", "updated_at", "created_at", "id", "kodepoli", "prefix"]);
    let plain = desk.app.post("/api/poly", t, json!({"name": "Poli KIA"})).await;
    assert_eq!(keys(&plain.body["data"]), ["name", "updated_at", "created_at", "id"], "the seed's body when there is no code");
    assert_error(&desk.app.post("/api/poly", t, json!({"name": "Poli Mata", "kodepoli": "M A!"})).await, 422,
        "The kodepoli field must be BPJS's poli code (1 to 10 letters or digits).");
    assert_eq!(desk.app.get("/api/poly?search=mata", t).await.body["data"], json!([]), "nothing made");
    let r = desk
        .app
        .post(
            "/api/users",
            t,
            json!({"name": "dr. gigi", "username": "gigi", "email": "gigi@mail.com", "password": "dokter123", "password_confirmation": "dokter123",
                "roles": [3], "poly_id": r.body["data"]["id"], "kodedokter": 777}),
        )
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body["data"]["kodedokter"], 777);
}

on_both_stores!(polies_and_doctors_carry_their_bpjs_codes, before_bpjs_is_configured_codes_are_kept_as_given);
