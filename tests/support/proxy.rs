//! A loopback HTTP proxy between the SDK and the emulator, for faults the
//! emulator cannot make: a region that does not answer, a throttled or
//! failing operation, a slow answer.
//!
//! Each request's SigV4 credential scope (`Credential=KEY/DATE/REGION/SERVICE/
//! aws4_request`) names its region and service. A request for a region in the
//! blocked set is read and then dropped without an answer: the SDK sees a
//! dispatch failure, as from a region that is down. A request for a region in
//! the hung set is read and then held without an answer until the client
//! gives up: a region that accepts connections and never answers. Otherwise a
//! hook (if set)
//! decides; by default the request is forwarded to the emulator and the
//! answer relayed. Every connection carries one request and is closed after
//! the answer (`Connection: close`), so the SDK never reuses a connection the
//! proxy holds.

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long a connection may stay silent before the proxy gives up on it.
const IDLE: Duration = Duration::from_secs(120);

/// One request as the client sent it.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    /// Path and query, as on the request line.
    pub target: String,
    pub headers: Vec<(String, String)>,
    /// The body as sent (still chunk-framed when the client sent it chunked).
    pub body: Vec<u8>,
}

impl Request {
    /// The first header of that name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The SigV4 credential scope's part `n` (2 region, 3 service).
    fn scope(&self, n: usize) -> Option<&str> {
        self.header("Authorization")?
            .split("Credential=")
            .nth(1)?
            .split(['/', ',', ' '])
            .nth(n)
    }

    /// The region the request is signed for.
    pub fn region(&self) -> Option<&str> {
        self.scope(2)
    }

    /// The service the request is signed for (`dynamodb`, `s3`, `sts`...).
    pub fn service(&self) -> Option<&str> {
        self.scope(3)
    }

    /// The operation, for JSON (`X-Amz-Target`) and query (`Action=`)
    /// protocols; empty for REST protocols (S3, CloudFront).
    pub fn operation(&self) -> String {
        if let Some(target) = self.header("X-Amz-Target") {
            return target.rsplit('.').next().unwrap_or_default().to_string();
        }
        String::from_utf8_lossy(&self.body)
            .split('&')
            .find_map(|kv| kv.strip_prefix("Action="))
            .unwrap_or_default()
            .to_string()
    }
}

/// What the proxy does with one request.
#[derive(Debug, Clone)]
pub enum Action {
    /// Pass it to the emulator and relay the answer.
    Forward,
    /// Close the connection without answering (the region is down).
    Drop,
    /// Answer it here, without the emulator (throttling, 5xx...).
    Respond {
        status: u16,
        headers: Vec<(String, String)>,
        body: String,
    },
    /// Wait this long, then forward it (a slow region).
    Delay(Duration),
    /// Hold the connection open and never answer (the client's timeouts end it).
    Hang,
}

/// Decides per request; the blocked set is consulted first.
pub type Hook = Arc<dyn Fn(&Request) -> Action + Send + Sync>;

/// A request the proxy saw, and what it did with it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub region: String,
    pub service: String,
    pub operation: String,
    pub method: String,
    pub target: String,
    pub action: &'static str,
    /// When it arrived, from the proxy's start.
    pub at: Duration,
}

#[derive(Clone)]
struct Shared {
    upstream: u16,
    blocked: Arc<Mutex<HashSet<String>>>,
    hung: Arc<Mutex<HashSet<String>>>,
    hook: Arc<Mutex<Option<Hook>>>,
    seen: Arc<Mutex<Vec<Seen>>>,
    stop: Arc<AtomicBool>,
    started: Instant,
}

/// The running proxy; it stops when dropped.
pub struct Proxy {
    pub port: u16,
    /// `http://127.0.0.1:PORT`, for `AWS_ENDPOINT_URL`.
    pub endpoint: String,
    shared: Shared,
    accept: Option<JoinHandle<()>>,
}

