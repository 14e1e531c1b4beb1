//! The one error type of the harness.

use std::io;

/// Everything that can go wrong while building a [`Net`](crate::Net) or changing it.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The process is not root. Network namespaces and TUN devices need `CAP_SYS_ADMIN` and
    /// `CAP_NET_ADMIN`; CI runs the suite (`scripts/test.d/12-netsim.sh`) as root.
    #[error(
        "peerchat-netsim needs root (CAP_SYS_ADMIN and CAP_NET_ADMIN) to create network \
         namespaces and TUN devices; run the tests as root (scripts/test.d/12-netsim.sh, as CI does)"
    )]
    NotRoot,
    /// `/dev/net/tun` is missing (no `tun` kernel module, or a container without the device).
    #[error(
        "/dev/net/tun is missing: the kernel's TUN driver is needed (modprobe tun, or pass the device into the container)"
    )]
    NoTunDevice,
    /// A program the harness runs (`ip` from iproute2) is not installed.
    #[error("`{0}` is not installed (Debian package iproute2)")]
    MissingTool(&'static str),
    /// A host name is empty, longer than [`MAX_HOST_NAME`](crate::MAX_HOST_NAME) bytes, or has a
    /// character other than ASCII letters, digits, `-` and `_`.
    #[error("host name {0:?} is invalid: use 1 to 32 ASCII letters, digits, '-' or '_'")]
    InvalidHostName(String),
    /// Two hosts of one network have the same name.
    #[error("host name {0:?} is used twice in one network")]
    DuplicateHost(String),
    /// [`NetBuilder::build`](crate::NetBuilder::build) was called with no host.
    #[error("a network needs at least one host")]
    NoHosts,
    /// An [`Impairment`](crate::Impairment) field is out of range (loss outside 0..=1 or not a
    /// number).
    #[error("invalid impairment: {0}")]
    InvalidImpairment(String),
    /// Every address of the private range (10.77.0.0/16, 65,024 addresses) was handed out.
    #[error("the address range 10.77.0.0/16 is exhausted")]
    AddressesExhausted,
    /// The [`Net`](crate::Net) this host belonged to was dropped: its namespace is gone.
    #[error("the network of host {0:?} was dropped")]
    Closed(String),
    /// A command (`ip …`) exited unsuccessfully; `stderr` is what it printed.
    #[error("`{command}` failed: {stderr}")]
    Command {
        /// The command line, with the batch input for `ip -batch`.
        command: String,
        /// The command's standard error, trimmed.
        stderr: String,
    },
    /// A system call failed; `context` says which step.
    #[error("{context}: {source}")]
    Io {
        /// The step that failed, e.g. "setns into pcn-123-0-a".
        context: String,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
}

impl Error {
    pub(crate) fn io(context: impl Into<String>, source: impl Into<io::Error>) -> Self {
        Self::Io {
            context: context.into(),
            source: source.into(),
        }
    }
}

/// `Result` with the harness's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
