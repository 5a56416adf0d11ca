//! Named threads of the benchmark's clients that run until told to stop:
//! one stop flag for all of them, set and joined in one place.

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::{self, JoinHandle};

/// Threads sharing one stop flag.
#[derive(Debug)]
pub struct Workers<T> {
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<T>>,
}

impl<T: Send + 'static> Workers<T> {
    #[must_use]
    pub fn new() -> Self {
        Self {
            stop: Arc::new(AtomicBool::new(false)),
            threads: Vec::new(),
        }
    }

    /// Start a thread named `name` running `work`, which returns once the
    /// flag it is given is set.
    ///
    /// # Errors
    /// The thread could not start.
    pub fn spawn(
        &mut self,
        name: &str,
        work: impl FnOnce(&AtomicBool) -> T + Send + 'static,
    ) -> io::Result<()> {
        let stop = Arc::clone(&self.stop);
        let thread = thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || work(&stop))?;
        self.threads.push(thread);
        Ok(())
    }

    /// Tell every thread to stop, without waiting for them.
    pub fn signal(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }

    /// Tell every thread to stop and wait for each: what each returned (an
    /// error where it panicked).
    pub fn stop(&mut self) -> Vec<thread::Result<T>> {
        self.signal();
        self.threads.drain(..).map(JoinHandle::join).collect()
    }
}

impl<T: Send + 'static> Default for Workers<T> {
    fn default() -> Self {
        Self::new()
    }
}
