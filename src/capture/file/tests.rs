//! Recordings made here with the service's own encoder, read back.

use std::io::{Cursor, Read};
use std::path::{Path, PathBuf};

use bytes::Bytes;

use super::*;
use crate::capture::test_pattern::TestPattern;

/// `n` different test-pattern frames as JPEGs.
pub fn clip_frames(n: usize, width: u32, height: u32) -> Vec<Bytes> {
    TestPattern::recording(n, width, height).expect("encode")
}

/// The frames as `/stream` sends them (this service's part headers).
fn multipart(frames: &[Bytes], boundary: &str, lengths: bool) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, f) in frames.iter().enumerate() {
        out.extend_from_slice(format!("--{boundary}\r\nContent-Type: image/jpeg\r\n").as_bytes());
        if lengths {
            out.extend_from_slice(format!("Content-Length: {}\r\n", f.len()).as_bytes());
        }
        out.extend_from_slice(format!("X-Frame-Seq: {i}\r\n\r\n").as_bytes());
        out.extend_from_slice(f);
        out.extend_from_slice(b"\r\n");
    }
    out
}

fn raw(frames: &[Bytes]) -> Vec<u8> {
    frames.iter().flat_map(|f| f.iter().copied()).collect()
}

/// A reader that hands out `step` bytes at a time.
struct Trickle<'a>(&'a [u8], usize);

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.1.min(buf.len()).min(self.0.len());
        buf[..n].copy_from_slice(&self.0[..n]);
        self.0 = &self.0[n..];
        Ok(n)
    }
}

fn read_all(input: impl Read) -> Vec<Result<Bytes, FrameFault>> {
    let mut frames = StreamFrames::new(input, MAX_FRAME);
    let mut out = Vec::new();
    for _ in 0..1000 {
        match frames.next_frame() {
            Ok(Some(f)) => out.push(Ok(f)),
            Ok(None) => return out,
            Err(e) => out.push(Err(e)),
        }
    }
    panic!("no end after 1000 frames");
}

fn oks(results: &[Result<Bytes, FrameFault>]) -> Vec<Bytes> {
    results.iter().filter_map(|r| r.clone().ok()).collect()
}

/// A fresh empty directory for this test.
fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tars-replay-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

fn write(path: &Path, data: &[u8]) -> PathBuf {
    std::fs::write(path, data).expect("write");
    path.to_path_buf()
}

/// `frames` as `clip.mjpeg` (JPEGs back to back) in a fresh directory `name`.
fn raw_clip(name: &str, frames: &[Bytes]) -> PathBuf {
    write(&temp_dir(name).join("clip.mjpeg"), &raw(frames))
}

/// A source playing `path` at 10 fps, opened.
fn playing(path: &Path, looping: bool) -> FileSource {
    let mut source = FileSource::new(path, looping, 10.0);
    source.open().expect("open");
    source
}

#[test]
fn raw_mjpeg_gives_every_frame_byte_identical() {
    let frames = clip_frames(5, 64, 48);
    let got = read_all(Cursor::new(raw(&frames)));
    assert_eq!(oks(&got), frames);
    assert_eq!(got.len(), frames.len(), "no faults");
}

#[test]
fn multipart_with_and_without_lengths_gives_every_frame() {
    let frames = clip_frames(4, 48, 32);
    for boundary in ["frame", "boundarydonotcross"] {
        for lengths in [true, false] {
            let got = read_all(Cursor::new(multipart(&frames, boundary, lengths)));
            assert_eq!(got, frames.iter().cloned().map(Ok).collect::<Vec<_>>());
        }
    }
}

#[test]
fn data_arriving_in_small_pieces_gives_the_same_frames() {
    let frames = clip_frames(3, 64, 48);
    for step in [1, 7, 4096] {
        assert_eq!(oks(&read_all(Trickle(&raw(&frames), step))), frames);
        let mp = multipart(&frames, "frame", true);
        assert_eq!(oks(&read_all(Trickle(&mp, step))), frames);
    }
}

#[test]
fn a_frame_cut_short_inside_the_file_is_one_fault_and_the_rest_plays() {
    let frames = clip_frames(3, 64, 48);
    let mut data = raw(&frames[..1]);
    data.extend_from_slice(&frames[1][..frames[1].len() / 2]);
    data.extend_from_slice(&raw(&frames[2..]));
    let got = read_all(Cursor::new(data));
    assert_eq!(got.len(), 3);
    assert!(
        matches!(got[1], Err(FrameFault::Corrupt(_))),
        "{:?}",
        got[1]
    );
    assert_eq!(oks(&got), vec![frames[0].clone(), frames[2].clone()]);
}

