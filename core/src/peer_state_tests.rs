//! Unit tests of the peer state machine: every row of the transition table, one report per
//! transition, and stale timers.

use super::*;

fn bounds() -> Bounds {
    Bounds::new(30_000)
}

fn reports(fx: &[Effect]) -> Vec<PeerState> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Report(s) => Some(*s),
            _ => None,
        })
        .collect()
}

fn token(fx: &[Effect], timer: Timer) -> u64 {
    fx.iter()
        .find_map(|e| match e {
            Effect::Arm {
                timer: t, token, ..
            } if *t == timer => Some(*token),
            _ => None,
        })
        .unwrap_or_else(|| panic!("{timer:?} not armed in {fx:?}"))
}

fn armed_ms(fx: &[Effect], timer: Timer) -> u64 {
    fx.iter()
        .find_map(|e| match e {
            Effect::Arm { timer: t, ms, .. } if *t == timer => Some(*ms),
            _ => None,
        })
        .unwrap_or_else(|| panic!("{timer:?} not armed in {fx:?}"))
}

/// A machine that reached `Connected`, and the reports seen on the way.
fn connected(initiator: bool) -> PeerMachine {
    let mut m = PeerMachine::new(initiator, bounds());
    m.handle(PeerInput::AttemptStarted);
    let fx = m.handle(PeerInput::ChannelOpen);
    assert_eq!(reports(&fx), vec![PeerState::Connected]);
    assert!(fx.contains(&Effect::FlushOutbox));
    m
}

#[test]
fn first_attempt_reports_connecting_once_and_arms_both_setup_timers() {
    let mut m = PeerMachine::new(true, bounds());
    let fx = m.handle(PeerInput::AttemptStarted);
    assert_eq!(reports(&fx), vec![PeerState::Connecting]);
    assert_eq!(armed_ms(&fx, Timer::Attempt), SETUP_ATTEMPT_TIMEOUT_MS);
    assert_eq!(armed_ms(&fx, Timer::GiveUp), 30_000);
    // A retry is silent: the app sees one Connecting.
    let fx = m.handle(PeerInput::AttemptStarted);
    assert!(reports(&fx).is_empty(), "{fx:?}");
}

#[test]
fn failed_setup_attempts_are_retried_with_backoff_then_give_up() {
    let mut m = PeerMachine::new(true, bounds());
    let mut fx = m.handle(PeerInput::AttemptStarted);
    for attempt in 1..MAX_SETUP_ATTEMPTS {
        let t = token(&fx, Timer::Attempt);
        let fx2 = m.handle(PeerInput::Timer(Timer::Attempt, t));
        assert_eq!(armed_ms(&fx2, Timer::Retry), retry_delay_ms(attempt));
        let fx3 = m.handle(PeerInput::Timer(Timer::Retry, token(&fx2, Timer::Retry)));
        assert_eq!(fx3, vec![Effect::Reconnect]);
        fx = m.handle(PeerInput::AttemptStarted);
        assert!(reports(&fx).is_empty());
    }
    // The last attempt's driver dies: gave up.
    let fx = m.handle(PeerInput::ConnectionLost);
    assert_eq!(reports(&fx), vec![PeerState::Failed]);
    assert!(fx.contains(&Effect::FailOutbox) && fx.contains(&Effect::Release));
    assert_eq!(m.state(), PeerState::Failed);
    // Nothing more is reported, whatever comes.
    for input in [
        PeerInput::ConnectionLost,
        PeerInput::IceFailed,
        PeerInput::Left,
    ] {
        assert!(m.handle(input).is_empty());
    }
}

#[test]
fn a_dead_driver_is_retried_at_once_after_the_first_backoff_step() {
    let mut m = PeerMachine::new(true, bounds());
    m.handle(PeerInput::AttemptStarted);
    let fx = m.handle(PeerInput::ConnectionLost);
    assert_eq!(armed_ms(&fx, Timer::Retry), RETRY_BASE_DELAY_MS);
    assert!(reports(&fx).is_empty());
}

