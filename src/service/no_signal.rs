//! The "no signal" state `/stream` viewers see while the camera fails,
//! set from the camera's health (never from the MQTT side).

use std::sync::Arc;

use tokio::sync::watch;

use crate::capture::thread::CameraHealth;
use crate::frame::{FrameHub, NoSignal};

/// Keeps the hub's "no signal" state in step with the camera's health:
/// set (a picture at the last frame's size) when the camera starts
/// failing, cleared when frames come again. Ends when the capture side
/// is gone.
pub async fn follow_camera_health(mut health: watch::Receiver<CameraHealth>, hub: Arc<FrameHub>) {
    let mut failing = false;
    loop {
        let current = health.borrow_and_update().clone();
        match current {
            CameraHealth::Failing(err) if !failing => {
                failing = true;
                let size = hub.latest().map_or((640, 480), |f| (f.width, f.height));
                hub.set_no_signal(Some(state(err, size)));
            }
            CameraHealth::Ok if failing => {
                failing = false;
                hub.set_no_signal(None);
            }
            _ => {}
        }
        if health.changed().await.is_err() {
            break;
        }
    }
}

/// The "no signal" state for the hub: the reason and a picture at `size`
/// (at least 16x16) reading NO SIGNAL.
#[must_use]
pub fn state(reason: String, size: (u32, u32)) -> NoSignal {
    let (w, h) = (size.0.max(16), size.1.max(16));
    let rgb = crate::capture::test_pattern::no_signal_picture(w, h);
    let jpeg = match crate::encode::Encoder::rust().encode_rgb(&rgb, w, h, 70) {
        Ok(jpeg) => jpeg,
        Err(e) => {
            // Viewers then keep the stream open without a picture.
            tracing::warn!("no NO SIGNAL picture at {w}x{h}: {e}");
            bytes::Bytes::new()
        }
    };
    NoSignal { reason, jpeg }
}
