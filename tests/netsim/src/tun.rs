//! TUN devices: one per host namespace, opened from a thread inside that namespace so the
//! device is created there, and configured with `ip -n <ns> -batch -`.

use std::fs::{File, OpenOptions};
use std::io;
use std::net::Ipv4Addr;
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::ip::ip;
use crate::netns::{Namespace, enter};

/// Name of the TUN device inside every host namespace (names are per namespace).
pub const TUN_NAME: &str = "tun0";

/// Creates the TUN device [`TUN_NAME`] inside `ns` (IPv4 only: IPv6 is disabled on it so the
/// kernel sends no router solicitations), brings it and loopback up, gives it `addr/32` and a
/// default route through it. Returns the device's file (non-blocking): reading it yields the IP
/// packets the host sends, writing it delivers IP packets to the host.
pub(crate) fn create(ns: &Namespace, addr: Ipv4Addr) -> Result<File> {
    let fd = ns.fd();
    let name = ns.name().to_owned();
    let file = std::thread::Builder::new()
        .name("netsim-tun".into())
        .spawn(move || -> Result<File> {
            enter(&fd, &name)?;
            // Devices created after this inherit it (/proc/sys/net is the calling thread's
            // namespace). Best effort: a kernel without IPv6 has no such file.
            let _ = std::fs::write("/proc/sys/net/ipv6/conf/default/disable_ipv6", "1");
            open_tun(TUN_NAME).map_err(|err| {
                if err.kind() == io::ErrorKind::NotFound {
                    Error::NoTunDevice
                } else {
                    Error::io(format!("create TUN device {TUN_NAME} in {name}"), err)
                }
            })
        })
        .map_err(|err| Error::io("spawn the TUN thread", err))?
        .join()
        .expect("the TUN thread does not panic")?;
    let batch = format!(
        "link set lo up\nlink set {TUN_NAME} up\naddress add {addr}/32 dev {TUN_NAME}\n\
         route add default dev {TUN_NAME}\n"
    );
    ip(&["-n", ns.name(), "-batch", "-"], Some(&batch))?;
    Ok(file)
}

/// Moves the host in `ns` from `old` to `new`: deletes `old` (the kernel then flushes the routes
/// through the device, as when a phone leaves a Wi-Fi network), adds `new/32` and restores the
/// default route.
pub(crate) fn change_address(ns_name: &str, old: Ipv4Addr, new: Ipv4Addr) -> Result<()> {
    let batch = format!(
        "address del {old}/32 dev {TUN_NAME}\naddress add {new}/32 dev {TUN_NAME}\n\
         route replace default dev {TUN_NAME}\n"
    );
    ip(&["-n", ns_name, "-batch", "-"], Some(&batch))
}

/// Opens `/dev/net/tun` and attaches it to a new TUN device `name` (`TUNSETIFF` with `IFF_TUN`:
/// layer 3, and `IFF_NO_PI`: no packet-information header), as in the kernel's
/// Documentation/networking/tuntap.rst. The device lives as long as the file.
fn open_tun(name: &str) -> io::Result<File> {
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_NONBLOCK)
        .open("/dev/net/tun")?;
    // SAFETY: `ifreq` is plain old data; all-zero is a valid value (empty name, zero union).
    let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
    if name.len() >= req.ifr_name.len() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "interface name too long",
        ));
    }
    for (dst, src) in req.ifr_name.iter_mut().zip(name.bytes()) {
        *dst = src as libc::c_char;
    }
    req.ifr_ifru.ifru_flags = (libc::IFF_TUN | libc::IFF_NO_PI) as libc::c_short;
    // SAFETY: TUNSETIFF reads (and writes back the name into) an `ifreq` that outlives the call.
    let rc = unsafe { libc::ioctl(file.as_raw_fd(), libc::TUNSETIFF, &mut req) };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(file)
}

/// Shared handle of a TUN device's file, used by the router threads.
pub(crate) type Tun = Arc<File>;
