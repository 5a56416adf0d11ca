//! A camera that goes away, stalls, is busy or forbidden, and comes back:
//! health, `/status`, `/snapshot` and the same `/stream` connection.

use std::time::{Duration, Instant};

use serde_json::Value;

use super::common::{self, Part, get, status_json};
use super::*;

/// What a viewer and `/status` saw around an unplug and a replug.
struct Replug {
    /// Unplug to health `camera_error`.
    to_error: Option<Duration>,
    snapshot_while_gone: u16,
    no_signal: Option<Part>,
    /// Replug to health `camera_ok`.
    to_ok: Option<Duration>,
    /// A camera frame on the same `/stream` connection after the replug.
    frame_after: Option<Part>,
    /// Every `X-Frame-Seq` of a camera frame seen.
    frame_seqs: Vec<u64>,
    status_after: Value,
}

fn unplug_and_replug(name: &str) -> (Webcam, Replug) {
    let cam = Webcam::new(name);
    cam.cams.plug(0, &cam.config(""));
    let (_service, addr) = cam.start(&[]);
    let tap = StreamTap::open(addr);
    let mut frame_seqs = Vec::new();
    let before = tap.frames(10, Duration::from_secs(10));
    assert_eq!(before.len(), 10, "frames before the unplug");
    frame_seqs.extend(before.iter().map(|p| p.seq));

    cam.cams.unplug(0);
    let unplugged = Instant::now();
    let error = health_is(addr, "camera_error", Duration::from_secs(10));
    let to_error = error.map(|_| unplugged.elapsed());
    let snapshot_while_gone = get(addr, "/snapshot").status;
    let no_signal = tap
        .find(
            Duration::from_secs(10),
            |p| frame_seqs.push(p.seq),
            is_no_signal,
        )
        .map(|(_, p)| p);

    cam.cams.plug(0, &cam.config(""));
    let plugged = Instant::now();
    let to_ok = health_is(addr, "camera_ok", Duration::from_secs(20)).map(|_| plugged.elapsed());
    let frame_after = tap
        .find(Duration::from_secs(20), |_| {}, |p| !is_no_signal(p))
        .map(|(_, p)| p);
    frame_seqs.extend(frame_after.iter().map(|p| p.seq));
    frame_seqs.extend(tap.frames(10, Duration::from_secs(5)).iter().map(|p| p.seq));
    let status_after = status_json(addr);
    let report = Replug {
        to_error,
        snapshot_while_gone,
        no_signal,
        to_ok,
        frame_after,
        frame_seqs,
        status_after,
    };
    (cam, report)
}

#[test]
fn unplugged_camera_is_camera_error_then_streams_again_on_the_same_connection() {
    let (cam, r) = unplug_and_replug("unplug");
    let to_error = r.to_error.expect("health camera_error after the unplug");
    assert!(
        to_error <= Duration::from_secs(4),
        "camera_error after {to_error:?}"
    );
    assert_eq!(r.snapshot_while_gone, 503, "/snapshot with the camera gone");
    assert!(r.no_signal.is_some(), "no \"no signal\" part on /stream");
    assert!(r.to_ok.is_some(), "health camera_ok after the replug");
    let frame = r
        .frame_after
        .expect("a frame on the same /stream after the replug");
    assert!(cam.is_a_frame(&frame.jpeg), "the frame after the replug");
}

#[test]
fn after_recovery_last_error_is_cleared_or_dated() {
    let (_cam, r) = unplug_and_replug("last-error");
    assert!(r.to_ok.is_some(), "no recovery");
    let c = &r.status_after["capture"];
    assert!(
        c["last_error"].is_null() || !c["last_error_at"].is_null(),
        "after recovery last_error is neither cleared nor dated: {c}"
    );
}

#[test]
fn no_signal_parts_carry_no_sequence_number_of_a_camera_frame() {
    let (_cam, r) = unplug_and_replug("no-signal-seq");
    let part = r.no_signal.expect("a \"no signal\" part");
    let seq = tars_camera::stream_client::header(&part.headers, "X-Frame-Seq");
    let is_frames = seq
        .and_then(|s| s.parse::<u64>().ok())
        .is_some_and(|s| r.frame_seqs.contains(&s));
    assert!(
        !is_frames,
        "the no-signal part has X-Frame-Seq {seq:?}, a camera frame's (frames: {:?})",
        r.frame_seqs
    );
}

