//! The tests that run the real binary, real sockets, real brokers and an
//! emulated camera, as one test binary (one link instead of one per file):
//! `cargo test --test it`, or `cargo test --test it -- mqtt_client::` for one
//! module.

#[macro_use]
mod common;

mod attach;
mod attach_terminal;
mod camera_device;
mod camera_frames;
mod capture_passthrough;
mod cli;
mod encoder;
mod home_assistant;
mod http_auth;
mod http_browsers;
mod http_conformance;
mod http_control;
mod http_limits;
mod http_stream;
mod live_modes;
mod metrics;
mod mqtt_broker;
mod mqtt_client;
mod mqtt_control;
mod mqtt_reconnect;
mod mqtt_tls;
mod replay;
mod replay_ffmpeg;
mod service_mqtt;
mod systemd_notify;
mod task_supervision;
mod tui_cost;
mod tui_loop;
mod tui_render;
mod tui_service;
mod web_console;
