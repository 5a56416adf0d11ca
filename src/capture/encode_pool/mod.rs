//! The encode workers: up to N threads (N = cores, at most 4) that turn raw
//! pictures into JPEG, and the sequencer that publishes their results in
//! capture order.
//!
//! - The capture thread never waits on a worker: it puts the newest picture
//!   in a single pending slot; a picture still pending when a newer one
//!   arrives is dropped (newest wins) and its buffer recycled.
//! - A worker takes the pending picture and a ticket (0, 1, 2, … in capture
//!   order) under one lock, so tickets are handed out only to pictures that
//!   will be encoded; the sequencer releases results strictly in ticket order
//!   (at most N wait for an older one), so frames never go backwards.
//! - Workers start lazily: one is spawned only when a picture arrives and
//!   none is idle, so a 10 fps camera runs with one worker, a source faster
//!   than one core can encode gets more.
//! - RGB buffers go round a small free list (at most N + 2 exist): no
//!   per-frame allocation of pictures.

use std::collections::BTreeMap;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;

use super::CaptureError;

mod worker;

use crate::encode::{Codec, Transform};
use crate::frame::Frame;
use worker::Worker;

/// Most workers, whatever the core count (the robot's other services need CPU too).
pub const MAX_WORKERS: usize = 4;

// A `/stream` reader that was waiting gets every frame published at once
// only if the hub keeps as many as the workers can finish together.
const _: () = assert!(MAX_WORKERS <= crate::frame::KEPT);

/// The default worker count: one per core, at most [`MAX_WORKERS`].
#[must_use]
pub fn default_workers() -> usize {
    std::thread::available_parallelism()
        .map_or(1, std::num::NonZeroUsize::get)
        .clamp(1, MAX_WORKERS)
}

/// What to encode.
#[derive(Debug)]
pub enum Picture {
    /// Packed RGB24 in a pool buffer.
    Rgb {
        pixels: Vec<u8>,
        width: u32,
        height: u32,
    },
    /// Packed I420 (see [`crate::capture::SourceFrame::Yuv420`]) in a pool
    /// buffer.
    Yuv420 {
        planes: Vec<u8>,
        width: u32,
        height: u32,
    },
    /// A camera JPEG to decode and re-encode (rotation or a quality change).
    Jpeg {
        data: Bytes,
        width: u32,
        height: u32,
    },
}

/// One picture and what the published frame needs to know about it.
#[derive(Debug)]
pub struct Job {
    pub picture: Picture,
    pub quality: u8,
    /// When the source started delivering it.
    pub captured_at: Instant,
    pub captured_wall: SystemTime,
    pub backend: &'static str,
    /// Rotation and flips to apply before encoding.
    pub transform: Transform,
}

/// A finished picture, ready to publish: the frame (the sink numbers
/// it and sets `consecutive_failures`) and when its encoding ran.
#[derive(Debug)]
pub struct Encoded {
    pub frame: Frame,
    /// When encoding started (equal to `done` for passthrough).
    pub encode_started: Instant,
    pub done: Instant,
}

impl Encoded {
    /// `jpeg` of `size`, from a picture captured at `captured`
    /// (`(Instant, SystemTime)`), encoded at `quality` (`None`: passed
    /// through) between `encode_started` and now.
    #[must_use]
    pub fn finished(
        jpeg: Bytes,
        (width, height): (u32, u32),
        quality: Option<u8>,
        (captured_at, captured_wall): (Instant, SystemTime),
        backend: &'static str,
        encode_started: Instant,
    ) -> Self {
        Self {
            frame: Frame {
                seq: 0,
                jpeg,
                width,
                height,
                quality,
                captured_at,
                captured_wall,
                backend,
                consecutive_failures: 0,
            },
            encode_started,
            done: Instant::now(),
        }
    }
}

/// Receives results in capture order (called under the sequencer lock, from
/// whichever thread completes the oldest outstanding ticket).
pub trait Sink: Send + 'static {
    fn frame(&mut self, frame: Encoded);
    fn failure(&mut self, error: &CaptureError);
}

struct State {
    pending: Option<Job>,
    free: Vec<Vec<u8>>,
    next_ticket: u64,
    workers: usize,
    busy: usize,
    stopping: bool,
    dropped: u64,
}

struct Sequencer<S> {
    next: u64,
    done: BTreeMap<u64, Result<Encoded, CaptureError>>,
    sink: S,
}

struct Inner<S> {
    state: Mutex<State>,
    work: Condvar,
    room: Condvar,
    sequencer: Mutex<Sequencer<S>>,
    codec: Codec,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The pool; owned by the capture thread.
pub struct EncodePool<S: Sink> {
    inner: Arc<Inner<S>>,
    max_workers: usize,
    handles: Vec<JoinHandle<()>>,
}

impl<S: Sink> std::fmt::Debug for EncodePool<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EncodePool")
            .field("max_workers", &self.max_workers)
            .field("workers", &self.handles.len())
            .finish_non_exhaustive()
    }
}

impl<S: Sink> EncodePool<S> {
    /// A pool of at most `max_workers` (at least 1), each worker with its
    /// own encoder and decoder of `codec`.
    pub fn new(max_workers: usize, codec: Codec, sink: S) -> Self {
        Self {
            inner: Arc::new(Inner {
                state: Mutex::new(State {
                    pending: None,
                    free: Vec::new(),
                    next_ticket: 0,
                    workers: 0,
                    busy: 0,
                    stopping: false,
                    dropped: 0,
                }),
                work: Condvar::new(),
                room: Condvar::new(),
                sequencer: Mutex::new(Sequencer {
                    next: 0,
                    done: BTreeMap::new(),
                    sink,
                }),
                codec,
            }),
            max_workers: max_workers.max(1),
            handles: Vec::new(),
        }
    }

