//! A real browser for the pages people read: Debian's headless Chromium, driven
//! through ChromeDriver's W3C WebDriver HTTP API (https://www.w3.org/TR/webdriver2/)
//! with a phone's viewport, so a test sees what a craftsman's phone shows: the
//! text as laid out, and whether anything runs off the right edge.

use std::path::Path;
use std::process::{Child, Command};
use std::sync::OnceLock;
use std::time::Duration;

use reqwest::blocking::Client;
use serde_json::{Value, json};

use crate::harness::spawn_until_ready;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// The key W3C WebDriver names an element reference by.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// Chromium and ChromeDriver from Debian's packages, installed on first use when
/// missing (as root, with apt-get), as `.ci/run` installs them.
fn ensure_installed() {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        if Path::new(CHROMIUM).exists() && Path::new(CHROMEDRIVER).exists() {
            return;
        }
        let status = Command::new("sh")
            .args([
                "-c",
                "(apt-get install -y -qq chromium chromium-driver || \
                 (apt-get update -qq && apt-get install -y -qq chromium chromium-driver)) >/dev/null",
            ])
            .status();
        assert!(
            matches!(status, Ok(s) if s.success()),
            "the page tests need Debian's chromium and chromium-driver \
             (apt-get install chromium chromium-driver): {status:?}"
        );
    });
}

/// One headless Chromium session with a 390 × 844 CSS-pixel viewport (a common
/// phone), ended when dropped.
pub struct Phone {
    driver: Child,
    base: String,
    session: String,
    client: Client,
}

