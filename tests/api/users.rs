//! Seed section "Users": select (search, pages, meta), detail, create, update, delete (soft),
//! trashed, restore; the seed's "Dummy Data" users; login and tokens of deleted users.
use futures::future::join_all;
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{assert_error, Store, TestApp, ADMIN_PASSWORD};
use crate::on_both_stores;

/// Creates a staff account with the given roles and returns its sign-in token.
pub async fn staff_token(app: &TestApp, admin: &str, username: &str, roles: Value) -> String {
    let r = app
        .post(
            "/api/users",
            admin,
            json!({"name": username, "username": username, "email": format!("{username}@mail.com"),
                "password": "admin123", "password_confirmation": "admin123", "roles": roles}),
        )
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    app.token(username, "admin123").await
}

async fn polies(app: &TestApp, t: &str) {
    for name in ["Poli Umum", "Poli Gigi"] {
        assert_eq!(app.post("/api/poly", t, json!({"name": name})).await.status, 200);
    }
}

fn keys(v: &Value) -> Vec<&str> {
    v.as_object().unwrap().keys().map(String::as_str).collect()
}

fn harris() -> Value {
    json!({"name": "Harris A", "username": "harris", "email": "harris@mail.com", "password": "dokter123",
        "password_confirmation": "dokter123", "roles": [3], "poly_id": 1})
}

const VIEW_KEYS: [&str; 12] =
    ["id", "name", "email", "email_verified_at", "created_at", "updated_at", "poly_id", "username", "whatsapp_number", "deleted_at", "roles", "poly"];

