//! Call-next (seed `PATCH /api/queue/call-next`): the doctor's "next patient" button, per
//! room when the clinic has rooms, under the clinic's priority policy and the day's roster.
use chrono::NaiveDate;

use super::*;

/// What call-next did.
#[derive(Debug, Clone)]
pub struct NextCalled {
    /// The patient who was with the doctor, now done.
    pub finished: Option<Full>,
    /// The patient now called in. `None`: nobody was waiting for the doctor (nothing changed).
    pub current: Option<Full>,
    pub call: Option<Call>,
}

/// Finishes the current patient (the one called in last, in this room when one is named) and
/// calls in the next waiting-doctor number under the clinic's priority policy, to that room,
/// in one atomic write (seed `PATCH /api/queue/call-next`). Nobody waiting: nothing changes.
/// Two rooms pressing at once both pick the same patient; the write is conditioned on that
/// reservation's version, so one wins and the other reads again and takes the next.
pub async fn call_next(deps: &Deps, tenant: &Tenant, actor: &Actor, poly_id: i64, date: NaiveDate, room_id: Option<i64>) -> DomainResult<NextCalled> {
    let mut refusals = crate::error::Refusals::default();
    for attempt in 0..MAX_ATTEMPTS {
        let entries = day_entries(deps, tenant, date, Some(poly_id)).await?;
        let (priority_one, regular_one) = priority::candidates(&entries);
        if priority_one.is_none() && regular_one.is_none() {
            // Nobody waiting: a poly or room that does not exist says so; nothing changes either way.
            if record::get::<Poly>(deps, tenant, poly_id).await?.is_none_or(|p| p.is_trashed()) {
                return Err(invalid_poly());
            }
            if let Some(id) = room_id {
                rooms::checked(deps.table.get(&record::record_key::<Room>(tenant, id)).await?, poly_id)?;
            }
            return Ok(NextCalled { finished: None, current: None, call: None });
        }
        // The current patient, as `current` shows it: the one called in last (in this room).
        // Others with the doctor (another room) are finished by their own room's call-next or `done`.
        let with = entries
            .iter()
            .filter(|e| e.status_code == WITH_DOCTOR && e.room_id == room_id)
            .max_by_key(|e| (e.called_ms.unwrap_or_default(), e.queue_number));
        // A room first calls its doctor's patients (`clinic_flow::roster`); who that doctor is
        // today comes in the batch below, so each schedule doctor's two candidates are read too.
        let own: Vec<(i64, priority::Candidates)> = match room_id {
            Some(_) => entries
                .iter()
                .filter(|e| e.status_code == WAITING_DOCTOR)
                .filter_map(|e| e.schedule_doctor_id)
                .collect::<std::collections::BTreeSet<i64>>()
                .into_iter()
                .map(|d| (d, priority::candidates_of(&entries, Some(d))))
                .collect(),
            None => Vec::new(),
        };
        // The candidates are read (the policy is in the same batch), one of them is called.
        let mut picked: Vec<&DayEntry> = with.into_iter().chain(priority_one).chain(regular_one).collect();
        for e in own.iter().flat_map(|(_, (p, r))| p.iter().chain(r.iter())) {
            if !picked.iter().any(|x| x.id == e.id) {
                picked.push(e);
            }
        }
        let ids: Vec<i64> = picked.iter().map(|e| e.id).collect();
        let refs: Vec<(i64, i64)> = picked.iter().map(|e| (e.patient_id, poly_id)).collect();
        // One batch: the reservations, their patients, the poly, the rollup bucket, the queue
        // settings, the poly's consultation times, the room, and on the first try the clinic's
        // settings and statuses.
        let mut extra_keys = vec![rollup::key(tenant, date, poly_id), flow_settings::key(tenant), estimates::key(tenant, poly_id)];
        if let Some(id) = room_id {
            extra_keys.extend([record::record_key::<Room>(tenant, id), roster::key(tenant, date, id)]);
        }
        let (mut nested, extra) = crate::nested::read_with(deps, tenant, &ids, &refs, &extra_keys).await?;
        let mut extra = extra.into_iter();
        let bucket = extra.next().flatten();
        let settings = flow_settings::from_item(extra.next().flatten().as_ref());
        let times = ServiceTimes::from_item(extra.next().flatten().as_ref());
        if !nested.has_poly(poly_id) {
            return Err(invalid_poly());
        }
        let room = match room_id {
            Some(_) => Some(rooms::checked(extra.next().flatten(), poly_id)?),
            None => None,
        };
        let doctor = room.as_ref().and_then(|r| roster::doctor_of(r, extra.next().flatten().as_ref()));
        // The room's doctor's own patients first, then the whole line.
        let (p, r) = match own.iter().find(|(d, (p, r))| Some(*d) == doctor && (p.is_some() || r.is_some())) {
            Some((_, mine)) => *mine,
            None => (priority_one, regular_one),
        };
        let Some(next) = priority::pick(&entries, p, r, &settings) else { continue };
        let wanted: Vec<i64> = with.map(|e| e.id).into_iter().chain(std::iter::once(next.id)).collect();
        let records: Vec<(Stored<Reservation>, i64)> = nested.take_versioned(&ids).into_iter().filter(|(r, _)| wanted.contains(&r.id)).collect();
        let (_, tz) = clinic_today(deps, tenant).await?;
        let statuses = statuses(deps, tenant).await?;
        let (done_id, with_id) = (status_by_code(&statuses, DONE)?.id, status_by_code(&statuses, WITH_DOCTOR)?.id);
        let now = deps.clock.now();
        let mut ops = Vec::new();
        let mut changes = Vec::new();
        let mut samples = Vec::new();
        let mut stale = records.len() != wanted.len();
        for (before, version) in records {
            let (mv, status_id) = if before.id == next.id { (Move::WithDoctor, with_id) } else { (Move::Done, done_id) };
            if step(&before.data.status_code, mv) != Some(Step::Enter) {
                stale = true;
                break;
            }
            let mut after = moved(&before, mv, Step::Enter, status_id, now, tz);
            if let (Move::WithDoctor, Some(room)) = (mv, &room) {
                after.data.room_id = Some(room.id);
                after.data.room = Some(room.data.name.clone());
                after.data.doctor_id = doctor;
            }
            if mv == Move::Done {
                samples.extend(ServiceTimes::sample_of(&after.data, tz));
            }
            ops.extend(change_ops(tenant, tz, &before, version, &after, mv == Move::WithDoctor)?);
            ops.push(audit::entry(tenant, actor, Action::Update, Reservation::KIND, before.id, now));
            changes.push((before, after));
        }
        if !stale {
            // Both patients count in the same rollup item: one update for it.
            let mut ops = reservation::merge_updates(ops);
            if let Some((b, a)) = changes.last() {
                rollup::fold_extremes(&mut ops, tenant, bucket.as_ref(), Some(&b.data.facts(tz)), &a.data.facts(tz));
            }
            if !samples.is_empty() {
                ops.push(times.add_op(tenant, poly_id, &samples));
            }
            let call = changes.last().map(|(_, c)| Call {
                poly_id,
                date,
                queue_number: c.data.queue_number,
                stage: Stage::WithDoctor,
                number_of_calls: 1,
                at: now,
                room: c.data.room.clone(),
                priority: c.data.priority,
            });
            if let (Some(c), Some((_, a))) = (&call, changes.last()) {
                crate::board::state::fold_call(&mut ops, tenant, c, a.data.room_id.filter(|_| c.room.is_some()), bucket.as_ref());
            }
            match deps.table.write(ops).await {
                Ok(()) => {
                    let mut full: Vec<Full> = changes.into_iter().map(|(_, a)| nested.full(a)).collect();
                    let current = full.pop();
                    return Ok(NextCalled { finished: full.pop(), current, call });
                }
                Err(e @ (antrean_store::StoreError::ConditionFailed { .. } | antrean_store::StoreError::Conflict)) => {
                    if !refusals.keep_trying(&e) {
                        break;
                    }
                }
                Err(e) => return Err(e.into()),
            }
        }
        record::backoff(attempt).await;
    }
    Err(refusals.ran_out(DomainError::Conflict("The queue is being changed by someone else; try again".into())))
}

fn invalid_poly() -> DomainError {
    FieldErrors::single("poly_id", "The selected poly id is invalid.")
}

