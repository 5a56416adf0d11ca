//! The signals that stop the program, for both runners (UI and headless).

use tokio::signal::unix::{Signal, SignalKind, signal};

/// SIGTERM and SIGINT, caught from the moment this is made: one that comes
/// while the service is still starting (a `systemctl stop` right after
/// `start`) waits here and stops it cleanly once it runs, instead of
/// killing the process.
#[derive(Debug)]
pub struct Termination {
    term: Signal,
    int: Signal,
}

impl Termination {
    /// Install the handlers (inside a tokio runtime).
    ///
    /// # Errors
    /// The signal handlers could not be installed.
    pub fn catch() -> std::io::Result<Self> {
        Ok(Self {
            term: signal(SignalKind::terminate())?,
            int: signal(SignalKind::interrupt())?,
        })
    }

    /// Resolves on the first SIGTERM or SIGINT (also one that came before
    /// this was awaited) with the signal's name.
    pub async fn recv(&mut self) -> &'static str {
        tokio::select! {
            _ = self.term.recv() => "SIGTERM",
            _ = self.int.recv() => "SIGINT",
        }
    }
}

/// Resolves on SIGINT or SIGTERM with the signal's name.
///
/// # Errors
/// The signal handlers could not be installed.
pub async fn termination() -> std::io::Result<&'static str> {
    Ok(Termination::catch()?.recv().await)
}
