//! The picture `/stream` viewers see while the camera fails. The capture
//! side marks the hub the moment the camera fails (so `/snapshot` answers
//! 503 at once) and clears it with the next frame; this task draws the
//! NO SIGNAL picture for that state (never from the MQTT side).

use std::sync::Arc;

use bytes::Bytes;
use tokio::sync::watch;

use crate::capture::thread::CameraHealth;
use crate::frame::FrameHub;

/// Draws the NO SIGNAL picture, at the last frame's size, each time the
/// camera starts failing, and hands it to the hub; a picture of the same
/// size is drawn once. Ends when the capture side is gone.
pub async fn follow_camera_health(mut health: watch::Receiver<CameraHealth>, hub: Arc<FrameHub>) {
    let mut drawn: Option<((u32, u32), Bytes)> = None;
    loop {
        let failing = matches!(*health.borrow_and_update(), CameraHealth::Failing(_));
        if failing {
            let size = hub.latest().map_or((640, 480), |f| (f.width, f.height));
            let jpeg = match drawn.as_ref().filter(|(s, _)| *s == size) {
                Some((_, jpeg)) => jpeg.clone(),
                // Encoding takes a while on a small CPU: not on the runtime.
                None => tokio::task::spawn_blocking(move || picture(size))
                    .await
                    .unwrap_or_default(),
            };
            drawn = Some((size, jpeg.clone()));
            hub.fill_no_signal_picture(jpeg);
        }
        if health.changed().await.is_err() {
            break;
        }
    }
}

/// A JPEG at `size` (at least 16x16) reading NO SIGNAL; empty if it could
/// not be made (viewers then keep the stream open without a picture).
#[must_use]
pub fn picture(size: (u32, u32)) -> Bytes {
    let (w, h) = (size.0.max(16), size.1.max(16));
    let rgb = crate::capture::test_pattern::no_signal_picture(w, h);
    match crate::encode::Encoder::rust().encode_rgb(&rgb, w, h, 70) {
        Ok(jpeg) => jpeg,
        Err(e) => {
            tracing::warn!("no NO SIGNAL picture at {w}x{h}: {e}");
            Bytes::new()
        }
    }
}
