//! BatchGetItem: 100 keys a call, unprocessed keys asked again.
use super::*;

/// How often a batch read asks again for the keys DynamoDB left unprocessed (it does so under
/// throttling or past 16 MB an answer), with a doubling, jittered pause between.
pub(super) const UNPROCESSED_ATTEMPTS: u32 = 10;
/// How many BatchGetItem calls of one `get_many` are in flight at once.
pub(super) const BATCHES_IN_FLIGHT: usize = 4;

impl DynamoTable {
    /// One BatchGetItem of at most 100 distinct keys, asking again for unprocessed keys.
    pub(super) async fn batch_get(&self, keys: &[Key], only: Option<&[String]>) -> Result<Vec<Item>, StoreError> {
        let mut e = Expr::default();
        let projection = e.projection(only);
        let mut pending: Vec<HashMap<String, AttributeValue>> = keys.iter().map(key_map).collect();
        let mut found = Vec::with_capacity(keys.len());
        for attempt in 0..UNPROCESSED_ATTEMPTS {
            let request = KeysAndAttributes::builder()
                .set_keys(Some(std::mem::take(&mut pending)))
                .consistent_read(true)
                .set_projection_expression(projection.clone())
                .set_expression_attribute_names(e.names())
                .build()
                .map_err(unavailable)?;
            let out = self
                .client
                .batch_get_item()
                .request_items(&self.table, request)
                .return_consumed_capacity(ReturnConsumedCapacity::Total)
                .send()
                .await
                .inspect_err(|_| self.capacity.failed())
                .map_err(sdk_error)?;
            self.capacity.count(Used::Read, Some(out.consumed_capacity()));
            if let Some(items) = out.responses().and_then(|r| r.get(&self.table)) {
                found.extend(items.iter().map(to_item));
            }
            match out.unprocessed_keys().and_then(|u| u.get(&self.table)) {
                Some(left) if !left.keys().is_empty() => pending = left.keys().to_vec(),
                _ => return Ok(found),
            }
            let pause = 20u64 << attempt.min(6);
            tokio::time::sleep(std::time::Duration::from_millis(pause + rand::random::<u64>() % pause)).await;
        }
        Err(StoreError::Unavailable(format!("DynamoDB left {} keys unprocessed after {UNPROCESSED_ATTEMPTS} tries", pending.len())))
    }
}
