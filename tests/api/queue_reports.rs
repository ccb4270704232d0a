//! The real workflow feeds the dashboard and the reports: patients registered through
//! `POST /api/reservation` and walked through the queue routes, then every figure checked
//! against what the test itself did, counted by hand; the live rollups equal a rebuild from
//! the reservations; the patient-visits export has the page's rows.
//!
//! The day (clinic today), two polies:
//!
//! | poly      | no. | patient | insurance | path                                             | ends           |
//! |-----------|-----|---------|-----------|--------------------------------------------------|----------------|
//! | Poli Umum | 1   | 1       | general   | anamnesa, waitingdoctor, withdoctor, done        | DONE           |
//! | Poli Umum | 2   | 2       | BPJS      | anamnesa ×2 (recall), waitingdoctor, withdoctor, done | DONE      |
//! | Poli Umum | 3   | 3       | general   | anamnesa, waitingdoctor, withdoctor ×2 (recall)  | WITH_DOCTOR    |
//! | Poli Umum | 4   | 4       | BPJS      | noshow                                           | NO_SHOW        |
//! | Poli Umum | 5   | 5       | general   | anamnesa, cancelled                              | CANCELLED      |
//! | Poli Umum | 6   | 6       | BPJS      | –                                                | WAITING        |
//! | Poli Gigi | 1   | 1       | general   | anamnesa                                         | ANAMNESA       |
//! | Poli Gigi | 2   | 7       | general   | anamnesa, waitingdoctor, call-next, call-next    | DONE           |
//! | Poli Gigi | 3   | 8       | BPJS      | anamnesa, waitingdoctor, (call-next), done       | DONE           |
//! | Poli Gigi | 4   | 9       | general   | anamnesa, waitingdoctor                          | WAITING_DOCTOR |
//!
//! By hand: 10 queue numbers (Umum 6, Gigi 4), 9 patients expected (10 − 1 cancelled), 4 done,
//! 1 no-show, 1 cancelled; attended = Umum 2 done + 1 with the doctor, Gigi 1 anamnesa + 1
//! waiting doctor + 2 done = 7, not attended 1 (87.5 %); BPJS 4 (Umum 3, Gigi 1), general 6;
//! waiting times for the 5 called in (Umum 3, Gigi 2).
use std::collections::BTreeMap;
use std::time::Instant;

use antrean_domain::reporting::source;
use antrean_domain::{rollup, Tenant};
use serde_json::{json, Value};

use crate::helpers::{Reply, Store};
use crate::on_both_stores;
use crate::reports::assert_export_matches_page;
use crate::reservations::{clinic_today, doctor, schedule, Desk};

/// What the test saw of one reservation.
#[derive(Debug, Clone)]
struct Booked {
    id: i64,
    poly: &'static str,
    number: i64,
    patient: usize,
    patient_id: i64,
    bpjs: bool,
    /// `HH:MM:SS`, clinic time, as the create answered.
    registered: String,
    /// `HH:MM:SS`, clinic time, as the doctor's call answered.
    called_in: Option<String>,
    status: &'static str,
}

fn hour(clock: &str) -> usize {
    clock[..2].parse().unwrap_or_else(|_| panic!("not HH:MM:SS: {clock}"))
}

fn ok(r: &Reply, what: &str) -> Value {
    assert_eq!(r.status, 200, "{what}: {r:?}");
    assert_eq!(r.body["status"], "success", "{what}: {r:?}");
    r.body["data"].clone()
}

