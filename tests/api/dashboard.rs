//! Seed section "Dashboard": seven charts over a hand-made day whose figures are worked out
//! by hand below.
use antrean_domain::rollup::{self, ReservationFacts, StageTimes};
use antrean_domain::Tenant;
use chrono::{NaiveDate, TimeZone, Utc};
use serde_json::{json, Value};

use crate::helpers::{assert_error, Store, TestApp};
use crate::on_both_stores;

const TZ: chrono_tz::Tz = chrono_tz::Asia::Jakarta;

/// One reservation of the fixture: poly, date, BPJS?, registered (clinic time), called in to
/// the doctor, final status.
pub struct Visit {
    pub poly: i64,
    pub date: &'static str,
    pub bpjs: bool,
    pub registered: &'static str,
    pub called_in: Option<&'static str>,
    pub status: &'static str,
}

/// The fixture, with the figures it gives worked out by hand:
///
/// 2026-01-11, Poli Umum (1): A BPJS 08:05→08:50 (45 min) DONE; B general 08:20→09:30 (70 min)
/// DONE; C BPJS 09:10 NO_SHOW; D BPJS 09:40 WAITING; E general 14:00 CANCELLED.
/// 2026-01-11, Poli Gigi (2): F general 10:00→10:20 (20 min) WITH_DOCTOR; G BPJS 10:30 ANAMNESA.
/// 2026-02-03, Poli Gigi (2): H BPJS 11:00→11:30 (30 min) DONE.
pub const VISITS: &[Visit] = &[
    Visit { poly: 1, date: "2026-01-11", bpjs: true, registered: "08:05", called_in: Some("08:50"), status: "DONE" },
    Visit { poly: 1, date: "2026-01-11", bpjs: false, registered: "08:20", called_in: Some("09:30"), status: "DONE" },
    Visit { poly: 1, date: "2026-01-11", bpjs: true, registered: "09:10", called_in: None, status: "NO_SHOW" },
    Visit { poly: 1, date: "2026-01-11", bpjs: true, registered: "09:40", called_in: None, status: "WAITING" },
    Visit { poly: 1, date: "2026-01-11", bpjs: false, registered: "14:00", called_in: None, status: "CANCELLED" },
    Visit { poly: 2, date: "2026-01-11", bpjs: false, registered: "10:00", called_in: Some("10:20"), status: "WITH_DOCTOR" },
    Visit { poly: 2, date: "2026-01-11", bpjs: true, registered: "10:30", called_in: None, status: "ANAMNESA" },
    Visit { poly: 2, date: "2026-02-03", bpjs: true, registered: "11:00", called_in: Some("11:30"), status: "DONE" },
];

pub fn at(date: &str, hm: &str) -> chrono::DateTime<Utc> {
    let naive = chrono::NaiveDateTime::parse_from_str(&format!("{date} {hm}"), "%Y-%m-%d %H:%M").unwrap();
    TZ.from_local_datetime(&naive).unwrap().with_timezone(&Utc)
}

/// Creates Poli Umum (1) and Poli Gigi (2) and writes the fixture's rollups.
pub async fn seed(app: &TestApp, token: &str) {
    for name in ["Poli Umum", "Poli Gigi"] {
        let r = app.post("/api/poly", token, json!({"name": name})).await;
        assert_eq!(r.status, 200, "{r:?}");
    }
    write_fixture(&app.config.store).await;
}

/// Writes the fixture's rollups into the store of the bootstrap clinic `default`.
pub async fn write_fixture(store: &dev_server::StoreChoice) {
    let table = dev_server::open_store(store).await.expect("open the app's store");
    let tenant = Tenant::parse("default").unwrap();
    for v in VISITS {
        let date = NaiveDate::parse_from_str(v.date, "%Y-%m-%d").unwrap();
        let stages = StageTimes {
            registered_at: Some(at(v.date, v.registered)),
            with_doctor_at: v.called_in.map(|c| at(v.date, c)),
            ..Default::default()
        };
        let facts = ReservationFacts::new(v.poly, date, v.status, v.bpjs, &stages, TZ);
        // As the queue writes it: the counts and, read first, any new waiting-time extreme.
        let bucket = table.get(&rollup::key(&tenant, facts.date, facts.poly_id)).await.unwrap();
        let mut ops = rollup::delta_ops(&tenant, None, &facts);
        rollup::fold_extremes(&mut ops, &tenant, bucket.as_ref(), None, &facts);
        table.write(ops).await.unwrap();
    }
}

