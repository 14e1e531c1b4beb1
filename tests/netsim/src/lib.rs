//! A packet-impairment harness for tests: a private IPv4 network of named hosts, each in its own
//! network namespace, joined by a user-space router that can lose, delay, jitter and reorder
//! packets, take links down and move hosts to new addresses.
//!
//! ```text
//!  host "a" (netns)            test process                 host "b" (netns)
//!  sockets → tun0 ══fd══► reader ─ a's uplink ─ route ─ b's downlink ─► fd ══► tun0 → sockets
//!  10.77.0.1/32                 (loss, delay ± jitter, down)                    10.77.0.2/32
//! ```
//!
//! Each host gets a TUN device (`tun0`) with one address of 10.77.0.0/16, loopback, and a
//! default route through `tun0`: the only way out of a host is the router, which only writes
//! to the other hosts' TUN devices. Nothing reaches the machine's own interfaces. The router runs
//! as threads of the test process (one reader per host, one scheduler for delayed packets).
//! This kernel has no `netem` qdisc; this replaces it.
//!
//! Needs root (namespaces, TUN); [`NetBuilder::build`] returns [`Error::NotRoot`] otherwise.
//! IPv4 only. Namespaces are named `pcn-<pid>-<n>-<host>`, removed on drop (also when a test
//! panics), and those of test processes that died without dropping are removed by the next
//! [`NetBuilder::build`].
//!
//! ```no_run
//! use peerchat_netsim::{Impairment, Net};
//! use std::net::UdpSocket;
//!
//! let net = Net::builder().host("a").host("b").build()?;
//! let (a, b) = (net.host("a"), net.host("b"));
//! // 5 % loss and 50 ms ± 10 ms on both of a's directions; b's link stays clean.
//! a.link().set(Impairment::none().loss(0.05).delay_ms(50).jitter_ms(10))?;
//! let b_addr = b.addr();
//! let server = b.run(|| {
//!     let socket = UdpSocket::bind("0.0.0.0:9000").unwrap();
//!     let mut buf = [0; 64];
//!     let (n, from) = socket.recv_from(&mut buf).unwrap();
//!     socket.send_to(&buf[..n], from).unwrap();
//! })?;
//! a.call(|| {
//!     let socket = UdpSocket::bind("0.0.0.0:0").unwrap();
//!     socket.send_to(b"ping", (b_addr, 9000)).unwrap();
//! })?;
//! a.link().down(); // everything a sends or receives is dropped
//! a.link().up();
//! let new_addr = a.change_address()?; // the old address stops working
//! # let _ = (server, new_addr);
//! # Ok::<(), peerchat_netsim::Error>(())
//! ```

mod error;
mod host;
mod ip;
mod link;
mod netns;
mod packet;
mod router;
mod tun;

use std::sync::Arc;
use std::sync::atomic::Ordering;

pub use error::{Error, Result};
pub use host::{Host, Link};
pub use link::{Impairment, LinkStats};
pub use tun::TUN_NAME;

use link::{LinkDir, splitmix64};
use netns::Namespace;
use router::{DOWN, Router, Shared, State, UP};

/// Longest host name, in bytes (it becomes part of the namespace name).
pub const MAX_HOST_NAME: usize = 32;

/// Environment variable that sets the seed of every [`Net`] built without
/// [`NetBuilder::seed`], to replay a run: its value is what [`Net::seed`] printed.
pub const SEED_ENV: &str = "PEERCHAT_NETSIM_SEED";

/// Builds a [`Net`]: name the hosts, optionally fix the seed, then [`build`](Self::build).
#[derive(Debug, Default)]
pub struct NetBuilder {
    hosts: Vec<String>,
    seed: Option<u64>,
}

impl NetBuilder {
    /// Adds a host named `name` (1 to [`MAX_HOST_NAME`] ASCII letters, digits, `-`, `_`;
    /// checked by [`build`](Self::build)). Hosts get addresses in the order they are added.
    pub fn host(mut self, name: &str) -> Self {
        self.hosts.push(name.to_owned());
        self
    }

