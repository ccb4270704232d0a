//! What `template.yaml` tells API Gateway and Lambda: each function's binary, environment and
//! HTTP API routes, the WebSocket routes' functions, and API Gateway's route selection.
use std::collections::BTreeMap;

use serde_yaml::Value;

pub struct Template {
    pub functions: Vec<Function>,
    /// `$connect` / `$default` / `$disconnect` → the binary its integration invokes.
    pub websocket: BTreeMap<String, String>,
    doc: Value,
}

pub struct Function {
    pub logical_id: String,
    pub binary: String,
    /// Globals first, then the function's own variables (which win), unresolved.
    pub environment: Vec<(String, Value)>,
    pub routes: Vec<Route>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Route {
    /// `GET`, `POST`, …, or `ANY`.
    pub method: String,
    pub path: String,
    pub binary: String,
}

impl Route {
    pub fn key(&self) -> String {
        format!("{} {}", self.method, self.path)
    }
}

fn text(v: &Value) -> Option<&str> {
    v.as_str()
}

/// A tag's name and value (`!Ref X` → ("Ref", X)); plain values have no tag.
fn tagged(v: &Value) -> Option<(String, &Value)> {
    match v {
        Value::Tagged(t) => Some((
            t.tag.to_string().trim_start_matches('!').to_string(),
            &t.value,
        )),
        _ => None,
    }
}

impl Template {
    pub fn load() -> Template {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("template.yaml");
        let doc: Value =
            serde_yaml::from_str(&std::fs::read_to_string(&path).expect("read template.yaml"))
                .expect("template.yaml is YAML");
        let globals: Vec<(String, Value)> = env_of(&doc["Globals"]["Function"]);
        let mut functions = Vec::new();
        let resources = doc["Resources"].as_mapping().expect("Resources");
        for (id, r) in resources {
            if r["Type"].as_str() != Some("AWS::Serverless::Function") {
                continue;
            }
            let logical_id = id.as_str().unwrap().to_string();
            let binary = text(&r["Metadata"]["BuildProperties"]["Binary"])
                .unwrap_or_else(|| panic!("{logical_id} names no Binary"))
                .to_string();
            let mut environment = globals.clone();
            for (k, v) in env_of(&r["Properties"]) {
                environment.retain(|(name, _)| name != &k);
                environment.push((k, v));
            }
            let mut routes = Vec::new();
            if let Some(events) = r["Properties"]["Events"].as_mapping() {
                for (_, e) in events {
                    if e["Type"].as_str() == Some("HttpApi") {
                        let p = &e["Properties"];
                        routes.push(Route {
                            method: p["Method"].as_str().expect("Method").to_uppercase(),
                            path: p["Path"].as_str().expect("Path").to_string(),
                            binary: binary.clone(),
                        });
                    }
                }
            }
            functions.push(Function {
                logical_id,
                binary,
                environment,
                routes,
            });
        }
        let mut websocket = BTreeMap::new();
        for (_, r) in resources {
            if r["Type"].as_str() != Some("AWS::ApiGatewayV2::Route") {
                continue;
            }
            let route_key = r["Properties"]["RouteKey"].as_str().unwrap().to_string();
            let target = tagged(&r["Properties"]["Target"])
                .and_then(|(_, v)| v.as_str().map(str::to_string))
                .expect("a WebSocket route's Target is a !Sub");
            let integration = target
                .trim_start_matches("integrations/${")
                .trim_end_matches('}');
            let uri = tagged(&resources[&Value::from(integration)]["Properties"]["IntegrationUri"])
                .and_then(|(_, v)| v.as_str().map(str::to_string))
                .unwrap();
            let function = functions
                .iter()
                .find(|f| uri.contains(&format!("${{{}.Arn}}", f.logical_id)))
                .unwrap_or_else(|| panic!("{route_key}: no function in {uri}"));
            websocket.insert(route_key, function.binary.clone());
        }
        Template {
            functions,
            websocket,
            doc,
        }
    }

    pub fn routes(&self) -> Vec<Route> {
        self.functions
            .iter()
            .flat_map(|f| f.routes.clone())
            .collect()
    }

    pub fn function(&self, binary: &str) -> &Function {
        self.functions
            .iter()
            .find(|f| f.binary == binary)
            .unwrap_or_else(|| panic!("no function with Binary {binary} in template.yaml"))
    }

