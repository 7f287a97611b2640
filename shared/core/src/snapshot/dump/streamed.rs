//! A YAML dump read piece by piece: the splitter ([`stateful_yaml::yaml_split`]) cuts it into
//! List items and documents on this thread while worker threads parse runs of pieces
//! ([`Batch`]es) at the same time. Results are put back in the file's order before they reach
//! the snapshot, so the objects, the first error and the decision to fall back to the whole
//! text are exactly those of a reading one piece after the other.

use std::collections::BTreeMap;
use std::sync::{Mutex, mpsc};

use serde::Deserialize;
use serde::de::DeserializeSeed;
use serde_json::Value;

use super::super::*;
use super::seeds::{DocSeed, ItemsSeed};
use super::{finish_list, is_list_kind, original, take_failed_object, yaml_message, yaml_options};

/// Why the streamed read stopped.
pub(super) enum Stop {
    /// It gave up: parse the whole text instead (which also names a syntax error).
    Fallback,
    /// A value that does not convert, in a piece that parsed: the error, at this line.
    Data(usize, String),
}

/// Worker threads at most (the splitter is a thread of its own): past this, the splitter is
/// the bottleneck.
const MAX_WORKERS: usize = 4;

/// Bytes of YAML in one batch: large enough that handing batches over costs nothing, small
/// enough that the pieces in flight stay a few MiB.
const BATCH_BYTES: usize = 256 << 10;

/// Batches queued for the workers beyond those they are parsing.
const QUEUED_PER_WORKER: usize = 2;

/// Stack of a worker: the nesting serde-saphyr accepts (as the reader thread's, see
/// `with_deep_stack`).
const WORKER_STACK: usize = 256 << 20;

/// One piece to parse: its text, its first line, and whether it is a whole document (else a
/// List item).
struct Job {
    text: String,
    line: usize,
    document: bool,
}

/// Pieces in a row, parsed together by one worker.
struct Batch {
    seq: usize,
    jobs: Vec<Job>,
}

/// What a batch gave: its objects, its List items that lack a kind (to be finished with the
/// List's header) and the line of each of those.
#[derive(Default)]
struct Parsed<F: Flavor> {
    sink: Snapshot<F>,
    kindless: Vec<Value>,
    lines: Vec<usize>,
}

impl<F: Flavor> Parsed<F> {
    fn parse(&mut self, job: &Job) -> std::result::Result<(), Stop> {
        yaml_piece(
            &mut self.sink,
            &mut self.kindless,
            &job.text,
            job.document,
            job.line,
        )?;
        if !job.document {
            self.lines.resize(self.kindless.len(), job.line);
        }
        Ok(())
    }

    /// The next batch's results, in the file's order.
    fn absorb(&mut self, mut next: Parsed<F>) {
        self.sink.absorb(next.sink);
        self.kindless.append(&mut next.kindless);
        self.lines.append(&mut next.lines);
    }
}

type Answer<F> = (usize, std::result::Result<Parsed<F>, Stop>);

/// Read a YAML dump piece by piece into `sink`, parsing on worker threads.
pub(super) fn yaml_streamed<F: Flavor, R: std::io::BufRead>(
    sink: &mut Snapshot<F>,
    input: R,
) -> std::result::Result<(), Stop>
where
    Snapshot<F>: Send,
{
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(MAX_WORKERS);
    let mut done = Parsed::<F>::default();
    let (job_tx, job_rx) = mpsc::sync_channel::<Batch>(workers * QUEUED_PER_WORKER);
    let job_rx = Mutex::new(job_rx);
    let res = std::thread::scope(|s| {
        let (answer_tx, answer_rx) = mpsc::channel::<Answer<F>>();
        let mut started = 0;
        if workers > 1 {
            for i in 0..workers {
                let (job_rx, answer_tx) = (&job_rx, answer_tx.clone());
                let spawned = std::thread::Builder::new()
                    .name(format!("dump-parser-{i}"))
                    .stack_size(WORKER_STACK)
                    .spawn_scoped(s, move || work::<F>(job_rx, answer_tx));
                started += usize::from(spawned.is_ok());
            }
        }
        drop(answer_tx);
        let mut pipe = Pipe {
            tx: (started > 0).then_some(job_tx),
            rx: answer_rx,
            sent: 0,
            next: 0,
            early: BTreeMap::new(),
            batch: Vec::new(),
            batch_bytes: 0,
        };
        let res = split_into(&mut pipe, &mut done, input);
        // Closing the queue ends the workers (each finishes the batch it holds).
        pipe.tx = None;
        res
    });
    sink.absorb(done.sink);
    res
}

