//! tars-camera: the camera service of the TARS robot.
//!
//! Module map (data flows source → capture → encode → frame hub → consumers):
//! - [`cli`]: the program's edge: command line, exit status, error reports.
//! - [`config`]: options from flags, environment and TOML file, parsed once.
//! - [`capture`]: frame sources (test pattern, camera) and the capture thread.
//! - [`encode`]: JPEG encoding and rotation/flip.
//! - [`frame`]: the `Frame` type and the latest-frame hub.
//! - [`http`]: `/stream`, `/snapshot`, `/status` on a bounded server of its own, with auth.
//! - [`broker`]: the embedded MQTT broker (feature `embedded-broker`).
//!   The MQTT client itself is the crate `tars_mqtt` (crates/tars-mqtt).
//! - [`control`]: commands that change the running service, and their effect.
//! - [`stats`]: meters, counters and the status snapshot's types.
//! - [`service`]: starts, wires and stops the parts.
//! - [`events`]: the ring of recent log lines (a `tracing` layer) that the
//!   Events pane, `/events` and `attach` show.
//! - [`headless`]: the `--no-tui` runner; [`tui`]: the terminal UI;
//!   [`signals`]: SIGINT/SIGTERM for both.
//! - [`attach`]: the UI over a service in another process (`tars-camera attach`).
//! - [`stream_client`]: a client of the HTTP side (`GET`, the `/stream`
//!   multipart reader) for the bench, the tests and tools.
//! - [`systemd`]: readiness, status and watchdog messages to systemd.
//! - [`backoff`]: retry delays (camera re-opens, MQTT reconnects): the
//!   schedule of `tars_mqtt`, re-exported for the camera's own retries.
//! - [`supervise`]: long-running tasks watched, counted and restarted.
//! - [`text`]: how much of an outside value is ever quoted back.
//! - [`logging`]: where log lines go (stderr for its home, the events ring).
//! - [`memory`]: large buffers returned to the system when freed.
//! - [`bench`]: `tars-camera bench`, measurements of this machine; nothing
//!   else depends on it.

// No function of the product over 80 lines (clippy.toml sets the count,
// without blank and comment lines); tests are crates of their own.
#![warn(clippy::too_many_lines)]

pub mod attach;
pub use tars_mqtt::backoff;
pub mod bench;
#[cfg(feature = "embedded-broker")]
pub mod broker;
pub mod capture;
pub mod cli;
pub mod config;
pub mod control;
pub mod encode;
pub mod events;
pub mod frame;
pub mod headless;
pub mod home_assistant;
pub mod http;
pub mod logging;
pub mod memory;
pub mod metrics;
pub mod service;
pub mod signals;
pub mod stats;
pub mod stream_client;
pub mod supervise;
pub mod systemd;
pub mod text;
pub mod tui;
