//! Recordings played as a camera, through the real binary: byte-identical
//! passthrough on /snapshot and /stream, re-encode on a rotation, the end of
//! a recording without looping, damaged frames counted, bad input refused.

use crate::common;

use std::time::Duration;

use common::broker::{BrokerKind, Observer, start_broker};
use common::clips;
use common::{Running, StreamClient, eventually, get, status_json};

/// Index of `jpeg` among `frames`, if it is one of them byte for byte.
fn index_of(frames: &[Vec<u8>], jpeg: &[u8]) -> Option<usize> {
    frames.iter().position(|f| f.as_slice() == jpeg)
}

fn stop(mut svc: Running) {
    svc.signal("TERM");
    let status = svc.wait_exit(Duration::from_secs(3)).expect("exits");
    assert!(status.success(), "{status:?}");
}

#[test]
fn every_layout_is_served_byte_identical_and_shown_as_passthrough() {
    let frames = clips::frames(6, 96, 64);
    let dir = common::temp_dir("layouts");
    let pictures = dir.join("pictures");
    std::fs::create_dir_all(&pictures).expect("dir");
    clips::folder(&pictures, &frames);
    let layouts = [
        common::write(&dir, "clip.mjpeg", &clips::raw(&frames)),
        common::write(&dir, "stream.mjpeg", &clips::multipart(&frames)),
        pictures,
    ];
    for path in layouts {
        let mut svc = clips::play(&path, &[]);
        let addr = svc.http_addr();
        let mut seen = std::collections::BTreeSet::new();
        eventually(Duration::from_secs(10), || {
            let r = get(addr, "/snapshot");
            if r.status == 200 {
                let i = index_of(&frames, &r.body);
                assert!(
                    i.is_some(),
                    "{}: /snapshot is not a recorded frame",
                    path.display()
                );
                seen.extend(i);
            }
            (seen.len() >= 3).then_some(())
        })
        .unwrap_or_else(|| panic!("{}: frames do not move: {seen:?}", path.display()));
        let mut stream = StreamClient::connect(addr);
        for _ in 0..5 {
            let part = stream.next_part();
            assert!(
                index_of(&frames, &part.jpeg).is_some(),
                "{}",
                path.display()
            );
        }
        let status = clips::status_after_frames(addr);
        let c = &status["capture"];
        assert_eq!(c["passthrough"], true, "{status}");
        assert_eq!(
            (c["source"].as_str(), c["backend"].as_str()),
            (Some("file"), Some("file"))
        );
        assert_eq!(
            (c["width"].as_u64(), c["height"].as_u64()),
            (Some(96), Some(64))
        );
        assert_eq!(c["pixel_format"], "MJPEG");
        assert_eq!(c["total_failures"], 0, "{status}");
        stop(svc);
    }
}

#[test]
fn a_rotation_decodes_and_re_encodes_the_recording() {
    let frames = clips::frames(4, 96, 64);
    let dir = common::temp_dir("rotate");
    let path = common::write(&dir, "clip.mjpeg", &clips::raw(&frames));
    let mut svc = clips::play(&path, &["--rotation", "90", "--quality", "70"]);
    let addr = svc.http_addr();
    let snap = eventually(Duration::from_secs(10), || {
        let r = get(addr, "/snapshot");
        (r.status == 200).then_some(r.body)
    })
    .expect("a frame");
    assert!(
        index_of(&frames, &snap).is_none(),
        "re-encoded, not passed through"
    );
    let mut rgb = Vec::new();
    let decoded = tars_camera::encode::Codec::rust()
        .decoder()
        .decode(&snap, &mut rgb)
        .expect("a JPEG");
    assert_eq!((decoded.width, decoded.height), (64, 96), "rotated");
    let status = clips::status_after_frames(addr);
    assert_eq!(status["capture"]["passthrough"], false, "{status}");
    assert_eq!(status["encoder"]["quality"], 70);
    stop(svc);
}

