//! The importable n8n workflows in `infra/n8n/`: each is a valid n8n workflow (nodes with
//! names, types, versions, positions and parameters; connections between existing nodes; every
//! node reachable from its trigger), every URL it calls on our side is a route the API serves
//! with that method, the fields it reads are ones the API answers, and the webhook workflow's
//! signature check accepts our signed calls and refuses tampered ones (run with node).
use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;

use serde_json::Value;

const API_PREFIX: &str = "={{ $('Settings').first().json.api_url }}";

fn workflows() -> Vec<(String, Value)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("infra/n8n");
    let mut out: Vec<(String, Value)> = std::fs::read_dir(&dir)
        .expect("infra/n8n")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| (p.file_name().unwrap().to_string_lossy().to_string(), serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).expect("valid JSON")))
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn nodes(wf: &Value) -> &Vec<Value> {
    wf["nodes"].as_array().expect("nodes")
}

fn node<'a>(wf: &'a Value, name: &str) -> &'a Value {
    nodes(wf).iter().find(|n| n["name"] == name).unwrap_or_else(|| panic!("no node {name}"))
}

#[test]
fn both_workflows_are_there() {
    let names: Vec<String> = workflows().into_iter().map(|(f, _)| f).collect();
    assert_eq!(names, ["call-webhook.json", "reminders.json"]);
}

#[test]
fn each_workflow_is_a_valid_n8n_workflow() {
    for (file, wf) in workflows() {
        assert!(wf["name"].as_str().is_some_and(|n| !n.is_empty()), "{file}: name");
        let mut names = BTreeSet::new();
        let mut triggers = Vec::new();
        for n in nodes(&wf) {
            let name = n["name"].as_str().unwrap_or_else(|| panic!("{file}: a node without a name"));
            assert!(names.insert(name.to_string()), "{file}: two nodes named {name}");
            let kind = n["type"].as_str().unwrap_or_default();
            assert!(kind.starts_with("n8n-nodes-base."), "{file}: {name} has type {kind}");
            assert!(n["typeVersion"].is_number(), "{file}: {name} typeVersion");
            assert!(n["id"].as_str().is_some_and(|i| !i.is_empty()), "{file}: {name} id");
            let pos = n["position"].as_array().unwrap_or_else(|| panic!("{file}: {name} position"));
            assert!(pos.len() == 2 && pos.iter().all(Value::is_number), "{file}: {name} position");
            assert!(n["parameters"].is_object(), "{file}: {name} parameters");
            if kind.ends_with("Trigger") || kind == "n8n-nodes-base.webhook" {
                triggers.push(name.to_string());
            }
        }
        assert_eq!(triggers.len(), 1, "{file}: one trigger");
        let connections = wf["connections"].as_object().expect("connections");
        let mut edges: HashMap<String, Vec<String>> = HashMap::new();
        for (from, outputs) in connections {
            assert!(names.contains(from), "{file}: connection from unknown node {from}");
            for output in outputs["main"].as_array().expect("main outputs") {
                for target in output.as_array().expect("an output") {
                    let to = target["node"].as_str().unwrap();
                    assert!(names.contains(to), "{file}: {from} connects to unknown node {to}");
                    assert_eq!(target["type"], "main");
                    edges.entry(from.clone()).or_default().push(to.to_string());
                }
            }
        }
        let mut reached = BTreeSet::from([triggers[0].clone()]);
        let mut todo = vec![triggers[0].clone()];
        while let Some(n) = todo.pop() {
            for next in edges.get(&n).into_iter().flatten() {
                if reached.insert(next.clone()) {
                    todo.push(next.clone());
                }
            }
        }
        assert_eq!(reached, names, "{file}: every node is reached from the trigger");
        // Every `$('Node')` an expression names is a node of this workflow.
        let text = wf.to_string();
        for part in text.split("$('").skip(1) {
            let named = part.split("')").next().unwrap();
            assert!(names.contains(named), "{file}: an expression names the missing node {named}");
        }
    }
}

/// `/api/reminders/{{ $json.reminder_id }}/claim` -> segments, `{}` for an expression.
fn template_of(path: &str) -> Vec<String> {
    path.trim_start_matches('/').split('/').map(|s| if s.contains("{{") || (s.starts_with('{') && s.ends_with('}')) { "{}".into() } else { s.to_string() }).collect()
}

