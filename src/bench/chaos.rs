//! `bench chaos`: the service as a child process for a long run under
//! faults — `/stream` viewers coming and going at random, stalled clients,
//! and the MQTT broker killed and restarted every 10 to 30 s. It checks that
//! the service survives, that RSS, threads and open files end where they
//! started, that no frame captured before the current MQTT connection is
//! published, and that every reconnect follows the broker's return within
//! `--reconnect-max` + 1 s.

use std::net::{SocketAddr, TcpListener};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use serde::Serialize;
use tokio::runtime::Runtime;

use color_eyre::eyre::{self, WrapErr as _};

use super::broker_process::{BrokerKind, BrokerProcess, mosquitto_path};
use super::chaos_load::{ConnectionProbe, Load, status, unix_ms};
use super::subscriber::{Arrival, Subscriber};

const VIEWERS: usize = 16;
const STALLED: usize = 5;
const CLIENT_TIMEOUT_S: u64 = 5;
const RECONNECT_MAX_MS: u64 = 2000;

/// The process's size at one moment.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct ProcSample {
    pub rss_mb: f64,
    pub threads: u64,
    pub fds: u64,
}

fn sample(pid: u32) -> Option<ProcSample> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| -> Option<u64> {
        let line = text.lines().find(|l| l.starts_with(name))?;
        line.split_whitespace().nth(1)?.parse().ok()
    };
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd")).ok()?.count();
    Some(ProcSample {
        rss_mb: field("VmRSS:")? as f64 / 1024.0,
        threads: field("Threads:")?,
        fds: fds as u64,
    })
}

/// What a chaos run measured.
#[derive(Debug, Clone, Serialize)]
pub struct ChaosRow {
    pub seconds: f64,
    pub broker: String,
    pub viewers: usize,
    pub stalled: usize,
    pub broker_restarts: usize,
    pub survived: bool,
    pub start: ProcSample,
    pub end: ProcSample,
    pub max: ProcSample,
    /// RSS under load at the end of each minute.
    pub rss_mb_per_minute: Vec<f64>,
    pub stream_sessions: u64,
    pub stream_refused: u64,
    pub stream_failed: u64,
    pub stream_mb_read: f64,
    pub stalled_connects: u64,
    pub stalled_dropped: u64,
    pub mqtt_frames: usize,
    pub stale_frames: usize,
    pub reconnects_seen: usize,
    pub reconnect_ms_max: u64,
    pub reconnect_limit_ms: u64,
    pub reconnects_late: usize,
}

impl ChaosRow {
    /// RSS, threads and files at the end within 10 % of the start.
    #[must_use]
    pub fn steady(&self) -> bool {
        let within = |a: f64, b: f64| (b - a).abs() <= a * 0.10;
        within(self.start.rss_mb, self.end.rss_mb)
            && within(self.start.threads as f64, self.end.threads as f64)
            && within(self.start.fds as f64, self.end.fds as f64)
    }

    #[must_use]
    pub fn passed(&self) -> bool {
        self.survived && self.steady() && self.stale_frames == 0 && self.reconnects_late == 0
    }

    pub fn print(&self) {
        let verdict = |ok: bool| if ok { "ok" } else { "FAILED" };
        println!(
            "\nchaos: {:.0} s, {} viewers coming and going, {} stalled, broker {} restarted {} times",
            self.seconds, self.viewers, self.stalled, self.broker, self.broker_restarts
        );
        println!("  {:<10} {:>9} {:>9} {:>9}", "", "start", "end", "max");
        println!(
            "  {:<10} {:>9.1} {:>9.1} {:>9.1}",
            "RSS MB", self.start.rss_mb, self.end.rss_mb, self.max.rss_mb
        );
        println!(
            "  {:<10} {:>9} {:>9} {:>9}",
            "threads", self.start.threads, self.end.threads, self.max.threads
        );
        println!(
            "  {:<10} {:>9} {:>9} {:>9}",
            "open fds", self.start.fds, self.end.fds, self.max.fds
        );
        println!(
            "  RSS MB under load, minute by minute: {:?}",
            self.rss_mb_per_minute
        );
        println!(
            "  streams: {} sessions, {} refused, {} failed, {:.0} MB read; stalled: {} connects, {} dropped by the server",
            self.stream_sessions,
            self.stream_refused,
            self.stream_failed,
            self.stream_mb_read,
            self.stalled_connects,
            self.stalled_dropped
        );
        println!(
            "  mqtt: {} frames received, {} captured before their connection; {} reconnects, slowest {} ms after the broker's return (limit {} ms), {} late",
            self.mqtt_frames,
            self.stale_frames,
            self.reconnects_seen,
            self.reconnect_ms_max,
            self.reconnect_limit_ms,
            self.reconnects_late
        );
        println!(
            "  survived: {}  steady (±10 %): {}  stale frames: {}  reconnects in time: {}",
            verdict(self.survived),
            verdict(self.steady()),
            verdict(self.stale_frames == 0),
            verdict(self.reconnects_late == 0)
        );
    }
}

