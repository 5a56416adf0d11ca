use std::path::Path;

use super::*;
use crate::cli::Cli;
use crate::http::Secret;
use clap::Parser as _;
use tars_mqtt::BrokerUrl;

fn parse(args: &[&str]) -> Result<Config, String> {
    let mut argv = vec!["tars-camera"];
    argv.extend_from_slice(args);
    let cli = Cli::try_parse_from(argv).map_err(|e| e.to_string())?;
    validate(cli.options).map_err(|e| e.to_string())
}

/// Why `text` is not a valid config file.
fn file_err(text: &str) -> String {
    match parse_file(text) {
        Ok(o) => panic!("{text:?} should fail, got {o:?}"),
        Err(e) => e.to_string(),
    }
}

fn err(args: &[&str]) -> String {
    match parse(args) {
        Ok(c) => panic!("{args:?} should fail, got {c:?}"),
        Err(e) => e,
    }
}

#[test]
fn defaults_match_the_spec() {
    let c = validate(Options::default()).expect("defaults are valid");
    assert_eq!(c.source, SourceKind::Camera);
    assert_eq!((c.width, c.height), (640, 480));
    assert!((c.fps - 10.0).abs() < f64::EPSILON);
    assert_eq!(c.quality, 80);
    assert!((c.mqtt_rate_hz - 2.0).abs() < f64::EPSILON);
    assert_eq!(
        c.broker,
        BrokerChoice::External(BrokerUrl::parse("mqtt://127.0.0.1:1883").expect("url"))
    );
    assert_eq!(c.heartbeat_interval, Duration::from_secs(5));
    assert_eq!(c.reconnect_min, Duration::from_millis(500));
    assert_eq!(c.reconnect_max, Duration::from_secs(5));
    assert_eq!(c.http_port, 8080);
    assert_eq!(c.max_clients, 16);
    assert_eq!(c.frame_topic, "camera/frame");
    assert_eq!(c.service_name, "camera");
}

#[test]
fn quality_out_of_range_names_the_option() {
    for q in ["0", "101", "-3"] {
        let e = err(&["--quality", q]);
        assert!(e.starts_with("--quality: must be 1 to 100"), "{e}");
    }
    let e = err(&["--quality", "high"]);
    assert!(e.contains("--quality"), "{e}");
}

#[test]
fn zero_or_negative_sizes_and_rates_are_refused_naming_the_option() {
    for (args, start) in [
        (["--fps", "0"], "--fps: must be above 0"),
        (["--mqtt-rate", "-1"], "--mqtt-rate: must be 0 (off)"),
        (["--width", "0"], "--width:"),
        (["--height", "0"], "--height:"),
    ] {
        let e = err(&args);
        assert!(e.starts_with(start), "{e}");
    }
    assert!(err(&["--mqtt-rate", "fast"]).contains("--mqtt-rate"));
}

#[test]
fn rate_above_fps_is_capped_with_a_warning() {
    let c = parse(&["--fps", "5", "--mqtt-rate", "30"]).expect("valid");
    assert!((c.mqtt_rate_hz - 5.0).abs() < f64::EPSILON);
    assert_eq!(c.warnings.len(), 1);
    let c = parse(&["--mqtt-rate", "0.2"]).expect("fractional");
    assert!((c.mqtt_rate_hz - 0.2).abs() < f64::EPSILON);
    let c = parse(&["--mqtt-rate", "0"]).expect("zero is off");
    assert!(c.mqtt_rate_hz.abs() < f64::EPSILON);
    let c = parse(&["--mqtt-rate", "0.01"]).expect("the lowest rate");
    assert!((c.mqtt_rate_hz - 0.01).abs() < f64::EPSILON);
}

#[test]
fn rates_between_zero_and_the_minimum_are_refused_from_flag_and_file() {
    for rate in ["1e-300", "0.009", "4.9e-324"] {
        let e = err(&["--mqtt-rate", rate]);
        assert!(e.starts_with("--mqtt-rate: must be 0 (off) or 0.01"), "{e}");
        let file = parse_file(&format!("mqtt_rate = {rate}\n")).expect("a number");
        let e = validate(file).expect_err("refused from the file too");
        assert!(e.to_string().contains("must be 0 (off) or 0.01"), "{e}");
    }
}

#[test]
fn unknown_source_is_refused() {
    let e = err(&["--source", "webcam"]);
    assert_eq!(
        e,
        "--source: must be camera, test-pattern or file (got 'webcam')"
    );
}

#[test]
fn malformed_or_unknown_scheme_urls_are_refused() {
    assert!(err(&["--mqtt-url", "http://broker:1883"]).starts_with("--mqtt-url:"));
    assert!(err(&["--mqtt-url", "mqtt://host:notaport"]).starts_with("--mqtt-url:"));
    assert!(err(&["--mqtt-url", "mqtt://"]).starts_with("--mqtt-url:"));
    assert!(parse(&["--mqtt-url", "mqtt://u:p@broker:1884"]).is_ok());
    assert!(parse(&["--mqtt-url", "mqtts://broker"]).is_ok());
}

