//! Relay rules: who may send an `offer`, `answer`, `ice_candidate` or `bye` to whom.
//!
//! A relay names exactly one target, by peer id (`to`) or by login (`to_login`). It is allowed
//! when the two peers share a room, or when they are *linked by login*: addressing someone by
//! `to_login` links the pair both ways, so the target can answer by peer id. The link ends
//! with `bye`, `logout`, or when either connection closes.

use std::collections::{HashMap, HashSet};

use crate::logins::Logins;
use crate::rooms::Rooms;

/// Why a relay was refused; each maps to one wire error code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelayError {
    /// Both or neither of `to` and `to_login`, or the sender itself (`invalid_target`).
    InvalidTarget,
    /// `to_login` from a connection that holds no login (`not_logged_in`).
    NotLoggedIn,
    /// No connected peer with that id or login (`peer_not_found`).
    PeerNotFound,
    /// The target shares no room with the sender and is not linked by login
    /// (`relay_not_allowed`).
    NotAllowed,
}

/// Where a relay goes, as decided by [`resolve`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// Peer id of the target.
    pub to: String,
    /// The sender addressed the target by login (the pair must be linked).
    pub by_login: bool,
}

/// Pairs of peers linked by login (symmetric).
#[derive(Debug, Default)]
pub struct Links {
    links: HashMap<String, HashSet<String>>,
}

impl Links {
    /// Links `a` and `b` both ways.
    pub fn link(&mut self, a: &str, b: &str) {
        self.links
            .entry(a.to_string())
            .or_default()
            .insert(b.to_string());
        self.links
            .entry(b.to_string())
            .or_default()
            .insert(a.to_string());
    }

    /// Whether `a` and `b` are linked.
    pub fn linked(&self, a: &str, b: &str) -> bool {
        self.links.get(a).is_some_and(|s| s.contains(b))
    }

    /// Removes the link between `a` and `b`; returns whether there was one.
    pub fn unlink(&mut self, a: &str, b: &str) -> bool {
        let had = self.remove_half(a, b);
        self.remove_half(b, a);
        had
    }

    /// The peers `a` is linked to.
    pub fn partners(&self, a: &str) -> Vec<String> {
        self.links
            .get(a)
            .map(|s| s.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// Removes every link of `a`; returns the peers it was linked to.
    pub fn unlink_all(&mut self, a: &str) -> Vec<String> {
        let partners: Vec<String> = self
            .links
            .remove(a)
            .map(|s| s.into_iter().collect())
            .unwrap_or_default();
        for p in &partners {
            self.remove_half(p, a);
        }
        partners
    }

    fn remove_half(&mut self, a: &str, b: &str) -> bool {
        let Some(set) = self.links.get_mut(a) else {
            return false;
        };
        let had = set.remove(b);
        if set.is_empty() {
            self.links.remove(a);
        }
        had
    }
}

/// Decides where a relay from `sender` goes. `connected` tells whether a peer id is connected.
///
/// Errors, checked in this order: [`RelayError::InvalidTarget`] (both/neither target, or the
/// sender itself), [`RelayError::NotLoggedIn`] (by login without a login),
/// [`RelayError::PeerNotFound`] (unknown id or login), [`RelayError::NotAllowed`] (by id, no
/// shared room and no login link).
pub fn resolve(
    sender: &str,
    to: Option<&str>,
    to_login: Option<&str>,
    rooms: &Rooms,
    logins: &Logins,
    links: &Links,
    connected: impl Fn(&str) -> bool,
) -> Result<Route, RelayError> {
    match (to, to_login) {
        (Some(id), None) => {
            if id == sender {
                return Err(RelayError::InvalidTarget);
            }
            if !connected(id) {
                return Err(RelayError::PeerNotFound);
            }
            if rooms.share_room(sender, id) || links.linked(sender, id) {
                Ok(Route {
                    to: id.to_string(),
                    by_login: false,
                })
            } else {
                Err(RelayError::NotAllowed)
            }
        }
        (None, Some(login)) => {
            if logins.login_of(sender).is_none() {
                return Err(RelayError::NotLoggedIn);
            }
            let target = logins.peer_of(login).ok_or(RelayError::PeerNotFound)?;
            if target == sender {
                return Err(RelayError::InvalidTarget);
            }
            Ok(Route {
                to: target.to_string(),
                by_login: true,
            })
        }
        _ => Err(RelayError::InvalidTarget),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_symmetric_and_removable() {
        let mut l = Links::default();
        l.link("a", "b");
        l.link("a", "c");
        assert!(l.linked("b", "a"));
        assert!(l.unlink("b", "a"));
        assert!(!l.linked("a", "b"));
        assert!(!l.unlink("a", "b"));
        assert_eq!(l.unlink_all("a"), vec!["c".to_string()]);
        assert!(!l.linked("c", "a"));
    }

    #[test]
    fn resolve_applies_the_rules_in_order() {
        let mut rooms = Rooms::default();
        let mut logins = Logins::default();
        let mut links = Links::default();
        let code = rooms.create("a", "Ada", 2).unwrap();
        rooms.join(&code, "b", "Bob").unwrap();
        let on = |p: &str| ["a", "b", "c"].contains(&p);
        let r = |to, login, rooms: &Rooms, logins: &Logins, links: &Links| {
            resolve("a", to, login, rooms, logins, links, on)
        };
        assert_eq!(
            r(None, None, &rooms, &logins, &links),
            Err(RelayError::InvalidTarget)
        );
        assert_eq!(
            r(Some("b"), Some("x"), &rooms, &logins, &links),
            Err(RelayError::InvalidTarget)
        );
        assert_eq!(
            r(Some("a"), None, &rooms, &logins, &links),
            Err(RelayError::InvalidTarget)
        );
        assert_eq!(
            r(Some("zz"), None, &rooms, &logins, &links),
            Err(RelayError::PeerNotFound)
        );
        assert!(r(Some("b"), None, &rooms, &logins, &links).is_ok());
        assert_eq!(
            r(Some("c"), None, &rooms, &logins, &links),
            Err(RelayError::NotAllowed)
        );
        assert_eq!(
            r(None, Some("cy"), &rooms, &logins, &links),
            Err(RelayError::NotLoggedIn)
        );
        logins.claim("a", "ada").unwrap();
        assert_eq!(
            r(None, Some("cy"), &rooms, &logins, &links),
            Err(RelayError::PeerNotFound)
        );
        logins.claim("c", "Cy").unwrap();
        assert_eq!(
            r(None, Some("CY"), &rooms, &logins, &links),
            Ok(Route {
                to: "c".into(),
                by_login: true
            })
        );
        links.link("a", "c");
        assert!(r(Some("c"), None, &rooms, &logins, &links).is_ok());
    }
}