fn num(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

struct Day {
    desk: Desk,
    gigi: i64,
    booked: Vec<Booked>,
    started: Instant,
}

impl Day {
    async fn register(&mut self, poly_id: i64, poly: &'static str, patient: usize) -> usize {
        let mut body = self.desk.body(patient);
        body["poly_id"] = json!(poly_id);
        let r = self.desk.app.post("/api/reservation", &self.desk.admin, body).await;
        let d = ok(&r, "register");
        let booked = Booked {
            id: d["reservation"]["id"].as_i64().unwrap(),
            poly,
            number: d["queue"]["queue_number"].as_i64().unwrap(),
            patient,
            patient_id: d["patient"]["id"].as_i64().unwrap(),
            bpjs: d["reservation"]["bpjs"].as_bool().unwrap(),
            registered: d["queue"]["re_reservation_time"].as_str().unwrap().to_string(),
            called_in: None,
            status: "WAITING",
        };
        assert_eq!(booked.bpjs, patient.is_multiple_of(2), "Desk::body: even patients are BPJS");
        self.booked.push(booked);
        self.booked.len() - 1
    }

    /// `PATCH /api/queue/{id}/<mv>`, which must succeed and leave `status`.
    async fn step(&mut self, i: usize, mv: &str, status: &'static str) {
        let id = self.booked[i].id;
        let r = self.desk.app.patch(&format!("/api/queue/{id}/{mv}"), &self.desk.admin, json!(null)).await;
        let d = ok(&r, mv);
        assert_eq!(d["reservation"]["status"]["status_name"], status, "{mv}: {r:?}");
        if mv == "withdoctor" && self.booked[i].called_in.is_none() {
            self.booked[i].called_in = Some(d["reservation"]["queue"]["call_time"].as_str().unwrap().to_string());
        }
        self.booked[i].status = status;
    }

    async fn call_next(&mut self, expect_called: usize, expect_finished: Option<usize>) {
        let body = json!({"poly_id": self.gigi, "date": self.desk.today});
        let r = self.desk.app.patch("/api/queue/call-next", &self.desk.admin, body).await;
        let d = ok(&r, "call-next");
        let called = &self.booked[expect_called];
        assert_eq!(r.body["queue_number_with_doctor"], called.number, "{r:?}");
        assert_eq!(d["current"]["id"], called.id, "{r:?}");
        self.booked[expect_called].called_in = Some(d["current"]["queue"]["call_time"].as_str().unwrap().to_string());
        self.booked[expect_called].status = "WITH_DOCTOR";
        match expect_finished {
            Some(f) => {
                assert_eq!(d["finished"]["id"], self.booked[f].id, "{r:?}");
                self.booked[f].status = "DONE";
            }
            None => assert_eq!(d["finished"], Value::Null, "{r:?}"),
        }
    }

    fn of(&self, poly: &str) -> impl Iterator<Item = &Booked> {
        let poly = poly.to_string();
        self.booked.iter().filter(move |b| b.poly == poly)
    }

    /// Registrations per clinic hour, as the creates answered.
    fn hours(&self, poly: Option<&str>) -> Vec<i64> {
        let mut h = vec![0i64; 24];
        for b in self.booked.iter().filter(|b| poly.is_none_or(|p| b.poly == p)) {
            h[hour(&b.registered)] += 1;
        }
        h
    }

    /// The busiest hour, the earliest on a tie, as `HH:00`.
    fn peak(&self, poly: &str) -> String {
        let h = self.hours(Some(poly));
        let max = *h.iter().max().unwrap();
        format!("{:02}:00", h.iter().position(|n| *n == max).unwrap())
    }

    /// The longest a wait can be: the test's own running time, in minutes (plus rounding).
    fn longest_possible_wait(&self) -> f64 {
        self.started.elapsed().as_secs_f64() / 60.0 + 0.01
    }
}

/// Registers the ten reservations of the module table and walks them through the workflow.
async fn the_day(store: Store) -> Day {
    let started = Instant::now();
    let desk = Desk::open(store, None).await;
    let (app, t) = (&desk.app, &desk.admin);
    let gigi = ok(&app.post("/api/poly", t, json!({"name": "Poli Gigi"})).await, "poly")["id"].as_i64().unwrap();
    let drg = doctor(app, t, "drg.sinta", gigi).await;
    schedule(app, t, drg, &desk.today, "08:00", "16:00", None).await;
    let umum = desk.poly;
    let mut day = Day { desk, gigi, booked: Vec::new(), started };

    let mut u = Vec::new();
    for n in 1..=6 {
        u.push(day.register(umum, "Poli Umum", n).await);
    }
    let mut g = Vec::new();
    for n in [1, 7, 8, 9] {
        g.push(day.register(gigi, "Poli Gigi", n).await);
    }
    assert_eq!(day.booked.iter().map(|b| b.number).collect::<Vec<_>>(), [1, 2, 3, 4, 5, 6, 1, 2, 3, 4], "numbers per poly from 1");
    assert_eq!(day.booked[g[0]].patient_id, day.booked[u[0]].patient_id, "patient 1 is found again by number for the second poly");
    let mut patients: Vec<i64> = day.booked.iter().map(|b| b.patient_id).collect();
    patients.sort();
    patients.dedup();
    assert_eq!(patients.len(), 9, "nine patients, ten reservations");

    // Poli Umum.
    day.step(u[0], "anamnesa", "ANAMNESA").await;
    day.step(u[0], "waitingdoctor", "WAITING_DOCTOR").await;
    day.step(u[0], "withdoctor", "WITH_DOCTOR").await;
    day.step(u[0], "done", "DONE").await;
    day.step(u[1], "anamnesa", "ANAMNESA").await;
    day.step(u[1], "anamnesa", "ANAMNESA").await; // a recall
    day.step(u[1], "waitingdoctor", "WAITING_DOCTOR").await;
    day.step(u[1], "withdoctor", "WITH_DOCTOR").await;
    day.step(u[1], "done", "DONE").await;
    day.step(u[2], "anamnesa", "ANAMNESA").await;
    day.step(u[2], "waitingdoctor", "WAITING_DOCTOR").await;
    day.step(u[2], "withdoctor", "WITH_DOCTOR").await;
    day.step(u[2], "withdoctor", "WITH_DOCTOR").await; // a recall: still one wait
    day.step(u[3], "noshow", "NO_SHOW").await;
    day.step(u[4], "anamnesa", "ANAMNESA").await;
    day.step(u[4], "cancelled", "CANCELLED").await;
    // u[5] stays WAITING.

    // Poli Gigi.
    day.step(g[0], "anamnesa", "ANAMNESA").await;
    for i in [g[1], g[2]] {
        day.step(i, "anamnesa", "ANAMNESA").await;
        day.step(i, "waitingdoctor", "WAITING_DOCTOR").await;
    }
    day.call_next(g[1], None).await;
    day.call_next(g[2], Some(g[1])).await;
    day.step(g[2], "done", "DONE").await;
    day.step(g[3], "anamnesa", "ANAMNESA").await;
    day.step(g[3], "waitingdoctor", "WAITING_DOCTOR").await;

    let ends: Vec<&str> = day.booked.iter().map(|b| b.status).collect();
    assert_eq!(ends, ["DONE", "DONE", "WITH_DOCTOR", "NO_SHOW", "CANCELLED", "WAITING", "ANAMNESA", "DONE", "DONE", "WAITING_DOCTOR"]);
    assert_eq!(day.booked.iter().filter(|b| b.called_in.is_some()).count(), 5);
    day
}

async fn the_dashboard_counts_the_days_workflow(store: Store) {
    let day = the_day(store).await;
    let (app, t, today) = (&day.desk.app, &day.desk.admin, day.desk.today.clone());
    let (umum, gigi) = (day.desk.poly, day.gigi);
    let date = clinic_today();
    let ymd = format!("year={}&month={}&day={}", date.format("%Y"), date.format("%m"), date.format("%d"));

    let summary = ok(&app.get(&format!("/api/dashboard/summary?date={today}"), t).await, "summary");
    assert_eq!(
        summary,
        json!([
            {"name": "Total Queue Today", "value": 10},
            {"name": "Total Patients Today", "value": 9},
            {"name": "Patients Completed Today", "value": 4},
            {"name": "No Show Patients Today", "value": 1},
        ])
    );
    let values = |v: &Value| v.as_array().unwrap().iter().map(|r| r["value"].as_i64().unwrap()).collect::<Vec<_>>();
    // Without a date: the clinic's today.
    assert_eq!(values(&ok(&app.get("/api/dashboard/summary", t).await, "summary")), [10, 9, 4, 1]);
    assert_eq!(values(&ok(&app.get(&format!("/api/dashboard/summary?date={today}&poly_id={umum}"), t).await, "summary")), [6, 5, 2, 1]);
    assert_eq!(values(&ok(&app.get(&format!("/api/dashboard/summary?date={today}&poly_id={gigi}"), t).await, "summary")), [4, 4, 2, 0]);

    let att = ok(&app.get(&format!("/api/dashboard/patient-attendance?{ymd}"), t).await, "attendance");
    assert_eq!(att["summary"]["attended"], 7, "{att}");
    assert_eq!(att["summary"]["not_attended"], 1, "{att}");
    assert_eq!(att["summary"]["total"], 8, "{att}");
    assert_eq!(num(&att["summary"]["attendance_rate"]), 87.5, "{att}");
    assert_eq!(att["chart"], json!([{"name": "Attended", "value": 7}, {"name": "Not Attended", "value": 1}]));
    let att_gigi = ok(&app.get(&format!("/api/dashboard/patient-attendance?{ymd}&poly_id={gigi}"), t).await, "attendance");
    assert_eq!(att_gigi["summary"]["attended"], 4, "{att_gigi}");
    assert_eq!(att_gigi["summary"]["not_attended"], 0, "{att_gigi}");

    let bpjs = ok(&app.get(&format!("/api/dashboard/bpjs-vs-general?{ymd}"), t).await, "bpjs-vs-general");
    assert_eq!(bpjs, json!([{"label": today, "bpjs": 4, "general": 6}]));
    let bpjs_umum = ok(&app.get(&format!("/api/dashboard/bpjs-vs-general?{ymd}&poly_id={umum}"), t).await, "bpjs-vs-general");
    assert_eq!(bpjs_umum, json!([{"label": today, "bpjs": 3, "general": 3}]));

    let by_poly = ok(&app.get(&format!("/api/dashboard/reservations-by-poly?{ymd}"), t).await, "reservations-by-poly");
    assert_eq!(by_poly, json!([{"name": "Poli Umum", "value": 6}, {"name": "Poli Gigi", "value": 4}]));

    let peak = ok(&app.get(&format!("/api/dashboard/clinic-peak-hours?date={today}"), t).await, "peak hours");
    let peak = peak.as_array().unwrap();
    assert_eq!(peak.len(), 24);
    assert_eq!(peak.iter().map(|h| h["hour"].as_str().unwrap().to_string()).collect::<Vec<_>>(), (0..24).map(|h| format!("{h:02}")).collect::<Vec<_>>());
    assert_eq!(peak.iter().map(|h| h["value"].as_i64().unwrap()).collect::<Vec<_>>(), day.hours(None), "registrations per hour");
    let peak_gigi = ok(&app.get(&format!("/api/dashboard/clinic-peak-hours?date={today}&poly_id={gigi}"), t).await, "peak hours");
    assert_eq!(peak_gigi.as_array().unwrap().iter().map(|h| h["value"].as_i64().unwrap()).collect::<Vec<_>>(), day.hours(Some("Poli Gigi")));

    // Five patients were called in; their waits exist, are not negative and fit in the test's time.
    let wait = ok(&app.get(&format!("/api/dashboard/average-waiting-time?{ymd}"), t).await, "average waiting time");
    let wait = wait.as_array().unwrap();
    assert_eq!(wait.iter().map(|w| w["name"].as_str().unwrap()).collect::<Vec<_>>(), ["Poli Umum", "Poli Gigi"]);
    for w in wait {
        let s = w["avg_waiting_time"].as_str().unwrap_or_else(|| panic!("a string: {w}"));
        assert!(s.len() >= 4 && s.as_bytes()[s.len() - 3] == b'.', "two decimals: {s}");
        let minutes: f64 = s.parse().unwrap();
        assert!((0.0..=day.longest_possible_wait()).contains(&minutes), "{w}");
    }
}

async fn the_reports_count_the_days_workflow(store: Store) {
    let day = the_day(store).await;
    let (app, t, today) = (&day.desk.app, &day.desk.admin, day.desk.today.clone());
    let period = format!("date_from={today}&date_to={today}");
    let rows = |r: &Reply, what: &str| -> (Vec<Value>, Value) {
        ok(r, what);
        (r.body["data"].as_array().unwrap().clone(), r.body["pagination"].clone())
    };

    // Patient visits: a row per reservation, Poli Gigi before Poli Umum (by name), then by number.
    let (visits, p) = rows(&app.get(&format!("/api/reports/patient-visits?{period}&per_page=100"), t).await, "patient visits");
    assert_eq!(p, json!({"current_page": 1, "per_page": 100, "total": 10, "last_page": 1}));
    let mut expected: Vec<&Booked> = day.of("Poli Gigi").chain(day.of("Poli Umum")).collect();
    expected.sort_by_key(|b| (b.poly, b.number));
    assert_eq!(visits.len(), expected.len());
    let mut waits: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    for (row, b) in visits.iter().zip(&expected) {
        let fields: Vec<&str> = row.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(fields, ["date", "reservation_number", "patient_name", "poly", "insurance_type", "status", "registration_time", "call_time", "waiting_time_minutes"]);
        assert_eq!(row["date"], today);
        assert_eq!(row["reservation_number"], b.number, "{row}");
        assert_eq!(row["patient_name"], format!("Pasien {}", b.patient), "{row}");
        assert_eq!(row["poly"], b.poly, "{row}");
        assert_eq!(row["insurance_type"], if b.bpjs { "BPJS" } else { "GENERAL" }, "{row}");
        assert_eq!(row["status"], b.status, "{row}");
        assert_eq!(row["registration_time"], b.registered[..5], "{row}");
        match &b.called_in {
            Some(c) => {
                assert_eq!(row["call_time"], c[..5], "{row}");
                let w = num(&row["waiting_time_minutes"]);
                assert!((0.0..=day.longest_possible_wait()).contains(&w), "{row}");
                waits.entry(b.poly).or_default().push(w);
            }
            None => {
                assert_eq!(row["call_time"], Value::Null, "{row}");
                assert_eq!(row["waiting_time_minutes"], Value::Null, "{row}");
            }
        }
    }
    assert_eq!(waits["Poli Umum"].len(), 3);
    assert_eq!(waits["Poli Gigi"].len(), 2);

    // Paged from the rollups: 4 a page gives Gigi 1–4, Umum 1–4, Umum 5–6.
    let (third, p) = rows(&app.get(&format!("/api/reports/patient-visits?{period}&per_page=4&page=3"), t).await, "patient visits");
    assert_eq!(p, json!({"current_page": 3, "per_page": 4, "total": 10, "last_page": 3}));
    assert_eq!(third.iter().map(|r| (r["poly"].as_str().unwrap(), r["reservation_number"].as_i64().unwrap())).collect::<Vec<_>>(), [("Poli Umum", 5), ("Poli Umum", 6)]);
    let (second, _) = rows(&app.get(&format!("/api/reports/patient-visits?{period}&per_page=4&page=2"), t).await, "patient visits");
    assert_eq!(second, visits[4..8].to_vec());
    let (done, p) = rows(&app.get(&format!("/api/reports/patient-visits?{period}&status[]=DONE"), t).await, "patient visits");
    assert_eq!(p["total"], 4);
    assert_eq!(done.iter().map(|r| (r["poly"].as_str().unwrap(), r["patient_name"].as_str().unwrap())).collect::<Vec<_>>(), [
        ("Poli Gigi", "Pasien 7"),
        ("Poli Gigi", "Pasien 8"),
        ("Poli Umum", "Pasien 1"),
        ("Poli Umum", "Pasien 2")
    ]);
    let (bpjs, p) = rows(&app.get(&format!("/api/reports/patient-visits?{period}&insurance_type=BPJS"), t).await, "patient visits");
    assert_eq!(p["total"], 4);
    assert_eq!(bpjs.iter().map(|r| r["patient_name"].as_str().unwrap()).collect::<Vec<_>>(), ["Pasien 8", "Pasien 2", "Pasien 4", "Pasien 6"]);
    let (open, _) = rows(&app.get(&format!("/api/reports/patient-visits?{period}&status[]=WAITING,WITH_DOCTOR&poly_id={}", day.desk.poly), t).await, "patient visits");
    assert_eq!(open.iter().map(|r| r["status"].as_str().unwrap()).collect::<Vec<_>>(), ["WITH_DOCTOR", "WAITING"]);

    let (ns, _) = rows(&app.get(&format!("/api/reports/no-show-cancelled?{period}"), t).await, "no-show");
    assert_eq!(
        ns,
        [
            json!({"date": today, "poly": "Poli Gigi", "total_reservations": 4, "no_show": 0, "cancelled": 0, "ratio_percent": 0}),
            json!({"date": today, "poly": "Poli Umum", "total_reservations": 6, "no_show": 1, "cancelled": 1, "ratio_percent": 33.33}),
        ]
    );

    let (bg, _) = rows(&app.get(&format!("/api/reports/bpjs-vs-general?{period}"), t).await, "bpjs-vs-general");
    assert_eq!(
        bg,
        [
            json!({"date": today, "poly": "Poli Gigi", "total_bpjs": 1, "total_general": 3, "bpjs_percentage": 25, "general_percentage": 75}),
            json!({"date": today, "poly": "Poli Umum", "total_bpjs": 3, "total_general": 3, "bpjs_percentage": 50, "general_percentage": 50}),
        ]
    );

    // Waiting times: the rollups' extremes are the longest and shortest of the reservations' own
    // waits (the rows above); the average is theirs up to the rows' rounding.
    let (wt, _) = rows(&app.get(&format!("/api/reports/waiting-time?{period}"), t).await, "waiting time");
    assert_eq!(wt.iter().map(|r| r["poly"].as_str().unwrap()).collect::<Vec<_>>(), ["Poli Gigi", "Poli Umum"]);
    let mut averages = BTreeMap::new();
    for r in &wt {
        let w = &waits[r["poly"].as_str().unwrap()];
        let (avg, longest, fastest) = (num(&r["average_waiting_time_minutes"]), num(&r["longest_waiting_time_minutes"]), num(&r["fastest_waiting_time_minutes"]));
        assert_eq!(longest, w.iter().cloned().fold(f64::MIN, f64::max), "{r}");
        assert_eq!(fastest, w.iter().cloned().fold(f64::MAX, f64::min), "{r}");
        let mean = w.iter().sum::<f64>() / w.len() as f64;
        assert!((avg - mean).abs() <= 0.011, "{r} vs rows {w:?}");
        assert!(fastest <= avg && avg <= longest && fastest >= 0.0, "{r}");
        averages.insert(r["poly"].as_str().unwrap().to_string(), avg);
    }

    let (perf, _) = rows(&app.get(&format!("/api/reports/poly-performance?{period}"), t).await, "poly performance");
    assert_eq!(perf.len(), 2);
    for (r, (poly, patients, rate)) in perf.iter().zip([("Poli Gigi", 4, 0.0), ("Poli Umum", 5, 16.67)]) {
        assert_eq!(r["date"], today);
        assert_eq!(r["poly"], poly, "{r}");
        assert_eq!(r["total_patients"], patients, "{r}");
        assert_eq!(num(&r["no_show_rate_percent"]), rate, "{r}");
        assert_eq!(num(&r["average_waiting_time_minutes"]), averages[poly], "{r}");
        assert_eq!(r["peak_hour"], day.peak(poly), "{r}");
    }

    let (busy, _) = rows(&app.get(&format!("/api/reports/busy-hour?{period}"), t).await, "busy hour");
    assert_eq!(busy.len(), 2);
    for (r, (poly, total)) in busy.iter().zip([("Poli Gigi", 4), ("Poli Umum", 6)]) {
        assert_eq!(r["poly"], poly, "{r}");
        let hours: Vec<i64> = (0..24).map(|h| r[format!("{h:02}:00")].as_i64().unwrap()).collect();
        assert_eq!(hours, day.hours(Some(poly)), "{r}");
        assert_eq!(r["total_reservations"], total, "{r}");
    }

    // The export of patient visits has exactly the page's rows, cell by cell.
    let sheet = assert_export_matches_page(app, t, "patient-visits", &period).await;
    assert_eq!(sheet.rows.len(), 10);
    assert_eq!(sheet.header, ["Date", "Queue No.", "Patient Name", "Poly", "Insurance", "Status", "Registered", "Called In", "Waiting (min)"]);
    let filtered = assert_export_matches_page(app, t, "patient-visits", &format!("{period}&insurance_type=BPJS&status[]=DONE")).await;
    assert_eq!(filtered.rows.len(), 2, "BPJS and done: patient 8 at Poli Gigi, patient 2 at Poli Umum");
    assert_eq!(filtered.rows.iter().map(|r| r[2].to_string()).collect::<Vec<_>>(), ["Pasien 8", "Pasien 2"]);
}

async fn live_rollups_equal_a_rebuild_after_the_workflow(store: Store) {
    let day = the_day(store).await;
    let deps = day.desk.app.deps().await;
    let tenant = Tenant::parse("default").unwrap();
    let date = clinic_today();
    let tz = chrono_tz::Asia::Jakarta;
    let live = rollup::read(deps.table.as_ref(), &tenant, date, date).await.unwrap();
    // One item per poly, holding what the test did.
    assert_eq!(live.iter().map(|d| (d.poly_id, d.total())).collect::<Vec<_>>(), [(day.desk.poly, 6), (day.gigi, 4)]);
    let umum = &live[0];
    assert_eq!((umum.done(), umum.no_show(), umum.cancelled(), umum.status("WAITING", None), umum.status("WITH_DOCTOR", None)), (2, 1, 1, 1, 1));
    assert_eq!((umum.bpjs(), umum.general(), umum.wait_n), (3, 3, 3));
    let gigi = &live[1];
    assert_eq!((gigi.done(), gigi.status("ANAMNESA", None), gigi.status("WAITING_DOCTOR", None), gigi.bpjs(), gigi.wait_n), (2, 1, 1, 1, 2));
    for d in &live {
        let (min, max) = (d.wait_min.expect("a shortest wait"), d.wait_max.expect("a longest wait"));
        assert!(0 <= min && min <= max && max <= d.wait_sum, "{d:?}");
    }

    let outcome = rollup::rebuild_day(deps.table.as_ref(), &tenant, date, |d| source::day_facts(&deps, &tenant, d, tz)).await.unwrap();
    assert_eq!(outcome, rollup::RebuildOutcome { repaired: 0, unchanged: 2 }, "the live writes were exact");
    let rebuilt = rollup::read(deps.table.as_ref(), &tenant, date, date).await.unwrap();
    assert_eq!(rebuilt, live);
    // And the rebuild compares for real: a damaged count is found and repaired.
    let mut wrong = live[1].clone();
    wrong.counts[0][0] += 3;
    deps.table.write(vec![antrean_store::Op::put(wrong.to_item(&tenant, 99))]).await.unwrap();
    let outcome = rollup::rebuild_day(deps.table.as_ref(), &tenant, date, |d| source::day_facts(&deps, &tenant, d, tz)).await.unwrap();
    assert_eq!(outcome, rollup::RebuildOutcome { repaired: 1, unchanged: 1 });
    assert_eq!(rollup::read(deps.table.as_ref(), &tenant, date, date).await.unwrap(), live);
}

on_both_stores!(the_dashboard_counts_the_days_workflow, the_reports_count_the_days_workflow, live_rollups_equal_a_rebuild_after_the_workflow);
