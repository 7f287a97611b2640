//! The spinner binaries draw on a TTY while they wait: the current step as its message, lines
//! printed above it, shown only once a wait has lasted a second. Off a TTY it draws nothing and
//! lines go to stderr as they are, so pipes and logs get no control bytes.

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How long a wait lasts before the spinner shows.
pub const SHOW_AFTER: Duration = Duration::from_secs(1);

/// A spinner on stderr (a TTY), or plain lines (anything else).
#[derive(Clone)]
pub struct Spinner {
    bar: Option<ProgressBar>,
    done: Arc<AtomicBool>,
}

impl Spinner {
    /// Start with `message`; `tty`: whether stderr is a terminal (the binary asks). On a TTY the
    /// spinner draws from [`SHOW_AFTER`] on; needs a tokio runtime for that delay.
    pub fn start(tty: bool, message: &str) -> Spinner {
        let done = Arc::new(AtomicBool::new(false));
        if !tty {
            return Spinner { bar: None, done };
        }
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
        if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} ({elapsed})") {
            bar.set_style(style);
        }
        bar.set_message(message.to_string());
        let shown = bar.clone();
        let finished = done.clone();
        tokio::spawn(async move {
            tokio::time::sleep(SHOW_AFTER).await;
            if !finished.load(Ordering::SeqCst) {
                shown.set_draw_target(ProgressDrawTarget::stderr());
                shown.enable_steady_tick(Duration::from_millis(120));
            }
        });
        Spinner {
            bar: Some(bar),
            done,
        }
    }

    /// The current step.
    pub fn step(&self, message: &str) {
        if let Some(b) = &self.bar {
            b.set_message(message.to_string());
        }
    }

    /// A line for the user, above the spinner (or on stderr without one).
    pub fn line(&self, line: &str, stderr: &mut dyn Write) {
        match &self.bar {
            Some(b) if !b.is_hidden() => b.println(line),
            _ => {
                let _ = writeln!(stderr, "{line}");
            }
        }
    }

    /// Stop and erase the spinner.
    pub fn finish(&self) {
        self.done.store(true, Ordering::SeqCst);
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}
