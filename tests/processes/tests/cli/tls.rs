//! `peerchat serve --tls-cert --tls-key` and `peerchat join --ca-cert`, as processes, with a
//! CA this test generates (rcgen).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};

struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn serve_with_tls_and_join_with_a_ca_cert() {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(vec!["127.0.0.1".to_string()])
        .unwrap()
        .signed_by(&key, &ca)
        .unwrap();
    let dir = std::env::temp_dir().join(format!("peerchat-cli-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (ca_path, cert_path, key_path) = (
        dir.join("ca.pem"),
        dir.join("cert.pem"),
        dir.join("key.pem"),
    );
    std::fs::write(&ca_path, ca.pem()).unwrap();
    std::fs::write(&cert_path, cert.pem()).unwrap();
    std::fs::write(&key_path, key.serialize_pem()).unwrap();

    let mut server = KillOnDrop(
        Command::new(crate::peerchat_bin())
            .args(["serve", "--port", "0", "--tls-cert"])
            .arg(&cert_path)
            .arg("--tls-key")
            .arg(&key_path)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut line = String::new();
    // Kept open: the server prints more lines.
    let mut stdout = BufReader::new(server.0.stdout.take().unwrap());
    stdout.read_line(&mut line).unwrap();
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("{line:?}"))
        .to_string();
    assert!(url.starts_with("wss://127.0.0.1:"), "{url}");

    let join = |ca: Option<&std::path::Path>| {
        let mut cmd = Command::new(crate::peerchat_bin());
        cmd.args([
            "join",
            "ABC-DEF-GHJ",
            "--name",
            "Bob",
            "--no-mdns",
            "--server",
            &url,
        ]);
        if let Some(ca) = ca {
            cmd.arg("--ca-cert").arg(ca);
        }
        let out = cmd.stdin(Stdio::null()).output().unwrap();
        assert!(!out.status.success());
        String::from_utf8_lossy(&out.stderr).to_string()
    };
    // With the CA: TLS and the WebSocket work, so the server's own answer comes back.
    let stderr = join(Some(&ca_path));
    assert!(stderr.contains("room_not_found"), "{stderr}");
    // Without it: the certificate is refused.
    let stderr = join(None);
    assert!(stderr.to_lowercase().contains("certificate"), "{stderr}");
    let _ = std::fs::remove_dir_all(dir);
}
