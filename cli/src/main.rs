//! `peerchat`: the terminal chat client, the signaling server, a one-command demo and a
//! benchmark.

mod bench;
mod chat;
mod demo;
mod escape;
mod history;
mod serve;
mod wait;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// mimalloc instead of glibc malloc: far less memory per idle WebSocket in `peerchat serve`
/// (`docs/benchmark.md`, "Signaling server load").
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Log filter unless `PEERCHAT_LOG` sets one (tracing-subscriber's `EnvFilter` syntax). The
/// WebRTC stack's warnings about normal ICE/DTLS start-up are hidden.
const DEFAULT_LOG_FILTER: &str = "warn,rtc=error,rtc_ice=error,rtc_dtls=error,webrtc=error";

/// Default signaling URL of the client commands.
const DEFAULT_SERVER_URL: &str = "ws://127.0.0.1:7777/ws";

#[derive(Parser)]
#[command(
    name = "peerchat",
    version,
    about = "Peer-to-peer chat over WebRTC data channels"
)]
struct Cli {
    /// Log line format on stderr: `text`, or `json` (one JSON object per line, for log
    /// collectors). The filter comes from PEERCHAT_LOG.
    #[arg(
        long,
        global = true,
        env = "PEERCHAT_LOG_FORMAT",
        value_name = "text|json",
        default_value = "text"
    )]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Run the signaling server (WebSocket at /ws, GET /health).
    Serve(serve::ServeArgs),
    /// Create a room, print its code, and chat with whoever joins.
    Create {
        /// Display name shown to the other peer.
        #[arg(long, env = "PEERCHAT_NAME")]
        name: String,
        #[command(flatten)]
        net: chat::NetArgs,
    },
    /// Join a room by its code and chat.
    Join {
        /// The room code, e.g. ABC-DEF-GHJ (case and dashes do not matter).
        code: String,
        /// Display name shown to the other peer.
        #[arg(long, env = "PEERCHAT_NAME")]
        name: String,
        #[command(flatten)]
        net: chat::NetArgs,
    },
    /// Start a server and two peers on loopback and show a short conversation.
    Demo,
    /// Measure connection setup, message round trip and throughput on loopback.
    Bench(bench::BenchArgs),
    /// Print the chats saved on this device (`--data-dir`), oldest message first.
    History(history::HistoryArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let logs = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("PEERCHAT_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(DEFAULT_LOG_FILTER)),
        )
        .with_writer(std::io::stderr);
    match cli.log_format {
        LogFormat::Text => logs.init(),
        LogFormat::Json => logs.json().init(),
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        match cli.command {
            Command::Serve(args) => serve::run(args).await,
            Command::Create { name, net } => chat::run(chat::Role::Create, name, net).await,
            Command::Join { code, name, net } => chat::run(chat::Role::Join(code), name, net).await,
            Command::Demo => demo::run().await,
            Command::Bench(args) => bench::run(args).await,
            Command::History(args) => history::run(args),
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}
