//! Named network namespaces (`ip netns`): created per host, entered by threads and child
//! processes, removed with every process still inside them, and stale ones of dead test
//! processes cleaned up.

use std::fs::File;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use nix::sched::{CloneFlags, setns};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::error::{Error, Result};
use crate::ip::ip;

/// Prefix of every namespace the harness creates: `pcn-<pid>-<net>-<host>`.
pub(crate) const PREFIX: &str = "pcn-";
/// Where `ip netns` keeps its named namespaces (bind mounts).
const NETNS_DIR: &str = "/run/netns";

/// A named network namespace, removed (with every process inside it) on drop.
pub(crate) struct Namespace {
    name: String,
    fd: Arc<OwnedFd>,
}

impl Namespace {
    /// Creates `/run/netns/<name>` (`ip netns add`) and opens it.
    pub(crate) fn create(name: &str) -> Result<Self> {
        ip(&["netns", "add", name], None)?;
        let path = Path::new(NETNS_DIR).join(name);
        match File::open(&path) {
            Ok(file) => Ok(Self {
                name: name.to_owned(),
                fd: Arc::new(file.into()),
            }),
            Err(err) => {
                let _ = ip(&["netns", "delete", name], None);
                Err(Error::io(format!("open {}", path.display()), err))
            }
        }
    }

    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// The namespace's file descriptor, for [`enter`] (shared with host handles and children's
    /// `pre_exec`).
    pub(crate) fn fd(&self) -> Arc<OwnedFd> {
        Arc::clone(&self.fd)
    }
}

impl Drop for Namespace {
    fn drop(&mut self) {
        kill_processes_in(&self.fd);
        let _ = ip(&["netns", "delete", &self.name], None);
    }
}

/// Moves the calling thread into the namespace `fd` (`setns(2)` with `CLONE_NEWNET`). Threads the
/// caller creates afterwards start in that namespace too.
pub(crate) fn enter(fd: &OwnedFd, name: &str) -> Result<()> {
    setns(fd.as_fd(), CloneFlags::CLONE_NEWNET)
        .map_err(|errno| Error::io(format!("setns into network namespace {name}"), errno))
}

/// A process-wide unique name for host `host` of a new network: `pcn-<pid>-<n>-<host>`.
pub(crate) fn next_net_id() -> u32 {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// Sends SIGKILL to every process (other than this one) whose network namespace is `fd`.
/// Processes already gone are ignored.
fn kill_processes_in(fd: &OwnedFd) {
    let Ok(ns) = nix::sys::stat::fstat(fd) else {
        return;
    };
    let own = std::process::id();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return;
    };
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<i32>().ok())
        else {
            continue;
        };
        if pid as u32 == own {
            continue;
        }
        let Ok(meta) = std::fs::metadata(entry.path().join("ns/net")) else {
            continue;
        };
        if meta.dev() == ns.st_dev && meta.ino() == ns.st_ino {
            let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
        }
    }
}

/// Removes the namespaces left by test processes that died without dropping their
/// [`Net`](crate::Net) (SIGKILL, `process::exit`): names `pcn-<pid>-…` whose pid no longer
/// exists. Processes still inside them are killed first. Cheap when there are none (one
/// directory listing).
pub(crate) fn remove_stale() {
    let Ok(entries) = std::fs::read_dir(NETNS_DIR) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = owner_pid(&name) else {
            continue;
        };
        if Path::new(&format!("/proc/{pid}")).exists() {
            continue;
        }
        if let Ok(file) = File::open(entry.path()) {
            kill_processes_in(&file.into());
        }
        let _ = ip(&["netns", "delete", &name], None);
    }
}

/// The pid in a harness namespace name `pcn-<pid>-<n>-<host>`, or `None` for other names.
pub(crate) fn owner_pid(name: &str) -> Option<u32> {
    let rest = name.strip_prefix(PREFIX)?;
    let (pid, rest) = rest.split_once('-')?;
    let (net, host) = rest.split_once('-')?;
    if net.parse::<u32>().is_err() || host.is_empty() {
        return None;
    }
    pid.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::owner_pid;

    #[test]
    fn owner_pid_parses_only_harness_names() {
        assert_eq!(owner_pid("pcn-1234-0-a"), Some(1234));
        assert_eq!(owner_pid("pcn-1234-17-sig-server"), Some(1234));
        assert_eq!(owner_pid("pcn-1234-0-"), None);
        assert_eq!(owner_pid("pcn-x-0-a"), None);
        assert_eq!(owner_pid("pcn-1234-a"), None);
        assert_eq!(owner_pid("other-1234-0-a"), None);
    }
}
