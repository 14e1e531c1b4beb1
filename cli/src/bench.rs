//! `peerchat bench`: loopback figures for the engine, and the same transfer over a bare
//! `webrtc` data channel pair in the same run, so the engine's overhead shows as a ratio.
//!
//! Measured:
//! - setup: time from `join_room` to the joiner's data channel open (`PeerState::Connected`);
//! - rtt: time from `send_message` to the sender's `Delivered` status (message + ack), one
//!   small message every `--rtt-interval-ms`;
//! - throughput: a `--transfer-mb` MB transfer in `--chunk-bytes` messages, from the first send
//!   to the last delivery receipt, in MB/s (10^6 bytes of message text per second);
//! - bare throughput: the same bytes over two `webrtc` peer connections with no signaling
//!   server, chat protocol or acks, until the receiver has every byte;
//! - both throughputs again with small messages (`--small-chunk-bytes`, `--small-transfer-mb`);
//! - with `--compare`: the same figures for a Pion pair and a libdatachannel pair, and the setup
//!   time when our engine offers to each of them ([`compare`]).

mod bare;
mod compare;
mod stranger;

use std::time::{Duration, Instant};

use clap::Args;
use peerchat_core::{ChannelListener, Engine, EngineConfig, EngineEvent, MessageStatus};
use serde::Serialize;
use tokio::sync::mpsc::UnboundedReceiver;

use crate::wait;