async fn user_lifecycle_matches_the_seed(store: Store) {
    let app = TestApp::spawn(store).await;
    let t = app.admin_token().await;
    polies(&app, &t).await;

    let r = app.post("/api/users", &t, harris()).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body["message"], "User created successfully");
    let created = r.body["data"].clone();
    assert_eq!(keys(&created), ["name", "username", "email", "poly_id", "updated_at", "created_at", "id", "roles", "poly"]);
    assert_eq!(created["id"], 2);
    assert_eq!(created["poly_id"], 1);
    let role = &created["roles"][0];
    assert_eq!(keys(role), ["id", "name", "created_at", "updated_at", "deleted_at", "pivot"]);
    assert_eq!((role["id"].clone(), role["name"].clone()), (json!(3), json!("Dokter")));
    assert_eq!(
        role["pivot"],
        json!({"user_id": 2, "role_id": 3, "created_at": created["created_at"], "updated_at": created["created_at"]})
    );
    assert_eq!(keys(&created["poly"]), ["id", "name", "created_at", "updated_at", "deleted_at"]);
    assert_eq!(created["poly"]["name"], "Poli Umum");
    assert!(!r.body.to_string().contains("password") && !r.body.to_string().contains("argon2"), "{r:?}");

    let list = app.get("/api/users", &t).await;
    assert_eq!(list.status, 200, "{list:?}");
    assert_eq!(keys(&list.body), ["status", "data", "meta"]);
    assert_eq!(list.body["meta"], json!({"current_page": 1, "last_page": 1, "per_page": 10, "total": 2}));
    let first = &list.body["data"][0];
    assert_eq!(keys(first), VIEW_KEYS);
    assert_eq!((first["username"].clone(), first["poly"].clone()), (json!("superadmin"), Value::Null));
    assert_eq!(first["roles"][0]["name"], "Super Admin");
    assert_eq!(first["roles"][0]["pivot"]["created_at"], first["created_at"]);
    assert!(!list.body.to_string().contains("password"));
    for (q, n) in [("harr", 1), ("HARRIS@MAIL", 1), ("super", 1), ("mail.com", 2), ("nobody", 0)] {
        let found = app.get(&format!("/api/users?search={q}"), &t).await;
        assert_eq!(found.body["data"].as_array().unwrap().len(), n, "search {q}: {found:?}");
        assert_eq!(found.body["meta"]["total"], n);
    }

    let detail = app.get("/api/users/2", &t).await;
    assert_eq!(keys(&detail.body["data"]), VIEW_KEYS);
    assert_eq!(detail.body["data"]["username"], "harris");
    assert_eq!(detail.body["data"]["roles"][0]["pivot"], created["roles"][0]["pivot"]);
    assert_error(&app.get("/api/users/99", &t).await, 404, "User not found");

    // The seed's update: new name, Super Admin instead of Dokter, no poly.
    let upd = app
        .put("/api/users/2", &t, json!({"name": "Harris Arista", "username": "harris", "email": "harris@mail.com", "roles": [1]}))
        .await;
    assert_eq!(upd.status, 200, "{upd:?}");
    assert_eq!(upd.body["message"], "User updated successfully");
    let u = &upd.body["data"];
    assert_eq!(keys(u), VIEW_KEYS);
    assert_eq!((u["name"].clone(), u["poly_id"].clone(), u["poly"].clone()), (json!("Harris Arista"), Value::Null, Value::Null));
    assert_eq!(u["created_at"], created["created_at"]);
    assert_eq!(u["roles"].as_array().unwrap().len(), 1);
    let given = u["roles"][0]["pivot"]["created_at"].clone();
    assert_eq!(u["roles"][0]["pivot"]["role_id"], 1);
    assert_ne!(given, created["created_at"], "a new role is given at update time");
    // No password in the update: the old one still works.
    assert_eq!(app.login("harris", "dokter123").await.status, 200);
    // Keeping role 1 keeps its pivot time; adding role 3 back gives it a new one.
    let upd = app
        .put("/api/users/2", &t, json!({"name": "Harris Arista", "username": "harris", "email": "harris@mail.com", "roles": [1, 3], "poly_id": 1}))
        .await;
    assert_eq!(upd.body["data"]["roles"][0]["pivot"]["created_at"], given);
    assert_eq!(upd.body["data"]["roles"][1]["name"], "Dokter");
    assert_eq!(upd.body["data"]["poly"]["name"], "Poli Umum");
    // A new password replaces the old one.
    let pw = json!({"name": "Harris Arista", "username": "harris", "email": "harris@mail.com", "roles": [3],
        "password": "baru-123", "password_confirmation": "baru-123"});
    assert_eq!(app.put("/api/users/2", &t, pw).await.status, 200);
    assert_error(&app.login("harris", "dokter123").await, 401, "Incorrect username or password");
    assert_eq!(app.login("harris", "baru-123").await.status, 200);

    let del = app.delete("/api/users/2", &t).await;
    assert_eq!(del.body, json!({"status": "success", "message": "User deleted successfully"}));
    assert_error(&app.get("/api/users/2", &t).await, 404, "User not found");
    assert_error(&app.delete("/api/users/2", &t).await, 404, "User not found");
    assert_error(&app.put("/api/users/2", &t, harris()).await, 404, "User not found");
    assert_eq!(app.get("/api/users", &t).await.body["meta"]["total"], 1);
    let trashed = app.get("/api/users/trashed?search=harris&page=1&per_page=10", &t).await;
    assert_eq!(trashed.body["meta"], json!({"current_page": 1, "last_page": 1, "per_page": 10, "total": 1}));
    assert_eq!(keys(&trashed.body["data"][0]), VIEW_KEYS);
    assert!(trashed.body["data"][0]["deleted_at"].is_string());
    assert_eq!(trashed.body["data"][0]["roles"][0]["name"], "Dokter");

    let restored = app.post("/api/users/2/restore", &t, json!(null)).await;
    assert_eq!(restored.status, 200, "{restored:?}");
    assert_eq!(restored.body["message"], "User restored successfully");
    assert_eq!(keys(&restored.body["data"]), VIEW_KEYS);
    assert!(restored.body["data"]["deleted_at"].is_null());
    assert_error(&app.post("/api/users/2/restore", &t, json!(null)).await, 404, "User not found or not deleted");
    assert_error(&app.post("/api/users/99/restore", &t, json!(null)).await, 404, "User not found or not deleted");
    assert_eq!(app.get("/api/users/trashed", &t).await.body["meta"]["total"], 0);
}

