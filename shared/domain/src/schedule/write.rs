//! Create, update and trash: every write conditional, a lost race read and judged again.
use super::*;

// ---------------------------------------------------------------------------------------
// Writes

pub(super) fn object_of(stored: &Stored<Schedule>) -> DomainResult<Item> {
    match serde_json::to_value(stored).map_err(|e| DomainError::Internal(e.to_string()))? {
        Value::Object(mut fields) => {
            // Absent, not null: "not trashed" is then a plain attribute_not_exists condition.
            if fields.get("deleted_at").is_some_and(Value::is_null) {
                fields.remove("deleted_at");
            }
            Ok(fields)
        }
        _ => Err(DomainError::Internal("a schedule must serialise to an object".into())),
    }
}

pub(super) fn keyed(key: Key, mut fields: Item, version: i64) -> Item {
    let mut item = Item::new();
    item.insert("pk".into(), key.pk.into());
    item.insert("sk".into(), key.sk.into());
    item.append(&mut fields);
    item.insert(VERSION.into(), version.into());
    item
}

pub(super) fn record_item(tenant: &Tenant, stored: &Stored<Schedule>, version: i64) -> DomainResult<Item> {
    Ok(keyed(record::record_key::<Schedule>(tenant, stored.id), object_of(stored)?, version))
}

pub(super) fn index_item(tenant: &Tenant, stored: &Stored<Schedule>, version: i64) -> DomainResult<Item> {
    Ok(keyed(index_key(tenant, &stored.data.date, stored.id), object_of(stored)?, version))
}

/// Moves a doctor-day's `rev` on, failing if anyone moved it since we read `rev`.
pub(super) fn bump_day(tenant: &Tenant, doctor_id: i64, date: &str, rev: i64) -> Op {
    let cond = if rev == 0 {
        Condition::attr_not_exists(REV)
    } else {
        Condition::equals(REV, rev)
    };
    Op::update_if(doctor_day_key(tenant, doctor_id, date), Update::new().add(REV, 1), cond)
}

/// "No place is booked", as a condition on the booked item.
pub(super) fn none_booked() -> Condition {
    Condition::Or(vec![Condition::attr_not_exists(BOOKED), Condition::compare(BOOKED, Cmp::Le, 0)])
}

pub(super) async fn backoff(attempt: u32) {
    let jitter = rand::random::<u64>() % (2 + u64::from(attempt.min(20)) * 3);
    tokio::time::sleep(Duration::from_millis(1 + jitter)).await;
}

pub(super) fn busy() -> DomainError {
    DomainError::Conflict("The schedule is being changed by someone else; try again.".into())
}

/// A lost race: nothing was written; read again.
pub(super) fn lost(e: &StoreError) -> bool {
    matches!(e, StoreError::ConditionFailed { .. } | StoreError::Conflict)
}

/// Refuses a schedule that overlaps another live one of the same doctor on its date.
pub(super) async fn refuse_overlap(deps: &Deps, tenant: &Tenant, s: &Schedule, own_id: Option<i64>) -> DomainResult<()> {
    let clash = on_date(deps, tenant, &s.date)
        .await?
        .iter()
        .any(|o| Some(o.id) != own_id && o.data.doctor_id == s.doctor_id && overlaps(&o.data, s));
    if clash {
        return Err(DomainError::Unprocessable(CONFLICT.into()));
    }
    Ok(())
}

/// Creates a schedule (seed "CREATE / STORE").
pub async fn create(deps: &Deps, tenant: &Tenant, actor: &Actor, body: &Value) -> DomainResult<Stored<Schedule>> {
    for attempt in 0..MAX_ATTEMPTS {
        let (form, doc) = judge(deps, tenant, body).await?;
        let data = form.into_schedule(&doc);
        // `rev` before the day's schedules: a writer we miss in the query moved `rev` first.
        let rev = doctor_day_rev(deps, tenant, data.doctor_id, &data.date).await?;
        refuse_overlap(deps, tenant, &data, None).await?;
        let last = record::last_id(deps, tenant, Schedule::KIND).await?;
        let now = deps.clock.now();
        let ts = stamp(now);
        let stored = Stored {
            id: last + 1,
            data,
            created_at: ts.clone(),
            updated_at: ts,
            deleted_at: None,
        };
        let mut booked = Item::new();
        let bk = booked_key(tenant, stored.id);
        booked.insert("pk".into(), bk.pk.into());
        booked.insert("sk".into(), bk.sk.into());
        booked.insert(BOOKED.into(), 0.into());
        let mut ops = vec![
            record::bump_counter(tenant, Schedule::KIND, last, 1),
            Op::put_new(record_item(tenant, &stored, 1)?),
            Op::put_new(index_item(tenant, &stored, 1)?),
            Op::put_new(booked),
            bump_day(tenant, stored.data.doctor_id, &stored.data.date, rev),
        ];
        ops.extend(doc.checks(tenant));
        ops.push(audit::entry(tenant, actor, Action::Create, Schedule::KIND, stored.id, now));
        match deps.table.write(ops).await {
            Ok(()) => return Ok(stored),
            Err(e) if lost(&e) => backoff(attempt).await,
            Err(e) => return Err(e.into()),
        }
    }
    Err(busy())
}

