//! Writes: one operation as PutItem / UpdateItem / DeleteItem, several as one transaction.
use super::*;

impl DynamoTable {
    pub(super) fn transact_item(&self, op: &Op) -> Result<TransactWriteItem, StoreError> {
        let mut e = Expr::default();
        let item = match op {
            Op::Put { item, condition } => {
                let cond = condition.as_ref().map(|c| e.condition(c));
                let put = Put::builder()
                    .table_name(&self.table)
                    .set_item(Some(item.iter().map(|(k, v)| (k.clone(), to_attribute(v))).collect()))
                    .set_condition_expression(cond)
                    .set_expression_attribute_names(e.names())
                    .set_expression_attribute_values(e.values())
                    .build()
                    .map_err(unavailable)?;
                TransactWriteItem::builder().put(put).build()
            }
            Op::Update { key, update, condition } => {
                let expr = e.update(update);
                let cond = condition.as_ref().map(|c| e.condition(c));
                let upd = DynUpdate::builder()
                    .table_name(&self.table)
                    .set_key(Some(key_map(key)))
                    .update_expression(expr)
                    .set_condition_expression(cond)
                    .set_expression_attribute_names(e.names())
                    .set_expression_attribute_values(e.values())
                    .build()
                    .map_err(unavailable)?;
                TransactWriteItem::builder().update(upd).build()
            }
            Op::Delete { key, condition } => {
                let cond = condition.as_ref().map(|c| e.condition(c));
                let del = Delete::builder()
                    .table_name(&self.table)
                    .set_key(Some(key_map(key)))
                    .set_condition_expression(cond)
                    .set_expression_attribute_names(e.names())
                    .set_expression_attribute_values(e.values())
                    .build()
                    .map_err(unavailable)?;
                TransactWriteItem::builder().delete(del).build()
            }
            Op::Check { key, condition } => {
                let cond = e.condition(condition);
                let check = ConditionCheck::builder()
                    .table_name(&self.table)
                    .set_key(Some(key_map(key)))
                    .condition_expression(cond)
                    .set_expression_attribute_names(e.names())
                    .set_expression_attribute_values(e.values())
                    .build()
                    .map_err(unavailable)?;
                TransactWriteItem::builder().condition_check(check).build()
            }
        };
        Ok(item)
    }

    /// One operation: the plain single-item call, half the capacity of a transaction.
    pub(super) async fn write_one(&self, op: &Op) -> Result<(), StoreError> {
        let mut e = Expr::default();
        let sent = match op {
            Op::Put { item, condition } => {
                let cond = condition.as_ref().map(|c| e.condition(c));
                self.client
                    .put_item()
                    .table_name(&self.table)
                    .set_item(Some(item.iter().map(|(k, v)| (k.clone(), to_attribute(v))).collect()))
                    .set_condition_expression(cond)
                    .set_expression_attribute_names(e.names())
                    .set_expression_attribute_values(e.values())
                    .return_consumed_capacity(ReturnConsumedCapacity::Total)
                    .send()
                    .await
                    .map(|out| out.consumed_capacity)
                    .map_err(write_error)
            }
            Op::Update { key, update, condition } => {
                let expr = e.update(update);
                let cond = condition.as_ref().map(|c| e.condition(c));
                self.client
                    .update_item()
                    .table_name(&self.table)
                    .set_key(Some(key_map(key)))
                    .update_expression(expr)
                    .set_condition_expression(cond)
                    .set_expression_attribute_names(e.names())
                    .set_expression_attribute_values(e.values())
                    .return_consumed_capacity(ReturnConsumedCapacity::Total)
                    .send()
                    .await
                    .map(|out| out.consumed_capacity)
                    .map_err(write_error)
            }
            Op::Delete { key, condition } => {
                let cond = condition.as_ref().map(|c| e.condition(c));
                self.client
                    .delete_item()
                    .table_name(&self.table)
                    .set_key(Some(key_map(key)))
                    .set_condition_expression(cond)
                    .set_expression_attribute_names(e.names())
                    .set_expression_attribute_values(e.values())
                    .return_consumed_capacity(ReturnConsumedCapacity::Total)
                    .send()
                    .await
                    .map(|out| out.consumed_capacity)
                    .map_err(write_error)
            }
            Op::Check { .. } => unreachable!("a lone condition check goes through a transaction"),
        };
        match sent {
            Ok(consumed) => {
                self.capacity.count(Used::Write, Some(consumed.as_ref()));
                Ok(())
            }
            Err(e) => {
                self.capacity.failed();
                Err(e)
            }
        }
    }
}

/// A single-item write's error: its refused condition is the operation's (index 0); the rest
/// as every call's ([`sdk_error`]: a conflict, an outage, an invalid request).
fn write_error<E: std::fmt::Debug + aws_sdk_dynamodb::error::ProvideErrorMetadata, R: std::fmt::Debug>(err: SdkError<E, R>) -> StoreError {
    if err.as_service_error().and_then(|s| s.code()) == Some("ConditionalCheckFailedException") {
        return StoreError::ConditionFailed { index: 0 };
    }
    sdk_error(err)
}