impl Proxy {
    /// Listens on a free loopback port and forwards to `127.0.0.1:upstream_port`.
    pub fn start(upstream_port: u16) -> Proxy {
        let listener = TcpListener::bind(("127.0.0.1", 0)).expect("bind the proxy");
        let port = listener.local_addr().expect("proxy address").port();
        let shared = Shared {
            upstream: upstream_port,
            blocked: Arc::default(),
            hung: Arc::default(),
            hook: Arc::default(),
            seen: Arc::default(),
            stop: Arc::default(),
            started: Instant::now(),
        };
        let accepting = shared.clone();
        let accept = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if accepting.stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let shared = accepting.clone();
                std::thread::spawn(move || {
                    let _ = serve(stream, &shared);
                });
            }
        });
        Proxy {
            port,
            endpoint: format!("http://127.0.0.1:{port}"),
            shared,
            accept: Some(accept),
        }
    }

    /// Requests signed for `region` go unanswered from now on.
    pub fn block(&self, region: &str) {
        self.blocked().lock().unwrap().insert(region.to_string());
    }

    /// Requests signed for `region` are accepted and never answered.
    pub fn hang(&self, region: &str) {
        self.shared.hung.lock().unwrap().insert(region.to_string());
    }

    pub fn unhang(&self, region: &str) {
        self.shared.hung.lock().unwrap().remove(region);
    }

    pub fn unblock(&self, region: &str) {
        self.blocked().lock().unwrap().remove(region);
    }

    /// The blocked set itself, to change from elsewhere while running.
    pub fn blocked(&self) -> Arc<Mutex<HashSet<String>>> {
        self.shared.blocked.clone()
    }

    /// Decides each request not blocked by region (replaces any earlier hook).
    pub fn set_hook(&self, hook: impl Fn(&Request) -> Action + Send + Sync + 'static) {
        *self.shared.hook.lock().unwrap() = Some(Arc::new(hook));
    }

    pub fn clear_hook(&self) {
        *self.shared.hook.lock().unwrap() = None;
    }

    /// Every request seen so far, in arrival order.
    pub fn seen(&self) -> Vec<Seen> {
        self.shared.seen.lock().unwrap().clone()
    }

    pub fn clear_seen(&self) {
        self.shared.seen.lock().unwrap().clear();
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so that it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(accept) = self.accept.take() {
            let _ = accept.join();
        }
    }
}

/// One connection: one request, one answer (or none), then close.
fn serve(client: TcpStream, shared: &Shared) -> std::io::Result<()> {
    if shared.stop.load(Ordering::SeqCst) {
        return Ok(());
    }
    client.set_read_timeout(Some(IDLE))?;
    let mut writer = client.try_clone()?;
    let mut reader = BufReader::new(client);
    let Some((request_line, headers)) = read_head(&mut reader)? else {
        return Ok(());
    };
    let mut parts = request_line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_string();
    let target = parts.next().unwrap_or_default().to_string();
    let mut request = Request {
        method,
        target,
        headers,
        body: Vec::new(),
    };
    let blocked = request
        .region()
        .is_some_and(|r| shared.blocked.lock().unwrap().contains(r));
    // A client waiting for `100 Continue` sends its body only when told to;
    // a dropped request is not told (and its body never read).
    let expects = request
        .header("Expect")
        .is_some_and(|e| e.eq_ignore_ascii_case("100-continue"));
    if !(blocked && expects) {
        if expects {
            writer.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
        }
        request.body = read_body(&mut reader, &request.headers, false)?;
    }
    let hung = request
        .region()
        .is_some_and(|r| shared.hung.lock().unwrap().contains(r));
    let action = if blocked {
        Action::Drop
    } else if hung {
        Action::Hang
    } else {
        let hook = shared.hook.lock().unwrap().clone();
        hook.map(|h| h(&request)).unwrap_or(Action::Forward)
    };
    shared.seen.lock().unwrap().push(Seen {
        region: request.region().unwrap_or_default().to_string(),
        service: request.service().unwrap_or_default().to_string(),
        operation: request.operation(),
        method: request.method.clone(),
        target: request.target.clone(),
        action: match action {
            Action::Forward => "forward",
            Action::Drop => "drop",
            Action::Respond { .. } => "respond",
            Action::Delay(_) => "delay",
            Action::Hang => "hang",
        },
        at: shared.started.elapsed(),
    });
    match action {
        Action::Drop => {
            let _ = writer.shutdown(Shutdown::Both);
            Ok(())
        }
        Action::Hang => {
            // Until the client gives up (EOF) or the proxy stops.
            let mut sink = [0u8; 1024];
            let mut stream = reader.into_inner();
            stream.set_read_timeout(Some(Duration::from_millis(200)))?;
            while !shared.stop.load(Ordering::SeqCst) {
                match stream.read(&mut sink) {
                    Ok(0) => break,
                    Ok(_) => {}
                    Err(e)
                        if matches!(
                            e.kind(),
                            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                        ) => {}
                    Err(_) => break,
                }
            }
            Ok(())
        }
        Action::Respond {
            status,
            headers,
            body,
        } => {
            let mut head = format!(
                "HTTP/1.1 {status} {}\r\nContent-Length: {}\r\nConnection: close\r\n",
                reason(status),
                body.len()
            );
            for (k, v) in headers {
                head.push_str(&format!("{k}: {v}\r\n"));
            }
            head.push_str("\r\n");
            writer.write_all(head.as_bytes())?;
            writer.write_all(body.as_bytes())?;
            writer.flush()
        }
        Action::Delay(wait) => {
            std::thread::sleep(wait);
            forward(&request, shared.upstream, &mut writer)
        }
        Action::Forward => forward(&request, shared.upstream, &mut writer),
    }
}