fn data(r: &crate::helpers::Reply, message: &str) -> Value {
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body["status"], "success", "{r:?}");
    assert_eq!(r.body["message"], message, "{r:?}");
    r.body["data"].clone()
}

async fn charts_show_the_hand_counted_figures(store: Store) {
    let app = TestApp::spawn(store).await;
    let t = app.admin_token().await;
    seed(&app, &t).await;

    let summary = data(&app.get("/api/dashboard/summary?date=2026-01-11", &t).await, "Summary data retrieved successfully");
    assert_eq!(
        summary,
        json!([
            {"name": "Total Queue Today", "value": 7},
            {"name": "Total Patients Today", "value": 6},
            {"name": "Patients Completed Today", "value": 2},
            {"name": "No Show Patients Today", "value": 1},
        ])
    );
    let gigi = data(&app.get("/api/dashboard/summary?date=2026-01-11&poly_id=2", &t).await, "Summary data retrieved successfully");
    assert_eq!(gigi.as_array().unwrap().iter().map(|r| r["value"].as_i64().unwrap()).collect::<Vec<_>>(), [2, 2, 0, 0]);

    let trend = data(&app.get("/api/dashboard/reservation-trend?year=2026", &t).await, "Reservation trend data retrieved successfully");
    let rows = trend.as_array().unwrap();
    assert_eq!(rows.len(), 12);
    assert_eq!(rows[0], json!({"label": "2026-01", "Poli Umum": 5, "Poli Gigi": 2}));
    assert_eq!(rows[1], json!({"label": "2026-02", "Poli Umum": 0, "Poli Gigi": 1}));
    assert_eq!(rows[0].as_object().unwrap().keys().collect::<Vec<_>>(), ["label", "Poli Umum", "Poli Gigi"]);
    assert_eq!(rows[11], json!({"label": "2026-12", "Poli Umum": 0, "Poli Gigi": 0}));
    let month = data(&app.get("/api/dashboard/reservation-trend?year=2026&month=01", &t).await, "Reservation trend data retrieved successfully");
    assert_eq!(month.as_array().unwrap().len(), 31);
    assert_eq!(month[10], json!({"label": "2026-01-11", "Poli Umum": 5, "Poli Gigi": 2}));
    assert_eq!(month[9], json!({"label": "2026-01-10", "Poli Umum": 0, "Poli Gigi": 0}));
    let day = data(&app.get("/api/dashboard/reservation-trend?day=11&month=1&year=2026&poly_id=2", &t).await, "Reservation trend data retrieved successfully");
    assert_eq!(day, json!([{"label": "2026-01-11", "Poli Gigi": 2}]));

    let by_poly = data(&app.get("/api/dashboard/reservations-by-poly?year=2026", &t).await, "Reservation comparison by poly retrieved successfully");
    assert_eq!(by_poly, json!([{"name": "Poli Umum", "value": 5}, {"name": "Poli Gigi", "value": 3}]));
    let feb = data(&app.get("/api/dashboard/reservations-by-poly?year=2026&month=2&poly_id=2", &t).await, "Reservation comparison by poly retrieved successfully");
    assert_eq!(feb, json!([{"name": "Poli Gigi", "value": 1}]));

    // Came: A, B (done), F (with the doctor), G (in anamnesa), H (done) = 5; did not: C = 1.
    let att = data(&app.get("/api/dashboard/patient-attendance?year=2026", &t).await, "Patient attendance data retrieved successfully");
    assert_eq!(
        att,
        json!({"summary": {"attended": 5, "not_attended": 1, "total": 6, "attendance_rate": 83.33},
               "chart": [{"name": "Attended", "value": 5}, {"name": "Not Attended", "value": 1}]})
    );

    // Umum: (45 + 70) / 2 = 57.5 min; Gigi: (20 + 30) / 2 = 25 min; in January Gigi only F.
    let wait = data(&app.get("/api/dashboard/average-waiting-time?year=2026", &t).await, "Average waiting time retrieved successfully");
    assert_eq!(wait, json!([{"name": "Poli Umum", "avg_waiting_time": "57.50"}, {"name": "Poli Gigi", "avg_waiting_time": "25.00"}]));
    let jan = data(&app.get("/api/dashboard/average-waiting-time?year=2026&month=1&poly_id=2", &t).await, "Average waiting time retrieved successfully");
    assert_eq!(jan, json!([{"name": "Poli Gigi", "avg_waiting_time": "20.00"}]));

    let peak = data(&app.get("/api/dashboard/clinic-peak-hours?date=2026-01-11", &t).await, "Clinic peak hours retrieved successfully");
    let peak = peak.as_array().unwrap();
    assert_eq!(peak.len(), 24);
    assert_eq!(peak[0], json!({"hour": "00", "value": 0}));
    let values: Vec<i64> = peak.iter().map(|h| h["value"].as_i64().unwrap()).collect();
    let mut expected = vec![0; 24];
    expected[8] = 2;
    expected[9] = 2;
    expected[10] = 2;
    expected[14] = 1;
    assert_eq!(values, expected);
    // The seed's own example sends the date as `year`.
    let umum = data(&app.get("/api/dashboard/clinic-peak-hours?year=2026-01-11&poly_id=1", &t).await, "Clinic peak hours retrieved successfully");
    assert_eq!(umum[8]["value"], 2);
    assert_eq!(umum[10]["value"], 0);

    let bpjs = data(&app.get("/api/dashboard/bpjs-vs-general?year=2026", &t).await, "BPJS vs general patient comparison retrieved successfully");
    assert_eq!(bpjs[0], json!({"label": "2026-01", "bpjs": 4, "general": 3}));
    assert_eq!(bpjs[1], json!({"label": "2026-02", "bpjs": 1, "general": 0}));
    assert_eq!(bpjs.as_array().unwrap().len(), 12);
    let one_day = data(&app.get("/api/dashboard/bpjs-vs-general?year=2026&month=1&day=11&poly_id=1", &t).await, "BPJS vs general patient comparison retrieved successfully");
    assert_eq!(one_day, json!([{"label": "2026-01-11", "bpjs": 3, "general": 2}]));
}