#[test]
fn setup_gives_up_at_the_connect_timeout() {
    let mut m = PeerMachine::new(true, bounds());
    let fx = m.handle(PeerInput::AttemptStarted);
    let give_up = token(&fx, Timer::GiveUp);
    let fx = m.handle(PeerInput::Timer(Timer::GiveUp, give_up));
    assert_eq!(reports(&fx), vec![PeerState::Failed]);
    assert!(fx.contains(&Effect::FailOutbox));
}

#[test]
fn the_answerer_waits_for_the_initiator_to_retry() {
    let mut m = PeerMachine::new(false, bounds());
    let fx = m.handle(PeerInput::AttemptStarted);
    let fx2 = m.handle(PeerInput::Timer(Timer::Attempt, token(&fx, Timer::Attempt)));
    assert!(fx2.is_empty(), "{fx2:?}");
    assert!(m.handle(PeerInput::NetworkChanged).is_empty());
    // The initiator's fresh connection arrives and opens.
    m.handle(PeerInput::AttemptStarted);
    assert_eq!(
        reports(&m.handle(PeerInput::ChannelOpen)),
        vec![PeerState::Connected]
    );
}

#[test]
fn stale_timers_are_ignored() {
    let mut m = PeerMachine::new(true, bounds());
    let fx = m.handle(PeerInput::AttemptStarted);
    let old = token(&fx, Timer::Attempt);
    m.handle(PeerInput::AttemptStarted); // re-armed
    assert!(m.handle(PeerInput::Timer(Timer::Attempt, old)).is_empty());
    assert!(m.handle(PeerInput::Timer(Timer::Retry, 0)).is_empty());
    m.handle(PeerInput::ChannelOpen);
    // Connected cancels every timer.
    assert!(
        m.handle(PeerInput::Timer(Timer::GiveUp, token(&fx, Timer::GiveUp)))
            .is_empty()
    );
}

#[test]
fn ice_disconnected_interrupts_then_restarts_ice_after_the_named_delay() {
    let mut m = connected(false);
    let fx = m.handle(PeerInput::IceDisconnected);
    assert_eq!(reports(&fx), vec![PeerState::Interrupted]);
    assert_eq!(armed_ms(&fx, Timer::Retry), ICE_RESTART_DELAY_MS);
    assert_eq!(armed_ms(&fx, Timer::GiveUp), RECOVERY_TIMEOUT_MS);
    assert!(!m.writable() && m.live());
    // Disconnected again: no second report.
    assert!(m.handle(PeerInput::IceDisconnected).is_empty());
    let fx = m.handle(PeerInput::Timer(Timer::Retry, token(&fx, Timer::Retry)));
    assert!(fx.contains(&Effect::RestartIce));
    assert_eq!(armed_ms(&fx, Timer::Attempt), ICE_RESTART_TIMEOUT_MS);
    let fx = m.handle(PeerInput::IceConnected);
    assert_eq!(reports(&fx), vec![PeerState::Connected]);
    assert!(fx.contains(&Effect::FlushOutbox));
    assert!(m.writable());
}

#[test]
fn a_blip_that_heals_before_the_restart_reports_two_transitions_and_no_restart() {
    let mut m = connected(true);
    let fx = m.handle(PeerInput::IceDisconnected);
    let retry = token(&fx, Timer::Retry);
    assert_eq!(
        reports(&m.handle(PeerInput::IceConnected)),
        vec![PeerState::Connected]
    );
    assert!(m.handle(PeerInput::Timer(Timer::Retry, retry)).is_empty());
}