fn free_port() -> eyre::Result<u16> {
    let l = TcpListener::bind("127.0.0.1:0")?;
    Ok(l.local_addr()?.port())
}

/// The service under test, headless, as a child process.
fn start_service(broker_port: u16) -> eyre::Result<(Child, SocketAddr)> {
    let port = free_port()?;
    let exe = std::env::current_exe()?;
    let child = Command::new(exe)
        .args([
            "--no-tui",
            "--source",
            "test-pattern",
            "--width",
            "640",
            "--height",
            "480",
        ])
        .args([
            "--fps",
            "30",
            "--mqtt-rate",
            "5",
            "--http-host",
            "127.0.0.1",
        ])
        .args([
            "--http-port",
            &port.to_string(),
            "--max-clients",
            "32",
            "--log-level",
            "warn",
        ])
        .args(["--mqtt-url", &format!("mqtt://127.0.0.1:{broker_port}")])
        .args(["--client-timeout", &format!("{CLIENT_TIMEOUT_S}s")])
        .args([
            "--reconnect-min",
            "0.2s",
            "--reconnect-max",
            &format!("{RECONNECT_MAX_MS}ms"),
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .wrap_err("cannot start the service")?;
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    if super::reader::wait_first_frame(addr, Duration::from_secs(10)).is_none() {
        eyre::bail!("the service served no frame within 10 s");
    }
    Ok((child, addr))
}

/// Wait (up to 20 s) until no HTTP connection is open, then sample.
fn settled(addr: SocketAddr, pid: u32) -> Option<ProcSample> {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        let open = status(addr).and_then(|v| v["stream"]["connections"].as_u64());
        // The status request itself is the one open connection.
        if open.is_some_and(|n| n <= 1) {
            std::thread::sleep(Duration::from_millis(500));
            return sample(pid);
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    sample(pid)
}

/// Kill and restart the broker at random for `seconds`, sampling the
/// service every 5 s. Returns when each restarted broker listened again.
fn faults(
    broker: &mut BrokerProcess,
    pid: u32,
    seconds: f64,
    max: &mut ProcSample,
    rss_per_minute: &mut Vec<f64>,
) -> eyre::Result<Vec<u64>> {
    let mut rng = fastrand::Rng::with_seed(0xc4a05 ^ seconds.to_bits());
    let started = Instant::now();
    let end = started + Duration::from_secs_f64(seconds);
    let mut returns = Vec::new();
    let mut next_kill = Instant::now() + Duration::from_secs(rng.u64(10..=30));
    let mut next_minute = started + Duration::from_secs(60);
    while Instant::now() < end {
        std::thread::sleep(Duration::from_secs(1));
        if let Some(s) = sample(pid) {
            max.rss_mb = max.rss_mb.max(s.rss_mb);
            max.threads = max.threads.max(s.threads);
            max.fds = max.fds.max(s.fds);
            if Instant::now() >= next_minute {
                rss_per_minute.push((s.rss_mb * 10.0).round() / 10.0);
                next_minute += Duration::from_secs(60);
            }
        }
        if Instant::now() >= next_kill && Instant::now() + Duration::from_secs(8) < end {
            broker.kill();
            std::thread::sleep(Duration::from_millis(rng.u64(1000..=5000)));
            broker.restart().wrap_err("restarting the broker")?;
            returns.push(unix_ms());
            next_kill = Instant::now() + Duration::from_secs(rng.u64(10..=30));
        }
    }
    Ok(returns)
}

/// Frames captured before the MQTT connection they came over started
/// (`since`: the start of each connection, unix ms, in order).
fn stale_frames(arrivals: &[Arrival], since: &[u64]) -> usize {
    arrivals
        .iter()
        .filter(|a| {
            let at =
                a.at.duration_since(SystemTime::UNIX_EPOCH)
                    .map_or(0.0, |d| d.as_secs_f64() * 1e3);
            let captured = at - a.age_ms;
            // The connection the frame came over: the last to start before it arrived.
            let conn = since.iter().rev().find(|&&s| (s as f64) <= at);
            // 5 ms: the two clocks are read at different places.
            conn.is_some_and(|&s| captured + 5.0 < s as f64)
        })
        .count()
}

/// For each broker return (unix ms), how long until the service connected
/// again (`None`: it did not).
fn reconnect_lags(returns: &[u64], since: &[u64]) -> Vec<Option<u64>> {
    returns
        .iter()
        .map(|&up| {
            since
                .iter()
                .find(|&&s| s + 50 >= up)
                .map(|&s| s.saturating_sub(up))
        })
        .collect()
}

/// The whole run.
///
/// # Errors
/// The broker or the service could not start.
pub fn run(rt: &Runtime, seconds: f64) -> eyre::Result<ChaosRow> {
    let kind = if Command::new(mosquitto_path()).arg("-h").output().is_ok() {
        BrokerKind::Mosquitto
    } else {
        BrokerKind::Embedded
    };
    let exe = std::env::current_exe()?;
    let mut broker = BrokerProcess::start(kind, &exe).wrap_err("starting the broker")?;
    let (mut child, addr) = start_service(broker.port)?;
    let pid = child.id();
    let subscriber = rt.block_on(Subscriber::start(&broker.url(), "camera/frame"))?;
    let probe = ConnectionProbe::start(addr)?;
    let hold = Duration::from_secs(CLIENT_TIMEOUT_S + 10);
    // Warm up for a minute with the same load and faults (every path taken
    // once: stalled clients dropped, the broker lost and found), then
    // measure the start at rest.
    let warm = Load::start(addr, VIEWERS, STALLED, hold)?;
    let mut max = ProcSample::default();
    faults(&mut broker, pid, 60.0, &mut max, &mut Vec::new())?;
    warm.stop();
    let start = settled(addr, pid).ok_or_else(|| eyre::eyre!("cannot read the service's /proc"))?;
    let load = Load::start(addr, VIEWERS, STALLED, hold)?;
    let t0 = Instant::now();
    let mut max = start;
    let mut rss_per_minute = Vec::new();
    let returns = faults(&mut broker, pid, seconds, &mut max, &mut rss_per_minute)?;
    let wall = t0.elapsed().as_secs_f64();
    let counts = std::sync::Arc::clone(&load.counts);
    load.stop();
    // Let the last reconnect happen before judging.
    std::thread::sleep(Duration::from_millis(RECONNECT_MAX_MS + 1500));
    let survived = matches!(child.try_wait(), Ok(None));
    let end = settled(addr, pid).unwrap_or_default();
    let stalled_dropped = status(addr)
        .and_then(|v| v["stream"]["dropped_stalled"].as_u64())
        .unwrap_or(0);
    let since = probe.stop();
    let arrivals = rt.block_on(async {
        let a = subscriber.take();
        subscriber.stop().await;
        a
    });
    let _ = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status();
    let _ = child.wait();
    let stale = stale_frames(&arrivals, &since);
    let lags = reconnect_lags(&returns, &since);
    let limit = RECONNECT_MAX_MS + 1000;
    Ok(ChaosRow {
        seconds: wall,
        broker: match broker.kind {
            BrokerKind::Mosquitto => "mosquitto".to_owned(),
            BrokerKind::Embedded => "embedded (child process)".to_owned(),
        },
        viewers: VIEWERS,
        stalled: STALLED,
        broker_restarts: returns.len(),
        survived,
        start,
        end,
        max,
        rss_mb_per_minute: rss_per_minute,
        stream_sessions: counts.sessions.load(std::sync::atomic::Ordering::Relaxed),
        stream_refused: counts.refused.load(std::sync::atomic::Ordering::Relaxed),
        stream_failed: counts.failed.load(std::sync::atomic::Ordering::Relaxed),
        stream_mb_read: counts.bytes.load(std::sync::atomic::Ordering::Relaxed) as f64 / 1048576.0,
        stalled_connects: counts.stalls.load(std::sync::atomic::Ordering::Relaxed),
        stalled_dropped,
        mqtt_frames: arrivals.len(),
        stale_frames: stale,
        reconnects_seen: lags.iter().flatten().count(),
        reconnect_ms_max: lags.iter().flatten().copied().max().unwrap_or(0),
        reconnect_limit_ms: limit,
        reconnects_late: lags
            .iter()
            .filter(|l| l.is_none_or(|ms| ms > limit))
            .count(),
    })
}
