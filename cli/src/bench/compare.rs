//! `peerchat bench --compare`: the engine's measurements repeated on a pair of Pion peers and
//! a pair of libdatachannel peers (the stranger clients of `tests/interop/peers`) through the
//! same kind of loopback signaling server, plus the setup time when our engine offers to each
//! of them (they answer as the DTLS client, `a=setup:active`).
//!
//! Every stranger figure includes its JSON-lines pipe (commands in, events out, ~tens of µs
//! per line), which our in-process engine does not pay: see docs/benchmark.md.

use std::path::Path;
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::json;

use super::stranger::{Stack, Stranger};

/// How long a stranger pair's setup may take before it counts as failed.
const STRANGER_SETUP_TIMEOUT: Duration = Duration::from_secs(10);
use super::{BenchArgs, Side, ms, percentile, side};
use crate::wait;

/// One stack's figures, measured like the engine's (see the `bench` module docs).
#[derive(Debug, Clone, Serialize)]
pub struct StackFigures {
    pub stack: Stack,
    pub setup_ms_p50: f64,
    pub setup_ms_p99: f64,
    /// Setups of the pair that never opened within 10 s (left out of the percentiles).
    pub setup_failures: usize,
    pub rtt_ms_p50: f64,
    pub rtt_ms_p99: f64,
    /// MB/s (10^6 bytes of text per second) until the last delivery receipt, large messages.
    pub mb_per_s: f64,
    /// Same with small messages.
    pub small_mb_per_s: f64,
    /// Our engine offering to this stack, which answers as the DTLS client: join → open, ms.
    pub answerer_setup_ms_p50: f64,
    pub answerer_setup_ms_p99: f64,
}

/// Runs every stack's figures.
pub async fn run(args: &BenchArgs, peers: &Path) -> Result<Vec<StackFigures>, String> {
    let mut out = Vec::new();
    for stack in [Stack::Pion, Stack::Libdatachannel] {
        stack.prepare(peers).await?;
        let server = wait::loopback_server(|c| c.with_rate_limit(100_000, 100_000)).await?;
        let url = server.ws_url();
        let figures = measure(stack, peers, &url, args).await;
        server.shutdown().await.map_err(|e| e.to_string())?;
        out.push(figures.map_err(|e| format!("{}: {e}", stack.name()))?);
    }
    Ok(out)
}

async fn measure(
    stack: Stack,
    peers: &Path,
    url: &str,
    args: &BenchArgs,
) -> Result<StackFigures, String> {
    let progress = |step: &str| eprintln!("bench --compare: {}: {step}", stack.name());
    progress("setup");
    let mut x = Stranger::start(stack, peers, url, "bench-x").await?;
    let mut y = Stranger::start(stack, peers, url, "bench-y").await?;

    // Setup: y joins x's room (the newcomer offers) → y's data channel open. A setup that
    // never opens (libdatachannel paired with itself sometimes hangs) is counted, both
    // strangers are replaced, and the run goes on.
    let mut setup = Vec::with_capacity(args.connections);
    let mut setup_failures = 0usize;
    for i in 0..args.connections {
        x.cmd(json!({"cmd": "create"})).await?;
        let code = x.wait("room").await?["code"]
            .as_str()
            .ok_or("room without code")?
            .to_string();
        let start = Instant::now();
        y.cmd(json!({"cmd": "join", "code": code})).await?;
        let opened = async {
            y.wait_within("open", STRANGER_SETUP_TIMEOUT).await?;
            let took = ms(start.elapsed());
            x.wait_within("open", STRANGER_SETUP_TIMEOUT).await?;
            Ok::<f64, String>(took)
        }
        .await;
        match opened {
            Ok(took) => setup.push(took),
            Err(err) => {
                eprintln!(
                    "bench --compare: {}: setup {i} failed ({err}); new peers",
                    stack.name()
                );
                setup_failures += 1;
                x.stop().await;
                y.stop().await;
                x = Stranger::start(stack, peers, url, "bench-x").await?;
                y = Stranger::start(stack, peers, url, "bench-y").await?;
                continue;
            }
        }
        if i + 1 < args.connections {
            y.cmd(json!({"cmd": "leave"})).await?;
            y.wait("left").await?;
            x.cmd(json!({"cmd": "leave"})).await?;
            x.wait("left").await?;
        }
    }
    if setup.is_empty() {
        return Err("no setup succeeded".into());
    }
    if setup_failures > 0 {
        // The last attempt failed: the fresh pair still has to connect for what follows.
        x.cmd(json!({"cmd": "create"})).await?;
        let code = x.wait("room").await?["code"]
            .as_str()
            .ok_or("room without code")?
            .to_string();
        y.cmd(json!({"cmd": "join", "code": code})).await?;
        y.wait("open").await?;
        x.wait("open").await?;
    }

    progress("round trip");
    // Round trip: x sends, x sees the ack.
    let mut rtt = Vec::with_capacity(args.messages);
    let mut ticker = tokio::time::interval(Duration::from_millis(args.rtt_interval_ms));
    for i in 0..args.messages {
        ticker.tick().await;
        let start = Instant::now();
        x.cmd(json!({"cmd": "send", "text": format!("ping {i}")}))
            .await?;
        x.wait("delivered").await?;
        rtt.push(ms(start.elapsed()));
    }

    progress("throughput");
    let mb_per_s = throughput(&mut x, args.transfer_mb, args.chunk_bytes).await?;
    let small_mb_per_s =
        throughput(&mut x, args.compare_small_mb(), args.small_chunk_bytes).await?;
    x.stop().await;
    y.stop().await;

    // Our engine offers to a stranger that created the room: it answers as the DTLS client.
    progress("setup, peerchat offers");
    let mut answerer = Stranger::start(stack, peers, url, "bench-answerer").await?;
    answerer.cmd(json!({"cmd": "create"})).await?;
    let code = answerer.wait("room").await?["code"]
        .as_str()
        .ok_or("room without code")?
        .to_string();
    let mut ours: Side = side("bench-ours", url)?;
    let mut answerer_setup = Vec::with_capacity(args.connections);
    for i in 0..args.connections {
        let start = Instant::now();
        ours.engine
            .join_room(&code)
            .await
            .map_err(|e| e.to_string())?;
        wait::data_channel_open(&mut ours.events, super::STEP_TIMEOUT).await?;
        answerer_setup.push(ms(start.elapsed()));
        answerer.wait("open").await?;
        if i + 1 < args.connections {
            ours.engine.leave_room().await.map_err(|e| e.to_string())?;
            answerer.wait("peer_left").await?;
        }
    }
    ours.engine.shutdown();
    answerer.stop().await;

    for v in [&mut setup, &mut rtt, &mut answerer_setup] {
        v.sort_by(f64::total_cmp);
    }
    Ok(StackFigures {
        stack,
        setup_ms_p50: percentile(&setup, 50.0),
        setup_ms_p99: percentile(&setup, 99.0),
        setup_failures,
        rtt_ms_p50: percentile(&rtt, 50.0),
        rtt_ms_p99: percentile(&rtt, 99.0),
        mb_per_s,
        small_mb_per_s,
        answerer_setup_ms_p50: percentile(&answerer_setup, 50.0),
        answerer_setup_ms_p99: percentile(&answerer_setup, 99.0),
    })
}

