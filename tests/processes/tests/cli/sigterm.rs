//! `peerchat serve` shuts down gracefully on SIGTERM (what `kill`, systemd and container
//! runtimes send), exactly as on SIGINT: every client gets close code 1001 and the process
//! exits 0. Also: every `serve` flag has an environment variable, and JSON logs.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use futures_util::StreamExt;
use tokio_tungstenite::connect_async;
use tokio_tungstenite::tungstenite::Message;

const WAIT: Duration = Duration::from_secs(10);

/// Kills the server if the test fails before it exited.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn graceful_on(signal: &str) {
    let child = Command::new(crate::peerchat_bin())
        .args(["serve", "--bind", "127.0.0.1", "--port", "0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn peerchat serve");
    let mut child = KillOnDrop(child);
    let mut stdout = BufReader::new(child.0.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_string();
    let (mut ws, _) = connect_async(url.as_str()).await.expect("connect");
    // The welcome proves the connection is served before the signal.
    match tokio::time::timeout(WAIT, ws.next()).await.unwrap() {
        Some(Ok(Message::Text(t))) => assert!(t.contains("\"welcome\""), "{t}"),
        other => panic!("expected welcome, got {other:?}"),
    }
    let pid = child.0.id();
    let status = Command::new("kill")
        .args([&format!("-{signal}"), &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    // The server's pings keep arriving while it runs, so one deadline bounds the whole wait.
    let deadline = tokio::time::Instant::now() + WAIT;
    let frame = loop {
        match tokio::time::timeout_at(deadline, ws.next())
            .await
            .expect("no close frame")
        {
            Some(Ok(Message::Close(frame))) => break frame.expect("close frame with a code"),
            Some(Ok(_)) => continue,
            other => panic!("connection ended without a close frame on {signal}: {other:?}"),
        }
    };
    assert_eq!(u16::from(frame.code), 1001, "{signal}");
    assert_eq!(frame.reason.as_str(), "server shutting down");
    drop(ws);
    // Wait for the exit on a thread; after WAIT the test fails (and kills the server).
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut child = child;
        let _ = tx.send(child.0.wait());
    });
    let status = match rx.recv_timeout(WAIT) {
        Ok(status) => status.unwrap(),
        Err(_) => {
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
            panic!("server did not exit after {signal}");
        }
    };
    assert!(status.success(), "{signal}: exit status {status:?}");
}

#[tokio::test]
async fn sigterm_closes_clients_with_1001_and_exits_zero() {
    graceful_on("TERM").await;
}

#[tokio::test]
async fn sigint_closes_clients_with_1001_and_exits_zero() {
    graceful_on("INT").await;
}

#[test]
fn every_serve_flag_has_an_environment_variable_and_json_logs_work() {
    // --help lists the variable of each flag ([env: NAME=]).
    let out = Command::new(crate::peerchat_bin())
        .args(["serve", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    for flag in [
        "--bind",
        "--port",
        "--room-capacity",
        "--tls-cert",
        "--tls-key",
        "--max-connections-per-ip",
        "--max-clients",
        "--auth-secret",
        "--turn-secret",
        "--turn-url",
        "--turn-ttl",
        "--log-format",
    ] {
        let line = help
            .lines()
            .skip_while(|l| !l.trim_start().starts_with(flag))
            .take(4)
            .collect::<Vec<_>>()
            .join(" ");
        assert!(
            line.contains("[env: "),
            "{flag} has no environment variable:\n{help}"
        );
    }
    // JSON logs, asked for by environment: the server's start-up line (info level) is one
    // JSON object.
    let mut child = std::process::Command::new(crate::peerchat_bin())
        .args(["serve", "--port", "0"])
        .env("PEERCHAT_LOG_FORMAT", "json")
        .env("PEERCHAT_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stderr.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let _ = child.kill();
    let _ = child.wait();
    let v: serde_json::Value = serde_json::from_str(first.trim()).expect("a JSON log line");
    assert_eq!(v["level"], "INFO", "{v}");
}