async fn bad_parameters_get_422_that_says_why(store: Store) {
    let app = TestApp::spawn(store).await;
    let t = app.admin_token().await;
    seed(&app, &t).await;
    let r = app.get("/api/dashboard/reservation-trend?year=2026&month=13", &t).await;
    assert_error(&r, 422, "The month field must be between 1 and 12.");
    assert_eq!(r.body["errors"], json!({"month": ["The month field must be between 1 and 12."]}));
    assert_error(&app.get("/api/dashboard/patient-attendance?year=2026&day=3", &t).await, 422, "The month field is required when day is present.");
    assert_error(&app.get("/api/dashboard/bpjs-vs-general?year=2026&month=2&day=30", &t).await, 422, "The day field must be a valid day of the month.");
    assert_error(&app.get("/api/dashboard/reservations-by-poly?year=2026&poly_id=9", &t).await, 422, "The selected poly id is invalid.");
    assert_error(&app.get("/api/dashboard/summary?date=11-01-2026", &t).await, 422, "The date field must be a valid date in the format Y-m-d.");
    assert_error(&app.get("/api/dashboard/average-waiting-time?year=abc", &t).await, 422, "The year field must be an integer.");
}

async fn dashboards_need_dashboard_view(store: Store) {
    let app = TestApp::spawn(store).await;
    let t = app.admin_token().await;
    // A nurse assistant (role 5) has no dashboard.view.
    let r = app
        .post(
            "/api/users",
            &t,
            json!({"name": "Fajar Nugroho", "username": "fajar.nugroho", "email": "fajar.nugroho@gmail.com",
                   "password": "admin123", "password_confirmation": "admin123", "roles": [5]}),
        )
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    let nurse = app.token("fajar.nugroho", "admin123").await;
    for path in [
        "summary",
        "reservation-trend",
        "reservations-by-poly",
        "patient-attendance",
        "average-waiting-time",
        "clinic-peak-hours",
        "bpjs-vs-general",
    ] {
        assert_error(&app.get(&format!("/api/dashboard/{path}"), &nurse).await, 403, "This action is unauthorized.");
        let ok = app.get(&format!("/api/dashboard/{path}"), &t).await;
        assert_eq!(ok.status, 200, "{path}: {ok:?}");
    }
    let anon = app.call(reqwest::Method::GET, "/api/dashboard/summary", None, None).await;
    assert_error(&anon, 401, "Unauthenticated");
}

on_both_stores!(charts_show_the_hand_counted_figures, bad_parameters_get_422_that_says_why, dashboards_need_dashboard_view);