    /// A picture buffer from the free list (empty if none is free yet).
    #[must_use]
    pub fn buffer(&self) -> Vec<u8> {
        lock(&self.inner.state).free.pop().unwrap_or_default()
    }

    /// Give back a buffer that was not submitted (the read failed).
    pub fn recycle(&self, buffer: Vec<u8>) {
        lock(&self.inner.state).free.push(buffer);
    }

    /// Queue `job` for encoding without waiting; a picture still pending is
    /// replaced (newest wins).
    pub fn submit(&mut self, job: Job) {
        let mut st = lock(&self.inner.state);
        if let Some(old) = st.pending.replace(job) {
            st.dropped += 1;
            if let Picture::Rgb { pixels, .. } | Picture::Yuv420 { planes: pixels, .. } =
                old.picture
            {
                st.free.push(pixels);
            }
        }
        let spawn = st.busy == st.workers && st.workers < self.max_workers && !st.stopping;
        if spawn {
            st.workers += 1;
        }
        drop(st);
        self.inner.work.notify_one();
        if spawn {
            self.spawn_worker();
        }
    }

    /// Publish a frame that needs no encoding (camera JPEG passthrough), in
    /// order after everything taken before it; a pending (older) picture is
    /// dropped.
    pub fn submit_ready(&self, frame: Encoded) {
        let ticket = {
            let mut st = lock(&self.inner.state);
            if let Some(old) = st.pending.take() {
                st.dropped += 1;
                if let Picture::Rgb { pixels, .. } | Picture::Yuv420 { planes: pixels, .. } =
                    old.picture
                {
                    st.free.push(pixels);
                }
            }
            st.next_ticket += 1;
            st.next_ticket - 1
        };
        self.inner.room.notify_all();
        self.inner.complete(ticket, Ok(frame));
    }

    /// Wait (up to `timeout`) until the pending slot is free. For sources that
    /// make pictures on demand (the test pattern): drawing one that would only
    /// replace another never encoded is wasted work. Cameras never call this.
    pub fn wait_for_room(&self, timeout: Duration) -> bool {
        let st = lock(&self.inner.state);
        let (st, _) = self
            .inner
            .room
            .wait_timeout_while(st, timeout, |s| s.pending.is_some() && !s.stopping)
            .unwrap_or_else(PoisonError::into_inner);
        st.pending.is_none()
    }

    /// Pictures replaced in the pending slot before a worker took them.
    #[must_use]
    pub fn dropped(&self) -> u64 {
        lock(&self.inner.state).dropped
    }

    /// Workers started so far.
    #[must_use]
    pub fn workers(&self) -> usize {
        lock(&self.inner.state).workers
    }

    fn spawn_worker(&mut self) {
        let inner = Arc::clone(&self.inner);
        let n = self.handles.len();
        match std::thread::Builder::new()
            .name(format!("encode-{n}"))
            .spawn(move || inner.work_loop())
        {
            Ok(handle) => self.handles.push(handle),
            Err(e) => {
                tracing::warn!("cannot start encode worker {n}: {e}");
                lock(&self.inner.state).workers -= 1;
                if self.handles.is_empty() {
                    // No worker at all: encode here rather than never.
                    let job = lock(&self.inner.state).pending.take();
                    if let Some(job) = job {
                        let ticket = {
                            let mut st = lock(&self.inner.state);
                            st.next_ticket += 1;
                            st.next_ticket - 1
                        };
                        let mut worker = Worker::new(&self.inner.codec);
                        let (result, pixels) = worker.encode(job);
                        if let Some(p) = pixels {
                            lock(&self.inner.state).free.push(p);
                        }
                        self.inner.complete(ticket, result);
                    }
                }
            }
        }
    }

    /// Stop the workers: the pending picture is dropped, pictures being
    /// encoded finish and are published.
    pub fn shutdown(&mut self) {
        {
            let mut st = lock(&self.inner.state);
            st.stopping = true;
            st.pending = None;
        }
        self.inner.work.notify_all();
        self.inner.room.notify_all();
        for h in self.handles.drain(..) {
            let _ = h.join();
        }
    }
}

impl<S: Sink> Drop for EncodePool<S> {
    fn drop(&mut self) {
        self.shutdown();
    }
}

impl<S: Sink> Inner<S> {
    fn work_loop(&self) {
        let mut worker = Worker::new(&self.codec);
        loop {
            let (job, ticket) = {
                let st = lock(&self.state);
                let mut st = self
                    .work
                    .wait_while(st, |s| s.pending.is_none() && !s.stopping)
                    .unwrap_or_else(PoisonError::into_inner);
                let Some(job) = st.pending.take() else {
                    return; // stopping
                };
                st.busy += 1;
                st.next_ticket += 1;
                (job, st.next_ticket - 1)
            };
            self.room.notify_all();
            let (result, pixels) = worker.encode(job);
            {
                let mut st = lock(&self.state);
                st.busy -= 1;
                if let Some(p) = pixels {
                    st.free.push(p);
                }
            }
            self.complete(ticket, result);
        }
    }

    /// Hand `ticket`'s result to the sequencer; release every result that is
    /// now next in line.
    fn complete(&self, ticket: u64, result: Result<Encoded, CaptureError>) {
        let mut seq = lock(&self.sequencer);
        seq.done.insert(ticket, result);
        loop {
            let next = seq.next;
            let Some(result) = seq.done.remove(&next) else {
                break;
            };
            seq.next += 1;
            match result {
                Ok(frame) => seq.sink.frame(frame),
                Err(e) => seq.sink.failure(&e),
            }
        }
    }
}

#[cfg(test)]
mod tests;
