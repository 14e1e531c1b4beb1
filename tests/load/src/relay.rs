//! Relay at a fixed offered load: `pairs` rooms of two, the creator sending `offer` messages
//! to the joiner at `rate` per second each; the SDP carries the send time, so the receiver
//! measures delivery latency. With two URLs the two members of each pair sit on different
//! instances (the relay crosses Redis).

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;
use tokio::sync::Semaphore;

use crate::client::{self, next_json, send};

/// What a relay run measured.
pub struct RelayReport {
    pub pairs: usize,
    pub rate: u32,
    pub secs: f64,
    pub sent: u64,
    pub delivered: u64,
    pub errors: u64,
    pub p50_ms: f64,
    pub p99_ms: f64,
}

/// Runs `pairs` pairs at `rate` msg/s each for `secs` seconds.
pub async fn run(
    url_a: &str,
    url_b: &str,
    pairs: usize,
    rate: u32,
    secs: u64,
) -> Result<RelayReport, String> {
    let gate = Arc::new(Semaphore::new(64));
    let mut setups = Vec::new();
    for _ in 0..pairs {
        let (ua, ub, gate) = (url_a.to_string(), url_b.to_string(), gate.clone());
        setups.push(tokio::spawn(async move {
            let _p = gate.acquire().await.map_err(|e| e.to_string())?;
            client::pair(&ua, &ub, IpAddr::from([127, 0, 0, 1])).await
        }));
    }
    let mut ready = Vec::new();
    for s in setups {
        ready.push(s.await.map_err(|e| e.to_string())??);
    }
    let epoch = Instant::now();
    let sent = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let period = Duration::from_secs_f64(1.0 / f64::from(rate));
    let count = u64::from(rate) * secs;
    let mut receivers = Vec::new();
    for (i, (mut a, _, mut b, b_id)) in ready.into_iter().enumerate() {
        let (sent, errors) = (sent.clone(), errors.clone());
        // Spread the pairs' send times over one period.
        let phase = period.mul_f64(i as f64 / pairs as f64);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + phase, period);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
            for _ in 0..count {
                tick.tick().await;
                let at = epoch.elapsed().as_nanos().to_string();
                let msg = json!({"type": "offer", "to": b_id, "sdp": at});
                if send(&mut a, &msg).await.is_err() {
                    errors.fetch_add(1, Ordering::Relaxed);
                    return;
                }
                sent.fetch_add(1, Ordering::Relaxed);
            }
            // Errors the server sent back (rate limits, busy target) count as failures.
            while let Ok(Ok(v)) =
                tokio::time::timeout(Duration::from_millis(500), next_json(&mut a)).await
            {
                if v["type"] == "error" {
                    errors.fetch_add(1, Ordering::Relaxed);
                }
            }
            drop(a);
        });
        receivers.push(tokio::spawn(async move {
            let mut lat = Vec::with_capacity(count as usize);
            while (lat.len() as u64) < count {
                match next_json(&mut b).await {
                    Ok(v) if v["type"] == "offer" => {
                        let at: u128 = v["sdp"].as_str().and_then(|s| s.parse().ok()).unwrap_or(0);
                        let now = epoch.elapsed().as_nanos();
                        lat.push(now.saturating_sub(at) as u64);
                    }
                    Ok(_) => {}
                    Err(_) => break,
                }
            }
            lat
        }));
    }
    let mut all = Vec::new();
    for r in receivers {
        all.extend(r.await.map_err(|e| e.to_string())?);
    }
    let elapsed = epoch.elapsed().as_secs_f64();
    all.sort_unstable();
    let pct = |p: f64| -> f64 {
        if all.is_empty() {
            return f64::NAN;
        }
        let i = ((all.len() as f64 - 1.0) * p).round() as usize;
        all[i] as f64 / 1e6
    };
    Ok(RelayReport {
        pairs,
        rate,
        secs: elapsed.max(secs as f64),
        sent: sent.load(Ordering::Relaxed),
        delivered: all.len() as u64,
        errors: errors.load(Ordering::Relaxed),
        p50_ms: pct(0.50),
        p99_ms: pct(0.99),
    })
}