/// Replaces a live schedule's fields (seed "UPDATE"): an absent `quota` means unlimited.
pub async fn update(deps: &Deps, tenant: &Tenant, actor: &Actor, id: i64, body: &Value) -> DomainResult<Stored<Schedule>> {
    for attempt in 0..MAX_ATTEMPTS {
        // An unknown id is a 404 before the body is judged.
        let (current, version) = match read(deps, tenant, id).await? {
            Some((s, v)) if !s.is_trashed() => (s, v),
            _ => return Err(not_found()),
        };
        let (form, doc) = judge(deps, tenant, body).await?;
        let data = form.into_schedule(&doc);
        let old = &current.data;
        let moved = old.date != data.date || old.doctor_id != data.doctor_id || old.poly_id != data.poly_id;
        let booked_now = booked(deps, tenant, id).await?;
        if moved && booked_now > 0 {
            return Err(DomainError::Conflict(HAS_BOOKINGS_MOVE.into()));
        }
        // Booked slots are counted per start time: their cut cannot change under them.
        let reslotted = (old.slot_minutes, old.slot_capacity, &old.start_time, &old.end_time) != (data.slot_minutes, data.slot_capacity, &data.start_time, &data.end_time);
        if reslotted && old.slot_minutes.is_some() && booked_now > 0 {
            return Err(DomainError::Conflict(HAS_BOOKINGS_SLOTS.into()));
        }
        let moved = moved || (reslotted && old.slot_minutes.is_some());
        if let Some(q) = data.quota {
            if q < booked_now {
                return Err(DomainError::Conflict(quota_below_booked(booked_now)));
            }
        }
        let new_rev = doctor_day_rev(deps, tenant, data.doctor_id, &data.date).await?;
        let same_day = old.doctor_id == data.doctor_id && old.date == data.date;
        let old_rev = if same_day {
            new_rev
        } else {
            doctor_day_rev(deps, tenant, old.doctor_id, &old.date).await?
        };
        refuse_overlap(deps, tenant, &data, Some(id)).await?;

        let now = deps.clock.now();
        let stored = Stored {
            id,
            data,
            created_at: current.created_at.clone(),
            updated_at: stamp(now),
            deleted_at: None,
        };
        let mut ops = vec![Op::put_if(
            record_item(tenant, &stored, version + 1)?,
            Condition::And(vec![Condition::equals(VERSION, version), Condition::attr_not_exists("deleted_at")]),
        )];
        let old_index = index_key(tenant, &old.date, id);
        if old_index != index_key(tenant, &stored.data.date, id) {
            ops.push(Op::delete(old_index));
        }
        ops.push(Op::put(index_item(tenant, &stored, version + 1)?));
        ops.push(bump_day(tenant, stored.data.doctor_id, &stored.data.date, new_rev));
        if !same_day {
            ops.push(bump_day(tenant, old.doctor_id, &old.date, old_rev));
        }
        // The bookings are judged again inside the write: a reservation may land meanwhile.
        let mut booked_rules = Vec::new();
        if moved {
            booked_rules.push(none_booked());
        }
        if let Some(q) = stored.data.quota {
            booked_rules.push(Condition::Or(vec![
                Condition::attr_not_exists(BOOKED),
                Condition::compare(BOOKED, Cmp::Le, q),
            ]));
        }
        // One rule goes alone: DynamoDB refuses an `And` of one as redundant parentheses.
        let booked_rule = match booked_rules.len() {
            0 => None,
            1 => booked_rules.pop(),
            _ => Some(Condition::And(booked_rules)),
        };
        if let Some(rule) = booked_rule {
            ops.push(Op::check(booked_key(tenant, id), rule));
        }
        ops.extend(doc.checks(tenant));
        ops.push(audit::entry(tenant, actor, Action::Update, Schedule::KIND, id, now));
        match deps.table.write(ops).await {
            Ok(()) => return Ok(stored),
            // Someone changed the schedule, its day, its bookings or its doctor: judge again.
            Err(e) if lost(&e) => backoff(attempt).await,
            Err(e) => return Err(e.into()),
        }
    }
    Err(busy())
}

/// Soft delete (seed "DELETE / DESTROY"): refused while places are booked.
pub async fn trash(deps: &Deps, tenant: &Tenant, actor: &Actor, id: i64) -> DomainResult<()> {
    for attempt in 0..MAX_ATTEMPTS {
        let (current, version) = match read(deps, tenant, id).await? {
            Some((s, v)) if !s.is_trashed() => (s, v),
            _ => return Err(not_found()),
        };
        if booked(deps, tenant, id).await? > 0 {
            return Err(DomainError::Conflict(HAS_BOOKINGS_DELETE.into()));
        }
        let s = &current.data;
        let rev = doctor_day_rev(deps, tenant, s.doctor_id, &s.date).await?;
        let now = deps.clock.now();
        let ops = vec![
            Op::update_if(
                record::record_key::<Schedule>(tenant, id),
                Update::new().set("deleted_at", stamp(now)).set("updated_at", stamp(now)).add(VERSION, 1),
                Condition::And(vec![Condition::equals(VERSION, version), Condition::attr_not_exists("deleted_at")]),
            ),
            Op::delete(index_key(tenant, &s.date, id)),
            bump_day(tenant, s.doctor_id, &s.date, rev),
            Op::check(booked_key(tenant, id), none_booked()),
            audit::entry(tenant, actor, Action::Delete, Schedule::KIND, id, now),
        ];
        match deps.table.write(ops).await {
            Ok(()) => return Ok(()),
            Err(e) if lost(&e) => backoff(attempt).await,
            Err(e) => return Err(e.into()),
        }
    }
    Err(busy())
}