#[test]
fn every_url_the_workflows_call_is_a_route_we_serve() {
    let doc = serde_json::to_value(antrean_api::openapi::document()).unwrap();
    let routes: Vec<(Vec<String>, Vec<String>)> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(p, ops)| (template_of(p), ops.as_object().unwrap().keys().cloned().collect()))
        .collect();
    let mut called = 0;
    for (file, wf) in workflows() {
        for n in nodes(&wf).iter().filter(|n| n["type"] == "n8n-nodes-base.httpRequest") {
            let url = n["parameters"]["url"].as_str().unwrap();
            let method = n["parameters"]["method"].as_str().unwrap().to_lowercase();
            if let Some(path) = url.strip_prefix(API_PREFIX) {
                let t = template_of(path);
                assert!(
                    routes.iter().any(|(r, methods)| *r == t && methods.contains(&method)),
                    "{file}: {} {path} is not a route of the API", method.to_uppercase()
                );
                // Our routes are called with the API key credential.
                assert_eq!(n["parameters"]["genericAuthType"], "httpHeaderAuth", "{file}: {url}");
                called += 1;
            } else {
                // The only other address: the WhatsApp config the due reminder names.
                assert_eq!(url, "={{ $('Split reminders').item.json.whatsapp_config.waha_api_url }}", "{file}: unexpected URL {url}");
            }
        }
    }
    assert_eq!(called, 3, "due, claim, sent");
    // The fields the reminders workflow reads are in what the due route answers.
    let due = &doc["components"]["schemas"]["DueReminder"]["properties"];
    let sender = &doc["components"]["schemas"]["Sender"]["properties"];
    for field in ["reminder_id", "chat_id", "message"] {
        assert!(due.get(field).is_some(), "DueReminder has {field}");
    }
    assert!(due.get("whatsapp_config").is_some() && sender.get("waha_api_url").is_some());
}

#[test]
fn the_webhook_workflow_checks_our_signature() {
    let (_, wf) = workflows().into_iter().find(|(f, _)| f == "call-webhook.json").unwrap();
    let code = node(&wf, "Verify signature")["parameters"]["jsCode"].as_str().unwrap().to_string();
    assert_eq!(node(&wf, "Antrean call webhook")["parameters"]["options"]["rawBody"], true, "the raw body is what is signed");
    let secret = "a-clinic-webhook-secret-0123456789";
    let code = code.replace("paste the clinic n8n_webhook_secret here", secret);
    let body = r#"{"current_queue":"3","status":"ANAMNESA","poly":1,"poly_name":"Poli Umum","date":"2026-01-10","clinic":"default","event_id":"e1"}"#;
    let good = antrean_domain::webhook::signature(secret, body.as_bytes());
    let cases = [(body, good.clone(), true), (&body.replace("\"3\"", "\"4\"") as &str, good.clone(), false), (body, "sha256=00".into(), false), (body, String::new(), false)];
    for (sent, header, expected) in cases {
        // n8n's Code node, as n8n runs it: `$input`, `this.helpers`, top-level await.
        let harness = format!(
            "const raw = Buffer.from({raw});\nconst items = [{{ json: {{ headers: {{ 'x-antrean-signature': {header}, 'x-antrean-event-id': 'e1' }} }} }}];\n\
             const $input = {{ all: () => items }};\nconst ctx = {{ helpers: {{ getBinaryDataBuffer: async () => raw }} }};\n\
             (async function () {{ {code} }}).call(ctx).then((out) => console.log(JSON.stringify(out)));\n",
            raw = serde_json::to_string(sent).unwrap(),
            header = serde_json::to_string(&header).unwrap(),
        );
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("verify.js");
        std::fs::write(&file, harness).unwrap();
        let out = std::process::Command::new("node").arg(&file).output().expect("node runs (needed by the n8n and browser tests)");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let result: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(result[0]["json"]["valid"], expected, "body {sent} header {header}: {result}");
        if expected {
            assert_eq!(result[0]["json"]["event"]["current_queue"], "3");
        }
    }
}
