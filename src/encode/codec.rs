//! Which JPEG codec the service uses: libjpeg-turbo when the system has it
//! (loaded at run time), else the pure-Rust `jpeg-encoder` / `zune-jpeg`.
//! Chosen once from `--encoder auto|turbo|rust` and passed to the capture
//! thread, the encode workers and the UI preview.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use super::turbo::{LoadError, PACKAGE, TurboLib};
use super::{Decoder, Encoder, EncoderKind};

/// `--encoder`: what the operator asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EncoderChoice {
    /// libjpeg-turbo when it loads, else the pure-Rust codecs.
    #[default]
    Auto,
    /// libjpeg-turbo or nothing (refused at start when it cannot load).
    Turbo,
    /// The pure-Rust codecs, even when libjpeg-turbo is installed.
    Rust,
}

/// An `--encoder` value that is none of the three.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be auto, turbo or rust (got '{0}')")]
pub struct UnknownEncoder(pub String);

impl FromStr for EncoderChoice {
    type Err = UnknownEncoder;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "auto" => Ok(Self::Auto),
            "turbo" => Ok(Self::Turbo),
            "rust" => Ok(Self::Rust),
            _ => Err(UnknownEncoder(s.to_owned())),
        }
    }
}

/// Why `--encoder` is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodecError {
    #[error(transparent)]
    Unknown(#[from] UnknownEncoder),
    #[error(transparent)]
    TurboMissing(#[from] TurboMissing),
}

impl fmt::Display for EncoderChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Auto => "auto",
            Self::Turbo => "turbo",
            Self::Rust => "rust",
        })
    }
}

/// `--encoder turbo` on a system without the library.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "turbo needs libjpeg-turbo, which cannot be used here ({0}); install the package {PACKAGE} (apt-get install {PACKAGE}) or choose auto or rust"
)]
pub struct TurboMissing(pub LoadError);

/// The codec in use: libjpeg-turbo (a loaded library) or the Rust codecs.
#[derive(Debug, Clone)]
pub struct Codec {
    turbo: Option<Arc<TurboLib>>,
    /// Why libjpeg-turbo is not used under `auto` (for the start log).
    fallback_reason: Option<LoadError>,
}

impl PartialEq for Codec {
    fn eq(&self, other: &Self) -> bool {
        self.kind() == other.kind()
            && self.turbo.as_ref().map(|l| l.name()) == other.turbo.as_ref().map(|l| l.name())
    }
}

impl Codec {
    /// The pure-Rust codecs.
    #[must_use]
    pub fn rust() -> Self {
        Self {
            turbo: None,
            fallback_reason: None,
        }
    }

    /// libjpeg-turbo from `lib`.
    #[must_use]
    pub fn turbo(lib: Arc<TurboLib>) -> Self {
        Self {
            turbo: Some(lib),
            fallback_reason: None,
        }
    }

    /// Resolve `choice` given the outcome of loading the library.
    ///
    /// # Errors
    /// `turbo` was asked for and the library did not load.
    pub fn choose(
        choice: EncoderChoice,
        loaded: impl FnOnce() -> Result<Arc<TurboLib>, LoadError>,
    ) -> Result<Self, TurboMissing> {
        match choice {
            EncoderChoice::Rust => Ok(Self::rust()),
            EncoderChoice::Turbo => loaded().map(Self::turbo).map_err(TurboMissing),
            EncoderChoice::Auto => Ok(match loaded() {
                Ok(lib) => Self::turbo(lib),
                Err(e) => Self {
                    turbo: None,
                    fallback_reason: Some(e),
                },
            }),
        }
    }

    /// `--encoder auto` with the system's library: libjpeg-turbo when installed.
    #[must_use]
    pub fn auto() -> Self {
        Self::choose(EncoderChoice::Auto, TurboLib::system).unwrap_or_else(|_| Self::rust())
    }

    /// `choice` with the library `library` (a file name or path; `None`:
    /// the system's `libturbojpeg.so.0`).
    ///
    /// # Errors
    /// `turbo` was asked for and the library did not load.
    pub fn from_choice(choice: EncoderChoice, library: Option<&str>) -> Result<Self, TurboMissing> {
        match library {
            None => Self::choose(choice, TurboLib::system),
            Some(name) => Self::choose(choice, || TurboLib::open(name)),
        }
    }

    #[must_use]
    pub fn kind(&self) -> EncoderKind {
        if self.turbo.is_some() {
            EncoderKind::Turbo
        } else {
            EncoderKind::JpegEncoder
        }
    }

