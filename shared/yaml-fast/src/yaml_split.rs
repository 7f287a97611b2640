//! Split a YAML dump into pieces small enough to parse one at a time, by its column-0
//! structure, reading line by line: a 30 MiB `kubectl get -o yaml` List is never in memory
//! as a whole.
//!
//! - Documents end at `---` or `...` lines.
//! - In a document, a column-0 `items:` line starts a List's items; each line starting a
//!   sequence entry at the items' indentation (`- …`, column 0 as kubectl writes it, or any
//!   fixed indentation) starts a new [`Piece::Item`], whose text is that one-entry sequence.
//!   Every other line of the document (apiVersion, kind, metadata…) goes to the List's header,
//!   given with [`Piece::ListEnd`].
//! - A document without `items:` is one [`Piece::Document`].
//!
//! A YAML construct can only span an item boundary by being broken (an unterminated quoted
//! scalar or flow collection: a block scalar or a plain scalar ends at a less indented line),
//! so a wrong split always shows up as a parse error in the piece before it. Callers treat any
//! error in a piece as "parse the whole input the ordinary way", which also gives the error
//! message. Directives (`%YAML`) make [`Splitter::next_piece`] return [`Unsplittable`].

use std::collections::VecDeque;
use std::io::BufRead;

/// One piece of a dump.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// A List item: a one-entry YAML sequence (`- apiVersion: …`), starting at `line`.
    Item { text: String, line: usize },
    /// The end of a List: every line of its document outside `items` (kind, apiVersion…).
    ListEnd { header: String, line: usize },
    /// A whole document that is not a List with block items.
    Document { text: String, line: usize },
}

/// The input has a shape the splitter does not handle; parse it whole instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsplittable {
    pub line: usize,
    pub reason: &'static str,
}

/// A line-by-line splitter over any buffered reader.
pub struct Splitter<R> {
    input: R,
    line_no: usize,
    queue: VecDeque<Piece>,
    doc: Doc,
    done: bool,
    /// The line being read (one buffer for all lines).
    line: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Items {
    /// No `items:` line (yet) in this document.
    #[default]
    No,
    /// Right after `items:`: the first entry fixes the indentation.
    Expect,
    /// In the items; entries start at this indentation.
    In(usize),
    /// A top-level key came after the items.
    After,
}

#[derive(Debug, Default)]
struct Doc {
    /// The document's lines outside the items.
    header: String,
    header_line: usize,
    items: Items,
    /// The item being read, and its first line.
    item: String,
    item_line: usize,
    /// Whether the document has any content.
    any: bool,
}

impl<R: BufRead> Splitter<R> {
    pub fn new(input: R) -> Self {
        Splitter {
            input,
            line_no: 0,
            queue: VecDeque::new(),
            doc: Doc::default(),
            done: false,
            line: String::new(),
        }
    }

    /// The next piece; `Ok(Ok(None))` at the end.
    pub fn next_piece(&mut self) -> std::io::Result<Result<Option<Piece>, Unsplittable>> {
        loop {
            if let Some(p) = self.queue.pop_front() {
                return Ok(Ok(Some(p)));
            }
            if self.done {
                return Ok(Ok(None));
            }
            let mut line = std::mem::take(&mut self.line);
            line.clear();
            if self.input.read_line(&mut line)? == 0 {
                self.finish_doc();
                self.done = true;
                continue;
            }
            self.line_no += 1;
            let fed = self.feed(&line);
            self.line = line;
            if let Err(u) = fed {
                return Ok(Err(u));
            }
        }
    }

    fn feed(&mut self, line: &str) -> Result<(), Unsplittable> {
        let n = self.line_no;
        let unsplittable = |reason| Err(Unsplittable { line: n, reason });
        let bare = line.trim_end_matches(['\n', '\r']);
        if bare.starts_with('%') {
            return unsplittable("a YAML directive");
        }
        if is_marker(bare, "---") || is_marker(bare, "...") {
            if !is_blank_or_comment(&bare[3..]) {
                return unsplittable("content on a document marker line");
            }
            self.finish_doc();
            return Ok(());
        }
        let blank = is_blank_or_comment(bare);
        let doc = &mut self.doc;
        let indent = match doc.items {
            Items::No | Items::After => {
                if is_items_key(bare) {
                    if doc.items == Items::After {
                        return unsplittable("a second items key");
                    }
                    doc.items = Items::Expect;
                    doc.any = true;
                    return Ok(());
                }
                if blank && doc.header.is_empty() {
                    return Ok(()); // leading blank lines and comments
                }
                if doc.header.is_empty() {
                    doc.header_line = n;
                }
                doc.any |= !blank;
                doc.header.push_str(line);
                return Ok(());
            }
            Items::Expect | Items::In(_) if blank => {
                if !doc.item.is_empty() {
                    doc.item.push_str(line);
                }
                return Ok(());
            }
            Items::In(i) => Some(i),
            Items::Expect => None,
        };
        let ind = bare.len() - bare.trim_start_matches(' ').len();
        let rest = &bare[ind..];
        let entry = rest == "-" || rest.starts_with("- ");
        let indent = match indent {
            Some(i) => i,
            None if entry => {
                doc.items = Items::In(ind);
                ind
            }
            None if ind == 0 => usize::MAX, // `items:` without block entries; a key follows
            None => return unsplittable("items that are not a block sequence"),
        };
        if entry && ind == indent {
            let done = std::mem::take(&mut doc.item);
            doc.item.push_str(line);
            let done_line = std::mem::replace(&mut doc.item_line, n);
            if !done.is_empty() {
                self.queue.push_back(Piece::Item {
                    text: done,
                    line: done_line,
                });
            }
        } else if ind > indent && indent != usize::MAX {
            if doc.item.is_empty() {
                return unsplittable("indented content before the first item");
            }
            doc.item.push_str(line);
        } else if ind == 0 {
            // A top-level key after the items: the rest of the document is header.
            let done = std::mem::take(&mut doc.item);
            if !done.is_empty() {
                self.queue.push_back(Piece::Item {
                    text: done,
                    line: doc.item_line,
                });
            }
            doc.items = Items::After;
            if doc.header.is_empty() {
                doc.header_line = n;
            }
            doc.header.push_str(line);
        } else {
            return unsplittable("a line less indented than the items");
        }
        Ok(())
    }

