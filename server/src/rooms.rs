//! Rooms: who is in which room, room codes, capacity. Pure bookkeeping, no I/O.

use std::collections::HashMap;

use peerchat_core::protocol::{
    PeerInfo, ROOM_CODE_ALPHABET, ROOM_CODE_LEN, RoomSnapshot, format_room_code,
};
use rand::Rng;
use rand::seq::IndexedRandom;

/// Why [`Rooms::create`] or [`Rooms::join`] refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoomError {
    /// The peer is already a member of a room.
    AlreadyInRoom,
    /// No room has this code.
    NotFound,
    /// The room holds its capacity.
    Full,
}

/// One room: its capacity and members, oldest first.
#[derive(Debug)]
struct Room {
    capacity: usize,
    members: Vec<PeerInfo>,
}

/// A peer's departure from a room, as returned by [`Rooms::leave`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Departure {
    /// Canonical code of the room left.
    pub code: String,
    /// Peer ids still in the room (empty when the room was deleted).
    pub remaining: Vec<String>,
}

/// All open rooms of a server and the room of each peer.
#[derive(Debug, Default)]
pub struct Rooms {
    rooms: HashMap<String, Room>,
    room_of: HashMap<String, String>,
}

/// Draws a fresh room code: [`ROOM_CODE_LEN`] symbols chosen uniformly from
/// [`ROOM_CODE_ALPHABET`] with `rng`, formatted `ABC-DEF-GHJ`.
pub fn generate_code<R: Rng + ?Sized>(rng: &mut R) -> String {
    let symbols: Vec<char> = (0..ROOM_CODE_LEN)
        .map(|_| {
            char::from(
                *ROOM_CODE_ALPHABET
                    .choose(rng)
                    .expect("alphabet is not empty"),
            )
        })
        .collect();
    format_room_code(&symbols)
}

impl Rooms {
    /// Open rooms.
    pub fn len(&self) -> usize {
        self.rooms.len()
    }

