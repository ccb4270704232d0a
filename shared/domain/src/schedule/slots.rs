//! The interface reservations use: a schedule as a slot, its booked places held and given back.
use super::*;

// ---------------------------------------------------------------------------------------
// The interface reservations use

/// The two keys a slot is read from (the record, its booked count), for a batch read.
pub fn slot_keys(tenant: &Tenant, id: i64) -> [Key; 2] {
    [record::record_key::<Schedule>(tenant, id), booked_key(tenant, id)]
}

/// The live slot from a batch read of [`slot_keys`]; `None` when missing or deleted.
pub fn slot_from(record: Option<Item>, booked: Option<Item>) -> DomainResult<Option<Slot>> {
    let Some(item) = record else { return Ok(None) };
    let version = item.get(VERSION).and_then(Value::as_i64).unwrap_or(0);
    let schedule: Stored<Schedule> = decode(item)?;
    if schedule.is_trashed() {
        return Ok(None);
    }
    let booked = booked.and_then(|i| i.get(BOOKED).and_then(Value::as_i64)).unwrap_or(0);
    Ok(Some(Slot { schedule, version, booked }))
}

/// One live schedule with its version and booked count (one batch read); 404 "Schedule not
/// found" when missing or deleted.
pub async fn slot(deps: &Deps, tenant: &Tenant, id: i64) -> DomainResult<Slot> {
    let mut items = deps.table.get_many(&slot_keys(tenant, id), None).await?.into_iter();
    slot_from(items.next().flatten(), items.next().flatten())?.ok_or_else(not_found)
}

/// The ids of a poly's schedules on a date, from the day index (one Query).
pub async fn ids_on_day(deps: &Deps, tenant: &Tenant, poly_id: i64, date: NaiveDate) -> DomainResult<Vec<i64>> {
    let date = date_string(date);
    let year: i32 = date.get(..4).and_then(|y| y.parse().ok()).unwrap_or(0);
    // Only the two attributes this needs come back (the index items copy the whole schedule).
    let q = Query::partition(year_partition(tenant, year)).sort(SortKey::BeginsWith(format!("{date}#"))).only(&["id", "poly_id"]);
    let items = antrean_store::query_all(deps.table.as_ref(), q).await?;
    let n = |i: &Item, k: &str| i.get(k).and_then(Value::as_i64);
    Ok(items.iter().filter(|i| n(i, "poly_id") == Some(poly_id)).filter_map(|i| n(i, "id")).collect())
}

/// The live slots of a poly among the batch answers for `ids` (two items each, as
/// [`slot_keys`]), earliest start first (then id). The record is the truth; the index only
/// said which ones to read.
pub fn slots_from(poly_id: i64, items: impl IntoIterator<Item = Option<Item>>) -> DomainResult<Vec<Slot>> {
    let mut items = items.into_iter();
    let mut slots = Vec::new();
    while let Some(record) = items.next() {
        if let Some(s) = slot_from(record, items.next().flatten())? {
            if s.schedule.data.poly_id == poly_id {
                slots.push(s);
            }
        }
    }
    slots.sort_by(|a, b| a.schedule.data.start_time.cmp(&b.schedule.data.start_time).then(a.schedule.id.cmp(&b.schedule.id)));
    Ok(slots)
}

/// The live schedules of a poly on a date, earliest start first (then id): one Query on the
/// day index, one batch read of the records and their booked counts.
pub async fn on_day(deps: &Deps, tenant: &Tenant, poly_id: i64, date: NaiveDate) -> DomainResult<Vec<Slot>> {
    let ids = ids_on_day(deps, tenant, poly_id, date).await?;
    let keys: Vec<Key> = ids.iter().flat_map(|id| slot_keys(tenant, *id)).collect();
    slots_from(poly_id, deps.table.get_many(&keys, None).await?)
}

/// The two ops a reservation adds to its own atomic write to take one place:
/// [0] a condition check: the schedule is still at `slot.version` and not deleted (if it fails, the caller re-reads and retries);
/// [1] booked + 1 on the booked-count item, only while booked < quota when there is a quota (if it fails: "Quota is full").
pub fn hold_ops(tenant: &Tenant, slot: &Slot) -> [Op; 2] {
    let id = slot.schedule.id;
    let unchanged = Op::check(
        record::record_key::<Schedule>(tenant, id),
        Condition::And(vec![Condition::equals(VERSION, slot.version), Condition::attr_not_exists("deleted_at")]),
    );
    [unchanged, take_op(tenant, id, slot.schedule.data.quota, 0)]
}

/// Takes one place while the count is under `quota`, giving back `reclaimed` places in the
/// same op (expired appointment holds): booked + 1 - reclaimed, only while booked - reclaimed < quota.
pub fn take_op(tenant: &Tenant, schedule_id: i64, quota: Option<i64>, reclaimed: i64) -> Op {
    let add = Update::new().add(BOOKED, 1 - reclaimed);
    match quota {
        // A quota is at least 1, so a missing count (0) always has room.
        Some(q) if reclaimed == 0 => Op::update_if(
            booked_key(tenant, schedule_id),
            add,
            Condition::Or(vec![Condition::attr_not_exists(BOOKED), Condition::compare(BOOKED, Cmp::Lt, q)]),
        ),
        Some(q) => Op::update_if(booked_key(tenant, schedule_id), add, Condition::compare(BOOKED, Cmp::Lt, q + reclaimed)),
        None => Op::update(booked_key(tenant, schedule_id), add),
    }
}

/// Gives one place back (a reservation was cancelled): booked - 1, unconditional.
pub fn release_op(tenant: &Tenant, schedule_id: i64) -> Op {
    Op::update(booked_key(tenant, schedule_id), Update::new().add(BOOKED, -1))
}
