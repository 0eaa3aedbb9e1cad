//! The real `tributary` binary as a child process: a temporary folder with a config
//! (listening on port 0, JSON logs), CLI commands, a server whose address is read from
//! its own log, and plain HTTP/1.1 over a `std` TcpStream.

use std::fs::File;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

/// How long anything here may take before the test fails (a liveness bound only).
pub const BOUND: Duration = Duration::from_secs(30);

/// A temporary folder holding `config.toml` and the database `t.db`, removed on drop.
pub struct Dir(pub PathBuf);

impl Dir {
    /// A folder whose config listens on 127.0.0.1:0, logs JSON at `level`, and has
    /// `extra` (more sections) appended.
    pub fn new(name: &str, level: &str, extra: &str) -> Dir {
        let p = std::env::temp_dir().join(format!("tributary-bin-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        let config = format!(
            "[server]\nlisten = \"127.0.0.1:0\"\n\n[storage]\npath = \"t.db\"\n\n[log]\nlevel = \"{level}\"\nformat = \"json\"\n\n{extra}"
        );
        std::fs::write(p.join("config.toml"), config).unwrap();
        Dir(p)
    }

    fn command(&self) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_tributary"));
        c.arg("--config").arg(self.0.join("config.toml"));
        c
    }

    /// Start a CLI command without waiting for it (stdin closed, output discarded).
    pub fn spawn(&self, args: &[&str]) -> Child {
        self.command()
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    }

    /// Run a CLI command with `stdin`; panics unless it succeeds. Returns stdout+stderr.
    pub fn run(&self, args: &[&str], stdin: &str) -> String {
        let (status, text) = self.try_run(args, stdin);
        assert!(status.success(), "tributary {args:?} failed: {text}");
        text
    }

    /// Run a CLI command with `stdin`, whether it succeeds or not: its exit status and
    /// stdout+stderr.
    pub fn try_run(&self, args: &[&str], stdin: &str) -> (ExitStatus, String) {
        let mut child = self
            .command()
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        let o: Output = child.wait_with_output().unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        (o.status, text)
    }

    /// Start `tributary serve` with `RUST_LOG=rust_log`, stderr to `<tag>.log` and
    /// stdout to `<tag>.out`, and wait until it logs its address.
    pub fn serve(&self, tag: &str, rust_log: &str) -> Server {
        let mut c = self.command();
        c.arg("serve");
        self.start(c, tag, rust_log, &[])
    }

    /// [`Dir::serve`] with more environment variables.
    pub fn serve_with_env(&self, tag: &str, rust_log: &str, env: &[(&str, &str)]) -> Server {
        let mut c = self.command();
        c.arg("serve");
        self.start(c, tag, rust_log, env)
    }

    /// [`Dir::serve`] with the soft and hard limit on open files (RLIMIT_NOFILE) set to
    /// `nofile` by the shell's `ulimit -n` before it execs the server.
    pub fn serve_with_nofile(&self, tag: &str, rust_log: &str, nofile: u32) -> Server {
        let mut c = Command::new("sh");
        c.arg("-c")
            .arg(format!("ulimit -n {nofile} && exec \"$0\" \"$@\""))
            .arg(env!("CARGO_BIN_EXE_tributary"))
            .arg("--config")
            .arg(self.0.join("config.toml"))
            .arg("serve");
        self.start(c, tag, rust_log, &[])
    }