    /// Whether no room is open.
    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.rooms.is_empty()
    }

    /// Creates a room of `capacity` with a fresh code (drawn from the thread's CSPRNG, retried
    /// until unused) whose only member is `peer`. Returns the canonical code.
    /// Errors: [`RoomError::AlreadyInRoom`].
    #[cfg(test)]
    pub fn create(&mut self, peer: &str, name: &str, capacity: usize) -> Result<String, RoomError> {
        self.create_with(&mut rand::rng(), peer, name, capacity)
    }

    /// [`Rooms::create`] with codes drawn from `rng` (a CSPRNG: codes must not be guessable).
    /// Replicas of a shared state draw from the same seeded generator, so they agree on the
    /// code.
    pub fn create_with<R: Rng + ?Sized>(
        &mut self,
        rng: &mut R,
        peer: &str,
        name: &str,
        capacity: usize,
    ) -> Result<String, RoomError> {
        if self.room_of.contains_key(peer) {
            return Err(RoomError::AlreadyInRoom);
        }
        let code = loop {
            let code = generate_code(rng);
            if !self.rooms.contains_key(&code) {
                break code;
            }
        };
        self.rooms.insert(
            code.clone(),
            Room {
                capacity,
                members: vec![PeerInfo {
                    peer_id: peer.to_string(),
                    name: name.to_string(),
                }],
            },
        );
        self.room_of.insert(peer.to_string(), code.clone());
        Ok(code)
    }

    /// Creates a room of `capacity` under the canonical `code` a client asked for
    /// (`rejoin_room` when no room has that code), with `peer` as its only member.
    /// Errors: [`RoomError::AlreadyInRoom`]; [`RoomError::Full`] never (the caller checked
    /// that the code is free).
    pub fn create_with_code(
        &mut self,
        code: &str,
        peer: &str,
        name: &str,
        capacity: usize,
    ) -> Result<(), RoomError> {
        if self.room_of.contains_key(peer) {
            return Err(RoomError::AlreadyInRoom);
        }
        self.rooms.insert(
            code.to_string(),
            Room {
                capacity,
                members: vec![PeerInfo {
                    peer_id: peer.to_string(),
                    name: name.to_string(),
                }],
            },
        );
        self.room_of.insert(peer.to_string(), code.to_string());
        Ok(())
    }

    /// Whether a room with this canonical code is open.
    pub fn exists(&self, code: &str) -> bool {
        self.rooms.contains_key(code)
    }

    /// The room of `peer`: its code, capacity, and the other members, oldest first.
    pub fn snapshot(&self, peer: &str) -> Option<RoomSnapshot> {
        let code = self.room_of.get(peer)?;
        let room = self.rooms.get(code)?;
        Some(RoomSnapshot {
            code: code.clone(),
            capacity: room.capacity,
            members: room
                .members
                .iter()
                .filter(|m| m.peer_id != peer)
                .cloned()
                .collect(),
        })
    }

    /// Adds `peer` to the room with canonical code `code`. Returns the room's capacity and the
    /// members that were already there, oldest first.
    /// Errors: [`RoomError::AlreadyInRoom`], [`RoomError::NotFound`], [`RoomError::Full`].
    pub fn join(
        &mut self,
        code: &str,
        peer: &str,
        name: &str,
    ) -> Result<(usize, Vec<PeerInfo>), RoomError> {
        if self.room_of.contains_key(peer) {
            return Err(RoomError::AlreadyInRoom);
        }
        let room = self.rooms.get_mut(code).ok_or(RoomError::NotFound)?;
        if room.members.len() >= room.capacity {
            return Err(RoomError::Full);
        }
        let before = room.members.clone();
        room.members.push(PeerInfo {
            peer_id: peer.to_string(),
            name: name.to_string(),
        });
        self.room_of.insert(peer.to_string(), code.to_string());
        Ok((room.capacity, before))
    }

    /// Removes `peer` from its room, deleting the room if it is now empty. Returns `None` when
    /// the peer was in no room.
    pub fn leave(&mut self, peer: &str) -> Option<Departure> {
        let code = self.room_of.remove(peer)?;
        let room = self.rooms.get_mut(&code)?;
        room.members.retain(|m| m.peer_id != peer);
        let remaining: Vec<String> = room.members.iter().map(|m| m.peer_id.clone()).collect();
        if remaining.is_empty() {
            self.rooms.remove(&code);
        }
        Some(Departure { code, remaining })
    }

    /// Whether a room with this canonical code is open.
    #[cfg(test)]
    pub fn contains(&self, code: &str) -> bool {
        self.rooms.contains_key(code)
    }

    /// Whether `a` and `b` are members of the same room.
    pub fn share_room(&self, a: &str, b: &str) -> bool {
        matches!((self.room_of.get(a), self.room_of.get(b)), (Some(x), Some(y)) if x == y)
    }

    /// Display name `peer` gave when it created or joined its room.
    pub fn name_of(&self, peer: &str) -> Option<&str> {
        let room = self.rooms.get(self.room_of.get(peer)?)?;
        room.members
            .iter()
            .find(|m| m.peer_id == peer)
            .map(|m| m.name.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use peerchat_core::protocol::normalize_room_code;
    use rand::SeedableRng;

    #[test]
    fn generated_codes_are_canonical() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        for _ in 0..1000 {
            let code = generate_code(&mut rng);
            assert_eq!(normalize_room_code(&code).unwrap(), code);
        }
    }

    #[test]
    fn create_join_full_leave_delete() {
        let mut rooms = Rooms::default();
        let code = rooms.create("a", "Ada", 2).unwrap();
        assert_eq!(rooms.create("a", "Ada", 2), Err(RoomError::AlreadyInRoom));
        let (cap, before) = rooms.join(&code, "b", "Bob").unwrap();
        assert_eq!(cap, 2);
        assert_eq!(before.len(), 1);
        assert_eq!(before[0].peer_id, "a");
        assert_eq!(rooms.join(&code, "c", "Cy"), Err(RoomError::Full));
        assert_eq!(
            rooms.join("ZZZ-ZZZ-ZZZ", "c", "Cy"),
            Err(RoomError::NotFound)
        );
        assert!(rooms.share_room("a", "b"));
        assert!(!rooms.share_room("a", "c"));
        assert_eq!(rooms.name_of("b"), Some("Bob"));
        let d = rooms.leave("a").unwrap();
        assert_eq!(d.remaining, vec!["b".to_string()]);
        assert!(rooms.contains(&code));
        let d = rooms.leave("b").unwrap();
        assert!(d.remaining.is_empty());
        assert!(!rooms.contains(&code));
        assert!(rooms.is_empty());
        assert_eq!(rooms.leave("b"), None);
    }
}