const STEP_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Args)]
pub struct BenchArgs {
    /// Connections to set up for the setup-time figures.
    #[arg(long, default_value_t = 30)]
    connections: usize,
    /// Small messages for the round-trip figures.
    #[arg(long, default_value_t = 300)]
    messages: usize,
    /// Interval between round-trip messages, ms.
    #[arg(long, default_value_t = 100)]
    rtt_interval_ms: u64,
    /// Size of the throughput transfer, MB (10^6 bytes).
    #[arg(long, default_value_t = 50)]
    transfer_mb: usize,
    /// Message size for the throughput transfer, bytes (at most 16384).
    #[arg(long, default_value_t = 16 * 1024)]
    chunk_bytes: usize,
    /// Bulk sent by EACH side for the receipt-lag figures, MB (10^6 bytes); 0 skips them.
    #[arg(long, default_value_t = 10)]
    receipt_bulk_mb: usize,
    /// One small message for the receipt-lag figures after every this many bulk messages.
    #[arg(long, default_value_t = 20)]
    receipt_every: usize,
    /// Message size for the second throughput transfer (small messages), bytes.
    #[arg(long, default_value_t = 1024)]
    small_chunk_bytes: usize,
    /// Size of the small-message transfer, MB (10^6 bytes); 0 skips it.
    #[arg(long, default_value_t = 10)]
    small_transfer_mb: usize,
    /// Also measure a Pion pair and a libdatachannel pair (tests/interop/peers, built with
    /// `go build` / `npm ci` when missing) and print one side-by-side table with ratios.
    #[arg(long)]
    compare: bool,
    /// Where the stranger peers live (default: tests/interop/peers of this source tree).
    #[arg(long)]
    peers_dir: Option<std::path::PathBuf>,
    /// Print the figures as one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

impl BenchArgs {
    /// Size of the small-message transfer of the comparison, MB.
    fn compare_small_mb(&self) -> usize {
        self.small_transfer_mb.max(1)
    }
}

#[derive(Serialize)]
struct Figures {
    /// Size of the stripped `libpeerchat_ffi.so` next to this executable, if present.
    ffi_stripped_bytes: Option<u64>,
    /// RSS growth per engine created (both idle, not in a room), KiB.
    engine_idle_rss_kib: f64,
    /// RSS growth per end of the first connected pair (room, peer connection, data channels), KiB.
    peer_rss_kib: f64,
    setup_ms_p50: f64,
    setup_ms_p99: f64,
    setup_samples: usize,
    rtt_ms_p50: f64,
    rtt_ms_p99: f64,
    rtt_samples: usize,
    receipt_lag_ms_p50: f64,
    receipt_lag_ms_p99: f64,
    receipt_lag_samples: usize,
    transfer_bytes: usize,
    chunk_bytes: usize,
    engine_mb_per_s: f64,
    bare_webrtc_mb_per_s: f64,
    engine_to_bare_ratio: f64,
    /// The engine's rate until B had shown every message (before the last receipts).
    engine_received_mb_per_s: f64,
    /// CPU time (all threads of this process) per MB moved, ms: engine, then bare pair.
    engine_cpu_ms_per_mb: f64,
    bare_webrtc_cpu_ms_per_mb: f64,
    small_transfer_bytes: usize,
    small_chunk_bytes: usize,
    small_engine_mb_per_s: f64,
    small_engine_received_mb_per_s: f64,
    small_engine_cpu_ms_per_mb: f64,
    small_bare_webrtc_cpu_ms_per_mb: f64,
    small_bare_webrtc_mb_per_s: f64,
    /// With `--compare`: the other stacks' figures.
    #[serde(skip_serializing_if = "Option::is_none")]
    compare: Option<Vec<compare::StackFigures>>,
}

struct Side {
    engine: Engine,
    events: UnboundedReceiver<EngineEvent>,
}

fn side(name: &str, url: &str) -> Result<Side, String> {
    let (listener, events) = ChannelListener::new();
    let engine = Engine::new(EngineConfig::new(url, name).loopback_only(), listener)
        .map_err(|e| e.to_string())?;
    Ok(Side { engine, events })
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * (sorted.len() as f64 - 1.0)).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

async fn connected(side: &mut Side) -> Result<(), String> {
    wait::data_channel_open(&mut side.events, STEP_TIMEOUT).await
}

async fn delivered(side: &mut Side, id: &str) -> Result<(), String> {
    wait::until(&mut side.events, STEP_TIMEOUT, "delivery receipt", |e| {
        matches!(e, EngineEvent::MessageStatus { message_id, status: MessageStatus::Delivered, .. } if message_id == id)
            .then_some(())
    })
    .await
}

/// Resident set size of this process (`VmRSS` in `/proc/self/status`), bytes; `None` off Linux.
fn rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// CPU time this process has used (user + system, all threads), seconds, from
/// `/proc/self/stat` (10 ms resolution); `NaN` off Linux. Load on the machine stretches wall
/// time but not this, so CPU per MB compares the engine and the bare pair on a busy machine.
fn cpu_secs() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return f64::NAN;
    };
    // Fields after the parenthesised command name: state is field 3; utime, stime are 14, 15.
    let Some(rest) = stat.rsplit_once(')').map(|(_, rest)| rest) else {
        return f64::NAN;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok());
    match (ticks(11), ticks(12)) {
        (Some(user), Some(system)) => (user + system) / 100.0,
        _ => f64::NAN,
    }
}

/// Stripped size of the `libpeerchat_ffi.so` built next to this executable (same profile):
/// strips a copy with `strip`, as an app's packaging does. `None` if either is missing.
fn ffi_stripped_bytes() -> Option<u64> {
    let library = std::env::current_exe()
        .ok()?
        .with_file_name("libpeerchat_ffi.so");
    if !library.exists() {
        return None;
    }
    let copy = std::env::temp_dir().join(format!("peerchat-bench-{}.so", std::process::id()));
    let status = std::process::Command::new("strip")
        .arg("-o")
        .arg(&copy)
        .arg(&library)
        .status()
        .ok()?;
    let size = status
        .success()
        .then(|| std::fs::metadata(&copy).ok().map(|m| m.len()))
        .flatten();
    let _ = std::fs::remove_file(&copy);
    size
}