    /// The encoder's name, as shown in the status, the UI and the bench.
    #[must_use]
    pub fn name(&self) -> &'static str {
        self.kind().name()
    }

    /// The loaded library, if libjpeg-turbo is in use.
    #[must_use]
    pub fn library(&self) -> Option<&Arc<TurboLib>> {
        self.turbo.as_ref()
    }

    /// Why `auto` fell back to the Rust codecs, if it did.
    #[must_use]
    pub fn fallback_reason(&self) -> Option<&LoadError> {
        self.fallback_reason.as_ref()
    }

    /// One line for the start log: the codec and where it comes from.
    #[must_use]
    pub fn describe(&self) -> String {
        match (&self.turbo, &self.fallback_reason) {
            (Some(lib), _) => format!("{} ({})", self.name(), lib.name()),
            (None, Some(why)) => format!(
                "{} (libjpeg-turbo unavailable: {why}; install {PACKAGE} for faster encoding)",
                self.name()
            ),
            (None, None) => self.name().to_owned(),
        }
    }

    /// A new encoder of this codec (one per worker). Falls back to
    /// `jpeg-encoder` if libjpeg-turbo cannot allocate an instance.
    #[must_use]
    pub fn encoder(&self) -> Encoder {
        match &self.turbo {
            Some(lib) => Encoder::turbo(Arc::clone(lib)).unwrap_or_else(|e| {
                tracing::warn!("{e}; encoding with {}", EncoderKind::JpegEncoder.name());
                Encoder::rust()
            }),
            None => Encoder::rust(),
        }
    }

    /// A new decoder of this codec (one per user).
    #[must_use]
    pub fn decoder(&self) -> Decoder {
        Decoder::new(self.turbo.clone())
    }
}

/// The codec for `--encoder` (`None`: auto) and the library file name
/// (`None`: the system's), with the message for a refusal.
///
/// # Errors
/// Not auto, turbo or rust; or turbo without the library.
pub fn codec_option(encoder: Option<&str>, library: Option<&str>) -> Result<Codec, CodecError> {
    let choice = encoder.map_or(Ok(EncoderChoice::Auto), str::parse)?;
    Ok(Codec::from_choice(choice, library)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn missing() -> Result<Arc<TurboLib>, LoadError> {
        TurboLib::open("libturbojpeg-missing.so.0")
    }

    #[test]
    fn choice_parses_the_three_values_only() {
        assert_eq!("auto".parse(), Ok(EncoderChoice::Auto));
        assert_eq!(" Turbo ".parse(), Ok(EncoderChoice::Turbo));
        assert_eq!("rust".parse(), Ok(EncoderChoice::Rust));
        let e = "fast".parse::<EncoderChoice>().expect_err("bad");
        assert!(e.to_string().contains("auto, turbo or rust"), "{e}");
    }

    #[test]
    fn auto_falls_back_to_rust_when_the_library_is_missing() {
        let codec = Codec::choose(EncoderChoice::Auto, missing).expect("auto never fails");
        assert_eq!(codec.kind(), EncoderKind::JpegEncoder);
        assert_eq!(codec.encoder().kind(), EncoderKind::JpegEncoder);
        assert!(!codec.decoder().uses_turbo());
        assert!(codec.describe().contains("libturbojpeg-missing.so.0"));
        assert!(codec.describe().contains("libturbojpeg0"));
    }

    #[test]
    fn turbo_without_the_library_names_the_package() {
        let e = Codec::choose(EncoderChoice::Turbo, missing).expect_err("refused");
        let text = e.to_string();
        assert!(text.contains("libturbojpeg0"), "{text}");
        assert!(text.contains("libturbojpeg-missing.so.0"), "{text}");
    }

    #[test]
    fn rust_never_loads_the_library() {
        let codec = Codec::choose(EncoderChoice::Rust, || panic!("not loaded")).expect("rust");
        assert_eq!(codec.kind(), EncoderKind::JpegEncoder);
        assert!(codec.fallback_reason().is_none());
    }

    #[test]
    fn auto_and_turbo_use_the_library_when_installed() {
        let Ok(lib) = TurboLib::system() else {
            eprintln!("libturbojpeg.so.0 not installed: skipped");
            return;
        };
        for choice in [EncoderChoice::Auto, EncoderChoice::Turbo] {
            let codec = Codec::choose(choice, || Ok(Arc::clone(&lib))).expect("loaded");
            assert_eq!(codec.kind(), EncoderKind::Turbo);
            assert_eq!(codec.encoder().kind(), EncoderKind::Turbo);
            assert!(codec.decoder().uses_turbo());
        }
    }
}
