//! The table template.yaml defines is the one the port expects, the functions' policies allow
//! every call the DynamoDB adapter makes, and the adapter creates that table in DynamoDB Local.
use std::collections::BTreeMap;

use antrean_store::*;

#[test]
fn template_defines_the_table_the_port_expects() {
    let def = antrean_store::dynamodb::TableDefinition::from_template(include_str!("../../../template.yaml")).unwrap();
    let s = |a: &str, b: &str| (a.to_string(), b.to_string());
    assert_eq!(def.key, s("pk", "sk"));
    assert_eq!(def.indexes, vec![("gsi1".to_string(), s("gsi1pk", "gsi1sk")), ("gsi2".to_string(), s("gsi2pk", "gsi2sk"))]);
    assert_eq!(def.ttl_attribute.as_deref(), Some(TTL_ATTRIBUTE));
    let attrs: BTreeMap<_, _> = def.attributes.into_iter().collect();
    assert_eq!(attrs.len(), 6);
    assert!(attrs.values().all(|t| t == "S"), "{attrs:?}");
}

/// The functions' table policies allow every call the DynamoDB adapter makes: a call left out
/// works against DynamoDB Local and fails with AccessDenied on AWS.
#[test]
fn template_policies_allow_every_call_the_adapter_makes() {
    let doc: serde_yaml::Value = serde_yaml::from_str(include_str!("../../../template.yaml")).unwrap();
    let actions = |policy: &str| -> Vec<String> {
        let statements = doc["Resources"][policy]["Properties"]["PolicyDocument"]["Statement"].as_sequence().unwrap_or_else(|| panic!("{policy}"));
        statements.iter().flat_map(|s| s["Action"].as_sequence().cloned().unwrap_or_default()).filter_map(|a| a.as_str().map(str::to_string)).collect()
    };
    let read = actions("ClinicTableReadPolicy");
    for call in ["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query"] {
        assert!(read.iter().any(|a| a == call), "ClinicTableReadPolicy lacks {call}: {read:?}");
    }
    assert!(!read.iter().any(|a| a == "dynamodb:Scan"), "no Scan: {read:?}");
    let write = actions("ClinicTableWritePolicy");
    // TransactWriteItems is authorised per item by these.
    for call in ["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:ConditionCheckItem"] {
        assert!(write.iter().any(|a| a == call), "ClinicTableWritePolicy lacks {call}: {write:?}");
    }
}

#[tokio::test]
async fn dynamodb_table_is_created_once_as_the_template_says() {
    let template = include_str!("../../../template.yaml");
    let table = antrean_testkit::dynamo_table(template).await;
    assert!(!table.create_table_if_missing(template).await.unwrap(), "the second call finds the table");
    let client = table.client();
    let desc = client.describe_table().table_name(table.table_name()).send().await.unwrap();
    let desc = desc.table().unwrap();
    let mut gsis: Vec<_> = desc
        .global_secondary_indexes()
        .iter()
        .map(|g| {
            let schema: Vec<_> = g.key_schema().iter().map(|k| format!("{}:{}", k.attribute_name(), k.key_type().as_str())).collect();
            (g.index_name().unwrap().to_string(), schema.join(","), g.projection().and_then(|p| p.projection_type()).map(|p| p.as_str().to_string()))
        })
        .collect();
    gsis.sort();
    assert_eq!(
        gsis,
        vec![
            ("gsi1".into(), "gsi1pk:HASH,gsi1sk:RANGE".into(), Some("ALL".into())),
            ("gsi2".into(), "gsi2pk:HASH,gsi2sk:RANGE".into(), Some("ALL".into())),
        ]
    );
    let ttl = client.describe_time_to_live().table_name(table.table_name()).send().await.unwrap();
    let ttl = ttl.time_to_live_description().unwrap();
    assert_eq!(ttl.attribute_name(), Some(TTL_ATTRIBUTE));
    assert_eq!(ttl.time_to_live_status().map(|s| s.as_str()), Some("ENABLED"));
}