/// Sends the request to the emulator and relays its answer.
fn forward(request: &Request, upstream: u16, client: &mut TcpStream) -> std::io::Result<()> {
    let server = TcpStream::connect(("127.0.0.1", upstream))?;
    server.set_read_timeout(Some(IDLE))?;
    let mut to_server = server.try_clone()?;
    let mut head = format!("{} {} HTTP/1.1\r\n", request.method, request.target);
    for (k, v) in &request.headers {
        if !hop_by_hop(k) && !k.eq_ignore_ascii_case("Expect") {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
    }
    head.push_str("Connection: close\r\n\r\n");
    to_server.write_all(head.as_bytes())?;
    to_server.write_all(&request.body)?;
    to_server.flush()?;

    let mut from_server = BufReader::new(server);
    // Skip interim answers; relay the final one.
    let (status_line, headers) = loop {
        let Some((line, headers)) = read_head(&mut from_server)? else {
            return Err(std::io::Error::other(
                "the emulator closed without answering",
            ));
        };
        let code = status_code(&line);
        if !(100..200).contains(&code) {
            break (line, headers);
        }
    };
    let code = status_code(&status_line);
    let mut head = format!("{status_line}\r\n");
    for (k, v) in &headers {
        if !hop_by_hop(k) {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
    }
    head.push_str("Connection: close\r\n\r\n");
    client.write_all(head.as_bytes())?;
    let bodiless = request.method.eq_ignore_ascii_case("HEAD") || code == 204 || code == 304;
    if !bodiless {
        let body = read_body(&mut from_server, &headers, true)?;
        client.write_all(&body)?;
    }
    client.flush()?;
    let _ = client.shutdown(Shutdown::Write);
    Ok(())
}

/// Connection-scoped headers, which the proxy sets itself.
fn hop_by_hop(name: &str) -> bool {
    ["Connection", "Keep-Alive", "Proxy-Connection"]
        .iter()
        .any(|h| name.eq_ignore_ascii_case(h))
}

fn status_code(status_line: &str) -> u16 {
    status_line
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Status",
    }
}

type Headers = Vec<(String, String)>;

/// The start line and headers; `None` when the peer closed first.
fn read_head(reader: &mut impl BufRead) -> std::io::Result<Option<(String, Headers)>> {
    let mut start = String::new();
    loop {
        start.clear();
        if reader.read_line(&mut start)? == 0 {
            return Ok(None);
        }
        // Tolerate stray blank lines between messages.
        if !start.trim().is_empty() {
            break;
        }
    }
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Err(std::io::Error::other(
                "connection closed inside the headers",
            ));
        }
        let line = line.trim_end_matches(['\r', '\n']);
        if line.is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            headers.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    Ok(Some((start.trim_end().to_string(), headers)))
}

/// The message body as framed on the wire: `Content-Length` bytes, or the
/// chunks (framing kept) of a chunked body, or, for a response without
/// either, everything until the peer closes.
fn read_body(
    reader: &mut impl BufRead,
    headers: &[(String, String)],
    to_eof: bool,
) -> std::io::Result<Vec<u8>> {
    let header = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    };
    let mut body = Vec::new();
    if header("Transfer-Encoding").is_some_and(|t| t.to_ascii_lowercase().contains("chunked")) {
        loop {
            let mut size_line = String::new();
            if reader.read_line(&mut size_line)? == 0 {
                return Err(std::io::Error::other("connection closed inside a chunk"));
            }
            body.extend_from_slice(size_line.as_bytes());
            let size = usize::from_str_radix(
                size_line
                    .trim()
                    .split(';')
                    .next()
                    .unwrap_or_default()
                    .trim(),
                16,
            )
            .map_err(|e| std::io::Error::other(format!("bad chunk size {size_line:?}: {e}")))?;
            if size == 0 {
                // Trailers, up to the blank line.
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line)? == 0 {
                        break;
                    }
                    body.extend_from_slice(line.as_bytes());
                    if line.trim().is_empty() {
                        break;
                    }
                }
                return Ok(body);
            }
            let mut chunk = vec![0u8; size + 2];
            reader.read_exact(&mut chunk)?;
            body.extend_from_slice(&chunk);
        }
    }
    if let Some(length) = header("Content-Length") {
        let length: usize = length
            .parse()
            .map_err(|e| std::io::Error::other(format!("bad Content-Length {length:?}: {e}")))?;
        body.resize(length, 0);
        reader.read_exact(&mut body)?;
    } else if to_eof {
        reader.read_to_end(&mut body)?;
    }
    Ok(body)
}
