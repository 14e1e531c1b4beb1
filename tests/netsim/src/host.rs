//! [`Host`]: one named machine of a [`Net`](crate::Net) — its address, its link to the router,
//! and ways to run code inside its network namespace.

use std::ffi::OsStr;
use std::net::Ipv4Addr;
use std::os::fd::OwnedFd;
use std::os::unix::process::CommandExt;
use std::process::Command;
use std::sync::{Arc, mpsc};
use std::thread::JoinHandle;

use nix::sched::{CloneFlags, setns};

use crate::error::{Error, Result};
use crate::link::{Impairment, LinkStats};
use crate::netns::enter;
use crate::router::{DOWN, Shared, UP};
use crate::tun;

/// A host of a [`Net`](crate::Net): a network namespace with a TUN device ([`TUN_NAME`]
/// (crate::TUN_NAME)) holding one IPv4 address of 10.77.0.0/16 and a default route to the
/// router. Cheap to clone; every clone controls the same host. After the `Net` is dropped the
/// methods that change the host return [`Error::Closed`].
#[derive(Clone)]
pub struct Host {
    inner: Arc<Inner>,
}

struct Inner {
    name: String,
    netns: String,
    index: usize,
    ns_fd: Arc<OwnedFd>,
    shared: Arc<Shared>,
}

/// Which directions a [`Link`] handle controls.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Dirs {
    Up,
    Down,
    Both,
}

impl Dirs {
    fn indices(self) -> &'static [usize] {
        match self {
            Dirs::Up => &[UP],
            Dirs::Down => &[DOWN],
            Dirs::Both => &[UP, DOWN],
        }
    }
}

/// Handle of a host's link to the router: both directions ([`Host::link`]), or one
/// ([`Host::uplink`]: packets the host sends, [`Host::downlink`]: packets it receives). Changes
/// apply to the next packet that enters the link; packets already delayed on it keep their time,
/// except that a link taken down drops them too.
#[derive(Clone, Copy)]
pub struct Link<'a> {
    host: &'a Host,
    dirs: Dirs,
}

impl Link<'_> {
    /// Replaces the impairment of the direction(s) this handle controls.
    ///
    /// # Errors
    /// [`Error::InvalidImpairment`] when `loss` is not in 0.0 ..= 1.0.
    pub fn set(&self, impairment: Impairment) -> Result<()> {
        impairment.validate()?;
        let mut state = self.host.inner.shared.state();
        for &dir in self.dirs.indices() {
            state.hosts[self.host.inner.index].links[dir].impairment = impairment;
        }
        Ok(())
    }

    /// The impairment in force (the uplink's for a two-way handle).
    pub fn impairment(&self) -> Impairment {
        let state = self.host.inner.shared.state();
        state.hosts[self.host.inner.index].links[self.dirs.indices()[0]].impairment
    }

    /// Takes the link down: every packet entering it, and every packet delayed on it, is dropped
    /// (counted in [`LinkStats::dropped_down`]) until [`up`](Self::up). The host's kernel is not
    /// told (its interface stays up, as when a Wi-Fi access point stops forwarding); combine
    /// with [`Host::change_address`] for a new network.
    pub fn down(&self) {
        self.set_up(false);
    }

    /// Brings the link back up; the impairment set before is kept.
    pub fn up(&self) {
        self.set_up(true);
    }

    /// Whether the link forwards (for a two-way handle: both directions do).
    pub fn is_up(&self) -> bool {
        let state = self.host.inner.shared.state();
        self.dirs
            .indices()
            .iter()
            .all(|&dir| state.hosts[self.host.inner.index].links[dir].up)
    }

    /// Counters since the network was built (a two-way handle sums both directions).
    pub fn stats(&self) -> LinkStats {
        let state = self.host.inner.shared.state();
        self.dirs
            .indices()
            .iter()
            .map(|&dir| state.hosts[self.host.inner.index].links[dir].stats)
            .fold(LinkStats::default(), |sum, stats| sum + stats)
    }

    fn set_up(&self, up: bool) {
        let mut state = self.host.inner.shared.state();
        for &dir in self.dirs.indices() {
            state.hosts[self.host.inner.index].links[dir].up = up;
        }
    }
}