    /// Close the current document: its last item, then its List end (or the whole document).
    fn finish_doc(&mut self) {
        let doc = std::mem::take(&mut self.doc);
        if !doc.item.is_empty() {
            self.queue.push_back(Piece::Item {
                text: doc.item,
                line: doc.item_line,
            });
        }
        if doc.items != Items::No {
            self.queue.push_back(Piece::ListEnd {
                header: doc.header,
                line: doc.header_line,
            });
        } else if doc.any {
            self.queue.push_back(Piece::Document {
                text: doc.header,
                line: doc.header_line,
            });
        }
    }
}

fn is_marker(line: &str, m: &str) -> bool {
    line.strip_prefix(m)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t']))
}

fn is_blank_or_comment(line: &str) -> bool {
    let t = line.trim_start_matches([' ', '\t']);
    t.is_empty() || t.starts_with('#')
}

/// `items:` at column 0 with nothing after it but spaces or a comment.
fn is_items_key(line: &str) -> bool {
    line.strip_prefix("items:").is_some_and(|rest| {
        rest.is_empty() || (rest.starts_with([' ', '\t']) && is_blank_or_comment(rest))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(text: &str) -> Result<Vec<Piece>, Unsplittable> {
        let mut s = Splitter::new(text.as_bytes());
        let mut out = Vec::new();
        while let Some(p) = s.next_piece().unwrap()? {
            out.push(p);
        }
        Ok(out)
    }

    fn item(text: &str, line: usize) -> Piece {
        Piece::Item {
            text: text.into(),
            line,
        }
    }

    #[test]
    fn a_kubectl_list_splits_into_items_and_a_header() {
        let text = "apiVersion: v1\nitems:\n- apiVersion: v1\n  kind: Pod\n  data: |\n    a\n\n    b\n- kind: Pod\n  x: 1\n# note\nkind: List\nmetadata:\n  resourceVersion: \"\"\n";
        assert_eq!(
            split(text).unwrap(),
            vec![
                item(
                    "- apiVersion: v1\n  kind: Pod\n  data: |\n    a\n\n    b\n",
                    3
                ),
                item("- kind: Pod\n  x: 1\n# note\n", 9),
                Piece::ListEnd {
                    header: "apiVersion: v1\nkind: List\nmetadata:\n  resourceVersion: \"\"\n"
                        .into(),
                    line: 1
                },
            ]
        );
    }

    #[test]
    fn indented_items_and_multiple_documents() {
        let text = "---\nkind: List\nitems:\n  - a: 1\n    b: 2\n  - c: 3\n---\n# c\nkind: Pod\nmetadata:\n  name: x\n...\n\n";
        assert_eq!(
            split(text).unwrap(),
            vec![
                item("  - a: 1\n    b: 2\n", 4),
                item("  - c: 3\n", 6),
                Piece::ListEnd {
                    header: "kind: List\n".into(),
                    line: 2
                },
                Piece::Document {
                    text: "kind: Pod\nmetadata:\n  name: x\n".into(),
                    line: 9
                },
            ]
        );
    }

    #[test]
    fn empty_items_and_empty_documents() {
        assert_eq!(
            split("items:\nkind: List\n---\n---\n").unwrap(),
            vec![Piece::ListEnd {
                header: "kind: List\n".into(),
                line: 2
            }]
        );
        assert_eq!(
            split("items: []\nkind: List\n").unwrap(),
            vec![Piece::Document {
                text: "items: []\nkind: List\n".into(),
                line: 1
            }]
        );
        assert_eq!(split("").unwrap(), vec![]);
    }

    #[test]
    fn shapes_it_does_not_split_are_refused_with_their_line() {
        assert_eq!(split("%YAML 1.2\n---\n").unwrap_err().line, 1);
        assert_eq!(split("--- {a: 1}\n").unwrap_err().line, 1);
        assert_eq!(split("items:\n  a: 1\n").unwrap_err().line, 2);
        assert_eq!(split("items:\n  - a\n - b\n").unwrap_err().line, 3);
        assert_eq!(split("items:\n  - a\n  b: 1\n").unwrap_err().line, 3);
        assert_eq!(
            split("items:\n- a\nkind: List\nitems:\n- b\n")
                .unwrap_err()
                .line,
            4
        );
    }
}
