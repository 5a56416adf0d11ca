//! The routes: a table of path, methods and handler. A handler sees the
//! request, the peer's address and how it authenticated, so a route can ask
//! for more than the server-wide check (e.g. loopback or an authenticated
//! client only).

use std::net::TcpStream;
use std::sync::atomic::Ordering;

use super::exchange::{Exchange, Outcome};
use super::response::Response;
use super::{HttpContext, console, control, status_events, stream};
use crate::metrics::Format;

type Handler = fn(&Exchange<'_>, &HttpContext, &mut TcpStream) -> Outcome;

struct Route {
    path: &'static str,
    methods: &'static [&'static str],
    handler: Handler,
}

const GET: &[&str] = &["GET", "HEAD"];

const ROUTES: &[Route] = &[
    Route {
        path: "/",
        methods: GET,
        handler: |_, _, _| Outcome::Reply(console::page()),
    },
    Route {
        path: "/stream",
        methods: GET,
        handler: stream::serve,
    },
    Route {
        path: "/snapshot",
        methods: GET,
        handler: |_, ctx, _| Outcome::Reply(snapshot(ctx)),
    },
    Route {
        path: "/status",
        methods: GET,
        handler: |_, ctx, _| Outcome::Reply(status(ctx)),
    },
    Route {
        path: "/status/events",
        methods: GET,
        handler: status_events::serve,
    },
    Route {
        path: "/controls",
        methods: GET,
        handler: |_, ctx, _| Outcome::Reply(controls(ctx)),
    },
    Route {
        path: "/modes",
        methods: GET,
        handler: |_, ctx, _| Outcome::Reply(modes(ctx)),
    },
    Route {
        path: "/events",
        methods: GET,
        handler: |_, ctx, _| Outcome::Reply(control::events(ctx)),
    },
    Route {
        path: "/control",
        methods: &["POST"],
        handler: |exchange, ctx, _| Outcome::Reply(control::serve(exchange, ctx)),
    },
    Route {
        path: "/metrics",
        methods: GET,
        handler: |exchange, ctx, _| Outcome::Reply(metrics(exchange, ctx)),
    },
];

/// How many routes there are.
pub const COUNT: usize = ROUTES.len();

/// The routes' paths, in table order.
pub fn paths() -> impl Iterator<Item = &'static str> {
    ROUTES.iter().map(|r| r.path)
}

/// Find the route and run it: 404 for an unknown path, 405 (with `Allow`)
/// for a method the route does not take.
pub fn dispatch(exchange: &Exchange<'_>, ctx: &HttpContext, socket: &mut TcpStream) -> Outcome {
    let request = exchange.request;
    let found = ROUTES.iter().position(|r| r.path == request.path);
    if let Some(counter) = ctx.counters.requests.get(found.unwrap_or(COUNT)) {
        counter.fetch_add(1, Ordering::Relaxed);
    }
    let Some(route) = found.and_then(|i| ROUTES.get(i)) else {
        let paths: Vec<&str> = ROUTES.iter().skip(1).map(|r| r.path).collect();
        return Outcome::Reply(Response::text(
            404,
            format!("not found: try {}\n", paths.join(", ")),
        ));
    };
    if !route.methods.contains(&request.method.as_str()) {
        let allow = route.methods.join(", ");
        return Outcome::Reply(
            Response::text(405, format!("method not allowed: use {allow}\n"))
                .with_header("Allow", allow),
        );
    }
    (route.handler)(exchange, ctx, socket)
}

/// The metrics in the format the scraper asks for (Prometheus text unless
/// its `Accept` names OpenMetrics).
fn metrics(exchange: &Exchange<'_>, ctx: &HttpContext) -> Response {
    let format = Format::from_accept(exchange.request.header("accept"));
    match ctx.metrics.render(format) {
        Ok(text) => {
            Response::new(200, format.content_type(), text).with_header("Cache-Control", "no-store")
        }
        Err(e) => Response::text(500, format!("metrics could not be written: {e}\n")),
    }
}

fn status(ctx: &HttpContext) -> Response {
    let body = serde_json::to_string_pretty(&*ctx.status.borrow())
        .unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"));
    Response::json(body)
}

/// The camera's controls: each with its type, range, menu items, value and
/// flags (`inactive`, `read_only`, `grabbed`).
fn controls(ctx: &HttpContext) -> Response {
    let status = ctx.status.borrow();
    let body = serde_json::json!({
        "device": status.capture.device,
        "controls": status.controls,
    });
    Response::json(
        serde_json::to_string_pretty(&body).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}")),
    )
}

/// The mode now and the sizes and rates the source offers.
fn modes(ctx: &HttpContext) -> Response {
    let body = serde_json::to_string_pretty(&ctx.status.borrow().modes)
        .unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"));
    Response::json(body)
}

/// The latest JPEG, or 503 with the reason there is none.
fn snapshot(ctx: &HttpContext) -> Response {
    if let Some(lost) = ctx.hub.no_signal() {
        return Response::text(503, format!("no signal: {}\n", lost.reason))
            .with_header("Retry-After", "1");
    }
    let Some(frame) = ctx.hub.latest() else {
        return Response::text(
            503,
            "no frame yet: the camera has not delivered a picture\n",
        )
        .with_header("Retry-After", "1");
    };
    Response::new(200, "image/jpeg", frame.jpeg.clone())
        .with_header("Cache-Control", "no-store")
        .with_header("X-Frame-Seq", frame.seq.to_string())
        .with_header("X-Timestamp", format!("{:.6}", frame.timestamp()))
}
