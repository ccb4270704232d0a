//! Condition, update, key and projection expressions, every name and value a placeholder.
use super::*;

/// Placeholders for one request's expressions: every name and value goes through them, so no
/// attribute name can collide with a reserved word and no value is spliced into text.
#[derive(Default)]
pub(super) struct Expr {
    names: HashMap<String, String>,
    values: HashMap<String, AttributeValue>,
}

impl Expr {
    pub(super) fn name(&mut self, attr: &str) -> String {
        if let Some((p, _)) = self.names.iter().find(|(_, a)| a.as_str() == attr) {
            return p.clone();
        }
        let p = format!("#n{}", self.names.len());
        self.names.insert(p.clone(), attr.to_string());
        p
    }

    pub(super) fn value(&mut self, v: AttributeValue) -> String {
        let p = format!(":v{}", self.values.len());
        self.values.insert(p.clone(), v);
        p
    }

    pub(super) fn condition(&mut self, c: &Condition) -> String {
        match c {
            Condition::Exists => format!("attribute_exists({})", self.name("pk")),
            Condition::NotExists => format!("attribute_not_exists({})", self.name("pk")),
            Condition::AttrExists(a) => format!("attribute_exists({})", self.name(a)),
            Condition::AttrNotExists(a) => format!("attribute_not_exists({})", self.name(a)),
            Condition::Equals(a, v) => {
                let (n, v) = (self.name(a), self.value(to_attribute(v)));
                format!("{n} = {v}")
            }
            Condition::Compare(a, cmp, x) => {
                let (n, v) = (self.name(a), self.value(AttributeValue::N(x.to_string())));
                let op = match cmp {
                    Cmp::Lt => "<",
                    Cmp::Le => "<=",
                    Cmp::Gt => ">",
                    Cmp::Ge => ">=",
                    Cmp::Ne => "<>",
                };
                // Only a number attribute can satisfy it: a missing one or a string never does
                // (without the type test, `<>` would hold for a string against a number).
                let number = self.value(AttributeValue::S("N".into()));
                format!("(attribute_type({n}, {number}) AND {n} {op} {v})")
            }
            Condition::And(cs) | Condition::Or(cs) if cs.is_empty() => {
                let always = matches!(c, Condition::And(_));
                let pk = self.name("pk");
                if always {
                    format!("(attribute_exists({pk}) OR attribute_not_exists({pk}))")
                } else {
                    format!("(attribute_exists({pk}) AND attribute_not_exists({pk}))")
                }
            }
            // One part needs no group of its own: DynamoDB refuses "redundant parentheses".
            Condition::And(cs) | Condition::Or(cs) if cs.len() == 1 => self.condition(&cs[0]),
            Condition::And(cs) => {
                let parts: Vec<_> = cs.iter().map(|c| self.condition(c)).collect();
                format!("({})", parts.join(" AND "))
            }
            Condition::Or(cs) => {
                let parts: Vec<_> = cs.iter().map(|c| self.condition(c)).collect();
                format!("({})", parts.join(" OR "))
            }
        }
    }

    pub(super) fn update(&mut self, u: &Update) -> String {
        let mut clauses = Vec::new();
        if !u.set.is_empty() {
            let parts: Vec<_> = u
                .set
                .iter()
                .map(|(a, v)| {
                    let (n, v) = (self.name(a), self.value(to_attribute(v)));
                    format!("{n} = {v}")
                })
                .collect();
            clauses.push(format!("SET {}", parts.join(", ")));
        }
        if !u.remove.is_empty() {
            let parts: Vec<_> = u.remove.iter().map(|a| self.name(a)).collect();
            clauses.push(format!("REMOVE {}", parts.join(", ")));
        }
        if !u.add.is_empty() {
            let parts: Vec<_> = u
                .add
                .iter()
                .map(|(a, by)| {
                    let (n, v) = (self.name(a), self.value(AttributeValue::N(by.to_string())));
                    format!("{n} {v}")
                })
                .collect();
            clauses.push(format!("ADD {}", parts.join(", ")));
        }
        if clauses.is_empty() {
            // UpdateItem needs an expression, and a key attribute cannot be in one: removing
            // an attribute no item has creates a missing item and leaves an existing one as is.
            return format!("REMOVE {}", self.name(NO_SUCH_ATTRIBUTE));
        }
        clauses.join(" ")
    }

    /// A ProjectionExpression for `only` plus the key attributes (so cursors still work).
    pub(super) fn projection(&mut self, only: Option<&[String]>) -> Option<String> {
        let only = only?;
        let mut names: Vec<&str> = KEY_ATTRIBUTES.to_vec();
        names.extend(only.iter().map(String::as_str).filter(|n| !KEY_ATTRIBUTES.contains(n)));
        Some(names.into_iter().map(|n| self.name(n)).collect::<Vec<_>>().join(", "))
    }

    pub(super) fn names(&self) -> Option<HashMap<String, String>> {
        (!self.names.is_empty()).then(|| self.names.clone())
    }
    pub(super) fn values(&self) -> Option<HashMap<String, AttributeValue>> {
        (!self.values.is_empty()).then(|| self.values.clone())
    }
}

/// DynamoDB refuses an empty string in a key condition and a BETWEEN whose bounds are the
/// wrong way round. No stored key is empty, so such a condition is rewritten to what it means;
/// `None` when it matches nothing.
pub(super) fn answerable(sk: &SortKey) -> Option<SortKey> {
    match sk {
        SortKey::Eq(v) | SortKey::Lt(v) | SortKey::Le(v) if v.is_empty() => None,
        SortKey::Gt(v) | SortKey::Ge(v) | SortKey::BeginsWith(v) if v.is_empty() => Some(SortKey::Any),
        SortKey::Between(a, b) if b.is_empty() || a > b => None,
        SortKey::Between(a, b) if a.is_empty() => Some(SortKey::Le(b.clone())),
        other => Some(other.clone()),
    }
}

/// What an empty `Update` removes to make a valid update expression.
pub(super) const NO_SUCH_ATTRIBUTE: &str = "__antrean_no_such_attribute__";
