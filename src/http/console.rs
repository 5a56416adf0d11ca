//! `/`: the web console, one page with its style and script inside (no
//! outside assets: it works on a network with no internet). The page is
//! the same for everyone; the token it was opened with (`/?token=…`) is
//! read by its script, never written into the page by the server.

use super::response::Response;

/// The page, put together at build time.
pub const PAGE: &str = concat!(
    "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
     <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
     <title>tars-camera</title>\
     <link rel=\"icon\" href=\"data:image/png;base64,\
     iVBORw0KGgoAAAANSUhEUgAAABAAAAAQCAMAAAAoLQ9TAAAACVBMVEUAAAAiIiJEqv92RMjeAAAAAXRSTlMAQObYZgAAADVJ\
     REFUeNpjYMAGGKEAnQ8TYWREFQEzmIAAJgLjQ0QgAkxMcBGyBTAMRbUWw2GYTsf0HAoAAHgQAOE1e9uGAAAAAElFTkSuQmCC\
     \"><style>\n",
    include_str!("console/console.css"),
    "</style></head>\n",
    include_str!("console/body.html"),
    "<script>\n",
    include_str!("console/console.js"),
    "</script>\n</body></html>\n",
);

/// What the page may load and who may frame it: only this service, no
/// other site (a page that framed the console could trick a click). Its
/// icon is inline (`data:`), so a browser asks for no `/favicon.ico`.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; img-src 'self' blob: data:; \
     style-src 'unsafe-inline'; script-src 'unsafe-inline'; connect-src 'self'; \
     base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

#[must_use]
pub fn page() -> Response {
    Response::new(200, "text/html; charset=utf-8", PAGE)
        .with_header("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        .with_header("X-Frame-Options", "DENY")
        .with_header("Cache-Control", "no-cache")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_is_whole_and_small() {
        assert!(PAGE.len() < 50 * 1024, "{} bytes", PAGE.len());
        assert!(PAGE.starts_with("<!doctype html>"));
        assert!(PAGE.contains("id=\"picture\"") && PAGE.trim_end().ends_with("</html>"));
        assert_eq!(PAGE.matches("<script>").count(), 1);
    }

    /// WCAG 2 relative luminance of `#rrggbb`.
    fn luminance(hex: &str) -> f64 {
        let channel = |i: usize| {
            let v = f64::from(u8::from_str_radix(&hex[i..i + 2], 16).expect("hex colour")) / 255.0;
            if v <= 0.039_28 {
                v / 12.92
            } else {
                ((v + 0.055) / 1.055).powf(2.4)
            }
        };
        0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5)
    }

    #[test]
    fn text_colours_meet_wcag_aa_contrast() {
        let css = include_str!("console/console.css");
        let root = css
            .split_once(":root{")
            .and_then(|(_, rest)| rest.split_once('}'))
            .map(|(vars, _)| vars)
            .expect(":root colours");
        let colour = |name: &str| -> String {
            root.split(';')
                .find_map(|d| d.strip_prefix(&format!("--{name}:")))
                .unwrap_or_else(|| panic!("--{name} in :root"))
                .to_owned()
        };
        let pairs = [
            ("text", "bg"),
            ("text", "panel"),
            ("muted", "bg"),
            ("muted", "panel"),
            ("accent", "bg"),
            ("accent", "panel"),
            ("ok", "panel"),
            ("warn", "panel"),
            ("err", "panel"),
            ("err", "bg"),
        ];
        let ratio = |fg: &str, bg: &str| {
            let (a, b) = (luminance(fg), luminance(bg));
            (a.max(b) + 0.05) / (a.min(b) + 0.05)
        };
        for (fg, bg) in pairs {
            let r = ratio(&colour(fg), &colour(bg));
            assert!(r >= 4.5, "--{fg} on --{bg}: {r:.2}:1");
        }
        let button = ratio("#ffffff", &colour("btn"));
        assert!(button >= 4.5, "button text: {button:.2}:1");
    }

    /// The keys in the script's `SENDS` list (the only ones `send` posts).
    fn sends() -> Vec<String> {
        let script = include_str!("console/console.js");
        let list = script
            .split_once("const SENDS = [")
            .and_then(|(_, rest)| rest.split_once(']'))
            .map(|(list, _)| list)
            .expect("SENDS in the script");
        list.split(',')
            .map(|k| k.trim().trim_matches('"').to_owned())
            .filter(|k| !k.is_empty())
            .collect()
    }

    #[test]
    fn the_page_sends_only_keys_the_service_takes() {
        let keys = sends();
        assert!(keys.len() >= 7, "{keys:?}");
        for key in &keys {
            assert!(
                crate::control::request::KEYS.contains(&key.as_str()),
                "the page sends {key:?}, which /control does not take"
            );
        }
        // Every object literal posted names listed keys only.
        let script = include_str!("console/console.js");
        for (i, _) in script.match_indices("send({ ") {
            let key = script[i + 7..]
                .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .next()
                .unwrap_or("");
            assert!(keys.iter().any(|k| k == key), "send({{ {key}: … }}");
        }
        assert!(script.matches("send({ ").count() >= 10);
    }
}
