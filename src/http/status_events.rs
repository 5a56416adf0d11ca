//! `GET /status/events`: the status, the recent log lines and the camera's
//! controls as Server-Sent Events, for the web console.
//!
//! The server gives every connection a thread, so a page that polled
//! `/status` and `/events` each second would hold a kept-alive connection
//! and its thread all the same, and add two parsed requests a second; here
//! the same thread writes a status line each second and the rest only when
//! it changes. Like `/stream`, each write must be taken within the client
//! timeout, and at most `max_clients` pages watch at once.
//!
//! Events, each `data:` one line of JSON:
//! - `hello` (first, once): what this client may do: `control` (may it
//!   `POST /control`), `why` (when not), `save` (is there a config file to
//!   save into), `auth` (the configured mode);
//! - `status`: `/status`, at once and then every [`STATUS_EVERY`];
//! - `events`: `{"generation", "lines"}`, the recent lines at first, then
//!   the new ones;
//! - `controls`: `/controls`, at first and when a value or flag changes.

use std::io::{self, Write};
use std::net::TcpStream;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use serde_json::json;

use super::connection::DeadlineWriter;
use super::exchange::{Exchange, Outcome};
use super::heads::State;
use super::response::Response;
use super::{HttpContext, StreamCounters};

/// How often the status goes out.
pub const STATUS_EVERY: Duration = Duration::from_secs(1);
/// How often the log and the controls are looked at (and the server's stop).
const TICK: Duration = Duration::from_millis(250);
/// Log lines sent at most in one `events` event.
pub const MAX_LINES: usize = 50;
/// How long a browser waits before it connects again after a drop.
const RETRY_MS: u64 = 1000;

/// Holds a watcher's slot; gives it back however the stream ends.
struct WatcherSlot<'a>(&'a StreamCounters);

impl Drop for WatcherSlot<'_> {
    fn drop(&mut self) {
        self.0.watchers.fetch_sub(1, Ordering::Relaxed);
    }
}

pub fn serve(exchange: &Exchange<'_>, ctx: &HttpContext, socket: &mut TcpStream) -> Outcome {
    let counters = &ctx.counters;
    let max = ctx.limits.max_clients;
    let taken = counters
        .watchers
        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
            (n < max).then_some(n + 1)
        });
    if taken.is_err() {
        return Outcome::Reply(
            Response::text(503, format!("too many status watchers (max {max})\n"))
                .with_header("Retry-After", "5"),
        );
    }
    let _slot = WatcherSlot(counters);
    if let Err(e) = watch(exchange, ctx, socket) {
        tracing::debug!("http {}: /status/events ended: {e}", exchange.peer);
    }
    Outcome::Took
}

/// What this client may do, for the page to show controls or say why not.
#[must_use]
pub fn hello(exchange: &Exchange<'_>, ctx: &HttpContext) -> serde_json::Value {
    let why = super::control::refusal(ctx.auth.enabled(), exchange.auth, exchange.peer);
    json!({
        "control": why.is_none() && ctx.commands.is_some(),
        "why": why,
        "save": ctx.saves,
        "auth": ctx.auth.mode(),
    })
}

/// Write the head and the first events, then the changes until the client
/// goes or the server stops.
fn watch(exchange: &Exchange<'_>, ctx: &HttpContext, socket: &mut TcpStream) -> io::Result<()> {
    let timeout = ctx.limits.client_timeout;
    let mut send = |text: &str| {
        if let Some(r) = exchange.registered {
            r.set(State::Writing);
        }
        let mut out = DeadlineWriter::new(socket, timeout);
        let written = out.write_all(text.as_bytes()).and_then(|()| out.flush());
        if let Some(r) = exchange.registered {
            r.set(State::Busy);
        }
        written
    };
    send(
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream; charset=utf-8\r\n\
         Cache-Control: no-store\r\nX-Accel-Buffering: no\r\nConnection: close\r\n\r\n",
    )?;
    if exchange.request.is_head() {
        return Ok(());
    }
    let mut first = format!("retry: {RETRY_MS}\n\n");
    first.push_str(&event("hello", &hello(exchange, ctx)));
    send(&first)?;
    let mut seen = Seen::default();
    let mut status_due = Instant::now();
    while !ctx.stopping() {
        let mut batch = String::new();
        if Instant::now() >= status_due {
            status_due = Instant::now() + STATUS_EVERY;
            batch.push_str(&status_event(ctx));
        }
        seen.changes(ctx, &mut batch);
        if !batch.is_empty() {
            send(&batch)?;
        }
        std::thread::sleep(TICK);
    }
    Ok(())
}