/// `mb` MB in `chunk`-byte messages from `x` to its peer, until the last delivery receipt.
async fn throughput(x: &mut Stranger, mb: usize, chunk: usize) -> Result<f64, String> {
    let count = (mb * 1_000_000).div_ceil(chunk);
    let start = Instant::now();
    x.cmd(json!({"cmd": "bulk", "count": count, "bytes": chunk}))
        .await?;
    for _ in 0..count {
        x.wait("delivered").await?;
    }
    Ok((count * chunk) as f64 / 1e6 / start.elapsed().as_secs_f64())
}

/// The engine's own figures for the table (same measurements, in this process).
pub struct Ours {
    pub setup_ms_p50: f64,
    pub setup_ms_p99: f64,
    pub rtt_ms_p50: f64,
    pub rtt_ms_p99: f64,
    pub mb_per_s: f64,
    pub small_mb_per_s: f64,
}

/// Prints the side-by-side table. Ratios are "how many times better peerchat is": the
/// other's time ÷ ours for times, ours ÷ the other's rate for throughput (> 1: peerchat ahead).
pub fn print_table(args: &BenchArgs, ours: &Ours, stacks: &[StackFigures]) {
    let mut header = String::from("| metric | peerchat |");
    let mut rule = String::from("|---|---|");
    for s in stacks {
        header.push_str(&format!(" {} | ratio |", s.stack.name()));
        rule.push_str("---|---|");
    }
    println!("{header}");
    println!("{rule}");
    type Pick = fn(&StackFigures) -> f64;
    let rows: [(String, f64, Pick, bool); 6] = [
        (
            "setup p50, ms".into(),
            ours.setup_ms_p50,
            |s| s.setup_ms_p50,
            true,
        ),
        (
            "setup p99, ms".into(),
            ours.setup_ms_p99,
            |s| s.setup_ms_p99,
            true,
        ),
        (
            "round trip p50, ms".into(),
            ours.rtt_ms_p50,
            |s| s.rtt_ms_p50,
            true,
        ),
        (
            "round trip p99, ms".into(),
            ours.rtt_ms_p99,
            |s| s.rtt_ms_p99,
            true,
        ),
        (
            format!("throughput, {} B messages, MB/s", args.chunk_bytes),
            ours.mb_per_s,
            |s| s.mb_per_s,
            false,
        ),
        (
            format!("throughput, {} B messages, MB/s", args.small_chunk_bytes),
            ours.small_mb_per_s,
            |s| s.small_mb_per_s,
            false,
        ),
    ];
    for (label, mine, pick, lower_is_better) in rows {
        let mut line = format!("| {label} | {} |", fmt(mine));
        for s in stacks {
            let theirs = pick(s);
            let ratio = if lower_is_better {
                theirs / mine
            } else {
                mine / theirs
            };
            line.push_str(&format!(" {} | {ratio:.2}× |", fmt(theirs)));
        }
        println!("{line}");
    }
    let mut line = format!("| setups that never opened (of {}) | 0 |", args.connections);
    for s in stacks {
        line.push_str(&format!(" {} | — |", s.setup_failures));
    }
    println!("{line}");
    let mut line =
        String::from("| setup, peerchat offers → it answers (DTLS client), p50 / p99 ms | — |");
    for s in stacks {
        line.push_str(&format!(
            " {} / {} | — |",
            fmt(s.answerer_setup_ms_p50),
            fmt(s.answerer_setup_ms_p99)
        ));
    }
    println!("{line}");
}

fn fmt(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}
