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
//!   server, chat protocol or acks, until the receiver has every byte.

mod bare;

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
    /// Print the figures as one JSON object instead of text.
    #[arg(long)]
    json: bool,
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
    let mut pings: HashMap<String, Option<Instant>> = HashMap::new();
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
            pings.insert(id, None);
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
                    pings.insert(m.id, Some(Instant::now()));
                }
                Some(EngineEvent::Message(_)) => b_received += 1,
                Some(_) => {}
                None => return Err("engine B stopped".into()),
            },
            event = a.events.recv() => match event {
                Some(EngineEvent::MessageStatus { message_id, status: MessageStatus::Delivered, .. }) => {
                    if pings.contains_key(&message_id) {
                        // B's `Message` event may still be queued behind this one: take B's
                        // queued events first (their time is then "now", lag ≈ 0).
                        while let Ok(event) = b.events.try_recv() {
                            match event {
                                EngineEvent::Message(m) if pings.contains_key(&m.id) => {
                                    pings.insert(m.id, Some(Instant::now()));
                                }
                                EngineEvent::Message(_) => b_received += 1,
                                _ => {}
                            }
                        }
                        let shown = pings[&message_id]
                            .ok_or("a receipt arrived for a message never shown")?;
                        lags.push(ms(shown.elapsed()));
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
    let chunk = "x".repeat(args.chunk_bytes);
    let total_bytes = args.transfer_mb * 1_000_000;
    let count = total_bytes.div_ceil(args.chunk_bytes);
    let start = Instant::now();
    let mut last_id = String::new();
    for _ in 0..count {
        last_id = a
            .engine
            .send_message_queued(&chunk)
            .await
            .map_err(|e| e.to_string())?;
    }
    let mut delivered_count = 0usize;
    wait::until(
        &mut a.events,
        Duration::from_secs(300),
        "every delivery receipt",
        |e| {
            if matches!(
                e,
                EngineEvent::MessageStatus {
                    status: MessageStatus::Delivered,
                    ..
                }
            ) {
                delivered_count += 1;
            }
            (delivered_count == count).then_some(())
        },
    )
    .await?;
    let engine_secs = start.elapsed().as_secs_f64();
    let sent_bytes = count * args.chunk_bytes;
    let engine_mbps = sent_bytes as f64 / 1e6 / engine_secs;
    let _ = last_id;
    // Drain what B received so its queue does not hold 50 MB while the bare pair runs.
    while b.events.try_recv().is_ok() {}

    a.engine.shutdown();
    b.engine.shutdown();
    server.shutdown().await.map_err(|e| e.to_string())?;

    let bare_secs = bare::transfer(count, args.chunk_bytes).await?;
    let bare_mbps = sent_bytes as f64 / 1e6 / bare_secs;

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
            "throughput, {} bytes in {}-byte messages: engine {:.1} MB/s (all delivered), bare webrtc {:.1} MB/s, ratio {:.2}",
            figures.transfer_bytes,
            figures.chunk_bytes,
            figures.engine_mb_per_s,
            figures.bare_webrtc_mb_per_s,
            figures.engine_to_bare_ratio
        );
    }
    Ok(())
}
