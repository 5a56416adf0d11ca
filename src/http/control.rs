//! `POST /control` (change the running service) and `GET /events` (its
//! recent log lines), for operators and for `tars-camera attach`.
//!
//! Who may control: with HTTP authentication configured, a client that
//! authenticated; with none, loopback clients only.

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::Ordering;
use std::sync::mpsc::sync_channel;
use std::time::Duration;

use serde::Serialize;
use serde_json::json;

use super::HttpContext;
use super::auth::AuthOutcome;
use super::exchange::Exchange;
use super::response::Response;
use crate::control::{Command, ControlError, Reply, request};

/// How long a request waits for the service to apply it.
pub const APPLY_TIMEOUT: Duration = Duration::from_secs(5);

/// Why a client may not control the service, or `None` when it may.
#[must_use]
pub fn refusal(auth_enabled: bool, auth: AuthOutcome, peer: SocketAddr) -> Option<String> {
    if auth_enabled {
        return (!auth.authenticated())
            .then(|| "control needs authentication (--http-auth or --http-token)".to_owned());
    }
    let loopback = match peer.ip() {
        IpAddr::V4(ip) => ip.is_loopback(),
        IpAddr::V6(ip) => ip.to_canonical().is_loopback(),
    };
    (!loopback).then(|| {
        format!(
            "control from {} refused: with no HTTP authentication only loopback clients \
             (127.0.0.1, ::1) may control the service. To allow other hosts, set \
             --http-auth USER:PASSWORD (CAMERA_HTTP_AUTH) or --http-token TOKEN \
             (CAMERA_HTTP_TOKEN) and send those credentials",
            peer.ip()
        )
    })
}

fn json_response(status: u16, body: &serde_json::Value) -> Response {
    Response::new(status, "application/json", body.to_string())
        .with_header("Cache-Control", "no-store")
}

fn error_response(status: u16, message: &str) -> Response {
    json_response(status, &json!({"ok": false, "error": message}))
}

/// `POST /control`: check who asks, parse the whole body, hand it to the
/// service's command task, answer with what was applied and the values now.
pub fn serve(exchange: &Exchange<'_>, ctx: &HttpContext) -> Response {
    let response = answer(exchange, ctx);
    let tally = if response.status == 200 {
        &ctx.counters.control_applied
    } else {
        &ctx.counters.control_refused
    };
    tally.fetch_add(1, Ordering::Relaxed);
    response
}

fn answer(exchange: &Exchange<'_>, ctx: &HttpContext) -> Response {
    if let Some(why) = refusal(ctx.auth.enabled(), exchange.auth, exchange.peer) {
        tracing::info!("http {}: POST /control: {why}", exchange.peer);
        return error_response(403, &why);
    }
    let request = exchange.request;
    if !super::browser::same_origin(request.header("origin"), request.header("host")) {
        let why = "control from another site's page refused (Origin is not this service)";
        tracing::info!("http {}: POST /control: {why}", exchange.peer);
        return error_response(403, why);
    }
    if !super::browser::is_json(request.header("content-type")) {
        return error_response(
            415,
            "control requests must be sent as Content-Type: application/json",
        );
    }
    let Some(commands) = &ctx.commands else {
        return error_response(503, "this server takes no control requests");
    };
    let parsed = request::parse(&exchange.request.body, false);
    let (control, _) = match parsed {
        Ok(parsed) => parsed,
        Err(e) => return error_response(400, &e.to_string()),
    };
    let (tx, rx) = sync_channel(1);
    let reply = Reply::new(move |outcome| {
        let _ = tx.try_send(outcome);
    });
    let sent = commands.try_send(Command::Apply(control, reply));
    let outcome = match sent {
        Ok(()) => rx
            .recv_timeout(APPLY_TIMEOUT)
            .unwrap_or(Err(ControlError::Busy)),
        Err(tokio::sync::mpsc::error::TrySendError::Full(_)) => Err(ControlError::Busy),
        Err(tokio::sync::mpsc::error::TrySendError::Closed(_)) => Err(ControlError::Stopped),
    };
    match outcome {
        Ok(applied) => {
            let shown = serde_json::Value::Object(applied.applied.clone()).to_string();
            tracing::info!("http {}: control applied: {shown}", exchange.peer);
            json_response(
                200,
                &json!({"ok": true, "applied": applied.applied, "status": applied.status}),
            )
        }
        Err(e @ ControlError::Snapshot(_)) => error_response(503, &e.to_string()),
        Err(e @ ControlError::Save(crate::control::save::SaveError::NoFile(_))) => {
            error_response(409, &e.to_string())
        }
        Err(e @ ControlError::Save(_)) => error_response(500, &e.to_string()),
        Err(ControlError::Controls(c)) => {
            use crate::capture::controls::ControlsError as C;
            let code = match &c {
                // The camera said no, or is not there now: the request was fine.
                C::Driver { .. } | C::NotOpen => 409,
                C::Unavailable => 503,
                _ => 400,
            };
            error_response(code, &ControlError::Controls(c).to_string())
        }
        Err(ControlError::Mode(m)) => {
            use crate::capture::mode::ModeError as M;
            let code = match &m {
                // The camera refused a mode it listed: the request was fine.
                M::Refused { .. } => 409,
                M::Unavailable => 503,
                M::Fixed(_) | M::NotOffered { .. } => 400,
            };
            error_response(code, &ControlError::Mode(m).to_string())
        }
        Err(e @ (ControlError::Busy | ControlError::Stopped)) => {
            error_response(503, &e.to_string()).with_header("Retry-After", "1")
        }
        Err(e) => error_response(400, &e.to_string()),
    }
}

/// One log line as `/events` serves it.
#[derive(Debug, Serialize)]
struct Line {
    level: String,
    text: String,
}

/// `GET /events`: the recent log lines, oldest first, and a generation that
/// grows by one per line logged (so a reader knows how many are new).
pub fn events(ctx: &HttpContext) -> Response {
    let generation = ctx.events.generation();
    let lines: Vec<Line> = ctx
        .events
        .recent(usize::MAX)
        .into_iter()
        .map(|l| Line {
            level: l.level.to_string(),
            text: l.text,
        })
        .collect();
    json_response(200, &json!({"generation": generation, "lines": lines}))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer(s: &str) -> SocketAddr {
        s.parse().expect("address")
    }

    #[test]
    fn loopback_only_without_auth_authenticated_only_with() {
        assert!(refusal(false, AuthOutcome::Open, peer("127.0.0.1:5000")).is_none());
        assert!(refusal(false, AuthOutcome::Open, peer("[::1]:5000")).is_none());
        assert!(refusal(false, AuthOutcome::Open, peer("[::ffff:127.0.0.1]:5000")).is_none());
        let far = refusal(false, AuthOutcome::Open, peer("192.0.2.9:5000")).expect("refused");
        assert!(
            far.contains("--http-auth") && far.contains("--http-token"),
            "{far}"
        );
        assert!(refusal(true, AuthOutcome::Bearer, peer("192.0.2.9:5000")).is_none());
        assert!(refusal(true, AuthOutcome::Basic, peer("127.0.0.1:1")).is_none());
        assert!(refusal(true, AuthOutcome::Denied, peer("127.0.0.1:1")).is_some());
    }
}
