//! tars-camera: the camera service of the TARS robot.
//!
//! Module map (data flows source → capture → encode → frame hub → consumers):
//! - [`config`]: command line, environment and TOML file, validated.
//! - [`capture`]: frame sources (test pattern, camera) and the capture thread.
//! - [`encode`]: JPEG encoding and rotation/flip.
//! - [`frame`]: the `Frame` type and the latest-frame hub.
//! - [`http`]: `/stream`, `/snapshot`, `/status` over tiny_http.
//! - [`mqtt`]: the reusable MQTT client (reconnect, health, heartbeat, dedup).
//! - [`control`]: commands that change the running service.
//! - [`stats`]: meters, counters and the status snapshot.
//! - [`service`]: starts, wires and stops the parts.
//! - [`headless`]: the `--no-tui` runner.
//! - [`tui`]: the terminal UI.

pub mod backoff;
pub mod bench;
pub mod capture;
pub mod cli;
pub mod config;
pub mod control;
pub mod encode;
pub mod frame;
pub mod headless;
pub mod http;
pub mod mqtt;
pub mod service;
pub mod signals;
pub mod stats;
pub mod tui;
