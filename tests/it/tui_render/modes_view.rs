//! The modes view (`m`) and the rotate key (`o`): the camera's sizes and
//! rates listed with the one in use marked, Enter asking for the selected
//! one through the command channel, and what shows only once the service
//! reports it.

use super::*;
use crossterm::event::{KeyCode, KeyEvent};
use tars_camera::capture::mode::{LiveMode, ModeOption, ModesView};
use tars_camera::control::{Command, ControlRequest};

fn webcam_modes() -> ModesView {
    let option = |pixel_format: &str, width, height, fps: &[f64]| ModeOption {
        width,
        height,
        pixel_format: pixel_format.into(),
        fps: fps.to_vec(),
    };
    ModesView {
        current: LiveMode {
            device: "/dev/video0 (HD Webcam C525)".into(),
            width: 640,
            height: 480,
            fps: 30.0,
            pixel_format: "MJPEG".into(),
            rotation: 0,
            flip_h: false,
            flip_v: false,
        },
        changeable: true,
        modes: vec![
            option("MJPEG", 1280, 720, &[30.0, 15.0]),
            option("MJPEG", 640, 480, &[30.0, 15.0]),
            option("YUYV", 640, 480, &[30.0]),
        ],
    }
}

fn press(app: &mut App, code: KeyCode) {
    app.on_key(&KeyEvent::from(code), Instant::now());
}

fn app_with(modes: ModesView) -> (App, mpsc::Receiver<Command>) {
    let mut s = status();
    s.modes = modes;
    let (tx, rx) = mpsc::channel(8);
    let app = App::new(
        s,
        Arc::new(FrameHub::new()),
        tx,
        4.0,
        EventLog::new(10),
        ColorMode::TrueColor,
    );
    (app, rx)
}

fn sent_request(rx: &mut mpsc::Receiver<Command>) -> ControlRequest {
    match rx.try_recv() {
        Ok(Command::Apply(request, _)) => request,
        other => panic!("expected a control request, got {other:?}"),
    }
}

#[test]
fn lists_sizes_and_rates_marks_the_one_in_use_and_enter_asks_for_the_selected() {
    let (mut app, mut rx) = app_with(webcam_modes());
    press(&mut app, KeyCode::Char('m'));
    assert!(app.modes_open(), "m opens the modes view");
    let t = text(&draw_app(&mut app, 100, 20));
    assert!(
        t.contains("Modes /dev/video0 (HD Webcam C525): 640x480 MJPEG at 30 fps"),
        "{t}"
    );
    let in_use = t
        .lines()
        .find(|l| l.contains("in use"))
        .unwrap_or_else(|| panic!("no row in use:\n{t}"));
    assert!(
        in_use.contains("> 640x480 at 30 fps") && in_use.contains("MJPEG, YUYV"),
        "the selection starts on the mode in use, its formats merged:\n{t}"
    );
    assert!(t.contains("1280x720 at 15 fps"), "{t}");
    // Enter on the mode in use sends nothing and says so.
    press(&mut app, KeyCode::Enter);
    assert!(rx.try_recv().is_err());
    assert_eq!(app.note(), Some("640x480 at 30 fps is in use already"));
    // Up twice: 1280x720 at 15 fps.
    press(&mut app, KeyCode::Up);
    press(&mut app, KeyCode::Enter);
    let request = sent_request(&mut rx);
    assert_eq!(request.mode.size, Some((1280, 720)));
    assert_eq!(request.mode.fps, Some(15.0));
    assert_eq!(app.note(), Some("opening 1280x720 at 15 fps…"));
    // Still shown as it was: the service has not reported the change.
    let t = text(&draw_app(&mut app, 100, 20));
    assert!(t.contains(": 640x480 MJPEG at 30 fps"), "{t}");
    press(&mut app, KeyCode::Esc);
    assert!(!app.modes_open(), "Esc closes the view");
    assert!(!text(&draw_app(&mut app, 100, 30)).contains("Modes /dev"));
}

#[test]
fn a_fixed_source_says_so_and_o_asks_for_a_quarter_turn() {
    let (mut app, mut rx) = app_with(ModesView::default());
    press(&mut app, KeyCode::Char('m'));
    let t = text(&draw_app(&mut app, 100, 20));
    assert!(
        t.contains("this source plays at its own size and rate"),
        "{t}"
    );
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.note(), Some("this source's mode cannot be changed"));
    press(&mut app, KeyCode::Char('m'));
    assert!(!app.modes_open());
    press(&mut app, KeyCode::Char('o'));
    assert!(matches!(rx.try_recv(), Ok(Command::Rotate)));
    let hints = app.hints();
    assert!(hints.iter().any(|h| h.keys == "o"), "{hints:?}");
    assert!(hints.iter().any(|h| h.keys == "m"), "{hints:?}");
}

#[test]
fn modes_that_arrive_after_the_view_opened_select_the_one_in_use() {
    // Attached, `/modes` is read once the view is open.
    let (mut app, _rx) = app_with(ModesView::default());
    press(&mut app, KeyCode::Char('m'));
    let mut s = app.status().clone();
    s.modes = webcam_modes();
    app.on_status(s, Instant::now());
    let t = text(&draw_app(&mut app, 100, 20));
    let selected = t
        .lines()
        .find(|l| l.contains("> "))
        .unwrap_or_else(|| panic!("no selection:\n{t}"));
    assert!(
        selected.contains("640x480 at 30 fps") && selected.contains("in use"),
        "{t}"
    );
}
