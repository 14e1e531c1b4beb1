//! Running iproute2's `ip`, the one external program the harness uses.

use std::io::Write;
use std::process::{Command, Stdio};

use crate::error::{Error, Result};

/// Runs `ip <args>`, feeding `batch` on stdin when given (for `ip -batch -`).
///
/// # Errors
/// [`Error::MissingTool`] when `ip` is not installed, [`Error::Command`] with its stderr when it
/// exits unsuccessfully, [`Error::Io`] when it cannot be run.
pub(crate) fn ip(args: &[&str], batch: Option<&str>) -> Result<()> {
    let describe = || match batch {
        Some(input) => format!("ip {} <<< {:?}", args.join(" "), input),
        None => format!("ip {}", args.join(" ")),
    };
    let mut child = Command::new("ip")
        .args(args)
        .stdin(if batch.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|err| match err.kind() {
            std::io::ErrorKind::NotFound => Error::MissingTool("ip"),
            _ => Error::io(format!("run {}", describe()), err),
        })?;
    if let Some(input) = batch {
        let mut stdin = child.stdin.take().expect("stdin is piped");
        stdin
            .write_all(input.as_bytes())
            .map_err(|err| Error::io(format!("write to {}", describe()), err))?;
    }
    let output = child
        .wait_with_output()
        .map_err(|err| Error::io(format!("wait for {}", describe()), err))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(Error::Command {
            command: describe(),
            stderr: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        })
    }
}
