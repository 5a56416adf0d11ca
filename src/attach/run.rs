//! Running the attached UI in the terminal until `q` or a signal; the
//! service keeps running.

use color_eyre::eyre::{Result, WrapErr, eyre};

use super::{Credentials, Target};
use crate::config::HttpCredentials;
use crate::events::EventLog;

/// What `tars-camera attach` takes.
#[derive(Debug, Clone, clap::Args)]
#[command(
    mut_arg("http_auth", |a| a.help("Basic credentials the service requires")),
    mut_arg("http_token", |a| a.help("Token the service requires"))
)]
pub struct AttachArgs {
    /// The service's address, HOST:PORT or http://HOST:PORT [default: http://127.0.0.1:<--http-port>]
    #[arg(value_name = "ADDRESS")]
    pub url: Option<String>,
    /// The service's HTTP port, for the default URL
    #[arg(long, env = "CAMERA_HTTP_PORT", default_value_t = 8080)]
    pub http_port: u16,
    #[command(flatten)]
    pub credentials: HttpCredentials,
    /// Preview pictures per second
    #[arg(long, env = "CAMERA_PREVIEW_FPS", default_value_t = 4.0)]
    pub preview_fps: f64,
}

impl AttachArgs {
    /// The target these arguments name.
    ///
    /// # Errors
    /// The URL is not `http://HOST:PORT`.
    pub fn target(&self) -> Result<Target, super::ClientError> {
        let url = self
            .url
            .clone()
            .unwrap_or_else(|| format!("http://127.0.0.1:{}", self.http_port));
        let credentials = Credentials {
            basic: self.credentials.http_auth.clone(),
            token: self.credentials.http_token.clone(),
        };
        Target::parse(&url, credentials)
    }
}

/// Attach to `target` and run the UI on this terminal until `q` or a
/// signal. `note` goes to the Events pane first (why the UI attached).
///
/// # Errors
/// The terminal, the runtime or the poller could not start.
pub fn run(target: Target, preview_fps: f64, events: EventLog, note: Option<String>) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("tars-attach")
        .enable_all()
        .build()
        .wrap_err("cannot start the runtime")?;
    let result = runtime.block_on(async move {
        if let Some(note) = note {
            tracing::info!("{note}");
        }
        let (link, remote, guard) = super::start(target, preview_fps, events).wrap_err("attach")?;
        let ui = tokio::select! {
            r = crate::tui::run_terminal_attached(link, remote) => r.wrap_err("terminal"),
            signal = crate::signals::termination() => signal
                .map(|s| tracing::info!("{s}: leaving"))
                .map_err(|e| eyre!("signals: {e}")),
        };
        drop(guard);
        ui
    });
    runtime.shutdown_timeout(std::time::Duration::from_millis(200));
    result
}