/// Both sides queue `--receipt-bulk-mb` of bulk at once; A puts a small message after every
/// `--receipt-every` bulk messages. Returns, per small message, ms from B's `Message` event to
/// A's `Delivered` status: how long a receipt waits behind bulk traffic.
async fn receipt_lag(a: &mut Side, b: &mut Side, args: &BenchArgs) -> Result<Vec<f64>, String> {
    use std::collections::HashMap;
    let chunk = "y".repeat(args.chunk_bytes);
    let count = (args.receipt_bulk_mb * 1_000_000).div_ceil(args.chunk_bytes);
    // Probe id → (B showed it, A saw it delivered). Either may come first: each engine
    // delivers events on its own thread.
    let mut pings: HashMap<String, (Option<Instant>, Option<Instant>)> = HashMap::new();
    let mut bulk_ids = std::collections::HashSet::new();
    for i in 0..count {
        bulk_ids.insert(
            a.engine
                .send_message_queued(&chunk)
                .await
                .map_err(|e| e.to_string())?,
        );
        b.engine
            .send_message_queued(&chunk)
            .await
            .map_err(|e| e.to_string())?;
        if i % args.receipt_every.max(1) == 0 {
            let id = a
                .engine
                .send_message_queued(&format!("receipt-probe {i}"))
                .await
                .map_err(|e| e.to_string())?;
            pings.insert(id, (None, None));
        }
    }
    let mut lags = Vec::with_capacity(pings.len());
    let mut a_delivered = 0usize;
    let mut b_received = 0usize;
    let deadline = tokio::time::sleep(Duration::from_secs(300));
    tokio::pin!(deadline);
    // Until every probe is acknowledged and both bulk transfers are complete.
    while lags.len() < pings.len() || a_delivered < count || b_received < count {
        tokio::select! {
            event = b.events.recv() => match event {
                Some(EngineEvent::Message(m)) if pings.contains_key(&m.id) => {
                    let probe = pings.get_mut(&m.id).expect("checked");
                    probe.0 = Some(Instant::now());
                    if let (Some(shown), Some(delivered)) = *probe {
                        lags.push(ms(delivered.saturating_duration_since(shown)));
                    }
                }
                Some(EngineEvent::Message(_)) => b_received += 1,
                Some(_) => {}
                None => return Err("engine B stopped".into()),
            },
            event = a.events.recv() => match event {
                Some(EngineEvent::MessageStatus { message_id, status: MessageStatus::Delivered, .. }) => {
                    if let Some(probe) = pings.get_mut(&message_id) {
                        probe.1 = Some(Instant::now());
                        if let (Some(shown), Some(delivered)) = *probe {
                            lags.push(ms(delivered.saturating_duration_since(shown)));
                        }
                    } else if bulk_ids.contains(&message_id) {
                        a_delivered += 1;
                    }
                }
                Some(_) => {}
                None => return Err("engine A stopped".into()),
            },
            _ = &mut deadline => return Err("timed out measuring receipt lag".into()),
        }
    }
    Ok(lags)
}

/// Seconds of one engine transfer: until B has shown every message, and until A has every
/// delivery receipt (the figure reported).
struct TransferSecs {
    received: f64,
    delivered: f64,
    /// CPU seconds the process used meanwhile ([`cpu_secs`]).
    cpu: f64,
}