impl Phone {
    pub fn start() -> Self {
        ensure_installed();
        let (driver, port) = spawn_until_ready(
            "chromedriver",
            Command::new(CHROMEDRIVER).arg("--port=0"),
            "ChromeDriver was started successfully on port ",
            Duration::from_secs(30),
            None,
        );
        let base = format!("http://127.0.0.1:{}", port.trim_end_matches('.'));
        let client = Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .unwrap();
        let answer: Value = client
            .post(format!("{base}/session"))
            .json(&json!({"capabilities": {"alwaysMatch": {
                "browserName": "chrome",
                "goog:chromeOptions": {
                    "binary": CHROMIUM,
                    // Root in a container has no user namespace for the sandbox.
                    "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                             "--disable-dev-shm-usage"],
                    "mobileEmulation": {"deviceMetrics":
                        {"width": 390, "height": 844, "pixelRatio": f64::from(PIXEL_RATIO), "touch": true}}
                }
            }}}))
            .send()
            .and_then(|r| r.json())
            .expect("a WebDriver session");
        let session = answer["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {answer}"))
            .to_owned();
        Self {
            driver,
            base,
            session,
            client,
        }
    }

    fn command(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        let url = format!("{}/session/{}{path}", self.base, self.session);
        let answer: Value = self
            .client
            .request(method, url)
            .json(&body)
            .send()
            .and_then(|r| r.json())
            .unwrap_or_else(|e| panic!("WebDriver {path}: {e}"));
        if answer["value"]["error"].is_string() {
            panic!("WebDriver {path}: {answer}");
        }
        answer["value"].clone()
    }

    pub fn open(&self, url: &str) {
        self.command(reqwest::Method::POST, "/url", json!({"url": url}));
    }

    fn element(&self, css: &str) -> String {
        let found = self.command(
            reqwest::Method::POST,
            "/element",
            json!({"using": "css selector", "value": css}),
        );
        found[ELEMENT]
            .as_str()
            .unwrap_or_else(|| {
                panic!(
                    "no element {css}: {found}; the page: {}",
                    self.eval("return document.documentElement.outerHTML;")
                )
            })
            .to_owned()
    }

    /// Types `text` into the field `css` finds.
    pub fn type_into(&self, css: &str, text: &str) {
        let element = self.element(css);
        self.command(
            reqwest::Method::POST,
            &format!("/element/{element}/value"),
            json!({"text": text}),
        );
    }

    pub fn click(&self, css: &str) {
        let element = self.element(css);
        self.command(
            reqwest::Method::POST,
            &format!("/element/{element}/click"),
            json!({}),
        );
    }

    /// Runs `script` in the page and gives its return value.
    pub fn eval(&self, script: &str) -> Value {
        self.command(
            reqwest::Method::POST,
            "/execute/sync",
            json!({"script": script, "args": []}),
        )
    }

    /// The page's text as laid out (`innerText`: hidden parts left out).
    pub fn text(&self) -> String {
        self.eval("return document.body.innerText;")
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// The page's text once it holds `needle` (a click's navigation is not awaited
    /// by WebDriver); panics with the text after ten seconds.
    pub fn text_with(&self, needle: &str) -> String {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            let text = self.text();
            if text.contains(needle) {
                return text;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "no {needle:?} on the page:\n{text}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The elements wider than the viewport or reaching past its right edge, by
    /// tag and the start of their text; empty when nothing overflows.
    pub fn overflowing(&self) -> Vec<String> {
        let found = self.eval(
            "const width = document.documentElement.clientWidth;\
             const out = [];\
             if (document.documentElement.scrollWidth > width) out.push('page ' + document.documentElement.scrollWidth + 'px');\
             for (const e of document.body.querySelectorAll('*')) {\
               const r = e.getBoundingClientRect();\
               if (r.width > 0 && r.right > width + 0.5) out.push(e.tagName + ' ' + Math.round(r.right) + 'px: ' + (e.innerText || '').slice(0, 40));\
             }\
             return out;",
        );
        found
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect()
    }
}

/// The phone's device pixel ratio, as `Phone::start` emulates it.
pub const PIXEL_RATIO: u32 = 3;

impl Phone {
    /// A screenshot of the whole page (PNG), as Puppeteer's `fullPage` takes one:
    /// the DevTools Protocol's `Page.getLayoutMetrics` gives the content's size in
    /// CSS pixels and `Page.captureScreenshot` with `captureBeyondViewport` draws
    /// that much (https://chromedevtools.github.io/devtools-protocol/tot/Page/),
    /// reached through ChromeDriver's `goog/cdp/execute`. Content reaching past
    /// the right edge widens the image.
    pub fn full_page_screenshot(&self) -> Vec<u8> {
        let metrics = self.cdp("Page.getLayoutMetrics", json!({}));
        let size = &metrics["cssContentSize"];
        let shot = self.cdp(
            "Page.captureScreenshot",
            json!({"format": "png", "captureBeyondViewport": true,
                   "clip": {"x": 0, "y": 0, "width": size["width"], "height": size["height"],
                            "scale": 1}}),
        );
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD
            .decode(shot["data"].as_str().expect("a screenshot"))
            .unwrap()
    }

    fn cdp(&self, cmd: &str, params: Value) -> Value {
        self.command(
            reqwest::Method::POST,
            "/goog/cdp/execute",
            json!({"cmd": cmd, "params": params}),
        )
    }
}

/// A PNG's width and height in pixels, from its IHDR chunk: the 8-byte signature,
/// the chunk's length and type, then width and height as big-endian u32s
/// (bytes 16..24; https://www.w3.org/TR/png-3/#11IHDR).
pub fn png_size(png: &[u8]) -> (u32, u32) {
    assert!(
        png.len() > 24 && png.starts_with(b"\x89PNG\r\n\x1a\n") && &png[12..16] == b"IHDR",
        "not a PNG"
    );
    let at = |i: usize| u32::from_be_bytes(png[i..i + 4].try_into().unwrap());
    (at(16), at(20))
}

impl Drop for Phone {
    fn drop(&mut self) {
        let _ = self
            .client
            .delete(format!("{}/session/{}", self.base, self.session))
            .send();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
