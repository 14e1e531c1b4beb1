//! `GET /metrics`: the server's metrics in the Prometheus text exposition format (version
//! 0.0.4), from the `prometheus-client` crate. One registry per server.
//!
//! | Metric | Type | Labels | Meaning |
//! |---|---|---|---|
//! | `peerchat_connections` | gauge | | WebSocket clients connected now |
//! | `peerchat_rooms` | gauge | | rooms open now |
//! | `peerchat_logins` | gauge | | logins held now |
//! | `peerchat_connections_accepted_total` | counter | | WebSocket clients accepted |
//! | `peerchat_relayed_messages_total` | counter | `type` | relayed `offer`/`answer`/`ice_candidate` |
//! | `peerchat_errors_total` | counter | `code` | `error` messages sent, by code |
//! | `peerchat_limit_hits_total` | counter | `limit` | connections refused or closed by a limit |
//! | `peerchat_relay_seconds` | histogram | | time from reading a relayed message to queueing it for its target |

use std::sync::Arc;

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use peerchat_core::protocol::ServerMessage;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::hub::Shared;

/// Path of the metrics endpoint.
pub const METRICS_PATH: &str = "/metrics";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TypeLabel {
    r#type: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CodeLabel {
    code: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LimitLabel {
    limit: &'static str,
}

/// The metrics of one server (see the module docs).
pub struct Metrics {
    registry: Registry,
    connections: Gauge,
    rooms: Gauge,
    logins: Gauge,
    accepted: Counter,
    relayed: Family<TypeLabel, Counter>,
    errors: Family<CodeLabel, Counter>,
    limits: Family<LimitLabel, Counter>,
    relay_seconds: Histogram,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("peerchat");
        let m = Self {
            connections: Gauge::default(),
            rooms: Gauge::default(),
            logins: Gauge::default(),
            accepted: Counter::default(),
            relayed: Family::default(),
            errors: Family::default(),
            limits: Family::default(),
            // 10 µs .. ~1.3 s
            relay_seconds: Histogram::new(exponential_buckets(0.000_01, 4.0, 9)),
            registry: Registry::default(),
        };
        registry.register(
            "connections",
            "WebSocket clients connected now",
            m.connections.clone(),
        );
        registry.register("rooms", "Rooms open now", m.rooms.clone());
        registry.register("logins", "Logins held now", m.logins.clone());
        registry.register(
            "connections_accepted",
            "WebSocket clients accepted",
            m.accepted.clone(),
        );
        registry.register(
            "relayed_messages",
            "Relayed offer/answer/ice_candidate messages",
            m.relayed.clone(),
        );
        registry.register("errors", "error messages sent, by code", m.errors.clone());
        registry.register(
            "limit_hits",
            "Connections refused or closed by a limit",
            m.limits.clone(),
        );
        registry.register(
            "relay_seconds",
            "Time from reading a relayed message to queueing it for its target",
            m.relay_seconds.clone(),
        );
        Self { registry, ..m }
    }
}

impl Metrics {
    /// A fresh registry.
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// Counts one accepted WebSocket client.
    pub fn accepted(&self) {
        self.accepted.inc();
    }

    /// Counts one hit of `limit` (`per_ip_cap`, `total_cap`, `client_cap`, `ping_flood`,
    /// `slow_reader`, `upgrade_deadline`, `too_big`).
    pub fn limit_hit(&self, limit: &'static str) {
        self.limits.get_or_create(&LimitLabel { limit }).inc();
    }

    /// Counts what one outgoing message is: a relay (by type) or an error (by code).
    pub fn outgoing(&self, msg: &ServerMessage) {
        let relayed = match msg {
            ServerMessage::Offer { .. } => "offer",
            ServerMessage::Answer { .. } => "answer",
            ServerMessage::IceCandidate { .. } => "ice_candidate",
            ServerMessage::Error { code, .. } => {
                self.errors
                    .get_or_create(&CodeLabel {
                        code: code.as_str(),
                    })
                    .inc();
                return;
            }
            _ => return,
        };
        self.relayed
            .get_or_create(&TypeLabel { r#type: relayed })
            .inc();
    }

    /// Records the handling time of one relayed message.
    pub fn relay_time(&self, seconds: f64) {
        self.relay_seconds.observe(seconds);
    }

    fn render(&self, shared: &Shared) -> String {
        {
            let hub = shared.hub();
            self.connections.set(hub.clients() as i64);
            self.rooms.set(hub.rooms() as i64);
            self.logins.set(hub.logins() as i64);
        }
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }
}

/// `GET /metrics`.
pub async fn handler(State(shared): State<Arc<Shared>>) -> Response {
    let body = shared.metrics.render(&shared);
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        body,
    )
        .into_response()
}
