//! The pipeline's targets: speed against one libjpeg-turbo thread, and CPU
//! per frame against the bare encode.

use super::report::{Report, Target};

impl Report {
    /// Pipeline targets: speed against 1-thread libjpeg-turbo, and CPU per
    /// frame against the bare encode, for each encoder measured at 720p.
    pub(super) fn judge_pipeline(&self, t: &mut Vec<Target>) {
        let turbo = self.encode_fps("libjpeg-turbo", 1280, 720);
        for (encoder, wanted, name) in [
            (
                "jpeg-encoder",
                0.8,
                "720p pipeline / 1-thread libjpeg-turbo (jpeg-encoder)",
            ),
            (
                "libjpeg-turbo",
                1.6,
                "720p pipeline / 1-thread libjpeg-turbo (libjpeg-turbo)",
            ),
        ] {
            let Some(pipe) = self
                .pipeline
                .iter()
                .find(|r| r.encoder == encoder && (r.width, r.height) == (1280, 720))
            else {
                continue;
            };
            let p = pipe.fps;
            let (measured, met) = match turbo {
                Some(r) => (
                    format!("{:.2} ({p:.0} fps / {r:.0} fps)", p / r),
                    Some(p / r >= wanted),
                ),
                None => (
                    format!("pipeline {p:.0} fps; no reference (libturbojpeg0 not installed)"),
                    None,
                ),
            };
            t.push(Target {
                name,
                wanted: format!(">= {wanted}"),
                measured,
                met,
            });
        }
        for pipe in self
            .pipeline
            .iter()
            .filter(|r| (r.width, r.height) == (1280, 720))
        {
            let Some(bare) = self.encode_cpu_ms(pipe.encoder, 1280, 720) else {
                continue;
            };
            t.push(Target {
                name: if pipe.encoder == "libjpeg-turbo" {
                    "720p pipeline CPU/frame / bare encode (libjpeg-turbo)"
                } else {
                    "720p pipeline CPU/frame / bare encode (jpeg-encoder)"
                },
                wanted: "<= 1.15".into(),
                measured: format!(
                    "{:.2} ({:.2} / {bare:.2} ms per frame made; {:.2} per frame the reader got)",
                    pipe.cpu_vs_bare_encode,
                    pipe.cpu_ms_per_hub_frame,
                    pipe.cpu_ms_per_frame / bare.max(1e-9)
                ),
                met: Some(pipe.cpu_vs_bare_encode <= 1.15),
            });
        }
    }
}