    /// Seeds the random draws (loss, jitter) of every link. Each direction of each host draws
    /// from its own stream derived from this seed and the host's position, so the n-th packet on
    /// a link meets the same fate in every run with the same seed and settings, whatever the
    /// other links carry. Without it the seed is `$PEERCHAT_NETSIM_SEED` or random.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Creates the namespaces and TUN devices and starts the router.
    ///
    /// # Errors
    /// [`Error::NotRoot`]; [`Error::NoHosts`], [`Error::InvalidHostName`],
    /// [`Error::DuplicateHost`] for bad names; [`Error::NoTunDevice`]; [`Error::MissingTool`]
    /// when iproute2 is missing; [`Error::Command`] / [`Error::Io`] when a step fails (what was
    /// created is removed again).
    pub fn build(self) -> Result<Net> {
        if !nix::unistd::geteuid().is_root() {
            return Err(Error::NotRoot);
        }
        if self.hosts.is_empty() {
            return Err(Error::NoHosts);
        }
        for (i, name) in self.hosts.iter().enumerate() {
            let valid = !name.is_empty()
                && name.len() <= MAX_HOST_NAME
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
            if !valid {
                return Err(Error::InvalidHostName(name.clone()));
            }
            if self.hosts[..i].contains(name) {
                return Err(Error::DuplicateHost(name.clone()));
            }
        }
        if !std::path::Path::new("/dev/net/tun").exists() {
            return Err(Error::NoTunDevice);
        }
        netns::remove_stale();

        let seed = self.seed.unwrap_or_else(|| {
            std::env::var(SEED_ENV)
                .ok()
                .and_then(|value| value.trim().parse().ok())
                .unwrap_or_else(rand::random)
        });
        let net_id = netns::next_net_id();
        let mut state = State::new();
        let mut namespaces = Vec::new();
        let mut tuns = Vec::new();
        for (index, name) in self.hosts.iter().enumerate() {
            let ns_name = format!("{}{}-{net_id}-{name}", netns::PREFIX, std::process::id());
            let ns = Namespace::create(&ns_name)?;
            namespaces.push(ns);
            let addr = state.allocate_addr()?;
            tuns.push(Arc::new(tun::create(
                namespaces.last().expect("pushed"),
                addr,
            )?));
            let link_seed = |dir: usize| splitmix64(seed ^ splitmix64((index * 2 + dir) as u64));
            state.add_host(
                addr,
                [LinkDir::new(link_seed(UP)), LinkDir::new(link_seed(DOWN))],
            );
        }
        let shared = Arc::new(Shared::new(state));
        let hosts = self
            .hosts
            .iter()
            .zip(&namespaces)
            .enumerate()
            .map(|(index, (name, ns))| {
                Host::new(
                    name.clone(),
                    ns.name().to_owned(),
                    index,
                    ns.fd(),
                    Arc::clone(&shared),
                )
            })
            .collect();
        let router = Router::start(Arc::clone(&shared), tuns)?;
        Ok(Net {
            hosts,
            shared,
            seed,
            router: Some(router),
            namespaces,
        })
    }
}

/// A private network of hosts joined by the impairing router. Dropping it stops the router,
/// closes the TUN devices, SIGKILLs every process still inside the host namespaces and removes
/// the namespaces. Threads of the test process still inside a namespace keep it alive, without
/// any device, until they end.
pub struct Net {
    hosts: Vec<Host>,
    shared: Arc<Shared>,
    seed: u64,
    router: Option<Router>,
    namespaces: Vec<Namespace>,
}

/// Counters of a [`Net`] not tied to one link.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NetStats {
    /// Packets dropped because no host has their destination address, or their source is not
    /// the sender's current address (both happen around [`Host::change_address`]).
    pub unroutable: u64,
    /// Packets that were not IPv4 (dropped).
    pub not_ipv4: u64,
    /// Packets the router could not write to a TUN device.
    pub write_errors: u64,
}

impl Net {
    /// Starts describing a network.
    pub fn builder() -> NetBuilder {
        NetBuilder::default()
    }

    /// The host named `name`.
    ///
    /// # Panics
    /// When there is no such host (a mistake in the test itself); [`get`](Self::get) returns an
    /// `Option` instead.
    pub fn host(&self, name: &str) -> &Host {
        self.get(name).unwrap_or_else(|| {
            let names: Vec<&str> = self.hosts.iter().map(Host::name).collect();
            panic!("no host named {name:?} in this network (hosts: {names:?})")
        })
    }

    /// The host named `name`, if any.
    pub fn get(&self, name: &str) -> Option<&Host> {
        self.hosts.iter().find(|host| host.name() == name)
    }

    /// Every host, in the order they were added.
    pub fn hosts(&self) -> &[Host] {
        &self.hosts
    }

    /// The seed of the links' random draws; print it in a failing test and replay the run with
    /// [`NetBuilder::seed`] or `$PEERCHAT_NETSIM_SEED`.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Network-wide counters since [`build`](NetBuilder::build).
    pub fn stats(&self) -> NetStats {
        let counters = &self.shared.counters;
        NetStats {
            unroutable: counters.unroutable.load(Ordering::Relaxed),
            not_ipv4: counters.not_ipv4.load(Ordering::Relaxed),
            write_errors: counters.write_errors.load(Ordering::Relaxed),
        }
    }

    /// The namespace names, e.g. to check they are gone after drop.
    pub fn netns_names(&self) -> Vec<String> {
        self.namespaces
            .iter()
            .map(|ns| ns.name().to_owned())
            .collect()
    }
}

impl Drop for Net {
    fn drop(&mut self) {
        // Stop and join the router first: its threads hold the TUN devices' files, and a TUN
        // device disappears with its last file.
        self.router.take();
        // Then each namespace removes itself (killing what still runs inside).
        self.namespaces.clear();
    }
}
