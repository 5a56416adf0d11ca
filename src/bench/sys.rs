//! What the benchmark reads from the system: process CPU time and RSS from
//! `/proc` (no unsafe, no libc), and a description of the machine.

use std::time::Duration;

use serde::Serialize;

/// Linux USER_HZ: `/proc/*/stat` counts CPU time in 1/100 s.
const TICKS_PER_S: u64 = 100;

/// utime + stime from a `/proc/*/stat` line (fields 14 and 15, after the
/// command name in parentheses, which may contain spaces).
#[must_use]
pub fn parse_stat_cpu(stat: &str) -> Option<Duration> {
    let after_name = &stat[stat.rfind(')')? + 1..];
    let mut fields = after_name.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(Duration::from_millis((utime + stime) * 1000 / TICKS_PER_S))
}

/// CPU time (user + system) of process `pid` ("self" for this one).
#[must_use]
pub fn process_cpu(pid: &str) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_stat_cpu(&stat)
}

/// CPU time of the calling thread, exact (`CLOCK_THREAD_CPUTIME_ID`): the
/// scheduler's `/proc` counters advance only at ticks, which skews short
/// spans such as one encode.
#[must_use]
pub fn thread_cpu_time() -> Duration {
    timespec(rustix::time::clock_gettime(
        rustix::time::ClockId::ThreadCPUTime,
    ))
}

/// CPU time of this whole process, exact (`CLOCK_PROCESS_CPUTIME_ID`).
#[must_use]
pub fn own_process_cpu() -> Duration {
    timespec(rustix::time::clock_gettime(
        rustix::time::ClockId::ProcessCPUTime,
    ))
}

fn timespec(t: rustix::time::Timespec) -> Duration {
    let secs = u64::try_from(t.tv_sec).unwrap_or(0);
    let nanos = u32::try_from(t.tv_nsec).unwrap_or(0);
    Duration::new(secs, nanos)
}

/// CPU time of this process's threads named `name` (their `comm`), from
/// `schedstat` (exact up to the last scheduler tick): `None` when there is
/// no such thread.
#[must_use]
pub fn named_threads_cpu(name: &str) -> Option<Duration> {
    let mut total = None;
    for task in std::fs::read_dir("/proc/self/task").ok()?.flatten() {
        let path = task.path();
        let comm = std::fs::read_to_string(path.join("comm")).unwrap_or_default();
        if comm.trim_end() != name {
            continue;
        }
        let ns = std::fs::read_to_string(path.join("schedstat"))
            .ok()
            .and_then(|t| t.split_whitespace().next()?.parse::<u64>().ok());
        if let Some(ns) = ns {
            total = Some(total.unwrap_or(Duration::ZERO) + Duration::from_nanos(ns));
        }
    }
    total
}

/// Resident set size of process `pid` in bytes.
#[must_use]
pub fn rss_bytes(pid: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    parse_rss(&status)
}

fn parse_rss(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// CPU of a process between two samples, in percent of one core.
#[derive(Debug, Clone, Copy)]
pub struct CpuMeter {
    /// `None`: this process, read exactly from its CPU clock.
    pid: Option<u32>,
    cpu: Duration,
    at: std::time::Instant,
}

impl CpuMeter {
    /// Start measuring process `pid` (`None`: this process).
    #[must_use]
    pub fn start(pid: Option<u32>) -> Self {
        Self {
            pid,
            cpu: Self::read(pid),
            at: std::time::Instant::now(),
        }
    }

    fn read(pid: Option<u32>) -> Duration {
        match pid {
            None => own_process_cpu(),
            Some(pid) => process_cpu(&pid.to_string()).unwrap_or_default(),
        }
    }

    /// CPU time used since `start`.
    #[must_use]
    pub fn cpu(&self) -> Duration {
        Self::read(self.pid).saturating_sub(self.cpu)
    }

    /// Percent of one core since `start`.
    #[must_use]
    pub fn percent(&self) -> f64 {
        100.0 * self.cpu().as_secs_f64() / self.at.elapsed().as_secs_f64().max(1e-9)
    }
}

/// The machine the numbers were taken on.
#[derive(Debug, Clone, Serialize)]
pub struct Machine {
    pub cpu: String,
    pub cores: usize,
    pub avx2: bool,
    pub neon: bool,
    pub kernel: String,
    pub build: String,
    pub features: Vec<&'static str>,
    /// What `--encoder auto` uses on this machine.
    pub service_encoder: &'static str,
    pub version: &'static str,
}

impl Machine {
    #[must_use]
    pub fn describe() -> Self {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu = cpuinfo
            .lines()
            .find(|l| l.starts_with("model name") || l.starts_with("Model"))
            .and_then(|l| l.split(':').nth(1))
            .map_or_else(
                || std::env::consts::ARCH.to_owned(),
                |s| s.trim().to_owned(),
            );
        let mut features = Vec::new();
        if cfg!(feature = "embedded-broker") {
            features.push("embedded-broker");
        }
        Self {
            cpu,
            cores: std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get),
            avx2: has_avx2(),
            neon: cfg!(target_arch = "aarch64"),
            kernel: std::fs::read_to_string("/proc/sys/kernel/osrelease")
                .unwrap_or_default()
                .trim()
                .to_owned(),
            build: if cfg!(debug_assertions) {
                "debug (numbers are not meaningful: use --release)".to_owned()
            } else {
                "release".to_owned()
            },
            features,
            service_encoder: crate::encode::Codec::auto().name(),
            version: env!("CARGO_PKG_VERSION"),
        }
    }
}

#[cfg(target_arch = "x86_64")]
fn has_avx2() -> bool {
    std::arch::is_x86_feature_detected!("avx2")
}

#[cfg(not(target_arch = "x86_64"))]
fn has_avx2() -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_stat_and_status() {
        let stat = "1234 (tars camera) S 1 2 3 4 5 6 7 8 9 10 250 50 0 0 20 0 1 0";
        assert_eq!(parse_stat_cpu(stat), Some(Duration::from_millis(3000)));
        assert_eq!(parse_stat_cpu("garbage"), None);
        assert_eq!(
            parse_rss("Name:\tx\nVmRSS:\t  12345 kB\nVmSwap: 0 kB\n"),
            Some(12_345 * 1024)
        );
        assert_eq!(parse_rss("Name: x\n"), None);
    }

    #[test]
    fn thread_cpu_time_grows_with_work() {
        let start = thread_cpu_time();
        let mut x = 0u64;
        let t = std::time::Instant::now();
        while t.elapsed() < Duration::from_millis(30) {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        }
        std::hint::black_box(x);
        assert!(thread_cpu_time() > start);
        assert!(own_process_cpu() >= thread_cpu_time());
    }

    #[test]
    fn a_named_thread_s_cpu_time_is_found() {
        let worker = std::thread::Builder::new()
            .name("sys-test-spin".into())
            .spawn(|| {
                let t = std::time::Instant::now();
                let mut x = 1u64;
                while t.elapsed() < Duration::from_millis(30) {
                    x = x.wrapping_mul(3).wrapping_add(1);
                }
                std::hint::black_box(x);
                named_threads_cpu("sys-test-spin")
            })
            .expect("spawn");
        let cpu = worker.join().expect("join");
        assert!(cpu.is_some_and(|c| c > Duration::ZERO), "{cpu:?}");
        assert_eq!(named_threads_cpu("no-such-thread-name"), None);
    }

    #[test]
    fn this_process_has_cpu_time_and_memory() {
        assert!(process_cpu("self").is_some());
        assert!(rss_bytes("self").is_some_and(|b| b > 0));
    }
}