/// Sends `count` messages of `chunk` bytes from A to B through the engines.
async fn engine_transfer(
    a: &mut Side,
    b: &mut Side,
    count: usize,
    chunk: usize,
) -> Result<TransferSecs, String> {
    let text = "x".repeat(chunk);
    let cpu_start = cpu_secs();
    let start = Instant::now();
    for _ in 0..count {
        a.engine
            .send_message_queued(&text)
            .await
            .map_err(|e| e.to_string())?;
    }
    let (mut delivered, mut received) = (0usize, 0usize);
    let (mut delivered_at, mut received_at) = (None, None);
    let deadline = tokio::time::sleep(Duration::from_secs(300));
    tokio::pin!(deadline);
    while delivered_at.is_none() || received_at.is_none() {
        tokio::select! {
            event = a.events.recv() => match event {
                Some(EngineEvent::MessageStatus { status: MessageStatus::Delivered, .. }) => {
                    delivered += 1;
                    if delivered == count {
                        delivered_at = Some(start.elapsed());
                    }
                }
                Some(_) => {}
                None => return Err("engine A stopped".into()),
            },
            event = b.events.recv() => match event {
                Some(EngineEvent::Message(_)) => {
                    received += 1;
                    if received == count {
                        received_at = Some(start.elapsed());
                    }
                }
                Some(_) => {}
                None => return Err("engine B stopped".into()),
            },
            _ = &mut deadline => return Err("timed out waiting for the transfer".into()),
        }
    }
    let secs = |d: Option<Duration>| d.map_or(f64::NAN, |d| d.as_secs_f64());
    Ok(TransferSecs {
        received: secs(received_at),
        delivered: secs(delivered_at),
        cpu: cpu_secs() - cpu_start,
    })
}

