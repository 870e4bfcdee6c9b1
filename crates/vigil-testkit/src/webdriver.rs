//! A minimal WebDriver client for browser tests: headless Chromium driven
//! through chromedriver's WebDriver protocol, spoken directly over a TCP
//! socket (a few HTTP/JSON calls), so the tests need no client library and
//! no browser download — Debian's `chromium` and `chromium-driver` suffice.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

pub fn find_binary(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    for dir in std::env::split_paths(&path) {
        for n in names {
            let p = dir.join(n);
            if p.is_file() {
                return Some(p);
            }
        }
    }
    None
}

/// One HTTP/1.1 request with a JSON body; returns the JSON reply.
pub fn http(port: u16, method: &str, path: &str, body: Option<&Value>) -> Result<Value, String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(Duration::from_secs(60))).ok();
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).map_err(|e| e.to_string())?;
    // Read the head, then exactly Content-Length bytes: chromedriver may keep
    // the connection open whatever the request says.
    let mut raw = Vec::new();
    let mut buf = [0u8; 65536];
    let (head, body_start) = loop {
        let n = s.read(&mut buf).map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("connection closed before the header ended".into());
        }
        raw.extend_from_slice(&buf[..n]);
        if let Some(i) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            break (
                String::from_utf8_lossy(&raw[..i]).to_ascii_lowercase(),
                i + 4,
            );
        }
    };
    let length = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse::<usize>().ok());
    match length {
        Some(len) => {
            while raw.len() < body_start + len {
                let n = s.read(&mut buf).map_err(|e| e.to_string())?;
                if n == 0 {
                    break;
                }
                raw.extend_from_slice(&buf[..n]);
            }
        }
        None => {
            s.read_to_end(&mut raw).map_err(|e| e.to_string())?;
        }
    }
    let rest = String::from_utf8_lossy(&raw[body_start..]).into_owned();
    let payload = if head.contains("transfer-encoding: chunked") {
        dechunk(&rest)
    } else {
        rest
    };
    serde_json::from_str(&payload).map_err(|e| format!("{e}: {payload}"))
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = s.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        s = rest[n..].trim_start_matches("\r\n");
    }
    out
}

fn b64decode(s: &str) -> Vec<u8> {
    let val = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0);
    for c in s.bytes().filter_map(val) {
        acc = (acc << 6) | c;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    out
}

pub struct Driver {
    port: u16,
    session: String,
    child: Child,
}