#[test]
fn a_file_cut_mid_frame_drops_the_partial_frame_and_says_so() {
    let frames = clip_frames(2, 64, 48);
    let cut = frames[1].len() - 100;
    for (data, tail) in [
        (raw(&frames), 100),
        (multipart(&frames, "frame", true), 102),
        (multipart(&frames, "frame", false), 102),
    ] {
        let got = read_all(Cursor::new(&data[..data.len() - tail]));
        assert_eq!(got.len(), 2, "{got:?}");
        assert_eq!(got[0], Ok(frames[0].clone()));
        assert_eq!(got[1], Err(FrameFault::Truncated { bytes: cut }));
    }
}

#[test]
fn an_oversized_frame_is_refused_without_holding_it() {
    let frames = clip_frames(2, 64, 48);
    let max = frames[0].len() - 1;
    // Whether its end is already read or not, it is refused.
    for step in [1 << 20, 64] {
        let data = raw(&frames);
        let mut reader = StreamFrames::new(Trickle(&data, step), max);
        assert_eq!(reader.next_frame(), Err(FrameFault::TooLarge { max }));
    }
}

#[test]
fn position_resumes_at_the_next_frame() {
    let frames = clip_frames(3, 64, 48);
    let data = raw(&frames);
    let mut first = StreamFrames::new(Cursor::new(data.clone()), MAX_FRAME);
    assert_eq!(first.next_frame(), Ok(Some(frames[0].clone())));
    let at = first.position();
    assert_eq!(at, frames[0].len() as u64);
    let mut rest = Cursor::new(data);
    rest.set_position(at);
    let mut second = StreamFrames::starting_at(rest, at, MAX_FRAME);
    assert_eq!(second.next_frame(), Ok(Some(frames[1].clone())));
    assert_eq!(
        second.position(),
        (frames[0].len() + frames[1].len()) as u64
    );
}

/// The next frame of `source`, which must be a JPEG.
fn next_jpeg(source: &mut FileSource) -> Bytes {
    match source.next_frame(&mut Vec::new()) {
        Ok(SourceFrame::Jpeg { data, .. }) => data,
        other => panic!("expected a JPEG, got {other:?}"),
    }
}

#[test]
fn a_file_loops_and_reports_its_size_from_the_jpeg() {
    let frames = clip_frames(3, 80, 48);
    let path = raw_clip("loop", &frames);
    let mut source = FileSource::new(&path, true, 10.0);
    let info = source.open().expect("open");
    assert_eq!((info.width, info.height), (80, 48));
    assert_eq!(info.pixel_format, "MJPEG");
    assert!(!info.self_paced, "the capture thread paces it");
    for i in 0..7 {
        assert_eq!(next_jpeg(&mut source), frames[i % 3]);
    }
}

#[test]
fn without_looping_the_end_is_a_lost_camera_for_good() {
    let frames = clip_frames(2, 64, 48);
    let path = raw_clip("once", &frames);
    let mut source = playing(&path, false);
    for f in &frames {
        assert_eq!(&next_jpeg(&mut source), f);
    }
    assert!(matches!(
        source.next_frame(&mut Vec::new()),
        Err(CaptureError::Disconnected(_))
    ));
    assert!(matches!(source.open(), Err(CaptureError::Finished(_))));
}

#[test]
fn a_damaged_frame_is_a_corrupt_capture_and_the_next_one_plays() {
    let dir = temp_dir("damaged");
    let frames = clip_frames(3, 64, 48);
    // The middle part keeps its length but its frame header says 0 lines.
    let mut bad = frames[1].to_vec();
    crate::encode::claim_size(&mut bad, 64, 0);
    let parts = [frames[0].clone(), Bytes::from(bad), frames[2].clone()];
    let path = write(&dir.join("s.mjpeg"), &multipart(&parts, "frame", true));
    let mut source = playing(&path, true);
    assert_eq!(next_jpeg(&mut source), frames[0]);
    assert!(matches!(
        source.next_frame(&mut Vec::new()),
        Err(CaptureError::Corrupt(_))
    ));
    assert_eq!(next_jpeg(&mut source), frames[2]);
}

