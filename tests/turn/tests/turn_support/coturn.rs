//! Debian's coturn `turnserver`, started by the test itself on `127.0.0.1` with long-term
//! credentials (RFC 8489 §9.2), UDP only, and every file (log, pid, user database) in a private
//! directory. It is killed when the fixture drops.

use std::fs;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use rtc::stun::message::{BINDING_REQUEST, BINDING_SUCCESS, Message, TransactionId};
use tokio::net::UdpSocket;

/// How long `turnserver` may take to answer its first STUN Binding request.
pub const READY_TIMEOUT: Duration = Duration::from_secs(15);
/// How long to wait for one Binding response before sending the next request.
const PROBE_TIMEOUT: Duration = Duration::from_millis(200);

/// The realm of the long-term credentials.
pub const REALM: &str = "peerchat.test";

static NEXT_DIR: AtomicUsize = AtomicUsize::new(0);

/// A running `turnserver`.
pub struct Coturn {
    child: Child,
    dir: PathBuf,
    /// The UDP address it listens on (127.0.0.1).
    pub addr: SocketAddr,
}

impl Coturn {
    /// Starts `turnserver` with one user `user:password` and waits until it answers a STUN
    /// Binding request. Panics with a clear message if the binary is missing (the suite
    /// `scripts/test.d/20-turn.sh` installs it), if it exits, or if it is not ready within
    /// [`READY_TIMEOUT`].
    pub async fn start(user: &str, password: &str) -> Coturn {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!(
            "coturn-{}-{}",
            std::process::id(),
            NEXT_DIR.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("create the coturn directory");
        let port = free_udp_port();
        let path = |name: &str| dir.join(name).display().to_string();
        let spawned = Command::new("turnserver")
            .args([
                "-n".to_string(), // no configuration file
                "--listening-ip=127.0.0.1".to_string(),
                "--relay-ip=127.0.0.1".to_string(),
                format!("--listening-port={port}"),
                "--lt-cred-mech".to_string(),
                format!("--user={user}:{password}"),
                format!("--realm={REALM}"),
                // UDP only: no TCP, TLS or DTLS listeners, no TCP relays, no telnet CLI, no
                // NAT-behaviour discovery (it would want a second address).
                "--no-tcp".to_string(),
                "--no-tls".to_string(),
                "--no-dtls".to_string(),
                "--no-tcp-relay".to_string(),
                "--no-cli".to_string(),
                "--no-rfc5780".to_string(),
                // Both peers relay to 127.0.0.1, which coturn refuses (403) without this.
                "--allow-loopback-peers".to_string(),
                "--no-multicast-peers".to_string(),
                "--verbose".to_string(),
                format!("--log-file={}", path("turn.log")),
                "--simple-log".to_string(),
                "--no-stdout-log".to_string(),
                format!("--pidfile={}", path("turn.pid")),
                format!("--db={}", path("turndb")),
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        if spawned.is_err() {
            let _ = fs::remove_dir_all(&dir);
        }
        let child = match spawned {
            Ok(child) => child,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => panic!(
                "`turnserver` not found: install Debian's coturn package \
                 (scripts/test.d/20-turn.sh does: apt-get install coturn)"
            ),
            Err(err) => panic!("cannot start turnserver: {err}"),
        };
        let mut coturn = Coturn {
            child,
            dir,
            addr: SocketAddr::from((Ipv4Addr::LOCALHOST, port)),
        };
        coturn.wait_ready().await;
        coturn
    }

    /// The `turn:` URL of this server, UDP transport.
    pub fn url(&self) -> String {
        format!("turn:{}?transport=udp", self.addr)
    }

    /// The server's log so far.
    pub fn log(&self) -> String {
        fs::read_to_string(self.dir.join("turn.log")).unwrap_or_default()
    }

    /// Sends STUN Binding requests until one is answered (bounded by [`READY_TIMEOUT`]).
    async fn wait_ready(&mut self) {
        let socket = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
        let deadline = Instant::now() + READY_TIMEOUT;
        let mut buf = [0u8; 1500];
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("turnserver exited with {status}; its log:\n{}", self.log());
            }
            let mut request = Message::new();
            request
                .build(&[Box::new(TransactionId::new()), Box::new(BINDING_REQUEST)])
                .unwrap();
            socket.send_to(&request.raw, self.addr).await.unwrap();
            // ECONNREFUSED (nothing bound yet) and timeouts both mean: ask again.
            if let Ok(Ok((n, _))) =
                tokio::time::timeout(PROBE_TIMEOUT, socket.recv_from(&mut buf)).await
            {
                let mut response = Message::new();
                if response.unmarshal_binary(&buf[..n]).is_ok()
                    && response.typ == BINDING_SUCCESS
                    && response.transaction_id == request.transaction_id
                {
                    return;
                }
            } else {
                // A refused send returns at once; wait out the probe interval before the next.
                tokio::time::sleep(PROBE_TIMEOUT).await;
            }
        }
        panic!(
            "turnserver on {} did not answer STUN within {READY_TIMEOUT:?}; its log:\n{}",
            self.addr,
            self.log()
        );
    }
}

impl Drop for Coturn {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// A UDP port on 127.0.0.1 that was free a moment ago.
fn free_udp_port() -> u16 {
    std::net::UdpSocket::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|s| s.local_addr())
        .map(|a| a.port())
        .expect("bind a UDP socket on 127.0.0.1")
}