    fn start(
        &self,
        mut command: Command,
        tag: &str,
        rust_log: &str,
        env: &[(&str, &str)],
    ) -> Server {
        let log = self.0.join(format!("{tag}.log"));
        let out = self.0.join(format!("{tag}.out"));
        let child = command
            .env("RUST_LOG", rust_log)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::from(File::create(&out).unwrap()))
            .stderr(Stdio::from(File::create(&log).unwrap()))
            .spawn()
            .unwrap();
        // Owned by `Server` at once, so a failed start still kills the process.
        let mut server = Server {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            log,
            out,
        };
        let deadline = Instant::now() + BOUND;
        loop {
            let text = server.log_text();
            if let Some(addr) = listening_address(&text) {
                server.addr = addr;
                return server;
            }
            if let Some(status) = server.child.try_wait().unwrap() {
                panic!("tributary serve exited at start ({status}):\n{text}");
            }
            assert!(Instant::now() < deadline, "no address logged:\n{text}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Every file of the database (`t.db`, and `-wal`/`-shm` when present).
    pub fn database_bytes(&self) -> Vec<(String, Vec<u8>)> {
        let mut files = Vec::new();
        for entry in std::fs::read_dir(&self.0).unwrap() {
            let entry = entry.unwrap();
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with("t.db") {
                files.push((name, std::fs::read(entry.path()).unwrap()));
            }
        }
        files
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The address in the (complete) `tributary listening` JSON log line.
fn listening_address(log: &str) -> Option<SocketAddr> {
    let line = log
        .split_inclusive('\n')
        .find(|l| l.ends_with('\n') && l.contains("tributary listening"))?;
    let rest = line.split("\"address\":\"").nth(1)?;
    rest.split('"').next()?.parse().ok()
}

/// A running `tributary serve`, killed (SIGKILL) on drop if still running.
pub struct Server {
    pub child: Child,
    pub addr: SocketAddr,
    log: PathBuf,
    out: PathBuf,
}

impl Server {
    /// Everything the server wrote to stderr so far.
    pub fn log_text(&self) -> String {
        String::from_utf8_lossy(&std::fs::read(&self.log).unwrap_or_default()).into_owned()
    }

    /// Everything the server wrote to stdout so far.
    pub fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&std::fs::read(&self.out).unwrap_or_default()).into_owned()
    }

    /// Send a signal (`TERM`, `INT`) with kill(1).
    pub fn signal(&self, name: &str) {
        let pid = self.child.id().to_string();
        let flag = format!("-{name}");
        let ok = Command::new("kill")
            .args([flag.as_str(), pid.as_str()])
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill {flag} {pid} failed");
    }

    /// Wait for the process to exit, at most `within`.
    pub fn wait_exit(&mut self, within: Duration) -> ExitStatus {
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "still running {within:?} after the signal:\n{}",
                self.log_text()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGTERM, then insist on exit status 0 within 10 s.
    pub fn stop(&mut self) {
        self.signal("TERM");
        let status = self.wait_exit(Duration::from_secs(10));
        assert!(status.success(), "exit {status}:\n{}", self.log_text());
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `Basic base64(user:pw)`.
pub fn basic(user: &str, pw: &str) -> String {
    use base64::Engine;
    let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pw}"));
    format!("Basic {token}")
}

/// A connection with read and write timeouts of [`BOUND`].
pub fn connect(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect_timeout(&addr, BOUND).unwrap();
    s.set_read_timeout(Some(BOUND)).unwrap();
    s.set_write_timeout(Some(BOUND)).unwrap();
    s
}

/// A response read off the wire, the body de-chunked.
#[derive(Debug)]
pub struct Raw {
    pub status: u16,
    pub head: String,
    pub body: String,
}

impl Raw {
    /// Head and body, for searching.
    pub fn text(&self) -> String {
        format!("{}\r\n\r\n{}", self.head, self.body)
    }
}

/// One request on its own connection (`Connection: close`), read to the end.
pub fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Raw {
    let mut s = connect(addr);
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(body);
    s.write_all(req.as_bytes()).unwrap();
    read_response(&mut s)
}

/// Read until the server closes the connection, and parse what came.
pub fn read_response(s: &mut TcpStream) -> Raw {
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)
        .unwrap_or_else(|e| panic!("reading the response: {e}; got {raw:?}"));
    parse_response(&raw)
}

/// Read one response head (up to the blank line), e.g. `100 Continue`.
pub fn read_head(s: &mut TcpStream) -> String {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        let n = s.read(&mut byte).unwrap();
        assert!(
            n > 0,
            "closed mid-head: {:?}",
            String::from_utf8_lossy(&head)
        );
        head.push(byte[0]);
    }
    String::from_utf8_lossy(&head).into_owned()
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn parse_response(raw: &[u8]) -> Raw {
    let (head_end, body_start) = match find(raw, b"\r\n\r\n") {
        Some(i) => (i, i + 4),
        None => (raw.len(), raw.len()),
    };
    let head = String::from_utf8_lossy(&raw[..head_end]).into_owned();
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = &raw[body_start..];
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(body)
    } else {
        body.to_vec()
    };
    Raw {
        status,
        head,
        body: String::from_utf8_lossy(&body).into_owned(),
    }
}

/// A chunked body joined (so a secret cannot hide across a chunk boundary).
fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = find(b, b"\r\n") {
        let line = String::from_utf8_lossy(&b[..eol]).into_owned();
        let hex = line.split(';').next().unwrap_or("").trim().to_string();
        let size = usize::from_str_radix(&hex, 16).unwrap_or(0);
        b = &b[eol + 2..];
        if size == 0 {
            break;
        }
        let n = size.min(b.len());
        out.extend_from_slice(&b[..n]);
        b = &b[(n + 2).min(b.len())..];
    }
    out
}