/// Runs every measurement and prints the figures.
pub async fn run(args: BenchArgs) -> Result<(), String> {
    if args.chunk_bytes == 0 || args.chunk_bytes > peerchat_core::chat::MAX_MESSAGE_BYTES {
        return Err(format!(
            "--chunk-bytes must be 1..={}",
            peerchat_core::chat::MAX_MESSAGE_BYTES
        ));
    }
    // The benchmark sends far faster than a person types; the rate limit is not measured.
    let server = wait::loopback_server(|c| c.with_rate_limit(100_000, 100_000)).await?;
    let url = server.ws_url();
    let rss_before_engines = rss_bytes();
    let mut a = side("bench-a", &url)?;
    let mut b = side("bench-b", &url)?;
    let rss_idle_engines = rss_bytes();
    let mut rss_one_pair = None;

    // Setup time: join_room → joiner's data channel open.
    let mut setup = Vec::with_capacity(args.connections);
    for i in 0..args.connections {
        let room = a.engine.create_room().await.map_err(|e| e.to_string())?;
        let start = Instant::now();
        b.engine
            .join_room(&room.code)
            .await
            .map_err(|e| e.to_string())?;
        connected(&mut b).await?;
        setup.push(ms(start.elapsed()));
        connected(&mut a).await?;
        if i == 0 {
            rss_one_pair = rss_bytes();
        }
        let last = i + 1 == args.connections;
        if !last {
            b.engine.leave_room().await.map_err(|e| e.to_string())?;
            a.engine.leave_room().await.map_err(|e| e.to_string())?;
        }
    }

    // Round trip: message → ack, one every interval.
    let mut rtt = Vec::with_capacity(args.messages);
    let mut ticker = tokio::time::interval(Duration::from_millis(args.rtt_interval_ms));
    for i in 0..args.messages {
        ticker.tick().await;
        let start = Instant::now();
        let id = a
            .engine
            .send_message(&format!("ping {i}"))
            .map_err(|e| e.to_string())?;
        delivered(&mut a, &id).await?;
        rtt.push(ms(start.elapsed()));
    }

    // Receipt lag under two-way bulk traffic: both sides queue bulk at once, A mixes small
    // messages into its bulk; lag = B shows the small message → A sees it Delivered.
    let mut receipt_lag = if args.receipt_bulk_mb > 0 {
        receipt_lag(&mut a, &mut b, &args).await?
    } else {
        Vec::new()
    };

    // Throughput through the engine: every message must be delivered.
    let count = (args.transfer_mb * 1_000_000).div_ceil(args.chunk_bytes);
    let engine_secs = engine_transfer(&mut a, &mut b, count, args.chunk_bytes).await?;
    let sent_bytes = count * args.chunk_bytes;
    let engine_mbps = sent_bytes as f64 / 1e6 / engine_secs.delivered;
    let engine_received_mbps = sent_bytes as f64 / 1e6 / engine_secs.received;
    let per_mb = |cpu: f64, bytes: usize| cpu * 1000.0 / (bytes as f64 / 1e6);
    let engine_cpu = per_mb(engine_secs.cpu, sent_bytes);
    let small_count = (args.small_transfer_mb * 1_000_000).div_ceil(args.small_chunk_bytes);
    let small_bytes = small_count * args.small_chunk_bytes;
    let (small_engine_mbps, small_engine_received_mbps, small_engine_cpu) = if small_count > 0 {
        let secs = engine_transfer(&mut a, &mut b, small_count, args.small_chunk_bytes).await?;
        (
            small_bytes as f64 / 1e6 / secs.delivered,
            small_bytes as f64 / 1e6 / secs.received,
            per_mb(secs.cpu, small_bytes),
        )
    } else {
        (f64::NAN, f64::NAN, f64::NAN)
    };

    a.engine.shutdown();
    b.engine.shutdown();
    server.shutdown().await.map_err(|e| e.to_string())?;

    let cpu_start = cpu_secs();
    let bare_secs = bare::transfer(count, args.chunk_bytes).await?;
    let bare_cpu = per_mb(cpu_secs() - cpu_start, sent_bytes);
    let bare_mbps = sent_bytes as f64 / 1e6 / bare_secs;
    let (small_bare_mbps, small_bare_cpu) = if small_count > 0 {
        let cpu_start = cpu_secs();
        let secs = bare::transfer(small_count, args.small_chunk_bytes).await?;
        (
            small_bytes as f64 / 1e6 / secs,
            per_mb(cpu_secs() - cpu_start, small_bytes),
        )
    } else {
        (f64::NAN, f64::NAN)
    };

    let compared = if args.compare {
        let peers = args.peers_dir.clone().unwrap_or_else(|| {
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/interop/peers")
        });
        Some(compare::run(&args, &peers).await?)
    } else {
        None
    };

    setup.sort_by(f64::total_cmp);
    rtt.sort_by(f64::total_cmp);
    receipt_lag.sort_by(f64::total_cmp);
    let per_kib = |after: Option<u64>, before: Option<u64>| match (after, before) {
        (Some(after), Some(before)) => after.saturating_sub(before) as f64 / 2.0 / 1024.0,
        _ => f64::NAN,
    };
    let figures = Figures {
        ffi_stripped_bytes: ffi_stripped_bytes(),
        engine_idle_rss_kib: per_kib(rss_idle_engines, rss_before_engines),
        peer_rss_kib: per_kib(rss_one_pair, rss_idle_engines),
        setup_ms_p50: percentile(&setup, 50.0),
        setup_ms_p99: percentile(&setup, 99.0),
        setup_samples: setup.len(),
        rtt_ms_p50: percentile(&rtt, 50.0),
        rtt_ms_p99: percentile(&rtt, 99.0),
        rtt_samples: rtt.len(),
        receipt_lag_ms_p50: percentile(&receipt_lag, 50.0),
        receipt_lag_ms_p99: percentile(&receipt_lag, 99.0),
        receipt_lag_samples: receipt_lag.len(),
        transfer_bytes: sent_bytes,
        chunk_bytes: args.chunk_bytes,
        engine_mb_per_s: engine_mbps,
        bare_webrtc_mb_per_s: bare_mbps,
        engine_to_bare_ratio: engine_mbps / bare_mbps,
        engine_received_mb_per_s: engine_received_mbps,
        engine_cpu_ms_per_mb: engine_cpu,
        bare_webrtc_cpu_ms_per_mb: bare_cpu,
        small_transfer_bytes: small_bytes,
        small_chunk_bytes: args.small_chunk_bytes,
        small_engine_mb_per_s: small_engine_mbps,
        small_engine_received_mb_per_s: small_engine_received_mbps,
        small_engine_cpu_ms_per_mb: small_engine_cpu,
        small_bare_webrtc_cpu_ms_per_mb: small_bare_cpu,
        small_bare_webrtc_mb_per_s: small_bare_mbps,
        compare: compared,
    };
    if args.json {
        println!(
            "{}",
            serde_json::to_string(&figures).map_err(|e| e.to_string())?
        );
    } else {
        match figures.ffi_stripped_bytes {
            Some(bytes) => println!(
                "footprint: libpeerchat_ffi.so stripped {bytes} bytes ({:.2} MiB); engine idle RSS {:.0} KiB; per connected peer {:.0} KiB",
                bytes as f64 / 1_048_576.0,
                figures.engine_idle_rss_kib,
                figures.peer_rss_kib
            ),
            None => println!(
                "footprint: libpeerchat_ffi.so not built next to this binary (cargo build --release -p peerchat-ffi); engine idle RSS {:.0} KiB; per connected peer {:.0} KiB",
                figures.engine_idle_rss_kib, figures.peer_rss_kib
            ),
        }
        println!(
            "setup (join → data channel open): p50 {:.1} ms, p99 {:.1} ms over {} connections",
            figures.setup_ms_p50, figures.setup_ms_p99, figures.setup_samples
        );
        println!(
            "round trip (message → ack), every {} ms: p50 {:.2} ms, p99 {:.2} ms over {} messages",
            args.rtt_interval_ms, figures.rtt_ms_p50, figures.rtt_ms_p99, figures.rtt_samples
        );
        if figures.receipt_lag_samples > 0 {
            println!(
                "receipt lag (shown → ✓) under two-way bulk of {} MB each way in {}-byte messages: p50 {:.1} ms, p99 {:.1} ms over {} messages",
                args.receipt_bulk_mb,
                args.chunk_bytes,
                figures.receipt_lag_ms_p50,
                figures.receipt_lag_ms_p99,
                figures.receipt_lag_samples
            );
        }
        println!(
            "throughput, {} bytes in {}-byte messages: engine {:.1} MB/s (all delivered; all shown: {:.1}), bare webrtc {:.1} MB/s, ratio {:.2}",
            figures.transfer_bytes,
            figures.chunk_bytes,
            figures.engine_mb_per_s,
            figures.engine_received_mb_per_s,
            figures.bare_webrtc_mb_per_s,
            figures.engine_to_bare_ratio
        );
        println!(
            "  CPU per MB: engine {:.1} ms, bare webrtc {:.1} ms",
            figures.engine_cpu_ms_per_mb, figures.bare_webrtc_cpu_ms_per_mb
        );
        if small_count > 0 {
            println!(
                "throughput, {} bytes in {}-byte messages: engine {:.1} MB/s (all delivered; all shown: {:.1}), bare webrtc {:.1} MB/s, ratio {:.2}",
                figures.small_transfer_bytes,
                figures.small_chunk_bytes,
                figures.small_engine_mb_per_s,
                figures.small_engine_received_mb_per_s,
                figures.small_bare_webrtc_mb_per_s,
                figures.small_engine_mb_per_s / figures.small_bare_webrtc_mb_per_s
            );
            println!(
                "  CPU per MB: engine {:.1} ms, bare webrtc {:.1} ms",
                figures.small_engine_cpu_ms_per_mb, figures.small_bare_webrtc_cpu_ms_per_mb
            );
        }
        if let Some(stacks) = &figures.compare {
            let ours = compare::Ours {
                setup_ms_p50: figures.setup_ms_p50,
                setup_ms_p99: figures.setup_ms_p99,
                rtt_ms_p50: figures.rtt_ms_p50,
                rtt_ms_p99: figures.rtt_ms_p99,
                mb_per_s: figures.engine_mb_per_s,
                small_mb_per_s: figures.small_engine_mb_per_s,
            };
            println!();
            compare::print_table(&args, &ours, stacks);
        }
    }
    Ok(())
}
