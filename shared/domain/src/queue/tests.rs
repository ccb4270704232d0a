use super::*;

#[test]
fn the_state_machine_follows_the_clinic() {
    let codes = [WAITING, ANAMNESA, WAITING_DOCTOR, WITH_DOCTOR, DONE, NO_SHOW, CANCELLED];
    let table: Vec<Vec<Option<Step>>> = codes.iter().map(|c| Move::ALL.iter().map(|m| step(c, *m)).collect()).collect();
    let (e, r, x) = (Some(Step::Enter), Some(Step::Recall), None);
    assert_eq!(
        table,
        vec![
            vec![e, x, x, x, e, e],
            vec![r, e, x, x, e, e],
            vec![x, x, e, x, e, e],
            vec![x, x, r, e, e, e],
            vec![x, x, x, x, x, x],
            vec![x, x, x, x, x, x],
            vec![x, x, x, x, x, x],
        ]
    );
}

#[test]
fn moves_keep_stage_times_and_count_calls() {
    let t0 = chrono::DateTime::parse_from_rfc3339("2026-01-10T01:00:00Z").unwrap().with_timezone(&chrono::Utc);
    let base = Stored {
        id: 1,
        data: Reservation {
            patient_id: 1,
            poly_id: 1,
            schedule_id: 1,
            date: "2026-01-10".into(),
            bpjs: false,
            status_id: 1,
            status_code: WAITING.into(),
            queue_number: 4,
            re_reservation_time: "08:00:00".into(),
            call_time: None,
            number_of_calls: 0,
            notification_status: false,
            ticket_code: None,
            bpjs_visit: None,
            queue_updated_at: stamp(t0),
            registered_at: Some(stamp(t0)),
            anamnesa_at: None,
            waiting_doctor_at: None,
            with_doctor_at: None,
            finished_at: None,
            ..Default::default()
        },
        created_at: stamp(t0),
        updated_at: stamp(t0),
        deleted_at: None,
    };
    let tz = chrono_tz::Asia::Jakarta;
    let a = moved(&base, Move::Anamnesa, Step::Enter, 2, t0 + chrono::Duration::minutes(5), tz);
    assert_eq!((a.data.status_code.as_str(), a.data.number_of_calls), (ANAMNESA, 1));
    let again = moved(&a, Move::Anamnesa, Step::Recall, 2, t0 + chrono::Duration::minutes(6), tz);
    assert_eq!(again.data.number_of_calls, 2);
    assert_eq!(again.data.anamnesa_at, a.data.anamnesa_at, "a recall keeps the first call's time");
    let w = moved(&again, Move::WaitingDoctor, Step::Enter, 3, t0 + chrono::Duration::minutes(10), tz);
    assert_eq!(w.data.number_of_calls, 0);
    let d = moved(&w, Move::WithDoctor, Step::Enter, 4, t0 + chrono::Duration::minutes(20), tz);
    assert_eq!(d.data.call_time.as_deref(), Some("08:20:00"), "clinic time, Asia/Jakarta");
    assert_eq!(rollup::waiting_seconds(d.data.visit_date(), &d.data.stages(), tz), Some(20 * 60));
}