async fn user_input_errors_change_nothing(store: Store) {
    let app = TestApp::spawn(store).await;
    let t = app.admin_token().await;
    polies(&app, &t).await;
    assert_eq!(app.post("/api/users", &t, harris()).await.status, 200);

    // The seed's error example, every problem at once.
    let mut bad = harris();
    bad["password_confirmation"] = json!("lain");
    bad["roles"] = json!([99]);
    let r = app.post("/api/users", &t, bad).await;
    assert_error(&r, 422, "The username has already been taken.");
    assert_eq!(
        r.body["errors"],
        json!({
            "username": ["The username has already been taken."],
            "email": ["The email has already been taken."],
            "password": ["The password field confirmation does not match."],
            "roles.0": ["The selected roles.0 is invalid."],
        })
    );
    let r = app.post("/api/users", &t, json!({})).await;
    assert_error(&r, 422, "The name field is required.");
    assert_eq!(
        r.body["errors"],
        json!({
            "name": ["The name field is required."],
            "username": ["The username field is required."],
            "email": ["The email field is required."],
            "password": ["The password field is required."],
            "roles": ["The roles field is required."],
        })
    );
    let fresh = |f: &dyn Fn(&mut Value)| {
        let mut b = json!({"name": "Baru", "username": "baru", "email": "baru@mail.com", "password": "rahasia1",
            "password_confirmation": "rahasia1", "roles": [3]});
        f(&mut b);
        b
    };
    for (body, field, message) in [
        (fresh(&|b| b["email"] = json!("bukan-email")), "email", "The email field must be a valid email address."),
        (fresh(&|b| b["email"] = json!("HARRIS@mail.com")), "email", "The email has already been taken."),
        (fresh(&|b| b["username"] = json!(" Harris ")), "username", "The username has already been taken."),
        (fresh(&|b| { b["password"] = json!("abc"); b["password_confirmation"] = json!("abc") }), "password", "The password field must be at least 6 characters."),
        (fresh(&|b| { b.as_object_mut().unwrap().remove("password_confirmation"); }), "password", "The password field confirmation does not match."),
        (fresh(&|b| b["roles"] = json!([])), "roles", "The roles field is required."),
        (fresh(&|b| b["roles"] = json!(3)), "roles", "The roles field must be an array."),
        (fresh(&|b| b["roles"] = json!([3, "x"])), "roles.1", "The selected roles.1 is invalid."),
        (fresh(&|b| b["poly_id"] = json!(99)), "poly_id", "The selected poly id is invalid."),
        (fresh(&|b| b["poly_id"] = json!("satu")), "poly_id", "The poly id field must be an integer."),
    ] {
        let r = app.post("/api/users", &t, body.clone()).await;
        assert_error(&r, 422, message);
        assert_eq!(r.body["errors"], json!({field: [message]}), "{body}");
    }
    // A deleted role or poly is as good as none.
    assert_eq!(app.post("/api/roles", &t, json!({"name": "Sementara"})).await.body["data"]["id"], 7);
    assert_eq!(app.delete("/api/roles/7", &t).await.status, 200);
    assert_eq!(app.delete("/api/poly/2", &t).await.status, 200);
    let r = app.post("/api/users", &t, fresh(&|b| { b["roles"] = json!([7]); b["poly_id"] = json!(2) })).await;
    assert_eq!(r.body["errors"], json!({"roles.0": ["The selected roles.0 is invalid."], "poly_id": ["The selected poly id is invalid."]}));

    // Updates: 404 first, then the same rules; one's own username is not "taken".
    assert_error(&app.put("/api/users/99", &t, json!({})).await, 404, "User not found");
    assert_error(&app.put("/api/users/abc", &t, json!({})).await, 404, "User not found");
    assert_eq!(app.post("/api/users", &t, fresh(&|_| {})).await.body["data"]["id"], 3);
    let mut clash = harris();
    clash["username"] = json!("baru");
    clash["password"] = json!("sandi-baru");
    clash["password_confirmation"] = json!("sandi-baru");
    let r = app.put("/api/users/2", &t, clash).await;
    assert_error(&r, 422, "The username has already been taken.");
    assert_eq!(r.body["errors"], json!({"username": ["The username has already been taken."]}));
    let mut mismatch = harris();
    mismatch["password"] = json!("sandi-baru");
    let r = app.put("/api/users/2", &t, mismatch).await;
    assert_eq!(r.body["errors"], json!({"password": ["The password field confirmation does not match."]}));

    // Paging parameters.
    for (q, field, message) in [
        ("per_page=0", "per_page", "The per page field must be at least 1."),
        ("per_page=101", "per_page", "The per page field must not be greater than 100."),
        ("per_page=x", "per_page", "The per page field must be an integer."),
        ("page=0", "page", "The page field must be at least 1."),
    ] {
        for path in ["/api/users", "/api/users/trashed"] {
            let r = app.get(&format!("{path}?{q}"), &t).await;
            assert_error(&r, 422, message);
            assert_eq!(r.body["errors"], json!({field: [message]}));
        }
    }

    // Nothing above changed anything: same users, same data, same password, no id burned.
    let list = app.get("/api/users", &t).await;
    let names: Vec<_> = list.body["data"].as_array().unwrap().iter().map(|u| u["username"].as_str().unwrap()).collect();
    assert_eq!(names, ["superadmin", "harris", "baru"]);
    let h = app.get("/api/users/2", &t).await.body["data"].clone();
    assert_eq!((h["name"].clone(), h["poly_id"].clone(), h["roles"][0]["id"].clone()), (json!("Harris A"), json!(1), json!(3)));
    assert_eq!(app.login("harris", "dokter123").await.status, 200);
    let mut next = fresh(&|_| {});
    next["username"] = json!("ketiga");
    next["email"] = json!("ketiga@mail.com");
    assert_eq!(app.post("/api/users", &t, next).await.body["data"]["id"], 4);
}