#[test]
fn damaged_and_cut_frames_are_counted_and_skipped() {
    let frames = clips::frames(4, 64, 48);
    let mut data = clips::raw(&frames[..2]);
    // A frame that lost its second half, then whole frames, then a frame cut
    // off by the end of the file.
    data.extend_from_slice(&frames[2][..frames[2].len() / 2]);
    data.extend_from_slice(&frames[3]);
    data.extend_from_slice(&frames[0][..frames[0].len() - 50]);
    let dir = common::temp_dir("damaged");
    let path = common::write(&dir, "clip.mjpeg", &data);
    let mut svc = clips::play(&path, &["--fps", "40"]);
    let addr = svc.http_addr();
    let status = eventually(Duration::from_secs(10), || {
        let v = status_json(addr);
        (v["capture"]["total_failures"].as_u64()? >= 4 && v["capture"]["frames"].as_u64()? >= 8)
            .then_some(v)
    })
    .expect("failures counted while frames go on");
    // Two faults a pass, never three in a row: the camera stays healthy.
    assert_eq!(status["capture"]["reopens"], 0, "{status}");
    let snap = get(addr, "/snapshot");
    assert_eq!(snap.status, 200);
    assert!(index_of(&frames, &snap.body).is_some());
    svc.wait_line("ends inside a frame", Duration::from_secs(5));
    svc.wait_line("damaged JPEG", Duration::from_secs(5));
    stop(svc);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_looping_the_end_is_a_camera_gone_and_the_service_stays_up() {
    let broker = start_broker(BrokerKind::Embedded);
    let mut obs = Observer::connect(broker.port, &["system/health/replay-end"]).await;
    let frames = clips::frames(30, 64, 48);
    let dir = common::temp_dir("once");
    let path = common::write(&dir, "clip.mjpeg", &clips::raw(&frames));
    let url = broker.url();
    let mut svc = clips::play(
        &path,
        &[
            "--loop",
            "false",
            "--fps",
            "15",
            "--mqtt-url",
            &url,
            "--service-name",
            "replay-end",
            "--client-id",
            "replay-end",
        ],
    );
    let addr = svc.http_addr();
    // A viewer watching when the recording ends gets the NO SIGNAL picture.
    let viewer = common::no_signal_viewer(addr);
    let v = obs
        .event_within(Duration::from_secs(15), "camera_error", "at the end")
        .await
        .json();
    assert!(
        v["err"]
            .as_str()
            .expect("err")
            .contains("end of the recording"),
        "{v}"
    );
    let part = viewer.await.expect("join").expect("a NO SIGNAL part");
    assert_eq!(&part.jpeg[..2], &[0xFF, 0xD8]);
    let (snap, status) = tokio::task::spawn_blocking(move || {
        std::thread::sleep(Duration::from_millis(1500));
        (get(addr, "/snapshot"), status_json(addr))
    })
    .await
    .expect("join");
    assert_eq!(
        snap.status, 503,
        "no stale picture once the recording ended"
    );
    assert_eq!(status["capture"]["frames"], 30, "each frame once: {status}");
    // Ended for good: not opened again (each try would count a failure).
    let failures = status["capture"]["total_failures"].clone();
    let later = tokio::task::spawn_blocking(move || {
        std::thread::sleep(Duration::from_millis(2500));
        status_json(addr)
    })
    .await
    .expect("join");
    assert_eq!(
        later["capture"]["total_failures"], failures,
        "no re-open attempts after the end: {later}"
    );
    assert!(
        later["capture"]["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("not opened again")),
        "{later}"
    );
    stop(svc);
}

/// Runs the binary to its exit; (status, stderr).
#[test]
fn unplayable_recordings_exit_2_naming_file_before_anything_starts() {
    let dir = common::temp_dir("bad");
    let text = common::write(&dir, "notes.mjpeg", b"no pictures here\n");
    let mut late = vec![0u8; 8 * 1024 * 1024];
    late.extend_from_slice(&clips::frames(1, 32, 32)[0]);
    let late = common::write(&dir, "late.mjpeg", &late);
    let empty = dir.join("empty");
    std::fs::create_dir_all(&empty).expect("dir");
    let missing = dir.join("missing.mjpeg");
    let cases: [(&[&str], &str); 5] = [
        (
            &["--file", missing.to_str().expect("utf-8")],
            "missing.mjpeg",
        ),
        (
            &["--file", text.to_str().expect("utf-8")],
            "no JPEG in the first 8 MiB",
        ),
        (
            &["--file", late.to_str().expect("utf-8")],
            "no JPEG in the first 8 MiB",
        ),
        (&["--file", empty.to_str().expect("utf-8")], "no *.jpg"),
        (&[], "required with --source file"),
    ];
    for (args, why) in cases {
        let mut all = vec!["--no-tui", "--source", "file", "--http-port", "0"];
        all.extend_from_slice(args);
        let (code, stderr) = common::run(&all, &[]);
        assert_eq!(code, Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains("--file"), "{args:?}: {stderr}");
        assert!(stderr.contains(why), "{args:?}: {stderr}");
        assert!(!stderr.contains("HTTP on"), "nothing started: {stderr}");
    }
    let (code, stderr) = common::run(&["--no-tui", "--loop", "sometimes"], &[]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("--loop"), "{stderr}");
}

#[test]
fn environment_names_the_file_and_a_disagreeing_size_is_one_log_line() {
    let dir = common::temp_dir("env");
    let path = common::write(&dir, "clip.mjpeg", &clips::raw(&clips::frames(3, 96, 64)));
    let file = path.to_str().expect("utf-8");
    let mut svc = Running::headless(
        &[
            "--width",
            "640",
            "--height",
            "480",
            "--mqtt-url",
            "mqtt://127.0.0.1:1",
        ],
        &[
            ("CAMERA_SOURCE", "file"),
            ("CAMERA_FILE", file),
            ("CAMERA_LOOP", "0"),
        ],
    );
    let addr = svc.http_addr();
    let status = eventually(Duration::from_secs(10), || {
        let v = status_json(addr);
        (v["capture"]["frames"].as_u64()? >= 1).then_some(v)
    })
    .expect("frames");
    assert_eq!(status["capture"]["width"], 96);
    let mentions = svc
        .seen
        .iter()
        .filter(|l| l.contains("640x480") && l.contains("96x64"))
        .count();
    assert_eq!(mentions, 1, "{:#?}", svc.seen);
    stop(svc);
}
