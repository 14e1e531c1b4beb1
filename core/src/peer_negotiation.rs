//! SDP offer/answer on one peer connection, including renegotiation: the ICE restart (W3C
//! `restartIce`, RFC 8445 §9) and the "perfect negotiation" roles that settle glare.
//!
//! - **ICE restart.** [`PeerConnectionLink::restart_ice`] asks the `webrtc` crate for an offer
//!   with fresh ICE credentials on the *same* peer connection: DTLS, SCTP, the data channels and
//!   their message order survive. The connection is built with
//!   `discard_local_candidates_during_ice_restart`, which makes the crate's driver close its UDP
//!   sockets and bind new ones before gathering (re-resolving `0.0.0.0` against the interfaces
//!   present *now*, `webrtc` 0.21.1 `resolve_bind_addrs`), so after a network change the new
//!   local address is gathered and the old, dead one is gone. The answerer's connection does
//!   the same when it applies an offer with new credentials.
//! - **Renegotiation vs. a fresh connection.** An offer for a peer we already have a connection
//!   with is applied to that connection when its SDP session id (the `o=` line, RFC 8866 §5.2,
//!   kept by every renegotiation of a session, JSEP RFC 9429 §5.2.2) is the current remote
//!   one — a browser's `restartIce()` keeps its data channel. An offer of a *new* session
//!   (the peer built a fresh connection) replaces ours.
//! - **Glare** (both sides offer at once, e.g. both restart ICE): the W3C "perfect
//!   negotiation" pattern. The peer whose current signaling peer id is lexicographically
//!   smaller is *polite*: it rolls its own offer back and answers the other's. The *impolite*
//!   one ignores the colliding offer and waits for the answer to its own. See
//!   `docs/protocol.md`, "ICE restart and renegotiation".

use webrtc::peer_connection::RTCSessionDescription;

use super::PeerConnectionLink;

/// Offer/answer state of one connection, as the W3C signaling state needs it.
#[derive(Debug, Default)]
pub(crate) struct Negotiation {
    /// Our offer awaits its answer (`have-local-offer`).
    have_local_offer: bool,
    /// Session id (`o=` line) of the remote description, once one is set.
    remote_session: Option<String>,
    /// When our outstanding offer went out.
    offered_at: Option<std::time::Instant>,
    /// The signaling session (the actor's count) it went out on.
    offer_epoch: u64,
    /// Its SDP, to send again when it may have been lost.
    offer_sdp: Option<String>,
    /// An ICE restart was offered or answered: send path probes when ICE connects again
    /// ([`PeerConnectionLink::take_path_probe`]).
    probe_when_connected: bool,
}

/// When an outstanding offer is taken for lost (see [`PeerConnectionLink::restart_ice`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct OfferPolicy {
    /// The current signaling session's number.
    pub(crate) epoch: u64,
    /// Wait for an answer this long into a new signaling session.
    pub(crate) answer_wait: std::time::Duration,
}

/// Whether we are the polite peer towards `theirs` (W3C "perfect negotiation"): our peer id
/// sorts before theirs. Both sides compute the same answer from the same two ids.
pub(crate) fn polite(ours: &str, theirs: &str) -> bool {
    ours < theirs
}

/// The session id of an SDP (`o=<username> <sess-id> <sess-version> …`, RFC 8866 §5.2).
pub(crate) fn session_id(sdp: &str) -> Option<&str> {
    sdp.lines()
        .find_map(|line| line.trim_end().strip_prefix("o="))
        .and_then(|origin| origin.split_whitespace().nth(1))
}

impl PeerConnectionLink {
    /// Creates an SDP offer, sets it as the local description and returns its SDP text.
    pub(crate) async fn create_offer(&mut self) -> Result<String, String> {
        let offer = self
            .pc
            .create_offer(None)
            .await
            .map_err(|e| format!("create_offer: {e}"))?;
        let sdp = offer.sdp.clone();
        self.set_candidate_section(&sdp);
        self.pc
            .set_local_description(offer)
            .await
            .map_err(|e| format!("set_local_description(offer): {e}"))?;
        self.negotiation.have_local_offer = true;
        self.negotiation.offered_at = Some(std::time::Instant::now());
        self.negotiation.offer_sdp = Some(sdp.clone());
        Ok(sdp)
    }

    /// Restarts ICE on this connection (new ICE credentials, sockets rebound, candidates
    /// gathered anew) and returns the offer to signal.
    ///
    /// One negotiation at a time: an answer carries nothing that names the offer it answers,
    /// so while an offer of ours is outstanding no new one is made. Instead the *same* offer
    /// is returned again when it may have been lost — it went out on an earlier signaling
    /// session (`policy.epoch`), or it has waited `policy.answer_wait` — and `Ok(None)` while
    /// it is fresh. Sending an offer twice is harmless: the peer answers the copy like a
    /// renegotiation that changes nothing, and the second answer finds no offer outstanding
    /// and is ignored ([`Self::accept_answer`]). Signaling can lose an offer when either
    /// side's connection died unnoticed (the server relays to the dead one).
    pub(crate) async fn restart_ice(
        &mut self,
        policy: OfferPolicy,
    ) -> Result<Option<String>, String> {
        if self.negotiation.have_local_offer {
            let age = self
                .negotiation
                .offered_at
                .map_or(std::time::Duration::MAX, |at| at.elapsed());
            let resend = self.negotiation.offer_epoch != policy.epoch || age >= policy.answer_wait;
            if !resend {
                return Ok(None);
            }
            return Ok(self.outstanding_offer());
        }
        self.negotiation.offer_epoch = policy.epoch;
        self.pc
            .restart_ice()
            .await
            .map_err(|e| format!("restart_ice: {e}"))?;
        let offer = self.create_offer().await?;
        self.negotiation.probe_when_connected = true;
        Ok(Some(offer))
    }