#[test]
fn rotation_must_be_a_right_angle() {
    assert!(err(&["--rotation", "45"]).starts_with("--rotation: must be 0, 90, 180 or 270"));
    assert_eq!(parse(&["--rotation", "270"]).expect("valid").rotation, 270);
}

#[test]
fn durations_accept_seconds_and_units() {
    for (text, ms) in [
        ("1", 1000),
        ("0.5", 500),
        ("500ms", 500),
        ("5s", 5000),
        ("2m", 120_000),
    ] {
        let d: DurationValue = text.parse().expect(text);
        assert_eq!(d.0, Duration::from_millis(ms), "{text}");
    }
    assert!("soon".parse::<DurationValue>().is_err());
    assert!("-1".parse::<DurationValue>().is_err());
    assert!(err(&["--heartbeat-interval", "often"]).contains("--heartbeat-interval"));
    assert!(err(&["--reconnect-min", "5", "--reconnect-max", "1"]).starts_with("--reconnect-max:"));
}

#[test]
fn flags_beat_the_file_and_the_file_beats_defaults() {
    let file =
        parse_file("quality = 55\nfps = 15\nheartbeat_interval = \"250ms\"\nflip_h = true\n")
            .expect("file");
    let cli = Cli::try_parse_from(["tars-camera", "--quality", "90"]).expect("cli");
    let c = validate(cli.options.or(file)).expect("valid");
    assert_eq!(c.quality, 90, "flag wins over file");
    assert!(
        (c.fps - 15.0).abs() < f64::EPSILON,
        "file wins over default"
    );
    assert_eq!(c.heartbeat_interval, Duration::from_millis(250));
    assert!(c.flip_h);
}

#[test]
fn a_file_sets_the_http_credentials_and_they_lose_to_the_flags() {
    let file =
        parse_file("quality = 55\nhttp_auth = \"robot:pw\"\nhttp_token = \"t0k\"\n").expect("file");
    let c = validate(file.clone()).expect("valid");
    assert_eq!(c.http_auth.mode(), "basic+token");
    let cli = Cli::try_parse_from(["tars-camera", "--http-token", "flag"]).expect("cli");
    let c = validate(cli.options.or(file)).expect("valid");
    let (basic, token) = c.http_auth.secrets();
    assert_eq!(basic.map(Secret::expose), Some("robot:pw"));
    assert_eq!(token.map(Secret::expose), Some("flag"));
    // A bad value keeps its place and is named by its key.
    let e = file_err("fps = 10\nhttp_token = 5\n");
    assert!(e.starts_with("line 2, column 14: http_token: "), "{e}");
    // A secret of the wrong type is never quoted.
    for text in [
        "http_token = 12345\n",
        "http_auth = 12345\n",
        "http_token = 12345.5\n",
        "http_token = [12345]\n",
        "http_auth = { user = 12345 }\n",
    ] {
        let e = file_err(text);
        assert!(!e.contains("12345"), "{text}: {e}");
        assert!(e.contains("not shown"), "{text}: {e}");
    }
    let e = file_err("http_tokn = \"t\"\n");
    assert_eq!(
        e,
        "line 1, column 1: unknown key `http_tokn`; did you mean `http_token`?"
    );
}

#[test]
fn a_value_of_the_wrong_type_names_its_key() {
    let e = file_err("quality = \"80\"\n");
    assert!(
        e.starts_with("line 1, column 11: quality: invalid type"),
        "{e}"
    );
    let e = file_err("fps = 10\n\nflip_h = 1\n");
    assert!(e.starts_with("line 3, column 10: flip_h: "), "{e}");
    let e = file_err("[controls]\nbrightness = 1\n\n[http_auth]\nuser = 5\n");
    assert!(e.contains("http_auth: "), "{e}");
}

#[test]
fn an_unknown_key_is_told_the_nearest_known_one_only() {
    let e = file_err("fps = 10\nqualty = 80\n");
    assert_eq!(
        e,
        "line 2, column 1: unknown key `qualty`; did you mean `quality`?"
    );
    let e = file_err("heartbeat_intervall = \"1s\"\n");
    assert!(e.ends_with("did you mean `heartbeat_interval`?"), "{e}");
    // Nothing near: no guess, and not the list of every key.
    let e = file_err("colour = \"red\"\n");
    assert!(
        e.starts_with("line 1, column 1: unknown key `colour` ("),
        "{e}"
    );
    assert!(
        !e.contains("did you mean") && !e.contains("`quality`"),
        "{e}"
    );
}

