//! Fixtures of the TURN tests: a private coturn `turnserver` on loopback, and a tap on the
//! signaling WebSocket that records every ICE candidate an engine sends.

pub mod coturn;
pub mod tap;
