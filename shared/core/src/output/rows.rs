//! Rows for people and scripts, one implementation for every plugin's table: kubectl's look
//! written in batches with the whole table's widths, `--no-headers`, the terminal's width
//! (documented columns shortened, names never), colour on chosen columns, and kubectl's
//! output habits over the rows' JSON: `-o name`, `-o jsonpath=…`, `-o custom-columns=…` and
//! `--sort-by`.

use std::cmp::Ordering;

use comfy_table::{Cell, ColumnConstraint, Table, Width};
use serde_json::Value;

use super::jsonpath::{Path, value_text};
use super::term::{Shrink, ellipsize, escape_control, fit_widths, tone_of};
use super::{bare_table, table};
use crate::error::{Error, Result};

/// Columns three spaces apart, as kubectl's tables.
pub const GAP: usize = 3;

/// How a table looks: `--no-headers`, the terminal's width (`None`: not a terminal, or
/// `-o wide`: nothing is shortened) and colour.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Look {
    pub no_headers: bool,
    pub width: Option<usize>,
    pub color: bool,
}

/// What a table is made of: its headers, the columns shortened to fit a terminal (in that
/// order; the others are the names a user copies and stay whole), and the columns whose words
/// are coloured by meaning (phases, states, severities).
#[derive(Debug, Clone, Copy)]
pub struct Layout<'a> {
    pub headers: &'a [&'a str],
    pub shrink: &'a [Shrink],
    pub toned: &'a [usize],
}

/// Write `rows` as a kubectl table, `batch` rows per comfy-table (every batch gets the widths of
/// the whole table, so the text is the same as one table's; a 10,000-row table is never
/// formatted all at once). Trailing spaces trimmed. On a terminal narrower than the table, the
/// layout's shrinkable columns are cut with `…`.
pub fn write_rows(
    out: &mut dyn std::io::Write,
    layout: Layout<'_>,
    rows: &[Vec<String>],
    look: Look,
    batch: usize,
) -> std::io::Result<()> {
    let batch = batch.max(1);
    let mut widths: Vec<usize> = if look.no_headers {
        vec![0; layout.headers.len()]
    } else {
        layout.headers.iter().map(|h| h.chars().count()).collect()
    };
    for chunk in rows.chunks(batch) {
        let mut t = Table::new();
        for r in chunk {
            t.add_row(r.clone());
        }
        for (w, c) in widths.iter_mut().zip(t.column_max_content_widths()) {
            *w = (*w).max(c as usize);
        }
    }
    let fitted: Vec<Option<usize>> = match look.width {
        Some(budget) => fit_widths(&widths, GAP, layout.shrink, budget),
        None => widths.iter().copied().map(Some).collect(),
    };
    // The columns kept, and the width each is cut to (None: whole).
    let kept: Vec<(usize, Option<usize>)> = widths
        .iter()
        .zip(&fitted)
        .enumerate()
        .filter_map(|(c, (w, f))| f.map(|f| (c, (f < *w).then_some(f))))
        .collect();
    let fitted: Vec<usize> = fitted.into_iter().flatten().collect();
    for (i, chunk) in rows.chunks(batch).enumerate() {
        let mut t = if i == 0 && !look.no_headers {
            let shown: Vec<String> = kept
                .iter()
                .map(|&(c, cut)| {
                    let h = layout.headers.get(c).copied().unwrap_or("").to_uppercase();
                    match cut {
                        Some(w) => ellipsize(&h, w),
                        None => h,
                    }
                })
                .collect();
            let mut t = table(&[]);
            t.set_header(shown);
            t
        } else {
            bare_table()
        };
        t.force_no_tty();
        if look.color {
            t.enforce_styling().style_text_only();
        }
        for r in chunk {
            t.add_row(kept.iter().map(|&(c, cut)| {
                let text = r.get(c).map(String::as_str).unwrap_or("");
                let text = match cut {
                    Some(w) => ellipsize(text, w),
                    None => text.to_string(),
                };
                let tone = (look.color && layout.toned.contains(&c))
                    .then(|| tone_of(&text))
                    .flatten();
                match tone {
                    Some(tone) => Cell::new(text).fg(tone.table_color()),
                    None => Cell::new(text),
                }
            }));
        }
        for (c, width) in t.column_iter_mut().zip(&fitted) {
            c.set_padding((0, GAP as u16));
            c.set_constraint(ColumnConstraint::LowerBoundary(Width::Fixed(
                (*width + GAP).min(u16::MAX as usize) as u16,
            )));
        }
        for line in t.lines() {
            out.write_all(line.trim_end().as_bytes())?;
            out.write_all(b"\n")?;
        }
    }
    Ok(())
}

