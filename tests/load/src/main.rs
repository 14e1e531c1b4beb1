//! `peerchat-load`: the signaling server's load benchmark (issue 11).
//!
//! Starts its own `peerchat serve` processes (and a `redis-server` for the two-instance run)
//! on 127.0.0.1 and prints:
//! - **idle**: server resident memory per idle WebSocket (protocol v2, with a session) at
//!   `--idle` connections, opened by `--workers` child processes of this binary, each from its
//!   own source address 127.0.0.2, .3, … (a process here may open at most 20,000 files and one
//!   source address has ~28,000 ephemeral ports);
//! - **relay** delivered/s and p50/p99 delivery latency (ms) at 100 and 1,000 pairs × 5 msg/s
//!   (offers with the send time in the SDP, creator → joiner);
//! - **churn**: connect/create/join/leave/close cycles per second, memory before and after;
//! - **relay on Redis**: the same relay figures with the two members of every pair on two
//!   instances sharing one Redis (`--redis-url`), when `redis-server` is on `PATH`.
//!
//! Run: `cargo build --release -p peerchat-cli -p peerchat-load && target/release/peerchat-load`.

mod churn;
mod client;
mod idle;
mod relay;
mod server;

use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

const KIB: f64 = 1024.0;
const MIB: f64 = 1024.0 * 1024.0;

#[derive(Parser)]
#[command(about = "Load benchmark of the peerchat signaling server")]
struct Cli {
    #[command(subcommand)]
    command: Option<Cmd>,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(clap::Args)]
struct RunArgs {
    /// The `peerchat` binary (default: next to this one).
    #[arg(long)]
    peerchat: Option<PathBuf>,
    /// Idle connections to hold (0 skips the idle phase).
    #[arg(long, default_value_t = 15_000)]
    idle: usize,
    /// Worker processes opening the idle connections (one source address each).
    #[arg(long, default_value_t = 3)]
    workers: usize,
    /// Seconds of each relay run (0 skips the relay runs).
    #[arg(long, default_value_t = 10)]
    relay_secs: u64,
    /// Messages per second each pair sends.
    #[arg(long, default_value_t = 5)]
    rate: u32,
    /// Seconds of churn (0 skips it).
    #[arg(long, default_value_t = 10)]
    churn_secs: u64,
    /// Concurrent churn loops.
    #[arg(long, default_value_t = 32)]
    churn_loops: usize,
    /// Skip the two-instance Redis run.
    #[arg(long)]
    no_redis: bool,
}

#[derive(Subcommand)]
enum Cmd {
    /// (internal) Hold idle connections for the idle phase.
    #[command(hide = true)]
    WorkerIdle {
        #[arg(long)]
        url: String,
        #[arg(long)]
        source: IpAddr,
        #[arg(long)]
        count: usize,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let rt = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("no runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = rt.block_on(async move {
        match cli.command {
            Some(Cmd::WorkerIdle { url, source, count }) => idle::worker(url, source, count).await,
            None => bench(cli.run).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("peerchat-load: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn bench(args: RunArgs) -> Result<(), String> {
    let me = std::env::current_exe().map_err(|e| e.to_string())?;
    let bin = match args.peerchat {
        Some(p) => p,
        None => me.with_file_name("peerchat"),
    };
    println!("peerchat-load: server {}", bin.display());
    if args.idle > 0 {
        let s = server::Server::start(&bin, &[])?;
        let r = idle::run(&me, &s, args.idle, args.workers).await?;
        let per = (r.rss_idle.saturating_sub(r.rss_before)) as f64 / r.connections as f64;
        println!(
            "idle: {} connections from {} processes (127.0.0.2..{}), opened in {:.1} s: server RSS {:.1} MiB before, {:.1} MiB idle, {:.1} MiB after all closed => {:.2} KiB per idle connection",
            r.connections,
            r.workers,
            1 + r.workers,
            r.connect_secs,
            r.rss_before as f64 / MIB,
            r.rss_idle as f64 / MIB,
            r.rss_after_close as f64 / MIB,
            per / KIB,
        );
    }
    if args.relay_secs > 0 {
        let s = server::Server::start(&bin, &[])?;
        for pairs in [100, 1000] {
            let r = relay::run(&s.url, &s.url, pairs, args.rate, args.relay_secs).await?;
            print_relay("1 instance", &r);
        }
    }
    if args.churn_secs > 0 {
        let s = server::Server::start(&bin, &[])?;
        let r = churn::run(&s, args.churn_loops, args.churn_secs).await?;
        println!(
            "churn, 1 instance, {} loops, {:.1} s: {:.0} cycles/s ({} cycles, {} errors), server RSS {:.1} MiB before, {:.1} MiB after",
            r.loops,
            r.secs,
            r.cycles as f64 / r.secs,
            r.cycles,
            r.errors,
            r.rss_before as f64 / MIB,
            r.rss_after as f64 / MIB,
        );
    }
    if !args.no_redis && args.relay_secs > 0 {
        let redis = server::Redis::start()?;
        let flags = vec!["--redis-url".to_string(), redis.url.clone()];
        let a = server::Server::start(&bin, &flags)?;
        let b = server::Server::start(&bin, &flags)?;
        for pairs in [100, 1000] {
            let r = relay::run(&a.url, &b.url, pairs, args.rate, args.relay_secs).await?;
            print_relay("2 instances on Redis", &r);
        }
    }
    Ok(())
}

fn print_relay(label: &str, r: &relay::RelayReport) {
    println!(
        "relay, {label}, {} pairs x {} msg/s: offered {}/s, delivered {:.0}/s ({} of {} sent, {} errors), p50 {:.2} ms, p99 {:.2} ms",
        r.pairs,
        r.rate,
        r.pairs as u64 * u64::from(r.rate),
        r.delivered as f64 / r.secs,
        r.delivered,
        r.sent,
        r.errors,
        r.p50_ms,
        r.p99_ms,
    );
}