    /// A parameter's default (what `sam deploy` uses unless told otherwise).
    pub fn parameter_default(&self, name: &str) -> Option<String> {
        match &self.doc["Parameters"][name]["Default"] {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    }

    /// The value a function's environment variable gets: a literal stays, `!Ref <Parameter>`
    /// is its default (or `overrides`), `!Ref <Resource>` is what the test stands up for that
    /// resource (`stand_ins` by logical id), anything else (`!Sub`, `!If`, `!Join`) is the
    /// test's value for the variable (`stand_ins` by variable name). A variable the test
    /// does not know fails the test, so a new one in the template is noticed here.
    pub fn environment(
        &self,
        binary: &str,
        stand_ins: &BTreeMap<&str, String>,
        overrides: &BTreeMap<&str, String>,
    ) -> Vec<(String, String)> {
        self.function(binary)
            .environment
            .iter()
            .map(|(name, v)| {
                let value = match v {
                    Value::String(s) => s.clone(),
                    Value::Number(n) => n.to_string(),
                    _ => match tagged(v) {
                        Some((tag, Value::String(param)))
                            if tag == "Ref"
                                && self.doc["Parameters"].get(param.as_str()).is_some() =>
                        {
                            overrides
                                .get(param.as_str())
                                .cloned()
                                .or_else(|| self.parameter_default(param))
                                .unwrap_or_else(|| panic!("parameter {param} has no default"))
                        }
                        // A resource by its logical id, any other expression by the variable's name.
                        Some((tag, Value::String(resource))) if tag == "Ref" => stand_ins
                            .get(resource.as_str())
                            .cloned()
                            .unwrap_or_else(|| {
                                panic!("{binary}: the test stands up no {resource} for {name}")
                            }),
                        _ => stand_ins.get(name.as_str()).cloned().unwrap_or_else(|| {
                            panic!("{binary}: the test has no value for {name} = {v:?}")
                        }),
                    },
                };
                (name.clone(), value)
            })
            .collect()
    }
}

fn env_of(section: &Value) -> Vec<(String, Value)> {
    section["Environment"]["Variables"]
        .as_mapping()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.as_str().unwrap().to_string(), v.clone()))
                .collect()
        })
        .unwrap_or_default()
}

/// How one path segment of a route matches.
enum Segment<'a> {
    Literal(&'a str),
    Variable(&'a str),
    Greedy(&'a str),
}

fn segments(route_path: &str) -> Vec<Segment<'_>> {
    route_path
        .trim_start_matches('/')
        .split('/')
        .map(
            |s| match s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                Some(name) if name.ends_with('+') => Segment::Greedy(name.trim_end_matches('+')),
                Some(name) => Segment::Variable(name),
                None => Segment::Literal(s),
            },
        )
        .collect()
}

/// The path parameters when `path` matches `route_path` (`{id}`: one segment, `{proxy+}`: the
/// rest, one segment or more).
pub fn match_path(route_path: &str, path: &str) -> Option<BTreeMap<String, String>> {
    let want = segments(route_path);
    let got: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let mut params = BTreeMap::new();
    for (i, seg) in want.iter().enumerate() {
        match seg {
            Segment::Literal(l) => (got.get(i)? == l).then_some(())?,
            Segment::Variable(name) => {
                let g = got.get(i).filter(|g| !g.is_empty())?;
                params.insert(name.to_string(), g.to_string());
            }
            Segment::Greedy(name) => {
                // One segment or more; a trailing slash alone (`/api/queue/`) counts, with an
                // empty value, as API Gateway routes it.
                let rest = got.get(i..).filter(|r| !r.is_empty())?.join("/");
                params.insert(name.to_string(), rest);
                return Some(params);
            }
        }
    }
    (got.len() == want.len()).then_some(params)
}

/// API Gateway's choice among the routes (HTTP API): a full match before one with a greedy
/// variable; among those, more literal segments first; a route with the method before `ANY`.
pub fn select<'a>(
    routes: &'a [Route],
    method: &str,
    path: &str,
) -> Option<(&'a Route, BTreeMap<String, String>)> {
    routes
        .iter()
        .filter(|r| r.method == method || r.method == "ANY")
        .filter_map(|r| match_path(&r.path, path).map(|p| (r, p)))
        .min_by_key(|(r, _)| {
            let segs = segments(&r.path);
            let greedy = segs.iter().any(|s| matches!(s, Segment::Greedy(_)));
            let literals = segs
                .iter()
                .filter(|s| matches!(s, Segment::Literal(_)))
                .count();
            (greedy, std::cmp::Reverse(literals), r.method == "ANY")
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(method: &str, path: &str, binary: &str) -> Route {
        Route {
            method: method.into(),
            path: path.into(),
            binary: binary.into(),
        }
    }

    #[test]
    fn selection_follows_api_gateway() {
        let routes = [
            r("ANY", "/api/poly", "a"),
            r("ANY", "/api/poly/{proxy+}", "b"),
            r("OPTIONS", "/{proxy+}", "c"),
            r("GET", "/api/schedule/{id}", "d"),
        ];
        assert_eq!(select(&routes, "GET", "/api/poly").unwrap().0.binary, "a");
        assert_eq!(
            select(&routes, "GET", "/api/poly/1/x").unwrap().1["proxy"],
            "1/x"
        );
        assert_eq!(
            select(&routes, "OPTIONS", "/api/poly/1").unwrap().0.binary,
            "b"
        );
        assert_eq!(
            select(&routes, "OPTIONS", "/api/auth/login")
                .unwrap()
                .0
                .binary,
            "c"
        );
        assert_eq!(
            select(&routes, "GET", "/api/schedule/7").unwrap().1["id"],
            "7"
        );
        assert!(select(&routes, "POST", "/api/schedule/7").is_none());
        assert!(select(&routes, "GET", "/api/schedule/7/x").is_none());
        assert!(select(&routes, "GET", "/health").is_none());
        assert_eq!(select(&routes, "GET", "/api/poly/").unwrap().1["proxy"], "");
    }
}