#[test]
fn network_change_and_ice_failure_restart_ice_at_once() {
    let mut m = connected(false);
    let fx = m.handle(PeerInput::IceFailed);
    assert_eq!(reports(&fx), vec![PeerState::Interrupted]);
    assert!(fx.contains(&Effect::RestartIce));
    // A network change restarts ICE without interrupting the chat …
    let mut m = connected(false);
    let fx = m.handle(PeerInput::NetworkChanged);
    assert!(reports(&fx).is_empty(), "{fx:?}");
    assert_eq!(armed_ms(&fx, Timer::Retry), NETWORK_SETTLE_MS);
    let fx2 = m.handle(PeerInput::Timer(Timer::Retry, token(&fx, Timer::Retry)));
    assert_eq!(fx2, vec![Effect::RestartIce]);
    // New messages wait while it restarts; they go out when ICE reconnects.
    assert!(!m.writable());
    // … and reports nothing when the restart reconnects in time.
    let attempt = token(&fx, Timer::Attempt);
    assert_eq!(m.handle(PeerInput::IceConnected), vec![Effect::FlushOutbox]);
    assert!(m.writable());
    assert!(
        m.handle(PeerInput::Timer(Timer::Attempt, attempt))
            .is_empty()
    );
    // When it does not, the peer is interrupted and recovery goes on.
    let fx = m.handle(PeerInput::NetworkChanged);
    let fx = m.handle(PeerInput::Timer(Timer::Attempt, token(&fx, Timer::Attempt)));
    assert_eq!(reports(&fx), vec![PeerState::Interrupted]);
    let fx = m.handle(PeerInput::Timer(Timer::Retry, token(&fx, Timer::Retry)));
    assert!(fx.contains(&Effect::RestartIce));
    // While interrupted, a network change restarts again at once.
    let mut m = connected(false);
    m.handle(PeerInput::IceDisconnected);
    let fx = m.handle(PeerInput::NetworkChanged);
    assert!(reports(&fx).is_empty());
    assert!(fx.contains(&Effect::RestartIce));
}

#[test]
fn restarts_that_do_not_reconnect_fall_back_to_a_fresh_connection_on_the_initiator() {
    let mut m = connected(true);
    let mut fx = m.handle(PeerInput::IceFailed); // restart 1
    for _ in 1..MAX_ICE_RESTARTS {
        let fx2 = m.handle(PeerInput::Timer(Timer::Attempt, token(&fx, Timer::Attempt)));
        fx = m.handle(PeerInput::Timer(Timer::Retry, token(&fx2, Timer::Retry)));
        assert!(fx.contains(&Effect::RestartIce), "{fx:?}");
    }
    let fx2 = m.handle(PeerInput::Timer(Timer::Attempt, token(&fx, Timer::Attempt)));
    let fx3 = m.handle(PeerInput::Timer(Timer::Retry, token(&fx2, Timer::Retry)));
    assert!(fx3.contains(&Effect::Reconnect), "{fx3:?}");
    assert!(reports(&fx3).is_empty());
    // The fresh connection's channel opens: Connected, outbox flushed.
    m.handle(PeerInput::AttemptStarted);
    let fx = m.handle(PeerInput::ChannelOpen);
    assert_eq!(reports(&fx), vec![PeerState::Connected]);
    assert!(fx.contains(&Effect::FlushOutbox));
}

#[test]
fn the_answerer_keeps_restarting_ice_and_never_builds_a_connection() {
    let mut m = connected(false);
    let mut fx = m.handle(PeerInput::IceFailed);
    for _ in 0..6 {
        let fx2 = m.handle(PeerInput::Timer(Timer::Attempt, token(&fx, Timer::Attempt)));
        fx = m.handle(PeerInput::Timer(Timer::Retry, token(&fx2, Timer::Retry)));
        assert!(fx.contains(&Effect::RestartIce));
        assert!(!fx.contains(&Effect::Reconnect));
    }
}

