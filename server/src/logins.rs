//! Unique logins (seed 001): at most one connection holds a login, compared case-insensitively.

use std::collections::HashMap;

/// Why [`Logins::claim`] refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginError {
    /// Another connection holds this login (in any letter case).
    Taken,
    /// This connection already holds a login.
    AlreadyLoggedIn,
}

/// The map login → connection, and back.
#[derive(Debug, Default)]
pub struct Logins {
    /// Folded login → (peer id, login as claimed).
    by_login: HashMap<String, (String, String)>,
    /// Peer id → folded login.
    by_peer: HashMap<String, String>,
}

/// The comparison key of a login: look-alikes (letter case, NFKC, UTS #39 confusables) share
/// one (see `names.rs`).
fn fold(login: &str) -> String {
    crate::names::login_key(login)
}

impl Logins {
    /// Logins held.
    pub fn len(&self) -> usize {
        self.by_peer.len()
    }

    /// Gives `login` (already validated) to `peer`. Errors: [`LoginError::AlreadyLoggedIn`] when
    /// `peer` holds a login, [`LoginError::Taken`] when another peer holds it.
    pub fn claim(&mut self, peer: &str, login: &str) -> Result<(), LoginError> {
        if self.by_peer.contains_key(peer) {
            return Err(LoginError::AlreadyLoggedIn);
        }
        let key = fold(login);
        if self.by_login.contains_key(&key) {
            return Err(LoginError::Taken);
        }
        self.by_login
            .insert(key.clone(), (peer.to_string(), login.to_string()));
        self.by_peer.insert(peer.to_string(), key);
        Ok(())
    }

    /// Releases `peer`'s login; returns it as it was claimed, or `None` if it had none.
    pub fn release(&mut self, peer: &str) -> Option<String> {
        let key = self.by_peer.remove(peer)?;
        self.by_login.remove(&key).map(|(_, login)| login)
    }

    /// The peer holding `login` (any case).
    pub fn peer_of(&self, login: &str) -> Option<&str> {
        self.by_login.get(&fold(login)).map(|(p, _)| p.as_str())
    }

    /// The login `peer` holds, as claimed.
    pub fn login_of(&self, peer: &str) -> Option<&str> {
        let key = self.by_peer.get(peer)?;
        self.by_login.get(key).map(|(_, l)| l.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logins_are_unique_case_insensitively() {
        let mut l = Logins::default();
        l.claim("p1", "Alice").unwrap();
        assert_eq!(l.claim("p2", "alice"), Err(LoginError::Taken));
        assert_eq!(l.claim("p2", "ALICE"), Err(LoginError::Taken));
        assert_eq!(l.claim("p1", "bob"), Err(LoginError::AlreadyLoggedIn));
        assert_eq!(l.peer_of("aLiCe"), Some("p1"));
        assert_eq!(l.login_of("p1"), Some("Alice"));
        assert_eq!(l.release("p1").as_deref(), Some("Alice"));
        assert_eq!(l.release("p1"), None);
        l.claim("p2", "alice").unwrap();
        assert_eq!(l.len(), 1);
    }
}
