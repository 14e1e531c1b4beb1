//! End to end through processes: the real `peerchat` binary as the signaling server and as two
//! terminal clients, driven over stdin/stdout, on loopback.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::OnceLock;
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

const LINE_TIMEOUT: Duration = Duration::from_secs(30);

/// The `peerchat` binary under test: `$PEERCHAT_BIN` if set, else the workspace's
/// `target/<profile>/peerchat` next to this test executable (`target/<profile>/deps/`), built
/// once per test run with the same cargo (`cargo build -p peerchat-cli --bin peerchat`), since
/// cargo builds a package's binaries only for that package's own tests.
fn peerchat_bin() -> PathBuf {
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
    .clone()
}

struct Proc {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
    seen: Vec<String>,
}

impl Proc {
    fn spawn(args: &[&str]) -> Proc {
        let mut child = Command::new(peerchat_bin())
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn peerchat");
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let stdin = child.stdin.take();
        Proc {
            child,
            stdin,
            lines,
            seen: Vec::new(),
        }
    }

    /// Next line matching `pred`, failing the test after LINE_TIMEOUT.
    fn expect(&mut self, what: &str, pred: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + LINE_TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if pred(&line) {
                        return line;
                    }
                }
                Err(RecvTimeoutError::Timeout) => {
                    panic!(
                        "timed out waiting for {what}; output so far: {:#?}",
                        self.seen
                    )
                }
                Err(RecvTimeoutError::Disconnected) => {
                    panic!("process ended before {what}; output: {:#?}", self.seen)
                }
            }
        }
    }

    fn say(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        writeln!(stdin, "{line}").unwrap();
        stdin.flush().unwrap();
    }

    fn close_stdin(&mut self) {
        self.stdin.take();
    }

    fn wait_exit(&mut self) -> std::process::ExitStatus {
        let deadline = Instant::now() + LINE_TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "process did not exit");
            // Draining output while the process finishes; the loop ends on exit.
            let _ = self.lines.recv_timeout(Duration::from_millis(50));
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn two_terminal_clients_chat_through_a_server_process() {
    let mut server = Proc::spawn(&["serve", "--bind", "127.0.0.1", "--port", "0"]);
    let listening = server.expect("listening line", |l| l.starts_with("listening on "));
    let url = listening.trim_start_matches("listening on ").to_string();

    let common = [
        "--server",
        url.as_str(),
        "--ice-addr",
        "127.0.0.1:0",
        "--no-mdns",
    ];
    let mut alice = Proc::spawn(&[&["create", "--name", "Alice"][..], &common[..]].concat());
    let code_line = alice.expect("room code", |l| l.starts_with("* room code: "));
    let code = code_line.trim_start_matches("* room code: ").to_string();
    assert_eq!(code.len(), 11, "ABC-DEF-GHJ form: {code}");

    let mut bob = Proc::spawn(
        &[
            &["join", &code.to_lowercase(), "--name", "Bob"][..],
            &common[..],
        ]
        .concat(),
    );
    bob.expect("joined", |l| l == format!("* joined room {code}"));
    alice.expect("peer joined", |l| l == "* peer joined: Bob");
    bob.expect("chat ready", |l| l == "* chat ready with Alice");
    alice.expect("chat ready", |l| l == "* chat ready with Bob");

    alice.say("hello from Alice");
    let sent = alice.expect("sent line", |l| l.starts_with("> ["));
    let id = sent[3..sent.find(']').unwrap()].to_string();
    bob.expect("message", |l| l == "< Alice: hello from Alice");
    alice.expect("delivered", |l| l == format!("✓ delivered [{id}] to Bob"));

    for i in 0..5 {
        bob.say(&format!("reply {i}"));
    }
    for i in 0..5 {
        let line = alice.expect("replies in order", |l| l.starts_with("< Bob: "));
        assert_eq!(
            line,
            format!("< Bob: reply {i}"),
            "out of order: {:#?}",
            alice.seen
        );
    }

    // End of input leaves the room; the other side is told.
    bob.close_stdin();
    alice.expect("peer left", |l| l == "* peer left: Bob (left)");
    assert!(bob.wait_exit().success());

    alice.say("/leave");
    assert!(alice.wait_exit().success());
}

#[test]
fn joining_an_unknown_room_fails_with_a_clear_error() {
    let mut server = Proc::spawn(&["serve", "--port", "0"]);
    let listening = server.expect("listening line", |l| l.starts_with("listening on "));
    let url = listening.trim_start_matches("listening on ").to_string();
    let output = Command::new(peerchat_bin())
        .args([
            "join",
            "ABC-DEF-GHJ",
            "--name",
            "Bob",
            "--server",
            &url,
            "--no-mdns",
        ])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("room_not_found"), "stderr: {stderr}");
}

#[test]
fn demo_runs_and_exits_zero() {
    let output = Command::new(peerchat_bin()).arg("demo").output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "demo failed: {stdout}");
    assert!(
        stdout.contains("data channel open on both sides"),
        "{stdout}"
    );
    assert!(stdout.contains("4 messages, all delivered"), "{stdout}");
}

#[test]
fn ice_transport_policy_flag_is_parsed_and_relay_needs_a_turn_server() {
    let run = |policy: &str| {
        Command::new(peerchat_bin())
            .args([
                "create",
                "--name",
                "Alice",
                "--server",
                "ws://127.0.0.1:1/ws",
                "--ice-addr",
                "127.0.0.1:0",
                "--no-mdns",
                "--ice-transport-policy",
                policy,
            ])
            .stdin(Stdio::null())
            .output()
            .unwrap()
    };
    // `relay` with no --ice-server: the engine refuses the configuration before connecting.
    let output = run("relay");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("relay") && stderr.contains("turn:"),
        "stderr: {stderr}"
    );
    // An unknown policy is a usage error from the argument parser.
    let output = run("host");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("--ice-transport-policy"),
        "stderr: {stderr}"
    );
}
