//! The "no signal" state `/stream` viewers see while the camera fails.

use crate::frame::NoSignal;

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
