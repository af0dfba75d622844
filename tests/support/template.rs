//! Reading a CloudFormation template as YAML without losing its tags.
//!
//! serde_yaml's own accessors (`as_str`, `get`, ...) look through tags, so
//! `!Ref Foo` would read as the string "Foo". These do not.

use serde_yaml::{Mapping, Value};

pub fn field<'a>(v: &'a Value, key: &str) -> Option<&'a Value> {
    match v {
        Value::Mapping(map) => field_of(map, key),
        _ => None,
    }
}

pub fn field_of<'a>(map: &'a Mapping, key: &str) -> Option<&'a Value> {
    map.get(Value::String(key.to_string()))
}

pub fn keys(v: &Value) -> Vec<&str> {
    match v {
        Value::Mapping(map) => map.keys().filter_map(string).collect(),
        _ => Vec::new(),
    }
}

pub fn string(v: &Value) -> Option<&str> {
    match v {
        Value::String(s) => Some(s),
        _ => None,
    }
}

pub fn number(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64(),
        _ => None,
    }
}

pub fn seq(v: &Value) -> Option<&Vec<Value>> {
    match v {
        Value::Sequence(items) => Some(items),
        _ => None,
    }
}

/// `v` at a dotted path of mapping keys (`Properties.Code.ZipFile`).
pub fn at<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(v, field)
}

/// Like `at`, but the value must be there.
pub fn req<'a>(v: &'a Value, path: &str) -> &'a Value {
    at(v, path).unwrap_or_else(|| panic!("no {path} in {}", brief(v)))
}

pub fn string_at<'a>(v: &'a Value, path: &str) -> Option<&'a str> {
    at(v, path).and_then(string)
}

pub fn number_at(v: &Value, path: &str) -> Option<u64> {
    at(v, path).and_then(number)
}

pub fn bool_at(v: &Value, path: &str) -> Option<bool> {
    match at(v, path) {
        Some(Value::Bool(b)) => Some(*b),
        _ => None,
    }
}

/// A literal string, or the template of a `!Sub`, as written.
pub fn text(v: &Value) -> Option<&str> {
    string(v).or_else(|| sub_text(v))
}

pub fn text_at<'a>(v: &'a Value, path: &str) -> Option<&'a str> {
    at(v, path).and_then(text)
}

/// The strings of a value that may be one or a list: literals and `!Sub`
/// templates as written, anything else as `show` prints it.
pub fn texts(v: Option<&Value>) -> Vec<String> {
    let items = match v {
        None => return Vec::new(),
        Some(Value::Sequence(items)) => items.iter().collect(),
        Some(one) => vec![one],
    };
    items
        .into_iter()
        .map(|item| text(item).map_or_else(|| show(item), str::to_string))
        .collect()
}

/// The argument of intrinsic function `name` (`Ref`, `Sub`, `If`, `GetAtt`),
/// short (`!Sub '...'`) or long (`Fn::Sub: '...'`).
pub fn intrinsic<'a>(v: &'a Value, name: &str) -> Option<&'a Value> {
    match v {
        Value::Tagged(tagged) if tagged.tag == name => Some(&tagged.value),
        Value::Mapping(map) if map.len() == 1 => {
            let long = if name == "Ref" {
                name.to_string()
            } else {
                format!("Fn::{name}")
            };
            field_of(map, &long)
        }
        _ => None,
    }
}

pub fn ref_to(v: &Value) -> Option<&str> {
    intrinsic(v, "Ref").and_then(string)
}

pub fn sub_text(v: &Value) -> Option<&str> {
    let argument = intrinsic(v, "Sub")?;
    string(argument).or_else(|| seq(argument)?.first().and_then(string))
}

/// (resource, attribute) of a `!GetAtt`.
pub fn get_att(v: &Value) -> Option<(String, String)> {
    let argument = intrinsic(v, "GetAtt")?;
    if let Some(s) = string(argument) {
        let (resource, attribute) = s.split_once('.')?;
        return Some((resource.to_string(), attribute.to_string()));
    }
    match seq(argument)?.as_slice() {
        [resource, attribute] => Some((
            string(resource)?.to_string(),
            string(attribute)?.to_string(),
        )),
        _ => None,
    }
}

/// A value on one line, tags included: `!Equals [!Ref AWS::Region, !Ref PrimaryRegion]`.
pub fn show(v: &Value) -> String {
    let join = |items: Vec<String>| items.join(", ");
    match v {
        Value::Null => "~".to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) if s.is_empty() => "''".to_string(),
        Value::String(s) => s.clone(),
        Value::Sequence(items) => format!("[{}]", join(items.iter().map(show).collect())),
        Value::Mapping(map) => format!(
            "{{{}}}",
            join(
                map.iter()
                    .map(|(k, v)| format!("{}: {}", show(k), show(v)))
                    .collect()
            )
        ),
        Value::Tagged(tagged) => format!("{} {}", tagged.tag, show(&tagged.value)),
    }
}

/// `show`, cut short for messages.
pub fn brief(v: &Value) -> String {
    let shown = show(v);
    match shown.char_indices().nth(300) {
        Some((cut, _)) => format!("{}...", &shown[..cut]),
        None => shown,
    }
}

/// Every node of a YAML tree, the tree itself first; tags are looked into.
pub fn nodes(v: &Value) -> Vec<&Value> {
    fn walk<'a>(v: &'a Value, out: &mut Vec<&'a Value>) {
        out.push(v);
        match v {
            Value::Sequence(items) => items.iter().for_each(|item| walk(item, out)),
            Value::Mapping(map) => map.values().for_each(|value| walk(value, out)),
            Value::Tagged(tagged) => walk(&tagged.value, out),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(v, &mut out);
    out
}
