//! The user-space router: one reader thread per host TUN device and one scheduler thread for
//! delayed packets. A packet from host A to host B goes: A's TUN → A's uplink (loss, delay) →
//! route lookup by destination address → B's downlink (loss, delay) → B's TUN.

use std::cmp::Ordering as CmpOrdering;
use std::collections::{BinaryHeap, HashMap};
use std::io::{self, Read, Write};
use std::net::Ipv4Addr;
use std::os::fd::{AsFd, OwnedFd};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::Instant;

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};

use crate::error::{Error, Result};
use crate::link::{LinkDir, Verdict};
use crate::packet::{self, Meta};
use crate::tun::Tun;

/// Largest packet read from a TUN device (the IPv4 maximum; the devices' MTU is 1500).
const MAX_PACKET: usize = 65_535;

/// Index of the uplink (host → router) in [`HostState::links`].
pub(crate) const UP: usize = 0;
/// Index of the downlink (router → host) in [`HostState::links`].
pub(crate) const DOWN: usize = 1;

/// Router state shared by the threads and the host handles.
pub(crate) struct Shared {
    state: Mutex<State>,
    queue: Mutex<BinaryHeap<Scheduled>>,
    wake: Condvar,
    stop: AtomicBool,
    next_seq: AtomicU64,
    pub(crate) counters: NetCounters,
}

/// Routing table and links.
pub(crate) struct State {
    pub hosts: Vec<HostState>,
    by_addr: HashMap<Ipv4Addr, usize>,
    next_addr: u32,
}

/// One host as the router sees it.
pub(crate) struct HostState {
    pub addr: Ipv4Addr,
    /// `[uplink, downlink]`, indexed by [`UP`] and [`DOWN`].
    pub links: [LinkDir; 2],
}

/// Network-wide counters (not tied to a link).
#[derive(Default)]
pub(crate) struct NetCounters {
    pub unroutable: AtomicU64,
    pub not_ipv4: AtomicU64,
    pub write_errors: AtomicU64,
}

/// A delayed packet waiting in the scheduler.
struct Scheduled {
    at: Instant,
    seq: u64,
    stage: Stage,
    meta: Meta,
    packet: Vec<u8>,
}

#[derive(Clone, Copy)]
enum Stage {
    /// Leaving the uplink of host `from`; next: route lookup and the receiver's downlink.
    LeaveUplink { from: usize },
    /// Leaving the downlink of host `to`; next: its TUN device.
    LeaveDownlink { to: usize },
}

impl PartialEq for Scheduled {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == CmpOrdering::Equal
    }
}
impl Eq for Scheduled {}
impl PartialOrd for Scheduled {
    fn partial_cmp(&self, other: &Self) -> Option<CmpOrdering> {
        Some(self.cmp(other))
    }
}
impl Ord for Scheduled {
    /// Reversed, so `BinaryHeap` pops the earliest (then the first scheduled) first.
    fn cmp(&self, other: &Self) -> CmpOrdering {
        (other.at, other.seq).cmp(&(self.at, self.seq))
    }
}

/// Lock that survives a panicking holder (the state stays consistent: every update is a single
/// field write or counter increment).
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// First address of the pool (10.77.0.0/16); numbers whose last octet is 0 or 255 are skipped.
fn pool_addr(n: u32) -> Ipv4Addr {
    Ipv4Addr::new(10, 77, (n >> 8) as u8, (n & 0xff) as u8)
}

impl State {
    pub(crate) fn new() -> Self {
        Self {
            hosts: Vec::new(),
            by_addr: HashMap::new(),
            next_addr: 1,
        }
    }

    /// Hands out the next unused address of 10.77.0.0/16.
    pub(crate) fn allocate_addr(&mut self) -> Result<Ipv4Addr> {
        loop {
            let n = self.next_addr;
            if n > 0xfffe {
                return Err(Error::AddressesExhausted);
            }
            self.next_addr += 1;
            if n & 0xff != 0 && n & 0xff != 0xff {
                return Ok(pool_addr(n));
            }
        }
    }

    pub(crate) fn add_host(&mut self, addr: Ipv4Addr, links: [LinkDir; 2]) -> usize {
        let index = self.hosts.len();
        self.hosts.push(HostState { addr, links });
        self.by_addr.insert(addr, index);
        index
    }