/// A worker: batches until the queue closes.
fn work<F: Flavor>(jobs: &Mutex<mpsc::Receiver<Batch>>, answers: mpsc::Sender<Answer<F>>) {
    loop {
        let batch = {
            let rx = jobs.lock().unwrap_or_else(|p| p.into_inner());
            rx.recv()
        };
        let Ok(batch) = batch else { return };
        let mut out = Parsed::<F>::default();
        let res = batch
            .jobs
            .iter()
            .try_for_each(|j| out.parse(j))
            .map(|()| out);
        if answers.send((batch.seq, res)).is_err() {
            return;
        }
    }
}

/// The splitter's side of the workers: batches out, answers back in order.
struct Pipe<F: Flavor> {
    /// The workers' queue; `None`: no workers, parse here.
    tx: Option<mpsc::SyncSender<Batch>>,
    rx: mpsc::Receiver<Answer<F>>,
    /// Batches sent, and the sequence number of the next one to absorb.
    sent: usize,
    next: usize,
    /// Answers that came before an earlier batch's.
    early: BTreeMap<usize, std::result::Result<Parsed<F>, Stop>>,
    batch: Vec<Job>,
    batch_bytes: usize,
}

impl<F: Flavor> Pipe<F> {
    fn push(&mut self, done: &mut Parsed<F>, job: Job) -> std::result::Result<(), Stop> {
        if self.tx.is_none() {
            return done.parse(&job);
        }
        self.batch_bytes += job.text.len();
        self.batch.push(job);
        if self.batch_bytes >= BATCH_BYTES {
            self.send()?;
        }
        // Absorb what is ready, so that the answers waiting stay few.
        self.absorb(done, false)
    }

    fn send(&mut self) -> std::result::Result<(), Stop> {
        let Some(tx) = &self.tx else { return Ok(()) };
        if self.batch.is_empty() {
            return Ok(());
        }
        let jobs = std::mem::take(&mut self.batch);
        self.batch_bytes = 0;
        // Only a worker's panic closes the queue early: the scope then passes the panic on.
        tx.send(Batch {
            seq: self.sent,
            jobs,
        })
        .map_err(|_| Stop::Fallback)?;
        self.sent += 1;
        Ok(())
    }

    /// Every piece so far parsed and in `done`, in order; the first error in the file's order.
    fn flush(&mut self, done: &mut Parsed<F>) -> std::result::Result<(), Stop> {
        self.send()?;
        self.absorb(done, true)
    }

    /// Absorb the answers that are next in order: those already here, or (`all`) every batch
    /// sent, waiting for them.
    fn absorb(&mut self, done: &mut Parsed<F>, all: bool) -> std::result::Result<(), Stop> {
        while self.next < self.sent {
            if let Some(res) = self.early.remove(&self.next) {
                done.absorb(res?);
                self.next += 1;
                continue;
            }
            let answer = if all {
                self.rx.recv().map_err(|_| Stop::Fallback)?
            } else {
                match self.rx.try_recv() {
                    Ok(a) => a,
                    Err(mpsc::TryRecvError::Empty) => return Ok(()),
                    Err(mpsc::TryRecvError::Disconnected) => return Err(Stop::Fallback),
                }
            };
            self.early.insert(answer.0, answer.1);
        }
        Ok(())
    }
}

