//! The watch loop: the core's [`Watch`] keeps the snapshot current; after each change (and
//! the burst it starts, up to [`Follow::debounce`]) the snapshot is traced again and the
//! [`changes`](super::changes) from the previous analysis are written, one line each. Ends
//! when `stop` resolves (Ctrl-C) or the output is closed. What the user should know but is
//! not output (a kind that cannot be watched, a watch being retried, a target gone) goes to
//! the `notice` callback, each distinct sentence once in a row; the binary prints it.

use std::future::Future;
use std::io::Write;
use std::time::Duration;

use stateful_core::error::{Error, Result};
use stateful_core::snapshot::{Lean, Update, Watch};

use super::{State, changes, human_line, json_line, problems_at_least};
use crate::graph::{Snapshot, TraceOptions, trace};
use crate::model::Severity;

/// How a watch follows and writes.
pub struct Follow<'a> {
    pub opts: &'a TraceOptions,
    /// JSON lines (`-o json`), else human lines.
    pub json: bool,
    /// How long a burst of watch events is gathered before the analysis runs again.
    pub debounce: Duration,
    /// The time each line is stamped with (RFC 3339).
    pub now: &'a dyn Fn() -> String,
    /// `--problems`: problem lines only for diagnostics of at least this severity.
    pub problems: Option<Severity>,
}

/// What the user is told once per distinct sentence in a row (a retried watch says the same
/// thing at each backoff).
struct Notices<'n> {
    say: &'n mut dyn FnMut(&str),
    last: Option<String>,
}

impl Notices<'_> {
    fn say(&mut self, s: String) {
        if self.last.as_deref() != Some(s.as_str()) {
            (self.say)(&s);
            self.last = Some(s);
        }
    }

    /// Says what an update needs said; true when the snapshot changed.
    fn update(&mut self, u: Update) -> bool {
        match u {
            Update::Changed(_) => return true,
            Update::Quiet | Update::Ended => {}
            Update::Gap(g) => {
                self.say(format!("{g}: it stays unknown"));
                return true;
            }
            Update::Retrying(why) => self.say(format!("{why} (retrying)")),
            Update::Skipped(why) => self.say(format!("skipped: {why}")),
        }
        false
    }
}

/// Wait until every kind has been listed once (or is a gap), saying each gap. An error when
/// the cluster cannot be read.
pub async fn ready(watch: &mut Watch<Lean>, notice: &mut dyn FnMut(&str)) -> Result<()> {
    let mut n = Notices {
        say: notice,
        last: None,
    };
    while !watch.ready() {
        let u = watch.next().await?;
        if u == Update::Ended {
            break;
        }
        n.update(u);
    }
    Ok(())
}

impl Follow<'_> {
    /// The state a watch starts from: the analysis of `snap` (nothing when the trace fails,
    /// e.g. a target not there yet; the failure is the caller's to report).
    pub fn state(&self, snap: &Snapshot) -> Result<State> {
        let report = trace(snap, self.opts)?;
        Ok(State::of(snap, &report))
    }

    /// Follow changes from `prev` until `stop` resolves or `out` is closed.
    pub async fn run(
        &self,
        watch: &mut Watch<Lean>,
        mut prev: State,
        out: &mut dyn Write,
        notice: &mut dyn FnMut(&str),
        stop: impl Future<Output = ()>,
    ) -> Result<()> {
        let mut n = Notices {
            say: notice,
            last: None,
        };
        let mut stop = std::pin::pin!(stop);
        let mut ended = false;
        loop {
            // Wait for a change.
            let changed = tokio::select! {
                () = &mut stop => return Ok(()),
                u = watch.next(), if !ended => {
                    let u = u?;
                    ended = u == Update::Ended;
                    n.update(u)
                }
            };
            if !changed {
                continue;
            }
            // Gather the burst it starts.
            let until = tokio::time::Instant::now() + self.debounce;
            loop {
                tokio::select! {
                    () = &mut stop => return Ok(()),
                    () = tokio::time::sleep_until(until) => break,
                    u = watch.next(), if !ended => {
                        let u = u?;
                        ended = u == Update::Ended;
                        n.update(u);
                    }
                }
            }
            let snap = watch.snapshot();
            let next = match self.state(&snap) {
                Ok(s) => s,
                Err(e) => {
                    n.say(format!("{e}"));
                    State::default()
                }
            };
            let time = (self.now)();
            let mut text = String::new();
            for c in problems_at_least(changes(&prev, &next), self.problems) {
                text.push_str(&if self.json {
                    json_line(&time, &c)
                } else {
                    human_line(&time, &c)
                });
                text.push('\n');
            }
            prev = next;
            if text.is_empty() {
                continue;
            }
            match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok(()),
                Err(e) => return Err(Error::Other(format!("writing output: {e}"))),
            }
        }
    }
}
