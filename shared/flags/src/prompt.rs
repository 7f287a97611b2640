//! Confirmation before a command changes anything: a prompt on a terminal, `--yes` for
//! scripts, and a refusal (exit 2, nothing changed) without a terminal and without `--yes`.

use std::io::IsTerminal;

use stateful_core::{Error, Result};

/// Ask `prompt` on the terminal unless `yes`. Without a terminal on stdin and stderr and
/// without `--yes`, refuse with a usage error saying how to look first (`look_first`, e.g.
/// "use `plan` to look first"). A "no" is exit 5 with "nothing was changed".
pub fn confirm(yes: bool, prompt: &str, look_first: &str) -> Result<()> {
    if yes {
        return Ok(());
    }
    if !(std::io::stdin().is_terminal() && std::io::stderr().is_terminal()) {
        return Err(Error::Usage(format!(
            "refusing to change anything without confirmation: stdin is not a terminal; pass --yes to apply, or {look_first}"
        )));
    }
    let ok = dialoguer::Confirm::new()
        .with_prompt(prompt)
        .default(false)
        .interact()
        .map_err(|e| Error::Other(format!("prompt: {e}")))?;
    if ok {
        Ok(())
    } else {
        Err(Error::Failed("cancelled: nothing was changed".into()))
    }
}