#[test]
fn a_lost_channel_makes_the_initiator_reconnect_and_the_answerer_wait() {
    let mut m = connected(true);
    let fx = m.handle(PeerInput::ConnectionLost);
    assert_eq!(reports(&fx), vec![PeerState::Interrupted]);
    assert!(fx.contains(&Effect::Reconnect));
    let mut m = connected(false);
    let fx = m.handle(PeerInput::ConnectionLost);
    assert_eq!(reports(&fx), vec![PeerState::Interrupted]);
    assert!(!fx.contains(&Effect::Reconnect));
}

#[test]
fn recovery_gives_up_after_the_recovery_timeout() {
    let mut m = connected(true);
    let fx = m.handle(PeerInput::IceDisconnected);
    let fx = m.handle(PeerInput::Timer(Timer::GiveUp, token(&fx, Timer::GiveUp)));
    assert_eq!(reports(&fx), vec![PeerState::Failed]);
    assert!(fx.contains(&Effect::FailOutbox) && fx.contains(&Effect::Release));
}

#[test]
fn leaving_is_closed_once_from_every_live_state() {
    let mut fresh = PeerMachine::new(true, bounds());
    fresh.handle(PeerInput::AttemptStarted);
    let mut interrupted = connected(true);
    interrupted.handle(PeerInput::IceDisconnected);
    for mut m in [fresh, connected(false), interrupted] {
        let fx = m.handle(PeerInput::Left);
        assert_eq!(reports(&fx), vec![PeerState::Closed]);
        assert!(fx.contains(&Effect::FailOutbox) && fx.contains(&Effect::Release));
        assert!(m.handle(PeerInput::Left).is_empty());
        assert!(m.handle(PeerInput::RemoteReplaced).is_empty());
        assert!(!m.live());
    }
}

#[test]
fn a_failed_peer_that_offers_again_starts_over() {
    let mut m = PeerMachine::new(false, bounds());
    let fx = m.handle(PeerInput::AttemptStarted);
    m.handle(PeerInput::Timer(Timer::GiveUp, token(&fx, Timer::GiveUp)));
    let fx = m.handle(PeerInput::RemoteReplaced);
    assert_eq!(reports(&fx), vec![PeerState::Connecting]);
    let fx = m.handle(PeerInput::AttemptStarted);
    assert!(reports(&fx).is_empty());
    token(&fx, Timer::GiveUp);
    assert_eq!(
        reports(&m.handle(PeerInput::ChannelOpen)),
        vec![PeerState::Connected]
    );
}

#[test]
fn retry_delays_double_to_their_cap() {
    let delays: Vec<u64> = (1..=7).map(retry_delay_ms).collect();
    assert_eq!(delays, vec![250, 500, 1000, 2000, 4000, 4000, 4000]);
    assert_eq!(retry_delay_ms(0), 250);
    assert_eq!(retry_delay_ms(u32::MAX), RETRY_MAX_DELAY_MS);
}

#[test]
fn a_timer_of_a_removed_peer_never_matches_its_successor() {
    let mut old = PeerMachine::new(true, bounds());
    let fx = old.handle(PeerInput::AttemptStarted);
    let stale = token(&fx, Timer::GiveUp);
    // The peer left and came back under the same id: a new machine.
    let mut new = PeerMachine::new(true, bounds());
    new.handle(PeerInput::AttemptStarted);
    assert!(
        new.handle(PeerInput::Timer(Timer::GiveUp, stale))
            .is_empty()
    );
    assert_eq!(new.state(), PeerState::Connecting);
}

#[test]
fn a_fresh_connection_ends_an_interruption_only_when_its_channel_opens() {
    let mut m = connected(true);
    m.handle(PeerInput::ConnectionLost);
    m.handle(PeerInput::AttemptStarted);
    assert!(reports(&m.handle(PeerInput::IceConnected)).is_empty());
    assert!(!m.writable());
    assert_eq!(
        reports(&m.handle(PeerInput::ChannelOpen)),
        vec![PeerState::Connected]
    );
}