    /// Points `new` at host `index` and forgets its old address: packets to or from the old one
    /// are dropped from now on.
    pub(crate) fn readdress(&mut self, index: usize, new: Ipv4Addr) -> Ipv4Addr {
        let old = std::mem::replace(&mut self.hosts[index].addr, new);
        self.by_addr.remove(&old);
        self.by_addr.insert(new, index);
        old
    }
}

impl Shared {
    pub(crate) fn new(state: State) -> Self {
        Self {
            state: Mutex::new(state),
            queue: Mutex::new(BinaryHeap::new()),
            wake: Condvar::new(),
            stop: AtomicBool::new(false),
            next_seq: AtomicU64::new(0),
            counters: NetCounters::default(),
        }
    }

    pub(crate) fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    pub(crate) fn is_stopped(&self) -> bool {
        self.stop.load(Ordering::Acquire)
    }

    /// A packet read from host `from`'s TUN device.
    fn ingress(&self, from: usize, packet: Vec<u8>, tuns: &[Tun]) {
        let now = Instant::now();
        let Some(meta) = packet::parse(&packet) else {
            self.counters.not_ipv4.fetch_add(1, Ordering::Relaxed);
            return;
        };
        let verdict = {
            let mut state = self.state();
            let host = &mut state.hosts[from];
            if meta.src != host.addr {
                // A source the host no longer has (an address change raced the send), as an
                // access network's ingress filter (BCP 38) would drop it.
                drop(state);
                self.counters.unroutable.fetch_add(1, Ordering::Relaxed);
                return;
            }
            host.links[UP].admit(now, &meta)
        };
        match verdict {
            Verdict::Drop => {}
            Verdict::Release(at) if at <= now => self.leave_uplink(from, at, meta, packet, tuns),
            Verdict::Release(at) => self.schedule(at, Stage::LeaveUplink { from }, meta, packet),
        }
    }

    /// The packet leaves `from`'s uplink at `now`: route it and pass it to the receiver's
    /// downlink.
    fn leave_uplink(&self, from: usize, now: Instant, meta: Meta, packet: Vec<u8>, tuns: &[Tun]) {
        let (to, verdict) = {
            let mut state = self.state();
            let uplink = &mut state.hosts[from].links[UP];
            if !uplink.up {
                uplink.stats.dropped_down += 1;
                return;
            }
            uplink.count_forwarded(packet.len());
            let Some(&to) = state.by_addr.get(&meta.dst) else {
                drop(state);
                self.counters.unroutable.fetch_add(1, Ordering::Relaxed);
                return;
            };
            (to, state.hosts[to].links[DOWN].admit(now, &meta))
        };
        match verdict {
            Verdict::Drop => {}
            Verdict::Release(at) if at <= Instant::now() => self.deliver(to, meta, packet, tuns),
            Verdict::Release(at) => self.schedule(at, Stage::LeaveDownlink { to }, meta, packet),
        }
    }

