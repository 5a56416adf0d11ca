use super::*;

fn offers() -> Vec<ModeOption> {
    group_offers([
        ("MJPEG".to_owned(), 640, 480, 30.0),
        ("MJPEG".to_owned(), 640, 480, 15.0),
        ("MJPEG".to_owned(), 640, 480, 30.0),
        ("YUYV".to_owned(), 640, 480, 30.0),
        ("MJPEG".to_owned(), 1280, 720, 2997.0 / 100.0),
    ])
}

fn asked(width: u32, height: u32, fps: f64) -> ModeRequest {
    ModeRequest {
        width,
        height,
        fps,
        device: None,
    }
}

#[test]
fn offers_are_grouped_per_format_and_size_with_rates_highest_first() {
    let o = offers();
    assert_eq!(o.len(), 3);
    assert_eq!(
        (o[0].width, o[0].height, o[0].fps.clone()),
        (640, 480, vec![30.0, 15.0])
    );
    assert_eq!(o[1].pixel_format, "YUYV");
    assert_eq!(o[2].fps.len(), 1);
}

#[test]
fn an_offered_size_and_rate_passes_and_others_name_what_is_offered() {
    let o = offers();
    assert!(check_offered(&o, &asked(640, 480, 15.0)).is_ok());
    assert!(
        check_offered(&o, &asked(1280, 720, 30.0)).is_ok(),
        "29.97 counts as 30"
    );
    let e = check_offered(&o, &asked(800, 600, 30.0)).expect_err("refused");
    assert_eq!(
        e.to_string(),
        "800x600: not offered by the camera (offered: 640x480, 1280x720)"
    );
    let e = check_offered(&o, &asked(640, 480, 60.0)).expect_err("refused");
    assert_eq!(
        e.to_string(),
        "640x480 at 60 fps: not offered by the camera (offered: 30 fps, 15 fps)"
    );
    assert!(check_offered(&[], &asked(123, 45, 7.0)).is_ok());
}

#[test]
fn a_change_touches_only_what_it_names() {
    let change = ModeChange {
        fps: Some(15.0),
        flip_v: Some(true),
        ..ModeChange::default()
    };
    assert!(change.reopens());
    let req = change.request(&asked(640, 480, 30.0));
    assert_eq!((req.width, req.height, req.fps), (640, 480, 15.0));
    let t = change.transform(Transform {
        rotation: 90,
        flip_h: true,
        flip_v: false,
    });
    assert_eq!((t.rotation, t.flip_h, t.flip_v), (90, true, true));
    let turn = ModeChange {
        rotation: Some(180),
        ..ModeChange::default()
    };
    assert!(!turn.reopens());
    assert!(ModeChange::default().is_empty());
}
