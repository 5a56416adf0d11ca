//! Checking requests against a webcam-like list of controls.
use super::*;

fn control(name: &str, kind: ControlKind, range: (i64, i64, u64), value: i64) -> ControlInfo {
    ControlInfo {
        name: name.to_owned(),
        label: name.to_owned(),
        kind,
        min: range.0,
        max: range.1,
        step: range.2,
        default: value,
        value,
        menu: Vec::new(),
        inactive: false,
        read_only: false,
        grabbed: false,
        id: 1,
    }
}

fn webcam() -> Vec<ControlInfo> {
    let mut auto = control("auto_exposure", ControlKind::Menu, (0, 3, 1), 3);
    auto.menu = vec![
        MenuItem {
            index: 1,
            name: "Manual Mode".into(),
        },
        MenuItem {
            index: 3,
            name: "Aperture Priority Mode".into(),
        },
    ];
    let mut exposure = control(
        "exposure_time_absolute",
        ControlKind::Integer,
        (3, 2047, 1),
        250,
    );
    exposure.inactive = true;
    let mut power = control("power_line_frequency", ControlKind::Menu, (0, 2, 1), 2);
    power.menu = vec![
        MenuItem {
            index: 0,
            name: "Disabled".into(),
        },
        MenuItem {
            index: 1,
            name: "50 Hz".into(),
        },
        MenuItem {
            index: 2,
            name: "60 Hz".into(),
        },
    ];
    vec![
        control("brightness", ControlKind::Integer, (0, 255, 1), 128),
        control("sharpness", ControlKind::Integer, (0, 255, 5), 125),
        control(
            "white_balance_automatic",
            ControlKind::Boolean,
            (0, 1, 1),
            1,
        ),
        auto,
        exposure,
        power,
    ]
}

fn req(pairs: &[(&str, ControlValue)]) -> Vec<(String, ControlValue)> {
    pairs
        .iter()
        .map(|(n, v)| ((*n).to_owned(), v.clone()))
        .collect()
}

#[test]
fn names_as_v4l2_ctl_writes_them() {
    for (label, name) in [
        ("Brightness", "brightness"),
        ("White Balance, Automatic", "white_balance_automatic"),
        ("Exposure Time, Absolute", "exposure_time_absolute"),
        ("Power Line Frequency", "power_line_frequency"),
        ("Focus, Automatic Continuous", "focus_automatic_continuous"),
        ("  ISO Sensitivity, Auto ", "iso_sensitivity_auto"),
    ] {
        assert_eq!(var_name(label), name);
    }
}

#[test]
fn menus_by_name_or_index_and_autos_first() {
    use ControlValue::{Number, Text};
    let writes = resolve(
        &webcam(),
        &req(&[
            ("exposure_time_absolute", Number(100)),
            ("auto_exposure", Text("manual".into())),
            ("power_line_frequency", Text("50hz".into())),
            ("white_balance_automatic", ControlValue::Bool(false)),
        ]),
    )
    .expect("valid");
    let got: Vec<(&str, i64)> = writes.iter().map(|w| (w.name.as_str(), w.value)).collect();
    assert_eq!(
        got,
        [
            ("auto_exposure", 1),
            ("white_balance_automatic", 0),
            ("exposure_time_absolute", 100),
            ("power_line_frequency", 1),
        ]
    );
    let by_index = resolve(&webcam(), &req(&[("power_line_frequency", Number(2))]));
    assert_eq!(by_index.expect("valid")[0].value, 2);
}

#[test]
fn every_refusal_names_the_control_and_what_it_takes() {
    use ControlValue::{Bool, Number, Text};
    let cases: &[(&str, ControlValue, &str)] = &[
        (
            "colour",
            Number(1),
            "colour: unknown control (this camera has: brightness, sharpness",
        ),
        (
            "brightness",
            Number(300),
            "brightness: must be 0 to 255 (got 300)",
        ),
        (
            "brightness",
            Bool(true),
            "brightness: must be 0 to 255 (got true)",
        ),
        (
            "sharpness",
            Number(7),
            "sharpness: must be 0 to 255 in steps of 5 (got 7)",
        ),
        (
            "auto_exposure",
            Number(2),
            "auto_exposure: must be one of Manual Mode (1), Aperture Priority Mode (3) (got 2)",
        ),
        (
            "auto_exposure",
            Text("sport".into()),
            "auto_exposure: must be one of",
        ),
        (
            "white_balance_automatic",
            Number(2),
            "white_balance_automatic: must be true or false (got 2)",
        ),
        (
            "exposure_time_absolute",
            Number(100),
            "exposure_time_absolute: inactive while auto_exposure is automatic: set auto_exposure to manual first",
        ),
    ];
    for (name, value, expected) in cases {
        let err = resolve(&webcam(), &req(&[(name, value.clone())]))
            .expect_err(name)
            .to_string();
        assert!(err.starts_with(expected), "{err}\n  expected {expected}");
    }
    assert_eq!(
        resolve(&[], &req(&[("brightness", Number(1))])),
        Err(ControlsError::NoControls)
    );
}

#[test]
fn assignments_from_text() {
    assert_eq!(
        parse_assignment("brightness=10"),
        Ok(("brightness".into(), ControlValue::Number(10)))
    );
    assert_eq!(
        parse_assignment(" auto_exposure = manual "),
        Ok(("auto_exposure".into(), ControlValue::Text("manual".into())))
    );
    assert_eq!(
        parse_assignment("x=true"),
        Ok(("x".into(), ControlValue::Bool(true)))
    );
    assert!(parse_assignment("brightness").is_err());
    assert!(parse_assignment("=1").is_err());
}