/// `-o custom-columns=HEADER:PATH,…` (kubectl's spec; paths with or without braces).
#[derive(Debug, Clone)]
pub struct CustomColumns {
    columns: Vec<(String, Path)>,
}

impl CustomColumns {
    /// Parse kubectl's spec; an empty one, a column without `:` or a bad path is a usage error.
    pub fn parse(spec: &str) -> Result<CustomColumns> {
        let bad = |why: String| Error::Usage(format!("bad custom-columns {spec:?}: {why}"));
        if spec.trim().is_empty() {
            return Err(bad("no columns (want HEADER:PATH,…)".into()));
        }
        let mut columns = Vec::new();
        for part in split_columns(spec) {
            let (h, p) = part
                .split_once(':')
                .ok_or_else(|| bad(format!("{part:?} is not HEADER:PATH")))?;
            if h.is_empty() {
                return Err(bad(format!("{part:?} has no header")));
            }
            columns.push((h.to_string(), Path::parse(p)?));
        }
        Ok(CustomColumns { columns })
    }

    /// kubectl's `custom-columns-file` format: headers on the first line, paths on the second.
    pub fn parse_file(text: &str) -> Result<CustomColumns> {
        let mut lines = text.lines().filter(|l| !l.trim().is_empty());
        let (Some(h), Some(p)) = (lines.next(), lines.next()) else {
            return Err(Error::Usage(
                "a custom-columns file has two lines: headers, then paths".into(),
            ));
        };
        let (hs, ps): (Vec<&str>, Vec<&str>) = (
            h.split_whitespace().collect(),
            p.split_whitespace().collect(),
        );
        if hs.len() != ps.len() {
            return Err(Error::Usage(format!(
                "custom-columns file: {} headers but {} paths",
                hs.len(),
                ps.len()
            )));
        }
        let spec: Vec<String> = hs.iter().zip(ps).map(|(h, p)| format!("{h}:{p}")).collect();
        CustomColumns::parse(&spec.join(","))
    }

    /// The headers, as given.
    pub fn headers(&self) -> Vec<&str> {
        self.columns.iter().map(|(h, _)| h.as_str()).collect()
    }

    /// One row: each path's values joined by `,`, `<none>` when it finds nothing.
    pub fn cells(&self, row: &Value) -> Vec<String> {
        self.columns
            .iter()
            .map(|(_, p)| {
                let found = p.find(row);
                if found.is_empty() {
                    "<none>".to_string()
                } else {
                    let text = found
                        .iter()
                        .map(|v| value_text(v))
                        .collect::<Vec<_>>()
                        .join(",");
                    // Data never reaches the terminal raw; one cell is one line.
                    escape_control(&text, true).into_owned()
                }
            })
            .collect()
    }

    /// The whole table, kubectl's look (headers as given, not upper-cased).
    pub fn write(
        &self,
        out: &mut dyn std::io::Write,
        rows: &[Value],
        no_headers: bool,
    ) -> Result<()> {
        let cells: Vec<Vec<String>> = rows.iter().map(|r| self.cells(r)).collect();
        let headers = self.headers();
        let mut t = if no_headers {
            bare_table()
        } else {
            let mut t = bare_table();
            t.set_header(headers.clone());
            t
        };
        for r in cells {
            t.add_row(r);
        }
        for c in t.column_iter_mut() {
            c.set_padding((0, GAP as u16));
        }
        let mut text = String::new();
        for line in t.lines() {
            text.push_str(line.trim_end());
            text.push('\n');
        }
        super::write_text(out, &text)
    }
}