/// The splitter's loop: pieces to the workers, a List's end once its items are all in.
fn split_into<F: Flavor, R: std::io::BufRead>(
    pipe: &mut Pipe<F>,
    done: &mut Parsed<F>,
    input: R,
) -> std::result::Result<(), Stop> {
    use stateful_yaml::yaml_split::{Piece, Splitter};
    #[derive(Deserialize)]
    struct Header {
        kind: Option<String>,
        #[serde(rename = "apiVersion")]
        api_version: Option<String>,
    }
    let mut split = Splitter::new(input);
    loop {
        let piece = match split.next_piece() {
            Ok(Ok(Some(p))) => p,
            Ok(Ok(None)) => return pipe.flush(done),
            _ => {
                // An error in an earlier piece comes first, as it would one piece at a time.
                pipe.flush(done)?;
                return Err(Stop::Fallback);
            }
        };
        let document = matches!(piece, Piece::Document { .. });
        match piece {
            Piece::Item { text, line } | Piece::Document { text, line } => pipe.push(
                done,
                Job {
                    text,
                    line,
                    document,
                },
            )?,
            Piece::ListEnd { header, .. } => {
                pipe.flush(done)?;
                let h: Header = serde_saphyr::from_str_with_options(&header, yaml_options(false))
                    .map_err(|_| Stop::Fallback)?;
                let kind = h.kind.unwrap_or_default();
                if !is_list_kind(&kind) {
                    return Err(Stop::Fallback); // an object with an `items` field, not a List
                }
                let api = h.api_version.unwrap_or_else(|| "v1".into());
                let lines = std::mem::take(&mut done.lines);
                finish_list(
                    &mut done.sink,
                    std::mem::take(&mut done.kindless),
                    &kind,
                    &api,
                )
                .map_err(|(i, m)| Stop::Data(lines.get(i).copied().unwrap_or(1), m))?;
            }
        }
    }
}

/// One piece into `sink`: through the fast path for the block YAML kubectl writes
/// ([`stateful_yaml::yaml_fast`]), into a scratch sink so that a decline halfway leaves nothing
/// behind, else through serde-saphyr. An error of serde-saphyr's own (it has a position) means
/// [`Stop::Fallback`]: the whole text names it. An error without one is a value that did not
/// convert (the seeds' own, e.g. a reordered object's bad field): [`Stop::Data`] at the piece's
/// line (`line`), which the whole text could not give.
fn yaml_piece<F: Flavor>(
    sink: &mut Snapshot<F>,
    kindless: &mut Vec<Value>,
    text: &str,
    document: bool,
    line: usize,
) -> std::result::Result<(), Stop> {
    let mut scratch = Snapshot::<F>::default();
    let mut scratch_kindless = Vec::new();
    let fast = if document {
        stateful_yaml::yaml_fast::from_str_seed(text, DocSeed { sink: &mut scratch })
    } else {
        stateful_yaml::yaml_fast::from_str_seed(
            text,
            ItemsSeed {
                sink: &mut scratch,
                kindless: &mut scratch_kindless,
            },
        )
    };
    if fast.is_ok() {
        sink.absorb(scratch);
        kindless.append(&mut scratch_kindless);
        return Ok(());
    }
    drop(scratch);
    take_failed_object(); // a note of the fast path's is not about serde-saphyr's error
    let res = if document {
        serde_saphyr::with_deserializer_from_str_with_options(text, yaml_options(false), |d| {
            DocSeed { sink }.deserialize(d)
        })
    } else {
        serde_saphyr::with_deserializer_from_str_with_options(text, yaml_options(false), |d| {
            ItemsSeed { sink, kindless }.deserialize(d)
        })
    };
    res.map_err(|e| match e.location().filter(|l| l.line() > 0) {
        Some(_) => Stop::Fallback,
        None if matches!(original(&e), serde_saphyr::Error::NonFiniteFloat { .. }) => {
            Stop::Fallback
        }
        None => Stop::Data(line, yaml_message(&e)),
    })
}