#[test]
fn every_error_about_the_file_reads_file_place_key() {
    let dir = std::env::temp_dir().join(format!("tars-config-style-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("camera.toml");
    let resolved = |text: &str| {
        std::fs::write(&path, text).expect("write");
        let options = Options {
            config: Some(path.clone()),
            ..Options::default()
        };
        resolve(options, Origins::default(), Ok)
            .expect_err("refused")
            .to_string()
    };
    let file = path.display().to_string();
    for (text, expected) in [
        (
            "quality = \"80\"\n",
            "line 1, column 11: quality: invalid type",
        ),
        (
            "fps = 1\nqualty = 8\n",
            "line 2, column 1: unknown key `qualty`",
        ),
        (
            "fps = 10\nquality = 0\n",
            "line 2, column 1: quality: must be 1 to 100",
        ),
        ("fps = 10\nquality = [\n", "line 2, column"),
        (
            "[controls]\nzoom = 1.5\n",
            "line 1, column 2: controls: zoom: must be",
        ),
    ] {
        let e = resolved(text);
        assert!(e.starts_with(&format!("{file}: {expected}")), "{text}: {e}");
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_broken_file_reports_line_and_column() {
    let e = file_err("fps = 10\nquality = = 3\n");
    assert!(e.starts_with("line 2, column"), "{e}");
    let e = file_err("fps = 10\ncolour = \"red\"\n");
    assert!(e.starts_with("line 2, column 1"), "{e}");
    assert!(e.contains("colour"), "{e}");
    let e = file_err("quality = \"high\"\n");
    assert!(e.starts_with("line 1"), "{e}");
}

#[test]
fn a_missing_file_is_an_error_naming_config() {
    let e = read_file(Path::new("/nonexistent/tars.toml")).expect_err("missing");
    assert!(
        e.to_string()
            .starts_with("--config: cannot read /nonexistent/tars.toml")
    );
}

#[test]
fn demo_means_test_pattern_and_embedded_broker() {
    let c = parse(&["--demo"]).expect("valid");
    assert_eq!(c.source, SourceKind::TestPattern);
    assert_eq!(c.broker, BrokerChoice::Embedded(None));
    let c = parse(&["--demo", "--mqtt-url", "mqtt://10.0.0.2"]).expect("valid");
    assert_eq!(
        c.broker,
        BrokerChoice::External(BrokerUrl::parse("mqtt://10.0.0.2").expect("url"))
    );
}

#[test]
fn device_accepts_index_or_path() {
    assert_eq!(
        parse(&["--device", "/dev/video2"]).expect("path").device,
        Device::new(2)
    );
    assert_eq!(
        parse(&["--device", "1"]).expect("index").device,
        Device::new(1)
    );
    assert!(err(&["--device", "usb"]).starts_with("--device:"));
}

#[test]
fn bad_http_options_are_refused() {
    assert!(err(&["--http-port", "70000"]).starts_with("--http-port:"));
    assert!(err(&["--http-host", "localhost:80"]).starts_with("--http-host:"));
    assert!(err(&["--max-clients", "0"]).starts_with("--max-clients:"));
    assert!(err(&["--log-level", "loud"]).starts_with("--log-level:"));
}

#[test]
fn a_bad_value_from_the_file_names_the_file_and_key() {
    let dir = std::env::temp_dir().join(format!("tars-config-origin-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("camera.toml");
    std::fs::write(&path, "fps = 12\nquality = 0\n").expect("write");
    let options = Options {
        config: Some(path.clone()),
        ..Options::default()
    };
    let e = resolve(options, Origins::default(), Ok).expect_err("quality 0");
    assert_eq!(
        e.to_string(),
        format!(
            "{}: line 2, column 1: quality: must be 1 to 100 (got 0)",
            path.display()
        )
    );
    // A flag over the file's key is named as the flag.
    let argv = ["tars-camera", "--quality", "101", "--config"];
    let argv = argv
        .iter()
        .map(|a| (*a).to_owned())
        .chain([path.display().to_string()]);
    let command = <Cli as clap::CommandFactory>::command();
    let matches = command.clone().try_get_matches_from(argv).expect("args");
    let cli = <Cli as clap::FromArgMatches>::from_arg_matches(&matches).expect("cli");
    let origins = Origins::from_matches(&command, &matches);
    let e = resolve(cli.options, origins, Ok).expect_err("quality 101");
    assert!(
        e.to_string().starts_with("--quality: must be 1 to 100"),
        "{e}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn the_fail_schedule_is_parsed_once_here() {
    let c = parse(&["--fail-schedule", "ok*2,timeout*"]).expect("valid");
    assert_eq!(
        c.fail_schedule,
        Some(Schedule::new().ok(2).forever(Fault::Timeout))
    );
    assert!(err(&["--fail-schedule", "explode"]).starts_with("--fail-schedule:"));
}

#[test]
fn allowed_host_names_from_flag_and_file() {
    let c = parse(&["--http-allowed-hosts", "Camera.Example.org, proxy.lan"]).expect("valid");
    assert_eq!(c.http_allowed_hosts, ["camera.example.org", "proxy.lan"]);
    assert!(parse(&[]).expect("valid").http_allowed_hosts.is_empty());
    let e = err(&["--http-allowed-hosts", "proxy.lan:8080"]);
    assert!(
        e.starts_with("--http-allowed-hosts: must be host names"),
        "{e}"
    );
    let file = parse_file("http_allowed_hosts = \"cam.example\"\n").expect("file");
    let c = validate(file).expect("valid");
    assert_eq!(c.http_allowed_hosts, ["cam.example"]);
}
