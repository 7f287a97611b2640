//! kubectl's JSONPath templates (`-o jsonpath=…`, `--sort-by`, custom columns' paths).
//!
//! A template is text with actions in braces: `{.items[*].metadata.name}`, `{range .items[*]}…{end}`,
//! `{"\n"}` (quoted text), filters `{.users[?(@.name=="e2e")].user.password}`. No maintained
//! crate implements kubectl's template dialect; the path expressions inside the braces are
//! evaluated by `jsonpath-rust` (RFC 9535, the crate kube-rs uses), and this module adds
//! kubectl's layer around it:
//! - `$` is optional: `.a.b` is `$.a.b`; inside `range`, paths start at the current item;
//! - `range EXPR` … `end` iterates the values the expression gives (an array's elements when it
//!   gives one array);
//! - several results of one action are written space-separated; strings raw, numbers and
//!   booleans as JSON, objects and arrays as compact JSON with sorted keys (as kubectl's
//!   `json.Marshal` of a map); a path that finds nothing writes nothing (kubectl's
//!   `--allow-missing-template-keys=true`).
//!
//! Known differences from kubectl, from the RFC underneath: a union of dotted names
//! (`['metadata.name', 'status.capacity']`) selects keys literally named so (kubectl walks
//! them as paths), and `['name\.type']` is written `['name.type']`.

use jsonpath_rust::parser::model::JpQuery;
use jsonpath_rust::parser::parse_json_path;
use jsonpath_rust::query::js_path_process;
use serde_json::Value;

use crate::error::{Error, Result};

/// A compiled path expression (`.items[*].metadata.name`, `{.spec.x}`, `$.a`).
#[derive(Debug, Clone)]
pub struct Path {
    source: String,
    query: JpQuery,
}

impl Path {
    /// Parse a kubectl path: braces and `$` optional. A bad path is a usage error naming it.
    pub fn parse(s: &str) -> Result<Path> {
        let inner = s.trim();
        let inner = inner
            .strip_prefix('{')
            .and_then(|i| i.strip_suffix('}'))
            .unwrap_or(inner)
            .trim();
        let rfc = to_rfc(inner);
        let query = parse_json_path(&rfc)
            .map_err(|e| Error::Usage(format!("bad JSONPath {s:?}: {}", first_line(&e))))?;
        Ok(Path {
            source: s.to_string(),
            query,
        })
    }

    /// The values it selects in `v` (none when nothing matches).
    pub fn find<'a>(&self, v: &'a Value) -> Vec<&'a Value> {
        js_path_process(&self.query, v)
            .map(|refs| refs.into_iter().map(|r| r.val()).collect())
            .unwrap_or_default()
    }

    /// The expression as given.
    pub fn as_str(&self) -> &str {
        &self.source
    }
}

fn first_line(e: &dyn std::fmt::Display) -> String {
    e.to_string().lines().next().unwrap_or_default().to_string()
}

/// kubectl's path (`.a`, `a.b`, `@.a`, `$.a`, `..a`, `[0]`) as an RFC 9535 query.
fn to_rfc(p: &str) -> String {
    if p.is_empty() || p == "@" || p == "$" {
        return "$".into();
    }
    if let Some(rest) = p.strip_prefix('$').or_else(|| p.strip_prefix('@')) {
        return format!("${rest}");
    }
    if p.starts_with('.') || p.starts_with('[') {
        format!("${p}")
    } else {
        format!("$.{p}")
    }
}

/// One piece of a template.
#[derive(Debug, Clone)]
enum Node {
    Text(String),
    Path(Path),
    Range(Path, Vec<Node>),
}

/// A parsed kubectl JSONPath template.
#[derive(Debug, Clone)]
pub struct Template {
    nodes: Vec<Node>,
}

impl Template {
    /// Parse a template; an unbalanced brace, `range` without `end` or a bad path is a usage
    /// error naming what is wrong.
    pub fn parse(s: &str) -> Result<Template> {
        let bad = |why: &str| Error::Usage(format!("bad JSONPath template {s:?}: {why}"));
        let mut stack: Vec<(Path, Vec<Node>)> = Vec::new();
        let mut nodes: Vec<Node> = Vec::new();
        let mut rest = s;
        while !rest.is_empty() {
            let Some(open) = rest.find('{') else {
                nodes.push(Node::Text(rest.to_string()));
                break;
            };
            if open > 0 {
                nodes.push(Node::Text(rest[..open].to_string()));
            }
            let close = action_end(&rest[open..]).ok_or_else(|| bad("unclosed action"))?;
            let action = rest[open + 1..open + close].trim();
            rest = &rest[open + close + 1..];
            if let Some(expr) = action.strip_prefix("range ") {
                stack.push((Path::parse(expr)?, std::mem::take(&mut nodes)));
            } else if action == "end" {
                let (path, outer) = stack.pop().ok_or_else(|| bad("end without range"))?;
                let body = std::mem::replace(&mut nodes, outer);
                nodes.push(Node::Range(path, body));
            } else if let Some(text) = quoted(action) {
                nodes.push(Node::Text(text));
            } else {
                nodes.push(Node::Path(Path::parse(action)?));
            }
        }
        if !stack.is_empty() {
            return Err(bad("range without end"));
        }
        Ok(Template { nodes })
    }

    /// The template applied to `v`.
    pub fn render(&self, v: &Value) -> String {
        let mut out = String::new();
        render_nodes(&self.nodes, v, &mut out);
        out
    }

    /// The template applied to `v`, safe for a terminal: control characters from the data
    /// are escaped (`\x1b`), newlines and tabs (the template's `{"\n"}`, `{"\t"}`) kept.
    pub fn render_escaped(&self, v: &Value) -> String {
        let text = self.render(v);
        let parts: Vec<_> = text
            .split('\t')
            .map(|p| super::term::escape_control(p, false))
            .collect();
        parts.join("\t")
    }
}

