use super::*;
use std::sync::mpsc;

struct Collect(mpsc::Sender<Result<(u64, u32), String>>);

impl Sink for Collect {
    fn frame(&mut self, frame: Encoded) {
        let _ = self
            .0
            .send(Ok((frame.frame.jpeg.len() as u64, frame.frame.width)));
    }
    fn failure(&mut self, error: &CaptureError) {
        let _ = self.0.send(Err(error.to_string()));
    }
}

fn job(pixels: Vec<u8>, width: u32, height: u32, at: Instant) -> Job {
    Job {
        picture: Picture::Rgb {
            pixels,
            width,
            height,
        },
        quality: 80,
        captured_at: at,
        captured_wall: SystemTime::now(),
        backend: "test",
        transform: Transform::default(),
    }
}

/// Records capture instants in publish order.
struct Order(Arc<Mutex<Vec<Instant>>>);

impl Sink for Order {
    fn frame(&mut self, frame: Encoded) {
        lock(&self.0).push(frame.frame.captured_at);
    }
    fn failure(&mut self, _error: &CaptureError) {}
}

/// A pool of `workers` whose sink records the capture times it publishes.
fn ordered_pool(workers: usize) -> (Arc<Mutex<Vec<Instant>>>, EncodePool<Order>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let pool = EncodePool::new(workers, Codec::auto(), Order(Arc::clone(&seen)));
    (seen, pool)
}

#[test]
fn frames_come_out_in_capture_order_and_the_newest_wins() {
    let (seen, mut pool) = ordered_pool(4);
    let t0 = Instant::now();
    // Pictures of different sizes finish at different times.
    let mut submitted = 0u64;
    for i in 0..200u32 {
        let (w, h) = if i % 3 == 0 { (320, 240) } else { (32, 16) };
        let mut buf = pool.buffer();
        buf.resize((w * h * 3) as usize, (i % 251) as u8);
        pool.submit(job(buf, w, h, t0 + Duration::from_micros(u64::from(i))));
        submitted += 1;
    }
    // Let everything taken finish.
    let deadline = Instant::now() + Duration::from_secs(10);
    while lock(&pool.inner.state).pending.is_some() || lock(&pool.inner.state).busy > 0 {
        assert!(Instant::now() < deadline, "pool did not drain");
        std::thread::sleep(Duration::from_millis(5));
    }
    pool.shutdown();
    let seen = lock(&seen).clone();
    assert!(!seen.is_empty());
    assert!(seen.windows(2).all(|w| w[0] < w[1]), "strictly in order");
    assert_eq!(
        seen.len() as u64 + pool.dropped(),
        submitted,
        "each picture published or dropped"
    );
    assert_eq!(
        *seen.last().expect("one"),
        t0 + Duration::from_micros(199),
        "the newest picture is never dropped"
    );
    assert!(pool.workers() <= 4);
    assert!(
        lock(&pool.inner.state).free.len() <= 4 + 2,
        "buffers are reused"
    );
}

#[test]
fn failures_are_reported_in_order_and_buffers_come_back() {
    let (tx, rx) = mpsc::channel();
    let mut pool = EncodePool::new(2, Codec::auto(), Collect(tx));
    // A buffer too short for its size is an encode failure, not a panic.
    pool.submit(job(vec![0; 10], 64, 64, Instant::now()));
    assert!(
        rx.recv_timeout(Duration::from_secs(5))
            .expect("result")
            .is_err()
    );
    pool.submit(job(vec![9; 64 * 64 * 3], 64, 64, Instant::now()));
    let ok = rx.recv_timeout(Duration::from_secs(5)).expect("result");
    assert_eq!(ok.map(|(_, w)| w), Ok(64));
    pool.submit(Job {
        picture: Picture::Jpeg {
            data: Bytes::from_static(&[0xFF, 0xD8, 0xFF, 0xD9]),
            width: 8,
            height: 8,
        },
        ..job(Vec::new(), 0, 0, Instant::now())
    });
    let corrupt = rx.recv_timeout(Duration::from_secs(5)).expect("result");
    assert!(corrupt.is_err(), "{corrupt:?}");
    pool.shutdown();
    assert!(
        !lock(&pool.inner.state).free.is_empty(),
        "RGB buffers recycled"
    );
}

#[test]
fn a_ready_frame_waits_for_older_ones_and_drops_a_pending_one() {
    let (seen, mut pool) = ordered_pool(1);
    let t0 = Instant::now();
    pool.submit(job(vec![1; 640 * 480 * 3], 640, 480, t0));
    let t1 = t0 + Duration::from_millis(1);
    pool.submit_ready(Encoded::finished(
        Bytes::from_static(&[0xFF, 0xD8]),
        (1, 1),
        None,
        (t1, SystemTime::now()),
        "test",
        Instant::now(),
    ));
    let deadline = Instant::now() + Duration::from_secs(10);
    while lock(&seen).last() != Some(&t1) {
        assert!(Instant::now() < deadline, "ready frame never published");
        std::thread::sleep(Duration::from_millis(2));
    }
    pool.shutdown();
    let seen = lock(&seen).clone();
    // Either the worker took the first picture (published first) or the
    // ready frame replaced it while pending (dropped).
    assert!(
        seen == vec![t0, t1] || (seen == vec![t1] && pool.dropped() == 1),
        "{seen:?}"
    );
}