    /// Our outstanding offer, to send again (its clock restarts); `None` when there is none.
    pub(crate) fn outstanding_offer(&mut self) -> Option<String> {
        if !self.negotiation.have_local_offer {
            return None;
        }
        self.negotiation.offered_at = Some(std::time::Instant::now());
        self.negotiation.offer_sdp.clone()
    }

    /// Marks that a renegotiation (the peer's ICE restart) was answered: path probes go out
    /// when ICE connects again.
    pub(crate) fn expect_reconnect(&mut self) {
        self.negotiation.probe_when_connected = true;
    }

    /// Whether path probes are due now that ICE has connected (once per ICE restart): see
    /// [`crate::chat::Frame::Probe`].
    pub(crate) fn take_path_probe(&mut self) -> bool {
        std::mem::take(&mut self.negotiation.probe_when_connected)
    }

    /// Whether an offer with this SDP renegotiates the session we have (same `o=` session id
    /// as the current remote description) rather than starting a fresh connection.
    pub(crate) fn renegotiates(&self, sdp: &str) -> bool {
        matches!((&self.negotiation.remote_session, session_id(sdp)), (Some(ours), Some(theirs)) if ours == theirs)
    }

    /// The SDP of the current local and remote descriptions (W3C `currentLocalDescription`
    /// and `currentRemoteDescription`: the last completed offer/answer), or `None` before
    /// the first one completed. What the safety code is computed from (`crate::safety`).
    pub(crate) async fn negotiated_sdp(&self) -> Option<(String, String)> {
        let local = self.pc.current_local_description().await?;
        let remote = self.pc.current_remote_description().await?;
        Some((local.sdp, remote.sdp))
    }

    /// Whether a remote description was ever applied (false for a fresh connection whose offer
    /// awaits its first answer).
    pub(crate) fn has_remote_description(&self) -> bool {
        self.remote_description_set
    }

    /// Whether our own offer awaits its answer, so an incoming offer collides with it.
    pub(crate) fn have_local_offer(&self) -> bool {
        self.negotiation.have_local_offer
    }

    /// Applies a remote SDP offer and returns the SDP answer (already set locally). If our own
    /// offer was outstanding (glare, and we are the polite peer), it is rolled back first.
    pub(crate) async fn accept_offer(&mut self, sdp: String) -> Result<String, String> {
        if self.negotiation.have_local_offer {
            self.rollback().await?;
        }
        let offer =
            RTCSessionDescription::offer(sdp.clone()).map_err(|e| format!("bad offer: {e}"))?;
        self.set_remote(offer, &sdp).await?;
        let answer = self
            .pc
            .create_answer(None)
            .await
            .map_err(|e| format!("create_answer: {e}"))?;
        let answer_sdp = answer.sdp.clone();
        self.set_candidate_section(&answer_sdp);
        self.pc
            .set_local_description(answer)
            .await
            .map_err(|e| format!("set_local_description(answer): {e}"))?;
        Ok(answer_sdp)
    }

    /// Rolls our outstanding offer back (W3C `setLocalDescription({type: "rollback"})`).
    async fn rollback(&mut self) -> Result<(), String> {
        let rollback = RTCSessionDescription::rollback(None)
            .map_err(|e| format!("rollback description: {e}"))?;
        self.pc
            .set_local_description(rollback)
            .await
            .map_err(|e| format!("rollback: {e}"))?;
        self.negotiation.have_local_offer = false;
        Ok(())
    }

    /// Applies the remote SDP answer to our offer. An answer with no offer of ours outstanding
    /// (a late answer to an offer we rolled back, or to a connection since replaced) is
    /// refused with an error and changes nothing.
    pub(crate) async fn accept_answer(&mut self, sdp: String) -> Result<(), String> {
        if !self.negotiation.have_local_offer {
            return Err("answer with no offer outstanding".into());
        }
        let answer =
            RTCSessionDescription::answer(sdp.clone()).map_err(|e| format!("bad answer: {e}"))?;
        self.set_remote(answer, &sdp).await?;
        self.negotiation.have_local_offer = false;
        Ok(())
    }

    async fn set_remote(
        &mut self,
        description: RTCSessionDescription,
        sdp: &str,
    ) -> Result<(), String> {
        self.pc
            .set_remote_description(description)
            .await
            .map_err(|e| format!("set_remote_description: {e}"))?;
        self.remote_description_set = true;
        self.negotiation.remote_session = session_id(sdp).map(str::to_string);
        for candidate in std::mem::take(&mut self.early_candidates) {
            self.add_candidate(candidate).await;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_id_is_the_second_field_of_the_origin_line() {
        let sdp = "v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\n";
        assert_eq!(session_id(sdp), Some("4611731400430051336"));
        assert_eq!(session_id("v=0\r\ns=-\r\n"), None);
        assert_eq!(session_id("o=-\r\n"), None);
    }

    #[test]
    fn exactly_one_side_is_polite() {
        let (a, b) = ("0a1b", "9f00");
        assert!(polite(a, b));
        assert!(!polite(b, a));
        assert!(!polite(a, a));
    }
}