async fn the_seeds_dummy_users_page_as_asked(store: Store) {
    let app = TestApp::spawn(store).await;
    let t = app.admin_token().await;
    polies(&app, &t).await;
    let dummy: Value = json!([
        {"name": "Nandar Sudjono", "username": "nandar", "email": "nandar@mail.com", "roles": [2]},
        {"name": "Andi Pratama", "username": "andi.pratama", "email": "andi.pratama@gmail.com", "roles": [3], "poly_id": 1},
        {"name": "Budi Santoso", "username": "budi.santoso", "email": "budi.santoso@gmail.com", "roles": [3], "poly_id": 2},
        {"name": "Citra Lestari", "username": "citra.lestari", "email": "citra.lestari@gmail.com", "roles": [3], "poly_id": 1},
        {"name": "Dewi Anggraini", "username": "dewi.anggraini", "email": "dewi.anggraini@gmail.com", "roles": [3], "poly_id": 2},
        {"name": "Rizky Kurniawan", "username": "rizky.kurniawan", "email": "rizky.kurniawan@gmail.com", "roles": [4]},
        {"name": "Siti Aisyah", "username": "siti.aisyah", "email": "siti.aisyah@gmail.com", "roles": [4]},
        {"name": "Fajar Nugroho", "username": "fajar.nugroho", "email": "fajar.nugroho@gmail.com", "roles": [5]},
        {"name": "Nabila Putri", "username": "nabila.putri", "email": "nabila.putri@gmail.com", "roles": [5]},
        {"name": "Agus Setiawan", "username": "agus.setiawan", "email": "agus.setiawan@gmail.com", "roles": [6]},
        {"name": "Dina Maharani", "username": "dina.maharani", "email": "dina.maharani@gmail.com", "roles": [6]},
    ]);
    for (i, u) in dummy.as_array().unwrap().iter().enumerate() {
        let mut body = u.clone();
        body["password"] = json!("admin123");
        body["password_confirmation"] = json!("admin123");
        let r = app.post("/api/users", &t, body).await;
        assert_eq!(r.status, 200, "{r:?}");
        assert_eq!(r.body["data"]["id"], i as i64 + 2);
    }
    let budi = app.get("/api/users/4", &t).await.body["data"].clone();
    assert_eq!((budi["roles"][0]["name"].clone(), budi["poly"]["name"].clone()), (json!("Dokter"), json!("Poli Gigi")));
    assert_eq!(app.get("/api/users/2", &t).await.body["data"]["roles"][0]["name"], "Kepala Klinik");

    let p3 = app.get("/api/users?page=3&per_page=5", &t).await;
    assert_eq!(p3.body["meta"], json!({"current_page": 3, "last_page": 3, "per_page": 5, "total": 12}));
    let ids: Vec<_> = p3.body["data"].as_array().unwrap().iter().map(|u| u["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, [11, 12]);
    let past = app.get("/api/users?page=4&per_page=5", &t).await;
    assert_eq!(past.body["data"], json!([]));
    assert_eq!(past.body["meta"], json!({"current_page": 4, "last_page": 3, "per_page": 5, "total": 12}));
    let gmail = app.get("/api/users?search=gmail&per_page=100", &t).await;
    assert_eq!(gmail.body["meta"]["total"], 10);
    assert_eq!(gmail.body["data"].as_array().unwrap().len(), 10);
    // Everyone can log in with the seed's password.
    assert_eq!(app.login("dina.maharani", "admin123").await.status, 200);
}

async fn ten_concurrent_creates_of_one_username_give_one_user(store: Store) {
    let app = TestApp::spawn(store).await;
    let t = app.admin_token().await;
    let body = |i: usize, same_username: bool| {
        let (username, email) = if same_username { ("kembar".to_string(), format!("k{i}@mail.com")) } else { (format!("k{i}"), "kembar@mail.com".to_string()) };
        json!({"name": "Kembar", "username": username, "email": email, "password": "admin123", "password_confirmation": "admin123", "roles": [3]})
    };
    let replies = join_all((0..10).map(|i| app.post("/api/users", &t, body(i, true)))).await;
    let ok = replies.iter().filter(|r| r.status == 200).count();
    let taken = replies.iter().filter(|r| r.status == 422 && r.body["message"] == "The username has already been taken.").count();
    assert_eq!((ok, taken), (1, 9), "{replies:?}");
    let replies = join_all((0..10).map(|i| app.post("/api/users", &t, body(i, false)))).await;
    let ok = replies.iter().filter(|r| r.status == 200).count();
    let taken = replies.iter().filter(|r| r.status == 422 && r.body["message"] == "The email has already been taken.").count();
    assert_eq!((ok, taken), (1, 9), "{replies:?}");
    let list = app.get("/api/users", &t).await;
    assert_eq!(list.body["meta"]["total"], 3, "{list:?}");
    let ids: Vec<_> = list.body["data"].as_array().unwrap().iter().map(|u| u["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, [1, 2, 3]);
    // The winner's credential was written with it.
    assert_eq!(app.login("kembar", "admin123").await.status, 200);
}

async fn a_deleted_user_cannot_log_in_and_its_tokens_stop(store: Store) {
    let app = TestApp::spawn(store).await;
    let admin = app.admin_token().await;
    let dokter = staff_token(&app, &admin, "andi", json!([3])).await;
    assert_eq!(app.get("/api/poly", &dokter).await.status, 200);

    assert_eq!(app.delete("/api/users/2", &admin).await.status, 200);
    assert_error(&app.get("/api/poly", &dokter).await, 401, "Unauthenticated");
    assert_error(&app.login("andi", "admin123").await, 401, "Incorrect username or password");
    // The username stays reserved while the account is in the trash.
    let again = json!({"name": "Andi", "username": "andi", "email": "lain@mail.com", "password": "admin123", "password_confirmation": "admin123", "roles": [3]});
    assert_error(&app.post("/api/users", &admin, again).await, 422, "The username has already been taken.");

    assert_eq!(app.post("/api/users/2/restore", &admin, json!(null)).await.status, 200);
    let fresh = app.token("andi", "admin123").await;
    assert_eq!(app.get("/api/poly", &fresh).await.status, 200);
}

async fn nobody_deletes_their_own_account(store: Store) {
    let app = TestApp::spawn(store).await;
    let t = app.admin_token().await;
    let r = app.delete("/api/users/1", &t).await;
    assert_error(&r, 409, "You cannot delete your own account.");
    assert_eq!(app.get("/api/users/1", &t).await.status, 200);
    assert_eq!(app.login("superadmin", ADMIN_PASSWORD).await.status, 200);
}

async fn users_routes_need_their_permissions(store: Store) {
    let app = TestApp::spawn(store).await;
    let admin = app.admin_token().await;
    let dokter = staff_token(&app, &admin, "dokter", json!([3])).await;
    let kepala = staff_token(&app, &admin, "kepala", json!([2])).await;
    let body = json!({"name": "x", "username": "x", "email": "x@mail.com", "password": "admin123", "password_confirmation": "admin123", "roles": [3]});
    let all = [
        (Method::GET, "/api/users"),
        (Method::GET, "/api/users/1"),
        (Method::POST, "/api/users"),
        (Method::PUT, "/api/users/2"),
        (Method::DELETE, "/api/users/2"),
        (Method::GET, "/api/users/trashed"),
        (Method::POST, "/api/users/2/restore"),
    ];
    for (method, path) in all.iter().cloned() {
        assert_error(&app.call(method, path, Some(&dokter), Some(body.clone())).await, 403, "This action is unauthorized.");
    }
    // Kepala Klinik sees accounts but cannot change them.
    assert_eq!(app.get("/api/users", &kepala).await.status, 200);
    assert_eq!(app.get("/api/users/2", &kepala).await.status, 200);
    for (method, path) in all.iter().skip(2).cloned() {
        assert_error(&app.call(method, path, Some(&kepala), Some(body.clone())).await, 403, "This action is unauthorized.");
    }
    // Nothing changed: three accounts, none deleted.
    assert_eq!(app.get("/api/users", &admin).await.body["meta"]["total"], 3);
    assert_eq!(app.get("/api/users/trashed", &admin).await.body["meta"]["total"], 0);
    assert_error(&app.call(Method::GET, "/api/users", None, None).await, 401, "Unauthenticated");
}

async fn usernames_are_unique_per_clinic_only(store: Store) {
    let app = TestApp::spawn(store).await;
    let t = app.admin_token().await;
    let other = app.new_clinic("klinik-lain").await;
    let body = json!({"name": "Harris", "username": "harris", "email": "harris@mail.com", "password": "admin123", "password_confirmation": "admin123", "roles": [3]});
    assert_eq!(app.post("/api/users", &t, body.clone()).await.status, 200);
    assert_eq!(app.post("/api/users", &other, body).await.status, 200);
    // Each clinic sees only its own accounts.
    let names: Vec<_> = app.get("/api/users", &other).await.body["data"].as_array().unwrap().iter().map(|u| u["username"].as_str().unwrap().to_string()).collect();
    assert_eq!(names, ["admin", "harris"]);
}

on_both_stores!(
    user_lifecycle_matches_the_seed,
    user_input_errors_change_nothing,
    the_seeds_dummy_users_page_as_asked,
    ten_concurrent_creates_of_one_username_give_one_user,
    a_deleted_user_cannot_log_in_and_its_tokens_stop,
    nobody_deletes_their_own_account,
    users_routes_need_their_permissions,
    usernames_are_unique_per_clinic_only,
);