impl Driver {
    pub fn cmd(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let v = http(
            self.port,
            method,
            &format!("/session/{}{path}", self.session),
            body.as_ref(),
        )
        .unwrap_or_else(|e| panic!("webdriver {method} {path}: {e}"));
        if v["value"]["error"].is_string() {
            panic!("webdriver {method} {path}: {}", v["value"]);
        }
        v["value"].clone()
    }
    pub fn go(&self, url: &str) {
        self.cmd("POST", "/url", Some(json!({"url": url})));
    }
    pub fn find(&self, css: &str) -> String {
        let v = self.cmd(
            "POST",
            "/element",
            Some(json!({"using": "css selector", "value": css})),
        );
        v.as_object()
            .and_then(|o| o.values().next())
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("no element {css}"))
            .to_string()
    }
    pub fn type_into(&self, css: &str, text: &str) {
        let e = self.find(css);
        self.cmd(
            "POST",
            &format!("/element/{e}/value"),
            Some(json!({"text": text})),
        );
    }
    pub fn click(&self, css: &str) {
        let e = self.find(css);
        self.cmd("POST", &format!("/element/{e}/click"), Some(json!({})));
    }
    pub fn source(&self) -> String {
        self.cmd("GET", "/source", None)
            .as_str()
            .unwrap_or("")
            .to_string()
    }
    /// The page source once it contains `text` (or after 15 s).
    pub fn wait_for(&self, text: &str) -> String {
        let start = Instant::now();
        loop {
            let src = self.source();
            if src.contains(text) || start.elapsed() > Duration::from_secs(15) {
                return src;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    /// The page title once it starts with `prefix` (a form submission may
    /// return before the next page has loaded), or the last title seen.
    pub fn wait_title(&self, prefix: &str) -> String {
        let start = Instant::now();
        loop {
            let t = self.cmd("GET", "/title", None);
            let t = t.as_str().unwrap_or("").to_string();
            if t.starts_with(prefix) || start.elapsed() > Duration::from_secs(15) {
                return t;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    /// The elements that reach past the right edge of the window, as
    /// `TAG.class right-edge-px`: an officer on a laptop should never have
    /// to scroll a page sideways (a wide table scrolls inside its card).
    pub fn overflowing(&self) -> Vec<String> {
        let js = "const vw = document.documentElement.clientWidth; const out = []; \
                  for (const e of document.querySelectorAll('body *')) { \
                    const r = e.getBoundingClientRect(); \
                    if (r.width > 0 && r.right > vw + 1 && !e.closest('.scrollx')) \
                      out.push(e.tagName + '.' + e.className + ' ' + Math.round(r.right)); } \
                  if (document.documentElement.scrollWidth > vw + 1) out.push('document ' + document.documentElement.scrollWidth); \
                  return out;";
        let v = self.cmd(
            "POST",
            "/execute/sync",
            Some(json!({"script": js, "args": []})),
        );
        v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    }
    /// Saves a screenshot of the current page as `dir/name.png`, after
    /// checking that the page fits the window's width ([`Self::overflowing`]).
    pub fn screenshot(&self, dir: &Path, name: &str) {
        let wide = self.overflowing();
        assert!(
            wide.is_empty(),
            "{name}: the page is wider than the 1366-pixel window: {wide:?}"
        );
        let b64 = self.cmd("GET", "/screenshot", None);
        let png = b64decode(b64.as_str().unwrap_or(""));
        assert!(png.starts_with(b"\x89PNG"), "a PNG screenshot");
        std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = http(
            self.port,
            "DELETE",
            &format!("/session/{}", self.session),
            None,
        );
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Chromium and chromedriver, found on `PATH` (Debian packages `chromium`
/// and `chromium-driver`).
pub fn browsers() -> Option<(PathBuf, PathBuf)> {
    Some((
        find_binary(&["chromium", "chromium-browser", "google-chrome"])?,
        find_binary(&["chromedriver"])?,
    ))
}

impl Driver {
    /// Starts chromedriver and a headless Chromium session with its profile
    /// in `profile` (a laptop-sized 1366×900 window). Panics when either
    /// does not start: call [`browsers`] first to skip where they are absent.
    pub fn launch(chromium: &Path, chromedriver: &Path, profile: &Path) -> Driver {
        let dport = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .unwrap_or_else(|e| panic!("no free port for chromedriver: {e}"));
        let child = Command::new(chromedriver)
            .arg(format!("--port={dport}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("start chromedriver: {e}"));
        let start = Instant::now();
        while http(dport, "GET", "/status", None)
            .ok()
            .and_then(|v| v["value"]["ready"].as_bool())
            != Some(true)
        {
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "chromedriver did not start"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        let caps = json!({"capabilities": {"alwaysMatch": {"goog:chromeOptions": {
            "binary": chromium.to_string_lossy(),
            "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                     "--no-first-run", "--disable-background-networking",
                     "--disable-component-update", "--disable-sync",
                     "--disable-dev-shm-usage", "--window-size=1366,900",
                     format!("--user-data-dir={}", profile.display())]
        }}}});
        let v = http(dport, "POST", "/session", Some(&caps))
            .unwrap_or_else(|e| panic!("new webdriver session: {e}"));
        let session = v["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {v}"))
            .to_string();
        Driver {
            port: dport,
            session,
            child,
        }
    }
}