/// Split a custom-columns spec at commas outside brackets and quotes (`[?(@.a=="x,y")]`).
fn split_columns(spec: &str) -> Vec<&str> {
    let (mut parts, mut depth, mut quote, mut start) = (Vec::new(), 0usize, None, 0);
    for (i, c) in spec.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '[' | '(' | '{') => depth += 1,
            (None, ']' | ')' | '}') => depth = depth.saturating_sub(1),
            (None, ',') if depth == 0 => {
                parts.push(&spec[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&spec[start..]);
    parts
}

/// `--sort-by PATH`: a stable sort of `items` by the first value the path finds in each one's
/// JSON, in kubectl's spirit: items where it finds nothing first, then numbers by value, then
/// quantities by value (`2Gi` before `10Gi`, `500M` before `1Gi`), then any other text. One total
/// order over mixed values, so a column holding several kinds sorts without surprise.
pub fn sort_by<T>(items: &mut Vec<T>, json: impl Fn(&T) -> &Value, path: &Path) {
    let mut keyed: Vec<(SortKey, usize)> = items
        .iter()
        .enumerate()
        .map(|(i, t)| (SortKey::of(path.find(json(t)).first().copied()), i))
        .collect();
    keyed.sort_by(|(a, ia), (b, ib)| a.cmp(b).then(ia.cmp(ib)));
    let mut slots: Vec<Option<T>> = items.drain(..).map(Some).collect();
    items.extend(keyed.into_iter().filter_map(|(_, i)| slots[i].take()));
}

/// Where a value sorts: its class (nothing, number, quantity, text), then its value, then its
/// text.
#[derive(Debug)]
struct SortKey(u8, f64, String);

impl SortKey {
    fn of(v: Option<&Value>) -> SortKey {
        match v {
            None => SortKey(0, 0.0, String::new()),
            Some(Value::Number(n)) => SortKey(1, n.as_f64().unwrap_or(0.0), String::new()),
            Some(Value::String(s)) => match crate::quantity::parse(s) {
                Some(q) => SortKey(2, q, s.clone()),
                None => SortKey(3, 0.0, s.clone()),
            },
            Some(v) => SortKey(3, 0.0, value_text(v)),
        }
    }

    fn cmp(&self, o: &SortKey) -> Ordering {
        self.0
            .cmp(&o.0)
            .then(self.1.total_cmp(&o.1))
            .then_with(|| self.2.cmp(&o.2))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn custom_columns_as_kubectl() {
        let cc = CustomColumns::parse(
            "NAME:.metadata.name,CPU:{.status.capacity.cpu},ADDR:.status.addresses[*].address,X:.nope",
        )
        .unwrap();
        let rows = [
            json!({"metadata":{"name":"a"},"status":{"capacity":{"cpu":"4"},"addresses":[{"address":"1"},{"address":"2"}]}}),
            json!({"metadata":{"name":"bb"}}),
        ];
        let mut out = Vec::new();
        cc.write(&mut out, &rows, false).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "NAME   CPU      ADDR     X\na      4        1,2      <none>\nbb     <none>   <none>   <none>\n"
        );
        for bad in ["", "NAME", ":.a", "A:.b[?("] {
            assert_eq!(
                CustomColumns::parse(bad).unwrap_err().exit_code().code(),
                2,
                "{bad}"
            );
        }
        let f =
            CustomColumns::parse_file("NAME  CPU\n.metadata.name .status.capacity.cpu\n").unwrap();
        assert_eq!(f.headers(), vec!["NAME", "CPU"]);
        assert_eq!(
            CustomColumns::parse(r#"A:.x[?(@.n=="a,b")].v,B:.y"#)
                .unwrap()
                .headers(),
            vec!["A", "B"]
        );
    }

    #[test]
    fn sorting_is_stable_numeric_and_missing_first() {
        let mut v = vec![
            json!({"n":"c","s":10}),
            json!({"n":"a","s":9}),
            json!({"n":"b"}),
            json!({"n":"d","s":10}),
        ];
        sort_by(&mut v, |x| x, &Path::parse(".s").unwrap());
        let names: Vec<&str> = v.iter().map(|x| x["n"].as_str().unwrap()).collect();
        assert_eq!(names, ["b", "a", "c", "d"]);
        sort_by(&mut v, |x| x, &Path::parse("{.n}").unwrap());
        let names: Vec<&str> = v.iter().map(|x| x["n"].as_str().unwrap()).collect();
        assert_eq!(names, ["a", "b", "c", "d"]);
    }

    #[test]
    fn quantities_sort_by_value_and_mixed_values_in_one_order() {
        let mut v: Vec<Value> = ["10Gi", "2Gi", "-", "500M", "1Ti", "req 5Gi", "1Gi"]
            .iter()
            .map(|s| json!({ "size": s }))
            .collect();
        v.push(json!({ "size": 3 }));
        v.push(json!({}));
        sort_by(&mut v, |x| x, &Path::parse(".size").unwrap());
        let sizes: Vec<String> = v.iter().map(|x| x["size"].to_string()).collect();
        assert_eq!(
            sizes,
            [
                "null",
                "3",
                "\"500M\"",
                "\"1Gi\"",
                "\"2Gi\"",
                "\"10Gi\"",
                "\"1Ti\"",
                "\"-\"",
                "\"req 5Gi\""
            ]
        );
        // Any mix of numbers, quantities, text and nothing sorts the same from any start
        // (a total order: Rust's sort may panic on one that is not).
        let pool = [
            json!(10),
            json!(9),
            json!("5a"),
            json!("2Gi"),
            json!("10"),
            json!(true),
            json!(null),
            json!("9"),
        ];
        let mut first: Option<Vec<Value>> = None;
        for r in 0..pool.len() {
            let mut items: Vec<Value> = pool
                .iter()
                .cycle()
                .skip(r)
                .take(pool.len())
                .map(|x| json!({ "k": x }))
                .collect();
            items.reverse();
            sort_by(&mut items, |x| x, &Path::parse(".k").unwrap());
            let keys: Vec<Value> = items.iter().map(|x| x["k"].clone()).collect();
            match &first {
                None => first = Some(keys),
                Some(f) => assert_eq!(&keys, f),
            }
        }
    }

    #[test]
    fn rows_fit_the_width_and_colour_only_when_asked() {
        let headers = ["name", "status", "backend"];
        let layout = Layout {
            headers: &headers,
            shrink: &[Shrink { column: 2, min: 8 }],
            toned: &[1],
        };
        let rows = vec![vec![
            "db-0".to_string(),
            "Bound".to_string(),
            "nfs 10.0.0.1:/exports/a/very/long/path".to_string(),
        ]];
        let text = |look: Look| {
            let mut out = Vec::new();
            write_rows(&mut out, layout, &rows, look, 10).unwrap();
            String::from_utf8(out).unwrap()
        };
        let plain = text(Look::default());
        assert_eq!(
            plain,
            "NAME   STATUS   BACKEND\ndb-0   Bound    nfs 10.0.0.1:/exports/a/very/long/path\n"
        );
        let narrow = text(Look {
            width: Some(30),
            ..Look::default()
        });
        assert!(narrow.lines().all(|l| l.chars().count() <= 30), "{narrow}");
        assert!(
            narrow.ends_with("db-0   Bound    nfs 10.0.0.1:…\n"),
            "{narrow}"
        );
        let narrower = text(Look {
            width: Some(20),
            ..Look::default()
        });
        assert_eq!(narrower, "NAME   STATUS\ndb-0   Bound\n");
        let coloured = text(Look {
            color: true,
            ..Look::default()
        });
        assert!(coloured.contains("\x1b["), "{coloured:?}");
        assert!(!plain.contains('\x1b'));
    }
}