#[test]
fn a_reopen_resumes_where_it_stopped() {
    let frames = clip_frames(4, 64, 48);
    let path = raw_clip("resume", &frames);
    let mut source = playing(&path, true);
    assert_eq!(next_jpeg(&mut source), frames[0]);
    source.close();
    assert!(source.next_frame(&mut Vec::new()).is_err(), "closed");
    source.open().expect("reopen");
    assert_eq!(next_jpeg(&mut source), frames[1]);
}

#[test]
fn a_folder_plays_its_jpegs_in_name_order() {
    let dir = temp_dir("folder");
    let frames = clip_frames(3, 64, 48);
    write(&dir.join("b.JPEG"), &frames[1]);
    write(&dir.join("a.jpg"), &frames[0]);
    write(&dir.join("c.jpeg"), &frames[2]);
    write(&dir.join("notes.txt"), b"not a picture");
    std::fs::create_dir_all(dir.join("sub.jpg")).expect("dir");
    let mut source = FileSource::new(&dir, true, 10.0);
    let info = source.open().expect("open");
    assert_eq!((info.width, info.height), (64, 48));
    for i in 0..6 {
        assert_eq!(next_jpeg(&mut source), frames[i % 3]);
    }
}

#[test]
fn probe_refuses_what_cannot_play() {
    let dir = temp_dir("probe");
    let missing = dir.join("missing.mjpeg");
    assert!(matches!(
        probe(&missing),
        Err(ProbeError::Unreadable { .. })
    ));
    assert!(matches!(probe(&dir), Err(ProbeError::EmptyFolder { .. })));
    let text = write(&dir.join("text.mjpeg"), b"hello, not a video\n");
    assert!(matches!(probe(&text), Err(ProbeError::NoJpeg { .. })));
    // A JPEG just past the first 8 MiB is too late.
    let mut late = vec![0u8; usize::try_from(PROBE_BYTES).expect("fits")];
    late.extend_from_slice(&clip_frames(1, 64, 48)[0]);
    let late = write(&dir.join("late.mjpeg"), &late);
    assert!(matches!(probe(&late), Err(ProbeError::NoJpeg { .. })));
    // A folder with only a broken picture.
    let broken = dir.join("broken");
    std::fs::create_dir_all(&broken).expect("dir");
    write(&broken.join("a.jpg"), b"\xFF\xD8\xFF\xE0 truncated");
    assert!(matches!(probe(&broken), Err(ProbeError::NoJpeg { .. })));
}

#[test]
fn probe_finds_the_first_good_frame_behind_junk() {
    let dir = temp_dir("probe-ok");
    let frames = clip_frames(2, 96, 64);
    let mut data = b"HTTP/1.1 200 OK\r\n\r\n".to_vec();
    data.extend_from_slice(&frames[0][..200]);
    data.extend_from_slice(&multipart(&frames[1..], "frame", true));
    let path = write(&dir.join("x.mjpeg"), &data);
    let recording = probe(&path).expect("playable");
    assert_eq!(recording.layout, Layout::Stream);
    assert_eq!((recording.width, recording.height), (96, 64));
}

#[test]
fn config_needs_a_playable_file_and_takes_its_size() {
    use crate::config::{Options, validate};
    let validate = |o: Options| validate(o).and_then(super::settle);
    let dir = temp_dir("config");
    let path = write(&dir.join("clip.mjpeg"), &raw(&clip_frames(1, 96, 64)));
    let options = |file: Option<PathBuf>, width: Option<i64>| Options {
        source: Some("file".into()),
        file,
        width,
        ..Options::default()
    };
    let c = validate(options(Some(path.clone()), None)).expect("valid");
    assert_eq!((c.width, c.height, c.loop_playback), (96, 64, true));
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    let c = validate(options(Some(path), Some(640))).expect("valid");
    assert_eq!((c.width, c.height), (96, 64));
    assert_eq!(c.warnings.len(), 1, "one line for the disagreeing size");
    assert!(c.warnings[0].contains("96x64"), "{:?}", c.warnings);
    for bad in [None, Some(dir.join("missing"))] {
        let e = validate(options(bad, None)).expect_err("refused");
        assert_eq!(e.option, "--file");
    }
}