/// The offset of the `}` closing the action that starts `s` (at its `{`), skipping quoted
/// strings and brackets.
fn action_end(s: &str) -> Option<usize> {
    let mut quote: Option<char> = None;
    let mut escaped = false;
    let mut depth = 0usize;
    for (i, c) in s.char_indices().skip(1) {
        if let Some(q) = quote {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '"' | '\'' => quote = Some(c),
            '[' | '(' => depth += 1,
            ']' | ')' => depth = depth.saturating_sub(1),
            '}' if depth == 0 => return Some(i),
            _ => {}
        }
    }
    None
}

/// `"text"` with Go's escapes (`\n`, `\t`, `\"`, `\\`).
fn quoted(action: &str) -> Option<String> {
    let inner = action.strip_prefix('"')?.strip_suffix('"')?;
    let mut out = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some(o) => out.push(o),
            None => out.push('\\'),
        }
    }
    Some(out)
}

fn render_nodes(nodes: &[Node], v: &Value, out: &mut String) {
    for n in nodes {
        match n {
            Node::Text(t) => out.push_str(t),
            Node::Path(p) => {
                let found = p.find(v);
                for (i, r) in found.iter().enumerate() {
                    if i > 0 {
                        out.push(' ');
                    }
                    out.push_str(&value_text(r));
                }
            }
            Node::Range(p, body) => {
                let found = p.find(v);
                let items: Vec<&Value> = match found.as_slice() {
                    [Value::Array(a)] => a.iter().collect(),
                    _ => found,
                };
                for item in items {
                    render_nodes(body, item, out);
                }
            }
        }
    }
}

/// A value as kubectl prints a result: strings raw, objects and arrays as compact JSON with
/// sorted keys, the rest as JSON.
pub fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Object(_) | Value::Array(_) => sorted(v).to_string(),
        other => other.to_string(),
    }
}

/// A copy with every object's keys sorted (Go's `json.Marshal` of a map).
fn sorted(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            Value::Object(
                keys.into_iter()
                    .map(|k| (k.clone(), sorted(&m[k])))
                    .collect(),
            )
        }
        Value::Array(a) => Value::Array(a.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The input of kubectl's JSONPath documentation page.
    fn doc_input() -> Value {
        serde_json::json!({
          "kind": "List",
          "items":[
            {"kind":"None","metadata":{"name":"127.0.0.1","labels":{"kubernetes.io/hostname":"127.0.0.1"}},
             "status":{"capacity":{"cpu":"4"},"addresses":[{"type": "LegacyHostIP", "address":"127.0.0.1"}]}},
            {"kind":"None","metadata":{"name":"127.0.0.2"},
             "status":{"capacity":{"cpu":"8"},"addresses":[{"type": "LegacyHostIP", "address":"127.0.0.2"},{"type": "another", "address":"127.0.0.3"}]}}
          ],
          "users":[{"name": "myself","user": {}},{"name": "e2e","user": {"username": "admin", "password": "secret"}}]
        })
    }

    fn eval(t: &str) -> String {
        Template::parse(t).unwrap().render(&doc_input())
    }

    /// kubectl's documented examples (as the kubectl binary prints them: results space-separated,
    /// maps as JSON).
    #[test]
    fn kubectl_documented_examples() {
        assert_eq!(eval("kind is {.kind}"), "kind is List");
        assert_eq!(eval("{.kind}"), "List");
        assert_eq!(eval("{['kind']}"), "List");
        assert_eq!(eval("{..name}"), "127.0.0.1 127.0.0.2 myself e2e");
        assert_eq!(eval("{.items[*].metadata.name}"), "127.0.0.1 127.0.0.2");
        assert_eq!(eval("{.users[0].name}"), "myself");
        assert_eq!(
            eval(r#"{.users[?(@.name=="e2e")].user.password}"#),
            "secret"
        );
        assert_eq!(
            eval("{range .items[*]}[{.metadata.name}, {.status.capacity}] {end}"),
            r#"[127.0.0.1, {"cpu":"4"}] [127.0.0.2, {"cpu":"8"}] "#
        );
        assert_eq!(
            eval(r#"{range .items[*]}{.metadata.name}{"\t"}{end}"#),
            "127.0.0.1\t127.0.0.2\t"
        );
        assert_eq!(eval("{.items[-1:].metadata.name}"), "127.0.0.2");
        assert_eq!(
            eval("{.items[*].metadata.labels['kubernetes.io/hostname']}"),
            "127.0.0.1"
        );
        assert_eq!(eval("{$.kind}"), "List");
        assert_eq!(eval("{.missing}"), "");
    }

    #[test]
    fn escaped_rendering_keeps_tabs_and_newlines_only() {
        let t = Template::parse(r#"{.a}{"\t"}{.b}{"\n"}"#).unwrap();
        let v = serde_json::json!({"a": "x\u{1b}[31m", "b": "y"});
        assert_eq!(t.render_escaped(&v), "x\\x1b[31m\ty\n");
    }

    #[test]
    fn bad_templates_are_usage_errors() {
        for t in ["{.a", "{range .items[*]}{.x}", "{end}", "{.a[?(}"] {
            let e = Template::parse(t).unwrap_err();
            assert_eq!(e.exit_code().code(), 2, "{t}: {e}");
        }
    }

    #[test]
    fn paths_with_and_without_braces() {
        let v = doc_input();
        for p in [".kind", "{.kind}", "kind", "$.kind"] {
            assert_eq!(
                Path::parse(p).unwrap().find(&v),
                vec![&Value::from("List")],
                "{p}"
            );
        }
    }
}
