//! Shared support of the cross-process suites (`tests/processes`, `tests/chaos`): the real
//! `peerchat` binary, started as a signaling server or a terminal client, with its stdout read
//! line by line. Everything binds to 127.0.0.1.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::OnceLock;
use std::sync::mpsc as std_mpsc;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

/// Upper bound for any awaited output line; a test fails rather than hangs.
pub const WAIT: Duration = Duration::from_secs(45);

/// The `peerchat` binary under test: `$PEERCHAT_BIN` if set, else the workspace's
/// `target/<profile>/peerchat` next to the running test executable (`target/<profile>/deps/`),
/// built once per test run with the same cargo (`cargo build -p peerchat-cli --bin peerchat`),
/// since cargo builds a package's binaries only for that package's own tests.
pub fn peerchat_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Some(bin) = std::env::var_os("PEERCHAT_BIN") {
            return PathBuf::from(bin);
        }
        let exe = std::env::current_exe().expect("test executable path");
        let profile_dir = exe
            .parent()
            .and_then(Path::parent)
            .expect("test executable in target/<profile>/deps");
        let mut build = Command::new(env!("CARGO"));
        build.args([
            "build",
            "--quiet",
            "-p",
            "peerchat-cli",
            "--bin",
            "peerchat",
        ]);
        if profile_dir.ends_with("release") {
            build.arg("--release");
        }
        let status = build
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .expect("run cargo build");
        assert!(status.success(), "cargo build -p peerchat-cli failed");
        let bin = profile_dir.join("peerchat");
        assert!(bin.is_file(), "{} was not built", bin.display());
        bin
    })
}

/// A `peerchat` process with its stdout read line by line.
pub struct Proc {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: std_mpsc::Receiver<(Instant, String)>,
    /// Every line read so far, for failure messages and checks.
    pub seen: Vec<String>,
}

impl Proc {
    /// Starts `peerchat ARGS`.
    pub fn spawn(args: &[&str]) -> Proc {
        let mut command = Command::new(peerchat_bin());
        command.args(args);
        Proc::spawn_command(command)
    }

    /// Starts `command` with stdin and stdout piped: for a `peerchat` process that must start
    /// differently, e.g. inside a `peerchat-netsim` host (`host.command(peerchat_bin())`).
    pub fn spawn_command(mut command: Command) -> Proc {
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn peerchat");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, lines) = std_mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send((Instant::now(), line)).is_err() {
                    break;
                }
            }
        });
        Proc {
            stdin: child.stdin.take(),
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// The next line `pred` accepts; panics after [`WAIT`] or when the process ends first.
    pub fn expect(&mut self, what: &str, pred: impl Fn(&str) -> bool) -> String {
        self.expect_at(what, pred).1
    }

    /// [`Proc::expect`], with the time the line was read.
    pub fn expect_at(&mut self, what: &str, pred: impl Fn(&str) -> bool) -> (Instant, String) {
        let deadline = Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok((at, line)) => {
                    self.seen.push(line.clone());
                    if pred(&line) {
                        return (at, line);
                    }
                }
                Err(std_mpsc::RecvTimeoutError::Timeout) => {
                    panic!("no {what} within {WAIT:?}; output: {:#?}", self.seen)
                }
                Err(std_mpsc::RecvTimeoutError::Disconnected) => {
                    panic!("process ended before {what}; output: {:#?}", self.seen)
                }
            }
        }
    }

    /// Returns at once if a line seen so far matches `pred`, else waits for one
    /// ([`Proc::expect`]).
    pub fn saw_or_expect(&mut self, what: &str, pred: impl Fn(&str) -> bool) {
        if !self.seen.iter().any(|l| pred(l)) {
            self.expect(what, pred);
        }
    }

    /// Types `line` on the process's stdin.
    pub fn say(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        writeln!(stdin, "{line}").expect("write stdin");
        stdin.flush().expect("flush stdin");
    }

    /// Closes the process's stdin (end of input).
    pub fn close_stdin(&mut self) {
        self.stdin.take();
    }

    /// Waits (at most [`WAIT`]) for the process to exit, reading its output meanwhile.
    pub fn wait_exit(&mut self) -> ExitStatus {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "process did not exit: {:#?}",
                self.seen
            );
            // Reading output while the process finishes; the loop ends on exit.
            if let Ok((_, line)) = self.lines.recv_timeout(Duration::from_millis(50)) {
                self.seen.push(line);
            }
        }
    }

    /// Sends `signal` to the process.
    pub fn signal(&self, signal: Signal) {
        kill(Pid::from_raw(self.child.id() as i32), signal).expect("signal the process");
    }

    /// SIGKILLs the process and reaps it.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A `peerchat serve` process on 127.0.0.1.
pub struct ServerProc {
    pub proc: Proc,
    /// The port it listens on.
    pub port: u16,
    /// When its "listening on" line was read: it accepts connections from then on.
    pub listening_at: Instant,
}

impl ServerProc {
    /// Starts a server on `port` (0 = a free one) with `extra` flags.
    pub fn start(port: u16, extra: &[&str]) -> ServerProc {
        ServerProc::start_command(Command::new(peerchat_bin()), "127.0.0.1", port, extra)
    }

    /// Starts `command` (the `peerchat` binary, e.g. `host.command(peerchat_bin())` of a
    /// `peerchat-netsim` host) as `serve --bind BIND --port PORT EXTRA`; [`ServerProc::url`]
    /// assumes 127.0.0.1, so build the URL from the bind address otherwise.
    pub fn start_command(
        mut command: Command,
        bind: &str,
        port: u16,
        extra: &[&str],
    ) -> ServerProc {
        let port_arg = port.to_string();
        command
            .args(["serve", "--bind", bind, "--port", port_arg.as_str()])
            .args(extra);
        let mut proc = Proc::spawn_command(command);
        let (listening_at, line) =
            proc.expect_at("listening line", |l| l.starts_with("listening on "));
        let port = line
            .rsplit(':')
            .next()
            .and_then(|p| p.trim_end_matches("/ws").parse().ok())
            .expect("port in the listening line");
        ServerProc {
            proc,
            port,
            listening_at,
        }
    }

    /// The WebSocket URL.
    pub fn url(&self) -> String {
        format!("ws://127.0.0.1:{}/ws", self.port)
    }
}