impl Host {
    pub(crate) fn new(
        name: String,
        netns: String,
        index: usize,
        ns_fd: Arc<OwnedFd>,
        shared: Arc<Shared>,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                name,
                netns,
                index,
                ns_fd,
                shared,
            }),
        }
    }

    /// The name given to [`NetBuilder::host`](crate::NetBuilder::host).
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// The network namespace's name (`pcn-<pid>-<n>-<host>`), for `ip netns exec <name> …` while
    /// debugging.
    pub fn netns(&self) -> &str {
        &self.inner.netns
    }

    /// The host's current IPv4 address.
    pub fn addr(&self) -> Ipv4Addr {
        self.inner.shared.state().hosts[self.inner.index].addr
    }

    /// Both directions of the host's link to the router.
    pub fn link(&self) -> Link<'_> {
        Link {
            host: self,
            dirs: Dirs::Both,
        }
    }

    /// The direction carrying the packets this host sends.
    pub fn uplink(&self) -> Link<'_> {
        Link {
            host: self,
            dirs: Dirs::Up,
        }
    }

    /// The direction carrying the packets this host receives.
    pub fn downlink(&self) -> Link<'_> {
        Link {
            host: self,
            dirs: Dirs::Down,
        }
    }

    /// Moves the host to a new address of 10.77.0.0/16 (never one used before in this network)
    /// and returns it, as when a phone goes from Wi-Fi to LTE: the old address is deleted from
    /// the TUN device (the kernel flushes the routes through it and sockets bound to it fail), the
    /// new one is added and the default route restored. From the moment this is called the
    /// router drops packets to the old address and packets from it (counted in
    /// [`NetStats::unroutable`](crate::NetStats::unroutable)). The link's impairment and up/down
    /// state are kept; take the link down around the change for a gap with no network.
    ///
    /// # Errors
    /// [`Error::Closed`] after the network was dropped, [`Error::AddressesExhausted`], or
    /// [`Error::Command`] when `ip` refuses the change (the router then keeps the new mapping).
    pub fn change_address(&self) -> Result<Ipv4Addr> {
        let shared = &self.inner.shared;
        let (old, new) = {
            let mut state = shared.state();
            if shared.is_stopped() {
                return Err(Error::Closed(self.inner.name.clone()));
            }
            let new = state.allocate_addr()?;
            (state.readdress(self.inner.index, new), new)
        };
        tun::change_address(&self.inner.netns, old, new)?;
        Ok(new)
    }

    /// A [`Command`] whose process starts inside the host's network namespace (`setns(2)` in
    /// `pre_exec`, before `exec`). Everything else (mount namespace, files, environment) is the
    /// test process's. The process is SIGKILLed when the [`Net`](crate::Net) is dropped if it is
    /// still running; wait for it or kill it yourself to see its exit status.
    pub fn command(&self, program: impl AsRef<OsStr>) -> Command {
        let mut command = Command::new(program);
        let fd = Arc::clone(&self.inner.ns_fd);
        // SAFETY: the closure only calls setns(2), which is async-signal-safe, on a descriptor
        // kept open by the captured `Arc` (the parent holds it across fork).
        unsafe {
            command.pre_exec(move || {
                setns(&*fd, CloneFlags::CLONE_NEWNET).map_err(std::io::Error::from)
            });
        }
        command
    }

    /// Runs `f` on a new OS thread inside the host's network namespace and returns its handle.
    /// Sockets `f` opens belong to the host (bound to `0.0.0.0` they use its address), and
    /// threads `f` starts inherit the namespace: a tokio runtime or a
    /// `peerchat_core::Engine` built inside `f` does all its I/O from the host.
    ///
    /// A runtime's `block_on` runs its future on the *calling* thread: call it inside `f`, not
    /// from the test's main thread, when that future opens sockets.
    ///
    /// # Errors
    /// [`Error::Io`] when the thread cannot be spawned or cannot enter the namespace (`f` is then
    /// not run, so it can never touch the machine's own network).
    pub fn run<F, T>(&self, f: F) -> Result<JoinHandle<T>>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let fd = Arc::clone(&self.inner.ns_fd);
        let netns = self.inner.netns.clone();
        let (entered_tx, entered_rx) = mpsc::sync_channel(1);
        let handle = std::thread::Builder::new()
            .name(format!("netsim-{}", self.inner.name))
            .spawn(move || match enter(&fd, &netns) {
                Ok(()) => {
                    let _ = entered_tx.send(Ok(()));
                    f()
                }
                Err(err) => {
                    let _ = entered_tx.send(Err(err));
                    // Unwinds without the panic hook: the caller gets the error, not this.
                    std::panic::resume_unwind(Box::new("could not enter the namespace"))
                }
            })
            .map_err(|err| Error::io("spawn a host thread", err))?;
        match entered_rx.recv() {
            Ok(Ok(())) => Ok(handle),
            Ok(Err(err)) => {
                let _ = handle.join();
                Err(err)
            }
            Err(_) => Err(Error::io(
                "host thread",
                std::io::Error::other("exited before entering the namespace"),
            )),
        }
    }

    /// Runs `f` inside the host's network namespace on a scoped thread and returns its result
    /// (a panic in `f` is resumed here). `f` may borrow from the caller.
    ///
    /// # Errors
    /// [`Error::Io`] when the thread cannot enter the namespace (`f` is then not run).
    pub fn call<F, T>(&self, f: F) -> Result<T>
    where
        F: FnOnce() -> T + Send,
        T: Send,
    {
        std::thread::scope(|scope| {
            let thread = std::thread::Builder::new()
                .name(format!("netsim-{}", self.inner.name))
                .spawn_scoped(scope, || -> Result<T> {
                    enter(&self.inner.ns_fd, &self.inner.netns)?;
                    Ok(f())
                })
                .map_err(|err| Error::io("spawn a host thread", err))?;
            match thread.join() {
                Ok(result) => result,
                Err(panic) => std::panic::resume_unwind(panic),
            }
        })
    }
}
