//! `tars-camera attach`: the terminal UI over a service in another process.
//!
//! It feeds the same [`UiLink`] the in-process UI uses, from HTTP:
//! - a poller thread reads `/status` at the service's status period into a
//!   `watch`, `/snapshot` at `--preview-fps` into a local [`FrameHub`], and
//!   `/events` (the service's recent log lines) once a second into the
//!   Events pane; when the service does not answer it backs off and retries,
//!   and carries on by itself when it is back;
//! - a task turns the keys' [`Command`]s into `POST /control` requests.
//!
//! Quitting the UI leaves the service running.
//!
//! - [`client`]: the blocking HTTP client.
//! - [`keys`]: a key's command as a control request.

pub mod client;
pub mod keys;
mod poll;
pub mod run;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;

use tokio::sync::{mpsc, watch};

pub use client::{ClientError, Credentials, Target};

use crate::control::Command;
use crate::events::EventLog;
use crate::frame::FrameHub;
use crate::stats::Status;
use crate::tui::{RemoteView, UiLink};

/// Start polling `target` and sending commands to it: returns the UI's
/// link, the view of the service, and the guard that stops the poller.
/// Call inside a tokio runtime (the command task runs on it).
///
/// # Errors
/// The poller thread could not start.
pub fn start(
    target: Target,
    preview_fps: f64,
    events: EventLog,
) -> std::io::Result<(UiLink, RemoteView, PollerGuard)> {
    let remote = RemoteView::new(target.url.clone());
    let hub = Arc::new(FrameHub::new());
    let (status_tx, status_rx) = watch::channel(Status::default());
    let status_tx = Arc::new(status_tx);
    let (commands_tx, commands_rx) = mpsc::channel::<Command>(32);
    let stop = Arc::new(AtomicBool::new(false));
    let poller = poll::Poller {
        target: target.clone(),
        status: Arc::clone(&status_tx),
        hub: Arc::clone(&hub),
        events: events.clone(),
        remote: remote.clone(),
        preview_fps,
        stop: Arc::clone(&stop),
    };
    let poller = std::thread::Builder::new()
        .name("attach-poll".into())
        .spawn(move || poller.run())?;
    tokio::spawn(keys::send_commands(target, commands_rx, status_tx));
    tracing::info!("attached to {}", remote.url());
    let link = UiLink {
        status: status_rx,
        frames: hub,
        commands: commands_tx,
        preview_fps,
        events,
        // The preview decodes on this side: libjpeg-turbo when present.
        codec: crate::encode::Codec::auto(),
    };
    let guard = PollerGuard {
        stop,
        poller: Some(poller),
    };
    Ok((link, remote, guard))
}

/// Stops the poller when dropped (it notices within one status period).
#[derive(Debug)]
pub struct PollerGuard {
    stop: Arc<AtomicBool>,
    poller: Option<JoinHandle<()>>,
}

impl Drop for PollerGuard {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(p) = self.poller.take()
            && p.is_finished()
        {
            let _ = p.join();
        }
    }
}

/// Does a tars-camera answer at `target`? (Its `/status` parses as ours;
/// a 401 with our realm counts too: it is one, and wants credentials.)
#[must_use]
pub fn is_tars_camera(target: &Target) -> bool {
    match target.get("/status") {
        Ok(r) if r.status == 200 => serde_json::from_slice::<Status>(&r.body).is_ok(),
        Ok(r) if r.status == 401 => r
            .header("WWW-Authenticate")
            .is_some_and(|h| h.contains(crate::http::auth::REALM)),
        _ => false,
    }
}
