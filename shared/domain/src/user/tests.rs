//! The account rules: the form, its facts, and create / update with the credential.
use super::*;
use serde_json::json;

fn facts() -> FormFacts {
    FormFacts { live_roles: [1, 2, 3].into_iter().collect(), poly_live: true, ..FormFacts::default() }
}

fn errors_of(r: DomainResult<UserForm>) -> Value {
    match r {
        Err(DomainError::Validation(e)) => Value::Object(e.0),
        other => panic!("expected a validation error, got {other:?}"),
    }
}

#[test]
fn the_seed_example_parses() {
    let body = json!({"name": "Harris A", "username": "harris", "email": "harris@mail.com", "password": "dokter123",
        "password_confirmation": "dokter123", "roles": [3, "1", 3], "poly_id": 1});
    let form = UserForm::parse(&body, &facts(), true).unwrap();
    assert_eq!(form.roles, vec![3, 1]);
    assert_eq!(form.poly_id, Some(1));
    assert_eq!(form.password.as_deref(), Some("dokter123"));
}

#[test]
fn every_problem_is_named_in_the_seed_order() {
    let body = json!({"name": "Harris", "username": "harris", "email": "h@mail.com", "password": "dokter123",
        "password_confirmation": "other", "roles": [3, 9], "poly_id": 1});
    let f = FormFacts { username_taken: true, email_taken: true, poly_live: false, ..facts() };
    assert_eq!(
        errors_of(UserForm::parse(&body, &f, true)),
        json!({
            "username": ["The username has already been taken."],
            "email": ["The email has already been taken."],
            "password": ["The password field confirmation does not match."],
            "roles.1": ["The selected roles.1 is invalid."],
            "poly_id": ["The selected poly id is invalid."],
        })
    );
}

#[test]
fn password_is_optional_on_update_only() {
    let body = json!({"name": "A", "username": "a", "email": "a@mail.com", "roles": [1], "password": ""});
    assert_eq!(UserForm::parse(&body, &facts(), false).unwrap().password, None);
    assert_eq!(errors_of(UserForm::parse(&body, &facts(), true)), json!({"password": ["The password field is required."]}));
    let short = json!({"name": "A", "username": "a", "email": "a@mail.com", "roles": [1], "password": "abc", "password_confirmation": "abc"});
    assert_eq!(errors_of(UserForm::parse(&short, &facts(), false)), json!({"password": ["The password field must be at least 6 characters."]}));
}

/// The credential and the audit trail land with the account: create, password change,
/// delete and restore each leave exactly what they should.
#[tokio::test]
async fn credential_and_audit_go_with_the_account() {
    use std::sync::Arc;

    use antrean_store::Query;

    let dir = tempfile::tempdir().unwrap();
    let deps = crate::test_deps(dir.path(), Arc::new(crate::SystemClock));
    let tenant = Tenant::parse("klinik").unwrap();
    deps.table.write(crate::role::seed_ops(&tenant, "2025-01-01T00:00:00.000000Z")).await.unwrap();
    let actor = Actor::system("test");
    // Never called: the clinic has no BPJS configured.
    let sender = crate::webhook::http::ReqwestSender::development().unwrap();
    let body = json!({"name": "Andi", "username": "andi", "email": "andi@mail.com", "password": "admin123",
        "password_confirmation": "admin123", "roles": [3]});
    let andi = create(&deps, &sender, &tenant, &actor, &body).await.unwrap();
    let hash_of = |item: Option<Item>| item.unwrap()["password_hash"].as_str().unwrap().to_string();
    let first = hash_of(deps.table.get(&credential_key(&tenant, andi.id)).await.unwrap());
    assert!(password::verify(&first, "admin123"));

    // A refused update writes nothing, not even the credential.
    let mut bad = body.clone();
    bad["password"] = json!("sandi-baru");
    bad["password_confirmation"] = json!("sandi-baru");
    bad["roles"] = json!([99]);
    assert!(update(&deps, &sender, &tenant, &actor, andi.id, &bad).await.is_err());
    assert_eq!(hash_of(deps.table.get(&credential_key(&tenant, andi.id)).await.unwrap()), first);

    bad["roles"] = json!([3]);
    update(&deps, &sender, &tenant, &actor, andi.id, &bad).await.unwrap();
    let second = hash_of(deps.table.get(&credential_key(&tenant, andi.id)).await.unwrap());
    assert!(password::verify(&second, "sandi-baru") && !password::verify(&second, "admin123"));
    trash(&deps, &tenant, &actor, andi.id).await.unwrap();
    record::restore::<User>(&deps, &tenant, &actor, andi.id).await.unwrap();

    let audit = antrean_store::query_all(deps.table.as_ref(), Query::partition(crate::audit::partition_of(&tenant, deps.clock.now()))).await.unwrap();
    let actions: Vec<(&str, &str)> =
        audit.iter().map(|a| (a["entity"].as_str().unwrap(), a["action"].as_str().unwrap())).collect();
    assert_eq!(actions, [("USER", "create"), ("USER", "update"), ("USER", "delete"), ("USER", "restore")]);
    // The stored account itself carries no secret.
    let stored = deps.table.get(&record::record_key::<User>(&tenant, andi.id)).await.unwrap().unwrap();
    assert!(!Value::Object(stored).to_string().contains("argon2"));
}

#[test]
fn roles_must_be_a_non_empty_array() {
    for (roles, msg) in [
        (json!(null), "The roles field is required."),
        (json!([]), "The roles field is required."),
        (json!(3), "The roles field must be an array."),
    ] {
        let body = json!({"name": "A", "username": "a", "email": "a@mail.com", "password": "secret1", "password_confirmation": "secret1", "roles": roles});
        assert_eq!(errors_of(UserForm::parse(&body, &facts(), true)), json!({"roles": [msg]}));
    }
}
