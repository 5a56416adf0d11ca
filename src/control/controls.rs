//! Live settings that commands change and the publisher and status read.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use super::MIN_MQTT_RATE_HZ;

/// Live settings changed by commands; read by the publisher and the status.
#[derive(Debug)]
pub struct Controls {
    mqtt_rate_bits: AtomicU64,
    pub(super) mqtt_paused: AtomicBool,
    /// The capture rate: the most the MQTT rate can be (bits of an f64;
    /// a mode change sets it).
    max_rate_bits: AtomicU64,
    pub(super) last_saved: Mutex<Option<String>>,
    /// Commands applied from the UI's keys.
    pub(super) keys_applied: AtomicU64,
    /// Where snapshots are saved.
    pub(super) snapshots: super::snapshots::SnapshotStore,
    /// Where `{"save": true}` writes, and the settings not changed live.
    pub(super) save_to: SaveTarget,
}

/// The config file to save into and the settings that are not changed
/// while the service runs (the mode asked and the picture's orientation).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SaveTarget {
    pub file: Option<std::path::PathBuf>,
    pub width: u32,
    pub height: u32,
    pub fps: f64,
    pub rotation: u16,
    pub flip_h: bool,
    pub flip_v: bool,
}

impl Controls {
    #[must_use]
    pub fn new(rate_hz: f64, max_rate_hz: f64) -> Self {
        Self {
            mqtt_rate_bits: AtomicU64::new(rate_hz.to_bits()),
            mqtt_paused: AtomicBool::new(false),
            max_rate_bits: AtomicU64::new(max_rate_hz.to_bits()),
            last_saved: Mutex::new(None),
            keys_applied: AtomicU64::new(0),
            snapshots: super::snapshots::SnapshotStore::default(),
            save_to: SaveTarget::default(),
        }
    }

    /// `{"save": true}` writes into `target`'s file.
    #[must_use]
    pub fn with_save(mut self, target: SaveTarget) -> Self {
        self.save_to = target;
        self
    }

    /// Snapshots saved in `store` (default: the working directory).
    #[must_use]
    pub fn with_snapshots(mut self, store: super::snapshots::SnapshotStore) -> Self {
        self.snapshots = store;
        self
    }

    /// The most the MQTT rate can be: the capture rate.
    #[must_use]
    pub fn max_rate_hz(&self) -> f64 {
        f64::from_bits(self.max_rate_bits.load(Ordering::Relaxed))
    }

    /// A new capture rate: the MQTT rate is capped to it when above.
    pub fn set_max_rate_hz(&self, hz: f64) {
        if !(hz.is_finite() && hz > 0.0) {
            return;
        }
        self.max_rate_bits.store(hz.to_bits(), Ordering::Relaxed);
        let now = self.mqtt_rate_hz();
        if now > hz {
            self.set_mqtt_rate_hz(hz);
        }
    }

    /// MQTT frame rate in Hz (0 = off).
    #[must_use]
    pub fn mqtt_rate_hz(&self) -> f64 {
        f64::from_bits(self.mqtt_rate_bits.load(Ordering::Relaxed))
    }

    /// Set the MQTT rate: 0 (off), or capped to
    /// [`MIN_MQTT_RATE_HZ`]..=max (callers check first; this only keeps a
    /// stray value from reaching the publisher); returns what was set.
    pub fn set_mqtt_rate_hz(&self, hz: f64) -> f64 {
        let capped = if hz.is_finite() && hz > 0.0 {
            let max = self.max_rate_hz();
            hz.clamp(MIN_MQTT_RATE_HZ.min(max), max)
        } else {
            0.0
        };
        self.mqtt_rate_bits
            .store(capped.to_bits(), Ordering::Relaxed);
        capped
    }

    #[must_use]
    pub fn mqtt_paused(&self) -> bool {
        self.mqtt_paused.load(Ordering::Relaxed)
    }

    /// Commands applied from the UI's keys so far.
    #[must_use]
    pub fn keys_applied(&self) -> u64 {
        self.keys_applied.load(Ordering::Relaxed)
    }

    /// The path of the last snapshot saved, if any.
    #[must_use]
    pub fn last_saved(&self) -> Option<String> {
        self.last_saved
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}
