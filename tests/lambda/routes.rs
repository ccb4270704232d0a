//! Routes in `template.yaml` against the routes the code serves, both ways, through the real
//! bootstraps: every operation of the OpenAPI document (the code's own list of its routes) is
//! matched by an API Gateway route whose function serves it, and every API Gateway route
//! reaches a function that serves something there. "Serves" means the function's router took
//! the request: anything but its fallbacks' "route does not exist" / "method is not allowed".
use std::collections::BTreeSet;

use serde_json::Value;

use crate::events::{self, Request};
use crate::hosts::{Answer, World};
use crate::template;

const NOT_FOUND: &str = "The requested route does not exist.";
const NOT_ALLOWED: &str = "The method is not allowed for this route.";

fn served(a: &Answer) -> bool {
    let message = serde_json::from_slice::<Value>(&a.body)
        .ok()
        .and_then(|v| v["message"].as_str().map(str::to_string));
    !(matches!(a.status, 404 | 405)
        && matches!(message.as_deref(), Some(NOT_FOUND) | Some(NOT_ALLOWED)))
}

/// A concrete path for a route or operation path: each `{param}` becomes `1`.
fn concrete(path: &str) -> String {
    path.split('/')
        .map(|s| if s.starts_with('{') { "1" } else { s })
        .collect::<Vec<_>>()
        .join("/")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs the Lambda bootstraps: bash infra/scripts/lambda-events.sh (CI runs it after the build)"]
async fn template_routes_and_served_routes_match_both_ways() {
    let w = World::start().await;
    let doc = serde_json::to_value(antrean_api::openapi::document()).unwrap();
    let mut problems = Vec::new();
    let mut used = BTreeSet::new();
    let mut n = 0u32;
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in item
            .as_object()
            .unwrap()
            .keys()
            .filter(|m| ["get", "post", "put", "patch", "delete"].contains(&m.as_str()))
        {
            let method = method.to_uppercase();
            let uri = concrete(path);
            let Some((route, params)) = template::select(&w.routes, &method, &uri) else {
                problems.push(format!(
                    "{method} {path}: served by the code, but no route of template.yaml reaches it"
                ));
                continue;
            };
            used.insert(route.key());
            // Each request from its own address: the per-address limit never hides a route.
            n += 1;
            let req =
                Request::new(&method, &uri).from(&format!("198.18.{}.{}", n / 250, n % 250 + 1));
            let req = if method == "GET" || method == "DELETE" {
                req
            } else {
                req.json(&serde_json::json!({}))
            };
            let answer = w
                .invoke_http(&route.binary, &events::http(&req, route, &params))
                .await;
            if !served(&answer) {
                problems.push(format!("{method} {path}: template.yaml sends it to `{}` ({}), which does not serve it: {answer:?}", route.binary, route.key()));
            }
        }
    }
    // Routes no documented operation uses: each must still reach a function that serves it.
    for route in w.routes.iter().filter(|r| !used.contains(&r.key())) {
        n += 1;
        let ip = format!("198.19.{}.{}", n / 250, n % 250 + 1);
        let uri = concrete(&route.path);
        let req = if route.method == "OPTIONS" {
            // A CORS preflight: what API Gateway's OPTIONS routes carry.
            Request::new("OPTIONS", &uri)
                .header("origin", crate::CORS_ORIGIN)
                .header("access-control-request-method", "GET")
        } else {
            Request::new(
                if route.method == "ANY" {
                    "GET"
                } else {
                    &route.method
                },
                &uri,
            )
        }
        .from(&ip);
        let params = template::match_path(&route.path, &uri).unwrap();
        let answer = w
            .invoke_http(&route.binary, &events::http(&req, route, &params))
            .await;
        let ok = if route.method == "OPTIONS" {
            answer.header("access-control-allow-origin") == Some(crate::CORS_ORIGIN)
        } else {
            served(&answer)
        };
        if !ok {
            problems.push(format!(
                "{}: routed to `{}`, which serves nothing there: {answer:?}",
                route.key(),
                route.binary
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "template.yaml and the code disagree:\n{}",
        problems.join("\n")
    );
    // The test saw real work: every function with routes got events.
    let with_routes: BTreeSet<_> = w.routes.iter().map(|r| r.binary.clone()).collect();
    assert!(with_routes.len() >= 8, "{with_routes:?}");
}
