//! Shared by the UI tests: a TestBackend the test can read while the loop
//! draws, keys fed from a channel, and a bounded wait for the screen.

use std::sync::Arc;
use std::time::Duration;

use crossterm::event::Event;
use futures_util::Stream;
use ratatui::backend::TestBackend;
use tokio::sync::mpsc;

/// Longest wait for anything on screen.
pub const SCREEN_BOUND: Duration = Duration::from_secs(5);

pub type Keys = std::pin::Pin<Box<dyn Stream<Item = std::io::Result<Event>> + Send>>;

/// Keys fed from a channel, so a test decides when each arrives.
pub fn key_channel() -> (mpsc::UnboundedSender<Event>, Keys) {
    let (tx, rx) = mpsc::unbounded_channel();
    let stream =
        futures_util::stream::unfold(
            rx,
            |mut rx| async move { rx.recv().await.map(|e| (Ok(e), rx)) },
        );
    (tx, Box::pin(stream))
}

#[derive(Clone)]
pub struct SharedBackend(pub Arc<std::sync::Mutex<TestBackend>>);

impl SharedBackend {
    pub fn text(&self) -> String {
        let b = self.0.lock().expect("lock");
        b.buffer().content().iter().map(|c| c.symbol()).collect()
    }
}

impl ratatui::backend::Backend for SharedBackend {
    type Error = std::convert::Infallible;
    fn draw<'a, I>(&mut self, content: I) -> Result<(), Self::Error>
    where
        I: Iterator<Item = (u16, u16, &'a ratatui::buffer::Cell)>,
    {
        self.0.lock().expect("lock").draw(content)
    }
    fn hide_cursor(&mut self) -> Result<(), Self::Error> {
        self.0.lock().expect("lock").hide_cursor()
    }
    fn show_cursor(&mut self) -> Result<(), Self::Error> {
        self.0.lock().expect("lock").show_cursor()
    }
    fn get_cursor_position(&mut self) -> Result<ratatui::layout::Position, Self::Error> {
        self.0.lock().expect("lock").get_cursor_position()
    }
    fn set_cursor_position<P: Into<ratatui::layout::Position>>(
        &mut self,
        p: P,
    ) -> Result<(), Self::Error> {
        self.0.lock().expect("lock").set_cursor_position(p)
    }
    fn clear(&mut self) -> Result<(), Self::Error> {
        self.0.lock().expect("lock").clear()
    }
    fn clear_region(&mut self, t: ratatui::backend::ClearType) -> Result<(), Self::Error> {
        self.0.lock().expect("lock").clear_region(t)
    }
    fn size(&self) -> Result<ratatui::layout::Size, Self::Error> {
        self.0.lock().expect("lock").size()
    }
    fn window_size(&mut self) -> Result<ratatui::backend::WindowSize, Self::Error> {
        self.0.lock().expect("lock").window_size()
    }
    fn flush(&mut self) -> Result<(), Self::Error> {
        self.0.lock().expect("lock").flush()
    }
}

/// Poll the screen until `pred` holds, at most `BOUND`.
pub async fn wait_for_screen(backend: &SharedBackend, pred: impl Fn(&str) -> bool) -> String {
    let deadline = tokio::time::Instant::now() + super::patience(SCREEN_BOUND);
    loop {
        let text = backend.text();
        if pred(&text) || tokio::time::Instant::now() > deadline {
            return text;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
