//! What attaching costs: the attached UI's own CPU (this process: the
//! poller reading `/status`, `/snapshot` and `/events`, and the UI loop
//! drawing at 80x24) and the service's extra CPU for serving it (the child
//! service's CPU with the UI attached, minus without).

use std::time::Duration;

use color_eyre::eyre;
use serde::Serialize;
use tokio::runtime::Runtime;

use super::child::ChildService;
use super::sys::CpuMeter;
use crate::attach::{Credentials, Target};
use crate::events::EventLog;

/// The attach section's figures, in percent of one core.
#[derive(Debug, Clone, Serialize)]
pub struct AttachRow {
    pub service: String,
    pub preview_fps: f64,
    pub seconds: f64,
    /// The service alone, nobody attached.
    pub service_alone_percent: f64,
    /// The service while the UI is attached.
    pub service_attached_percent: f64,
    /// The difference: what serving the attached UI costs the service.
    pub service_extra_percent: f64,
    /// This process while attached (poller and UI loop).
    pub attached_ui_percent: f64,
    /// Of that, the UI loop thread (drawing, preview decoding).
    pub ui_loop_percent: f64,
    pub redraws: u64,
}

impl AttachRow {
    pub fn print(&self) {
        println!(
            "\nattach over {} (preview {} fps, {:.0} s each):\n  service alone {:.2} %, with the UI attached {:.2} % → extra {:.2} % of one core\n  attached UI (poller + UI loop) {:.2} % of one core (UI loop {:.2} %), {} redraws",
            self.service,
            self.preview_fps,
            self.seconds,
            self.service_alone_percent,
            self.service_attached_percent,
            self.service_extra_percent,
            self.attached_ui_percent,
            self.ui_loop_percent,
            self.redraws
        );
    }
}

/// Measure for `seconds` each: the service alone, then with the UI attached.
///
/// # Errors
/// The service could not start or attaching failed.
pub fn measure(
    rt: &Runtime,
    seconds: f64,
    quality: u8,
    broker_url: &str,
) -> eyre::Result<AttachRow> {
    let config =
        super::service_runs::quiet_config(broker_url, quality, crate::encode::Codec::auto().kind());
    let service = ChildService::start(&config)?;
    let span = Duration::from_secs_f64(seconds);
    // Let start-up settle before measuring.
    std::thread::sleep(Duration::from_secs(1));
    let alone = CpuMeter::start(Some(service.pid()));
    std::thread::sleep(span);
    let service_alone_percent = alone.percent();
    let target = Target::parse(&format!("http://{}", service.addr), Credentials::default())?;
    let preview_fps = 4.0;
    let (link, _remote, guard) = {
        let _entered = rt.enter();
        crate::attach::start(target, preview_fps, EventLog::new(100))?
    };
    std::thread::sleep(Duration::from_millis(500));
    let attached = CpuMeter::start(Some(service.pid()));
    let me = CpuMeter::start(None);
    let cost = rt.block_on(super::ui_cost::measure(link, 80, 24, span));
    let service_attached_percent = attached.percent();
    let attached_ui_percent = me.percent();
    drop(guard);
    service.stop();
    Ok(AttachRow {
        service: "test pattern 640x480@10, MQTT 2 Hz".into(),
        preview_fps,
        seconds,
        service_alone_percent,
        service_attached_percent,
        service_extra_percent: service_attached_percent - service_alone_percent,
        attached_ui_percent,
        ui_loop_percent: cost.cpu_percent_of_one_core,
        redraws: cost.redraws,
    })
}