#[test]
fn camera_plugged_after_start_is_picked_up() {
    let cam = Webcam::new("late-plug");
    let (_service, addr) = cam.start(&[]);
    common::status_after_a_failure(addr, "/dev/video0", Duration::from_secs(10));
    assert_eq!(frames_count(addr), 0);
    cam.cams.plug(0, &cam.config(""));
    assert!(
        frames_flow(addr, Duration::from_secs(15)).is_some(),
        "no frames within 15 s of plugging: {}",
        status_json(addr)["capture"]
    );
    let snapshot = get(addr, "/snapshot");
    assert!(cam.is_a_frame(&snapshot.body));
}

#[test]
fn camera_back_as_another_node_streams_within_a_second() {
    let cam = Webcam::new("renumbered");
    let same = "card=HD Pro Webcam C920\nbus=usb-0000:00:14.0-3\n";
    cam.cams.plug(0, &cam.config(same));
    let (_service, addr) = cam.start(&[]);
    assert!(
        frames_flow(addr, Duration::from_secs(10)).is_some(),
        "no frames"
    );
    cam.cams.unplug(0);
    assert!(
        health_is(addr, "camera_error", Duration::from_secs(10)).is_some(),
        "no camera_error after the unplug"
    );
    // USB re-enumeration: the same camera comes back as /dev/video2.
    cam.cams.plug(2, &cam.config(same));
    let plugged = Instant::now();
    let back = frames_flow(addr, Duration::from_secs(15)).map(|t| t - plugged);
    let back = back.unwrap_or_else(|| {
        panic!(
            "no frames within 15 s of video2 appearing: {}",
            status_json(addr)["capture"]
        )
    });
    assert!(
        back <= Duration::from_millis(1500),
        "frames again {back:?} after the node appeared"
    );
}

#[test]
fn busy_camera_says_device_busy_and_recovers() {
    let mut failures = Vec::new();
    for at in ["s_fmt", "reqbufs", "streamon"] {
        let cam = Webcam::new(&format!("busy-{at}"));
        cam.cams.plug(0, &cam.config(&format!("busy={at}\n")));
        let (_service, addr) = cam.start(&[]);
        let v = common::status_after_a_failure(addr, "/dev/video0", Duration::from_secs(10));
        let error = v["capture"]["last_error"].as_str().unwrap_or("").to_owned();
        if !error.contains("device busy") {
            failures.push(format!("busy={at}: last_error {error:?}"));
        }
        cam.cams.set(0, &cam.config(""));
        if frames_flow(addr, Duration::from_secs(15)).is_none() {
            failures.push(format!(
                "busy={at}: no frames 15 s after the camera was free"
            ));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn permission_denied_names_the_video_group() {
    let cam = Webcam::new("eacces");
    cam.cams.plug(0, &cam.config("eacces=1\n"));
    let (_service, addr) = cam.start(&[]);
    let v = common::status_after_a_failure(addr, "/dev/video0", Duration::from_secs(10));
    let error = v["capture"]["last_error"].as_str().unwrap_or("");
    assert!(
        error.contains("permission denied (is this user in the 'video' group?)"),
        "{error}"
    );
}

#[test]
fn stalled_camera_is_camera_error_within_4s_then_recovers() {
    let cam = Webcam::new("stall");
    cam.cams.plug(0, &cam.config(""));
    let (_service, addr) = cam.start(&[]);
    let tap = StreamTap::open(addr);
    assert_eq!(tap.frames(10, Duration::from_secs(10)).len(), 10);
    cam.cams.set(0, &cam.config("stall=1\n"));
    let stalled = Instant::now();
    // The last camera frame a viewer got, then the "no signal" picture.
    let mut last_frame = stalled;
    let no_signal = tap.find(
        Duration::from_secs(15),
        |p| {
            if !is_no_signal(p) {
                last_frame = Instant::now();
            }
        },
        is_no_signal,
    );
    let error = health_is(addr, "camera_error", Duration::from_secs(10));
    let error_after = error.as_ref().map(|_| last_frame.elapsed());
    let snapshot = get(addr, "/snapshot").status;
    assert!(
        no_signal.is_some(),
        "no \"no signal\" part within 15 s of the stall"
    );
    let error_after = error_after.expect("health camera_error during the stall");
    eprintln!("camera_error {error_after:?} after the last frame");
    assert!(
        error_after <= Duration::from_secs(4),
        "camera_error {error_after:?} after the last frame"
    );
    assert_eq!(snapshot, 503, "/snapshot during the stall");

    cam.cams.set(0, &cam.config(""));
    assert!(
        health_is(addr, "camera_ok", Duration::from_secs(20)).is_some(),
        "no camera_ok after the stall ended"
    );
    let again = tap.find(Duration::from_secs(10), |_| {}, |p| !is_no_signal(p));
    assert!(again.is_some_and(|(_, p)| cam.is_a_frame(&p.jpeg)));
}