/// What this watcher was last sent.
#[derive(Default)]
struct Seen {
    generation: Option<u64>,
    controls: Option<String>,
}

impl Seen {
    /// The `events` and `controls` events due, appended to `batch`.
    fn changes(&mut self, ctx: &HttpContext, batch: &mut String) {
        let generation = ctx.events.generation();
        if self.generation != Some(generation) {
            let new = self.generation.map_or(MAX_LINES, |g| {
                usize::try_from(generation.saturating_sub(g)).unwrap_or(MAX_LINES)
            });
            let lines: Vec<_> = ctx
                .events
                .recent(new.min(MAX_LINES))
                .into_iter()
                .map(|l| json!({"level": l.level.to_string(), "text": l.text}))
                .collect();
            self.generation = Some(generation);
            batch.push_str(&event(
                "events",
                &json!({"generation": generation, "lines": lines}),
            ));
        }
        let controls = {
            let status = ctx.status.borrow();
            json!({"device": status.capture.device, "controls": status.controls}).to_string()
        };
        if self.controls.as_ref() != Some(&controls) {
            batch.push_str(&format!("event: controls\ndata: {controls}\n\n"));
            self.controls = Some(controls);
        }
    }
}

fn status_event(ctx: &HttpContext) -> String {
    let body = serde_json::to_string(&*ctx.status.borrow())
        .unwrap_or_else(|e| json!({"error": e.to_string()}).to_string());
    format!("event: status\ndata: {body}\n\n")
}

/// One event: compact JSON has no line breaks, so one `data:` line.
fn event(name: &str, data: &serde_json::Value) -> String {
    format!("event: {name}\ndata: {data}\n\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context(auth: super::super::AuthConfig) -> HttpContext {
        let (_, status) = tokio::sync::watch::channel(crate::stats::Status::default());
        let (commands, _) = tokio::sync::mpsc::channel(1);
        HttpContext::new(
            std::sync::Arc::new(crate::frame::FrameHub::new()),
            status,
            std::sync::Arc::default(),
            super::super::Limits::default(),
            auth,
        )
        .with_commands(commands)
    }

    fn hello_to(
        ctx: &HttpContext,
        peer: &str,
        auth: super::super::AuthOutcome,
    ) -> serde_json::Value {
        let request = super::super::request::parse_head(b"GET /status/events HTTP/1.1\r\n\r\n")
            .expect("request");
        let exchange = Exchange {
            request: &request,
            peer: peer.parse().expect("address"),
            auth,
            registered: None,
        };
        hello(&exchange, ctx)
    }

    #[test]
    fn hello_says_who_may_change_settings_and_why_not() {
        use super::super::{AuthConfig, AuthOutcome, Secret};
        let open = context(AuthConfig::default());
        let near = hello_to(&open, "127.0.0.1:5000", AuthOutcome::Open);
        assert_eq!(near["control"], true, "{near}");
        assert_eq!(near["save"], false);
        let far = hello_to(&open, "192.0.2.9:5000", AuthOutcome::Open);
        assert_eq!(far["control"], false, "{far}");
        let why = far["why"].as_str().unwrap_or("");
        assert!(
            why.contains("--http-auth") && why.contains("--http-token"),
            "{why}"
        );
        let token =
            AuthConfig::new(None, Some("t0ken".parse::<Secret>().expect("secret"))).expect("auth");
        let guarded = context(token).with_config_file(true);
        let far = hello_to(&guarded, "192.0.2.9:5000", AuthOutcome::QueryToken);
        assert_eq!(far["control"], true, "{far}");
        assert_eq!(far["save"], true);
        assert_eq!(far["auth"], "token");
    }

    #[test]
    fn an_event_is_one_data_line() {
        let e = event("status", &json!({"text": "a\nb"}));
        assert_eq!(e, "event: status\ndata: {\"text\":\"a\\nb\"}\n\n");
    }
}