    /// The packet leaves `to`'s downlink: write it to `to`'s TUN device.
    fn deliver(&self, to: usize, meta: Meta, packet: Vec<u8>, tuns: &[Tun]) {
        {
            let mut state = self.state();
            let host = &mut state.hosts[to];
            if host.addr != meta.dst {
                // The host changed address while the packet was on its downlink.
                drop(state);
                self.counters.unroutable.fetch_add(1, Ordering::Relaxed);
                return;
            }
            let downlink = &mut host.links[DOWN];
            if !downlink.up {
                downlink.stats.dropped_down += 1;
                return;
            }
            downlink.count_forwarded(packet.len());
        }
        if (&*tuns[to]).write_all(&packet).is_err() {
            self.counters.write_errors.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn schedule(&self, at: Instant, stage: Stage, meta: Meta, packet: Vec<u8>) {
        let seq = self.next_seq.fetch_add(1, Ordering::Relaxed);
        let mut queue = lock(&self.queue);
        let earliest = queue.peek().is_none_or(|head| at < head.at);
        queue.push(Scheduled {
            at,
            seq,
            stage,
            meta,
            packet,
        });
        if earliest {
            self.wake.notify_one();
        }
    }

    /// Scheduler thread: releases delayed packets at their time.
    fn run_scheduler(&self, tuns: &[Tun]) {
        let mut due = Vec::new();
        loop {
            {
                let mut queue = lock(&self.queue);
                loop {
                    if self.is_stopped() {
                        return;
                    }
                    let now = Instant::now();
                    while queue.peek().is_some_and(|head| head.at <= now) {
                        due.extend(queue.pop());
                    }
                    if !due.is_empty() {
                        break;
                    }
                    queue = match queue.peek() {
                        Some(head) => {
                            let wait = head.at - now;
                            self.wake
                                .wait_timeout(queue, wait)
                                .unwrap_or_else(PoisonError::into_inner)
                                .0
                        }
                        None => self
                            .wake
                            .wait(queue)
                            .unwrap_or_else(PoisonError::into_inner),
                    };
                }
            }
            for item in due.drain(..) {
                match item.stage {
                    Stage::LeaveUplink { from } => {
                        self.leave_uplink(from, item.at, item.meta, item.packet, tuns)
                    }
                    Stage::LeaveDownlink { to } => self.deliver(to, item.meta, item.packet, tuns),
                }
            }
        }
    }

    /// Reader thread of host `index`: forwards every packet its TUN device yields until `stop`
    /// becomes readable (its write end is closed).
    fn run_reader(&self, index: usize, tuns: &[Tun], stop: &OwnedFd) {
        let tun = &tuns[index];
        let mut buf = vec![0u8; MAX_PACKET];
        loop {
            let mut fds = [
                PollFd::new(tun.as_fd(), PollFlags::POLLIN),
                PollFd::new(stop.as_fd(), PollFlags::POLLIN),
            ];
            match poll(&mut fds, PollTimeout::NONE) {
                Ok(_) | Err(nix::errno::Errno::EINTR) => {}
                Err(_) => return,
            }
            if self.is_stopped() || fds[1].any().unwrap_or(true) {
                return;
            }
            loop {
                match (&**tun).read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => self.ingress(index, buf[..n].to_vec(), tuns),
                    Err(err) if err.kind() == io::ErrorKind::WouldBlock => break,
                    Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                    Err(_) => return,
                }
            }
        }
    }
}

/// Nice value of the router's threads: on a loaded machine a delayed packet should leave at its
/// time, not when the CPU scheduler gets round to the router (measured here with a load average of
/// 11 on 2 cores: round trips of a 100 ms path up to 260 ms at nice 0).
const ROUTER_NICE: libc::c_int = -10;

/// Gives the calling thread [`ROUTER_NICE`] (best effort; needs `CAP_SYS_NICE`, which root has).
fn raise_priority() {
    // SAFETY: plain syscalls on the calling thread's own id.
    unsafe {
        let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
        libc::setpriority(libc::PRIO_PROCESS, tid, ROUTER_NICE);
    }
}

/// The router's threads; stopping joins them.
pub(crate) struct Router {
    shared: Arc<Shared>,
    stop_tx: Option<OwnedFd>,
    threads: Vec<JoinHandle<()>>,
}

impl Router {
    /// Starts one reader per TUN device (index = host index) and the scheduler.
    pub(crate) fn start(shared: Arc<Shared>, tuns: Vec<Tun>) -> Result<Self> {
        let (stop_rx, stop_tx) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)
            .map_err(|errno| Error::io("create the router's stop pipe", errno))?;
        let stop_rx = Arc::new(stop_rx);
        let tuns: Arc<[Tun]> = tuns.into();
        let mut router = Self {
            shared: Arc::clone(&shared),
            stop_tx: Some(stop_tx),
            threads: Vec::new(),
        };
        for index in 0..tuns.len() {
            let (shared, tuns, stop_rx) =
                (Arc::clone(&shared), Arc::clone(&tuns), Arc::clone(&stop_rx));
            let thread = std::thread::Builder::new()
                .name(format!("netsim-read-{index}"))
                .spawn(move || {
                    raise_priority();
                    shared.run_reader(index, &tuns, &stop_rx)
                })
                .map_err(|err| Error::io("spawn a router thread", err))?;
            router.threads.push(thread);
        }
        let thread = std::thread::Builder::new()
            .name("netsim-sched".into())
            .spawn(move || {
                raise_priority();
                shared.run_scheduler(&tuns)
            })
            .map_err(|err| Error::io("spawn the router's scheduler", err))?;
        router.threads.push(thread);
        Ok(router)
    }
}

impl Drop for Router {
    fn drop(&mut self) {
        {
            let _queue = lock(&self.shared.queue);
            self.shared.stop.store(true, Ordering::Release);
            self.shared.wake.notify_all();
        }
        // Closing the write end makes the read end readable (POLLHUP) for every reader.
        self.stop_tx.take();
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}
