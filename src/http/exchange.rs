//! What a route handler is given and what it returns: the types the route
//! table and the handlers (`control`, `stream`) share, so the table imports
//! the handlers and no handler imports the table.

use std::net::SocketAddr;

use super::auth::AuthOutcome;
use super::heads::Registered;
use super::request::Request;
use super::response::Response;

/// One request as a handler sees it.
#[derive(Debug, Clone, Copy)]
pub struct Exchange<'a> {
    pub request: &'a Request,
    pub peer: SocketAddr,
    pub auth: AuthOutcome,
    /// The connection's place among the evictable ones (a stream marks
    /// itself writing while a part goes out).
    pub registered: Option<&'a Registered<'a>>,
}

/// What a handler did.
#[derive(Debug)]
pub enum Outcome {
    /// Answer this (the connection writes it; HEAD gets no body).
    Reply(Response),
    /// The handler wrote to the socket itself; the connection closes.
    Took,
}
