//! The signals that stop the program, for both runners (UI and headless).

/// Resolves on SIGINT or SIGTERM with the signal's name.
///
/// # Errors
/// The signal handlers could not be installed.
pub async fn termination() -> std::io::Result<&'static str> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    Ok(tokio::select! {
        _ = term.recv() => "SIGTERM",
        _ = int.recv() => "SIGINT",
    })
}
