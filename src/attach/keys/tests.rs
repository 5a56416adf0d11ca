use super::*;

#[test]
fn keys_become_absolute_requests() {
    let mut s = Status::default();
    s.encoder.quality = 98;
    s.capture.target_fps = 10.0;
    s.mqtt.rate_hz = 5.0;
    let body = |c: Command| body_for(&c, &s).map(|v| v.to_string());
    assert_eq!(
        body(Command::AdjustQuality(5)).as_deref(),
        Some(r#"{"quality":100}"#)
    );
    assert_eq!(
        body(Command::AdjustQuality(-5)).as_deref(),
        Some(r#"{"quality":93}"#)
    );
    assert_eq!(
        body(Command::StepMqttRate(true)).as_deref(),
        Some(r#"{"mqtt_rate":10.0}"#)
    );
    assert_eq!(
        body(Command::ToggleMqttPause).as_deref(),
        Some(r#"{"paused":true}"#)
    );
    assert_eq!(
        body(Command::SaveSnapshot).as_deref(),
        Some(r#"{"snapshot":true}"#)
    );
    assert_eq!(
        body(Command::SaveSettings).as_deref(),
        Some(r#"{"save":true}"#)
    );
    assert_eq!(
        body(Command::ReconnectMqtt).as_deref(),
        Some(r#"{"reconnect":true}"#)
    );
    assert_eq!(body(Command::Quit), None);
    s.capture.rotation = 270;
    assert_eq!(
        body_for(&Command::Rotate, &s)
            .map(|v| v.to_string())
            .as_deref(),
        Some(r#"{"rotation":0}"#)
    );
}

#[test]
fn a_value_just_confirmed_beats_an_older_status() {
    let mut status = Status::default();
    status.capture.rotation = 0;
    status.encoder.quality = 80;
    let now = std::time::Instant::now();
    status.started_at = 1_796_400_000.25;
    let confirmed = Confirmed {
        quality: Some((85, now)),
        rotation: Some((90, now)),
        started_at: 1_796_400_000.25,
    };
    let shown = confirmed.over(&status);
    assert_eq!((shown.encoder.quality, shown.capture.rotation), (85, 90));
    let body = body_for(&Command::Rotate, &shown).map(|v| v.to_string());
    assert_eq!(body.as_deref(), Some(r#"{"rotation":180}"#));
    let old = now.checked_sub(ANSWER_FRESH * 2).unwrap_or(now);
    let stale = Confirmed {
        quality: Some((85, old)),
        rotation: Some((90, old)),
        started_at: 1_796_400_000.25,
    };
    let shown = stale.over(&status);
    assert_eq!((shown.encoder.quality, shown.capture.rotation), (80, 0));
}

#[test]
fn a_restarted_service_is_not_held_to_what_the_one_before_confirmed() {
    // Confirmed by a service started 0.3 s before the one whose status is
    // shown now (a quick `systemctl restart` with --quality 70): a key
    // steps from 70.
    let mut status = Status::default();
    status.encoder.quality = 70;
    status.started_at = 1_796_400_000.55;
    let confirmed = Confirmed {
        quality: Some((85, std::time::Instant::now())),
        rotation: None,
        started_at: 1_796_400_000.25,
    };
    let shown = confirmed.over(&status);
    assert_eq!(shown.encoder.quality, 70);
    let body = body_for(&Command::AdjustQuality(5), &shown).map(|v| v.to_string());
    assert_eq!(body.as_deref(), Some(r#"{"quality":75}"#));
}

#[test]
fn a_mode_request_names_each_part() {
    let request = ControlRequest {
        mode: crate::capture::mode::ModeChange {
            size: Some((1280, 720)),
            fps: Some(15.0),
            flip_v: Some(true),
            ..Default::default()
        },
        ..ControlRequest::default()
    };
    assert_eq!(
        request_body(&request).to_string(),
        r#"{"flip_v":true,"fps":15.0,"height":720,"width":1280}"#
    );
}

#[test]
fn a_controls_request_goes_as_it_is_and_a_refusal_reads_as_the_service_said() {
    let request = ControlRequest {
        controls: vec![
            ("brightness".into(), ControlValue::Number(-3)),
            ("white_balance_automatic".into(), ControlValue::Bool(false)),
        ],
        ..ControlRequest::default()
    };
    assert_eq!(
        request_body(&request).to_string(),
        r#"{"controls":{"brightness":-3,"white_balance_automatic":false}}"#
    );
    let e = refused(
        "exposure_time_absolute",
        "controls: exposure_time_absolute: inactive while auto_exposure is automatic",
    );
    assert_eq!(
        e,
        ControlError::Controls(ControlsError::Refused {
            name: "exposure_time_absolute".into(),
            why: "inactive while auto_exposure is automatic".into()
        })
    );
    let e = refused("brightness", "connection refused");
    assert_eq!(
        crate::tui::panes::controls::refusal_text(&e),
        "brightness: connection refused"
    );
}
