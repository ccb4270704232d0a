//! Creating the table from template.yaml's own definition, so local runs use what is deployed.
use super::*;

impl DynamoTable {
    /// Creates the table when it is missing, from the `AWS::DynamoDB::Table` resource of the
    /// SAM template, so local runs use the very definition that is deployed. Returns true
    /// when it created the table.
    pub async fn create_table_if_missing(&self, template_yaml: &str) -> Result<bool, StoreError> {
        match self.client.describe_table().table_name(&self.table).send().await {
            Ok(_) => return Ok(false),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_resource_not_found_exception()) => {}
            Err(e) => return Err(unavailable(e)),
        }
        let def = TableDefinition::from_template(template_yaml)?;
        let mut create = self.client.create_table().table_name(&self.table).billing_mode(BillingMode::PayPerRequest);
        for (name, ty) in &def.attributes {
            create = create.attribute_definitions(
                AttributeDefinition::builder()
                    .attribute_name(name)
                    .attribute_type(ScalarAttributeType::from(ty.as_str()))
                    .build()
                    .map_err(unavailable)?,
            );
        }
        for el in key_schema(&def.key)? {
            create = create.key_schema(el);
        }
        for (index, key) in &def.indexes {
            let mut gsi = GlobalSecondaryIndex::builder()
                .index_name(index)
                .projection(Projection::builder().projection_type(ProjectionType::All).build());
            for el in key_schema(key)? {
                gsi = gsi.key_schema(el);
            }
            create = create.global_secondary_indexes(gsi.build().map_err(unavailable)?);
        }
        match create.send().await {
            Ok(_) => {}
            // Another process created it between our describe and create: that is fine.
            Err(e) if e.as_service_error().is_some_and(|s| s.is_resource_in_use_exception()) => return Ok(false),
            Err(e) => return Err(unavailable(e)),
        }
        // DynamoDB creates tables asynchronously and refuses a TTL change until it is ACTIVE.
        self.wait_until_active().await?;
        if let Some(ttl) = &def.ttl_attribute {
            self.client
                .update_time_to_live()
                .table_name(&self.table)
                .time_to_live_specification(
                    TimeToLiveSpecification::builder().attribute_name(ttl).enabled(true).build().map_err(unavailable)?,
                )
                .send()
                .await
                .map_err(unavailable)?;
        }
        Ok(true)
    }

    pub(super) async fn wait_until_active(&self) -> Result<(), StoreError> {
        for _ in 0..600 {
            let out = self.client.describe_table().table_name(&self.table).send().await.map_err(unavailable)?;
            if out.table().and_then(|t| t.table_status()) == Some(&aws_sdk_dynamodb::types::TableStatus::Active) {
                return Ok(());
            }
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
        Err(StoreError::Unavailable(format!("table {} did not become ACTIVE within 2 minutes", self.table)))
    }

    pub async fn delete_table(&self) -> Result<(), StoreError> {
        self.client.delete_table().table_name(&self.table).send().await.map_err(unavailable)?;
        Ok(())
    }
}

pub(super) fn key_schema(key: &(String, String)) -> Result<Vec<KeySchemaElement>, StoreError> {
    Ok(vec![
        KeySchemaElement::builder().attribute_name(&key.0).key_type(KeyType::Hash).build().map_err(unavailable)?,
        KeySchemaElement::builder().attribute_name(&key.1).key_type(KeyType::Range).build().map_err(unavailable)?,
    ])
}

/// The parts of the template's table resource that creating a table needs.
#[derive(Debug, PartialEq)]
pub struct TableDefinition {
    pub attributes: Vec<(String, String)>,
    pub key: (String, String),
    pub indexes: Vec<(String, (String, String))>,
    pub ttl_attribute: Option<String>,
}

impl TableDefinition {
    pub fn from_template(template_yaml: &str) -> Result<Self, StoreError> {
        let bad = |what: &str| StoreError::Invalid(format!("template.yaml: {what}"));
        let doc: serde_yaml::Value = serde_yaml::from_str(template_yaml).map_err(|e| bad(&e.to_string()))?;
        let resources = doc.get("Resources").and_then(|r| r.as_mapping()).ok_or_else(|| bad("no Resources"))?;
        let props = resources
            .values()
            .find(|r| r.get("Type").and_then(|t| t.as_str()) == Some("AWS::DynamoDB::Table"))
            .and_then(|r| r.get("Properties"))
            .ok_or_else(|| bad("no AWS::DynamoDB::Table resource"))?;
        let s = |v: &serde_yaml::Value, k: &str| v.get(k).and_then(|x| x.as_str()).map(str::to_string);
        let schema = |v: Option<&serde_yaml::Value>| -> Result<(String, String), StoreError> {
            let els = v.and_then(|x| x.as_sequence()).ok_or_else(|| bad("KeySchema"))?;
            let find = |kind: &str| {
                els.iter().find(|e| s(e, "KeyType").as_deref() == Some(kind)).and_then(|e| s(e, "AttributeName"))
            };
            Ok((find("HASH").ok_or_else(|| bad("HASH key"))?, find("RANGE").ok_or_else(|| bad("RANGE key"))?))
        };
        let attributes = props
            .get("AttributeDefinitions")
            .and_then(|a| a.as_sequence())
            .ok_or_else(|| bad("AttributeDefinitions"))?
            .iter()
            .map(|a| Ok((s(a, "AttributeName").ok_or_else(|| bad("AttributeName"))?, s(a, "AttributeType").ok_or_else(|| bad("AttributeType"))?)))
            .collect::<Result<Vec<_>, StoreError>>()?;
        let indexes = props
            .get("GlobalSecondaryIndexes")
            .and_then(|g| g.as_sequence())
            .map(|gs| {
                gs.iter()
                    .map(|g| Ok((s(g, "IndexName").ok_or_else(|| bad("IndexName"))?, schema(g.get("KeySchema"))?)))
                    .collect::<Result<Vec<_>, StoreError>>()
            })
            .transpose()?
            .unwrap_or_default();
        let ttl_attribute = props.get("TimeToLiveSpecification").and_then(|t| s(t, "AttributeName"));
        Ok(TableDefinition { attributes, key: schema(props.get("KeySchema"))?, indexes, ttl_attribute })
    }
}
