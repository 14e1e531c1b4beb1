//! End to end through processes: the real `peerchat` binary as the signaling server and as two
//! terminal clients, driven over stdin/stdout, on loopback.

use std::process::{Command, Stdio};

use peerchat_test_support::{Proc, peerchat_bin};

// The `peerchat serve` process suites that came from cli/tests: SIGTERM/SIGINT, env vars and
// JSON logs; TLS with --tls-cert/--tls-key and --ca-cert.
#[path = "cli/sigterm.rs"]
mod sigterm;
#[path = "cli/tls.rs"]
mod tls;

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

#[test]
fn chats_saved_with_data_dir_are_printed_by_peerchat_history() {
    let dir = std::env::temp_dir().join(format!(
        "peerchat-cli-history-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    let dir_arg = dir.to_str().unwrap().to_string();
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
    let mut alice = Proc::spawn(
        &[
            &["create", "--name", "Alice", "--data-dir", &dir_arg][..],
            &common[..],
        ]
        .concat(),
    );
    let code_line = alice.expect("room code", |l| l.starts_with("* room code: "));
    let code = code_line.trim_start_matches("* room code: ").to_string();
    let mut bob = Proc::spawn(&[&["join", &code, "--name", "Bob"][..], &common[..]].concat());
    alice.expect("chat ready", |l| l == "* chat ready with Bob");
    bob.expect("chat ready", |l| l == "* chat ready with Alice");
    alice.say("saved hello");
    let sent = alice.expect("sent line", |l| l.starts_with("> ["));
    let id = sent[3..sent.find(']').unwrap()].to_string();
    alice.expect("delivered", |l| l == format!("✓ delivered [{id}] to Bob"));
    bob.say("saved reply");
    alice.expect("reply", |l| l == "< Bob: saved reply");
    bob.close_stdin();
    alice.expect("peer left", |l| l == "* peer left: Bob (left)");
    assert!(bob.wait_exit().success());
    alice.say("/leave");
    assert!(alice.wait_exit().success());

    let out = Command::new(peerchat_bin())
        .args(["history", "--data-dir", &dir_arg, &code])
        .output()
        .expect("run peerchat history");
    let _ = std::fs::remove_dir_all(&dir);
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(
        lines[0].ends_with(" > Alice: saved hello [delivered]"),
        "{text}"
    );
    assert!(
        lines[1].ends_with(" < Bob: saved reply [received]"),
        "{text}"
    );
}
