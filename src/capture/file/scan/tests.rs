use super::*;
use crate::capture::file::tests::clip_frames;

fn walk_all(frame: &[u8]) -> Step {
    Walk::new().advance(frame)
}

#[test]
fn a_whole_jpeg_ends_at_its_eoi() {
    for jpeg in clip_frames(3, 64, 48) {
        assert_eq!(walk_all(&jpeg), Step::Complete { len: jpeg.len() });
        // With the next image right behind it, still its own length.
        let mut two = jpeg.to_vec();
        two.extend_from_slice(&jpeg);
        assert_eq!(walk_all(&two), Step::Complete { len: jpeg.len() });
    }
}

#[test]
fn every_prefix_needs_more_and_resuming_gives_the_same_end() {
    let jpeg = &clip_frames(1, 48, 32)[0];
    let mut walk = Walk::new();
    let mut end = None;
    for cut in 3..=jpeg.len() {
        match walk.advance(&jpeg[..cut]) {
            Step::NeedMore => assert!(cut < jpeg.len(), "whole image still needs more"),
            Step::Complete { len } => {
                end = Some((cut, len));
                break;
            }
            other => panic!("cut at {cut}: {other:?}"),
        }
    }
    assert_eq!(end, Some((jpeg.len(), jpeg.len())));
}

#[test]
fn a_thumbnail_inside_app1_does_not_end_the_frame() {
    let frames = clip_frames(2, 64, 48);
    let (main, thumb) = (&frames[0], &frames[1]);
    // SOI, APP1 holding a whole JPEG (as EXIF thumbnails are), rest of main.
    let mut jpeg = vec![0xFF, 0xD8, 0xFF, 0xE1];
    let len = u16::try_from(thumb.len() + 2).expect("small thumbnail");
    jpeg.extend_from_slice(&len.to_be_bytes());
    jpeg.extend_from_slice(thumb);
    jpeg.extend_from_slice(&main[2..]);
    assert_eq!(walk_all(&jpeg), Step::Complete { len: jpeg.len() });
}

#[test]
fn an_image_cut_short_by_the_next_one_is_broken_at_the_next_soi() {
    let frames = clip_frames(2, 64, 48);
    let half = frames[0].len() / 2;
    let mut data = frames[0][..half].to_vec();
    data.extend_from_slice(&frames[1]);
    match walk_all(&data) {
        Step::Broken { resume, .. } => assert_eq!(resume, half, "next image starts there"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn garbage_after_soi_is_broken() {
    let data = [0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x01, 0x00, 0x00];
    assert!(matches!(walk_all(&data), Step::Broken { .. }));
    let data = [0xFF, 0xD8, 0x12, 0x34];
    assert!(matches!(walk_all(&data), Step::Broken { .. }));
}

#[test]
fn soi_is_found_anywhere() {
    assert_eq!(find_soi(b"xx\xFF\xD8\xFF\xE0"), Some(2));
    assert_eq!(find_soi(b"\xFF\xD8"), None);
    assert_eq!(find_soi(b"--frame\r\n"), None);
}

#[test]
fn part_headers_of_known_servers_give_the_length() {
    let ours = b"\r\n--frame\r\nContent-Type: image/jpeg\r\nContent-Length: 1234\r\nX-Frame-Seq: 7\r\n\r\n";
    assert_eq!(part_length(ours), Some(1234));
    let ustreamer = b"--boundarydonotcross\r\nContent-Type: image/jpeg\r\nContent-Length: 99\r\nX-Timestamp: 1.5\r\n\r\n";
    assert_eq!(part_length(ustreamer), Some(99));
    let mjpg_streamer = b"\r\n--boundarydonotcross\r\nContent-Type: image/jpeg\r\ncontent-length:   512\r\nX-Timestamp: 17.25\r\n\r\n";
    assert_eq!(part_length(mjpg_streamer), Some(512));
    let lf_only = b"--x\nContent-Length: 10\n\n";
    assert_eq!(part_length(lf_only), Some(10));
}

#[test]
fn no_length_without_headers_right_before_the_image() {
    assert_eq!(part_length(b""), None);
    assert_eq!(part_length(b"\x00\x00\x00"), None);
    // A length from an older part, not this one.
    let old =
        b"Content-Length: 10\r\n\r\n\xFF\xD9garbage\r\n--frame\r\nContent-Type: image/jpeg\r\n\r\n";
    assert_eq!(part_length(old), None);
    // Headers not ended by a blank line right before the image.
    assert_eq!(part_length(b"Content-Length: 10\r\n"), None);
    assert_eq!(part_length(b"Content-Length: ten\r\n\r\n"), None);
}
