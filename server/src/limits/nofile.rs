//! The process's open-file limit (`RLIMIT_NOFILE`): every connection is a file descriptor.

/// Raises the soft `RLIMIT_NOFILE` to the hard limit (the most an unprivileged process may
/// use; POSIX `setrlimit(2)`) and returns the soft limit now in force, or `None` when it could
/// not be read (non-Unix systems). Common defaults are a soft limit of 1,024 under a hard
/// limit of 524,288 or more, so without this a thousand sockets exhaust the server.
pub fn raise() -> Option<u64> {
    #[cfg(unix)]
    {
        let mut lim = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit/setrlimit only read/write the struct we pass.
        unsafe {
            if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
                return None;
            }
            if lim.rlim_cur < lim.rlim_max {
                let raised = libc::rlimit {
                    rlim_cur: lim.rlim_max,
                    rlim_max: lim.rlim_max,
                };
                if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                    lim = raised;
                }
            }
        }
        // `rlim_t` is not `u64` on every Unix.
        #[allow(clippy::unnecessary_cast)]
        Some(lim.rlim_cur as u64)
    }
    #[cfg(not(unix))]
    {
        None
    }
}
