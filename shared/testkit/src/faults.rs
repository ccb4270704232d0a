//! A fault-injecting proxy in front of DynamoDB (Local): the store as it behaves on a bad day.
//!
//! It speaks HTTP/1.1 on a loopback port and forwards every request byte for byte to the real
//! endpoint, except that at the chosen rates a data-plane call (GetItem, BatchGetItem, Query,
//! PutItem, UpdateItem, DeleteItem, TransactWriteItems) instead
//! - is throttled: `ProvisionedThroughputExceededException` or `ThrottlingException` (400);
//! - meets a conflict: a `TransactionCanceledException` whose reasons name `TransactionConflict`
//!   (a transaction), a `TransactionConflictException` (a single-item write); reads pass;
//! - times out: the request is swallowed and never answered;
//! - is dropped: the connection closes without an answer;
//! - loses its answer: the request reaches DynamoDB and is applied, then the connection closes
//!   before the answer gets back. Only for calls that are safe to send twice as DynamoDB
//!   defines them (reads, and `TransactWriteItems`, whose `ClientRequestToken` makes a resent
//!   transaction a no-op); a single-item write has no such token.
//!
//! Control-plane calls (CreateTable, DescribeTable, UpdateTimeToLive…) always pass, so a test
//! can set its table up through the proxy. Rates can change while it runs.
//!
//! Used by `tests/api/faults.rs` and `infra/bench/soak.rs` (included there by path, so this file
//! needs only tokio, rand and serde_json).
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// One kind of fault, in the order [`FaultRates`] draws them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Fault {
    ProvisionedThroughputExceeded,
    Throttling,
    TransactionConflict,
    Timeout,
    Drop,
    LostAnswer,
}

impl Fault {
    pub const ALL: [Fault; 6] =
        [Fault::ProvisionedThroughputExceeded, Fault::Throttling, Fault::TransactionConflict, Fault::Timeout, Fault::Drop, Fault::LostAnswer];
}

/// The chance (0–1) of each fault per data-plane call (see `draw` for faults a call cannot meet).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct FaultRates {
    pub provisioned_throughput_exceeded: f64,
    pub throttling: f64,
    pub transaction_conflict: f64,
    pub timeout: f64,
    pub drop: f64,
    pub lost_answer: f64,
}

impl FaultRates {
    pub fn none() -> FaultRates {
        FaultRates::default()
    }

    /// `total` spread evenly over every kind.
    pub fn mixed(total: f64) -> FaultRates {
        let each = total / Fault::ALL.len() as f64;
        FaultRates {
            provisioned_throughput_exceeded: each,
            throttling: each,
            transaction_conflict: each,
            timeout: each,
            drop: each,
            lost_answer: each,
        }
    }

    /// Only this fault, at this rate.
    pub fn only(fault: Fault, rate: f64) -> FaultRates {
        let mut r = FaultRates::none();
        *r.slot(fault) = rate;
        r
    }

    fn slot(&mut self, fault: Fault) -> &mut f64 {
        match fault {
            Fault::ProvisionedThroughputExceeded => &mut self.provisioned_throughput_exceeded,
            Fault::Throttling => &mut self.throttling,
            Fault::TransactionConflict => &mut self.transaction_conflict,
            Fault::Timeout => &mut self.timeout,
            Fault::Drop => &mut self.drop,
            Fault::LostAnswer => &mut self.lost_answer,
        }
    }

    fn rate(mut self, fault: Fault) -> f64 {
        *self.slot(fault)
    }

    /// One draw: the fault to inject on a call of `op`, if any. Every call is faulty with the
    /// rates' total; a fault the call cannot meet (a conflict on a read) leaves its share to the
    /// others in proportion, so the total holds for reads and writes alike.
    fn draw(self, op: &str) -> Option<Fault> {
        let total: f64 = Fault::ALL.iter().map(|f| self.rate(*f)).sum();
        if rand::random::<f64>() >= total {
            return None;
        }
        let open: Vec<(Fault, f64)> = Fault::ALL.iter().filter(|f| applies(**f, op)).map(|f| (*f, self.rate(*f))).filter(|(_, r)| *r > 0.0).collect();
        let mut x = rand::random::<f64>() * open.iter().map(|(_, r)| r).sum::<f64>();
        for (fault, r) in &open {
            if x < *r {
                return Some(*fault);
            }
            x -= r;
        }
        open.last().map(|(f, _)| *f)
    }
}

const DATA_PLANE: [&str; 7] = ["GetItem", "BatchGetItem", "Query", "PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems"];
const SINGLE_WRITES: [&str; 3] = ["PutItem", "UpdateItem", "DeleteItem"];

fn applies(fault: Fault, op: &str) -> bool {
    match fault {
        Fault::TransactionConflict => op == "TransactWriteItems" || SINGLE_WRITES.contains(&op),
        Fault::LostAnswer => !SINGLE_WRITES.contains(&op),
        _ => true,
    }
}

/// How many of each fault were injected, and calls passed through.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FaultCounts {
    pub injected: Vec<(Fault, u64)>,
    pub passed: u64,
}

impl FaultCounts {
    pub fn of(&self, fault: Fault) -> u64 {
        self.injected.iter().find(|(f, _)| *f == fault).map_or(0, |(_, n)| *n)
    }
    pub fn total_injected(&self) -> u64 {
        self.injected.iter().map(|(_, n)| n).sum()
    }
}

struct Shared {
    upstream: String,
    rates: Mutex<FaultRates>,
    injected: [AtomicU64; 6],
    passed: AtomicU64,
}

/// The running proxy; it stops when dropped.
pub struct FaultProxy {
    pub url: String,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FaultProxy {
    /// A proxy to `upstream` (`http://host:port`) on a free loopback port, injecting nothing yet.
    pub async fn start(upstream: &str) -> FaultProxy {
        let upstream = upstream.trim_end_matches('/').trim_start_matches("http://").to_string();
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind the fault proxy");
        let url = format!("http://{}", listener.local_addr().expect("its address"));
        let shared = Arc::new(Shared {
            upstream,
            rates: Mutex::new(FaultRates::none()),
            injected: Default::default(),
            passed: AtomicU64::new(0),
        });
        let s = shared.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((client, _)) = listener.accept().await else { continue };
                let _ = client.set_nodelay(true);
                tokio::spawn(serve(client, s.clone()));
            }
        });
        FaultProxy { url, shared, task }
    }

    pub fn set(&self, rates: FaultRates) {
        *self.shared.rates.lock().unwrap_or_else(|e| e.into_inner()) = rates;
    }

    pub fn counts(&self) -> FaultCounts {
        FaultCounts {
            injected: Fault::ALL.iter().enumerate().map(|(i, f)| (*f, self.shared.injected[i].load(Ordering::Relaxed))).collect(),
            passed: self.shared.passed.load(Ordering::Relaxed),
        }
    }
}

/// One HTTP message as read off a socket: the bytes to pass on, and what the proxy needs of it.
struct Message {
    bytes: Vec<u8>,
    target: Option<String>,
    body_at: usize,
    close: bool,
}

/// Reads one message (request or response). `None` at a clean end of the stream.
async fn read_message<R: AsyncRead + Unpin>(r: &mut R, buf: &mut Vec<u8>) -> std::io::Result<Option<Message>> {
    let head_end = loop {
        if let Some(i) = find(buf, b"\r\n\r\n") {
            break i + 4;
        }
        let mut chunk = [0u8; 8192];
        let n = r.read(&mut chunk).await?;
        if n == 0 {
            return if buf.is_empty() { Ok(None) } else { Err(std::io::ErrorKind::UnexpectedEof.into()) };
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
    let header = |name: &str| {
        head.lines().find_map(|l| l.strip_prefix(name).and_then(|v| v.strip_prefix(':')).map(|v| v.trim().to_string()))
    };
    let target = String::from_utf8_lossy(&buf[..head_end])
        .lines()
        .find_map(|l| l.split_once(':').filter(|(k, _)| k.trim().eq_ignore_ascii_case("x-amz-target")).map(|(_, v)| v.trim().to_string()));
    let close = header("connection").is_some_and(|v| v == "close");
    let total = if header("transfer-encoding").is_some_and(|v| v.contains("chunked")) {
        loop {
            if let Some(end) = chunked_end(&buf[head_end..]) {
                break head_end + end;
            }
            fill(r, buf).await?;
        }
    } else {
        head_end + header("content-length").and_then(|v| v.parse::<usize>().ok()).unwrap_or(0)
    };
    while buf.len() < total {
        fill(r, buf).await?;
    }
    let bytes: Vec<u8> = buf.drain(..total).collect();
    Ok(Some(Message { bytes, target, body_at: head_end, close }))
}

async fn fill<R: AsyncRead + Unpin>(r: &mut R, buf: &mut Vec<u8>) -> std::io::Result<()> {
    let mut chunk = [0u8; 16384];
    let n = r.read(&mut chunk).await?;
    if n == 0 {
        return Err(std::io::ErrorKind::UnexpectedEof.into());
    }
    buf.extend_from_slice(&chunk[..n]);
    Ok(())
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Where a complete chunked body ends, if it is all there.
fn chunked_end(body: &[u8]) -> Option<usize> {
    let mut at = 0;
    loop {
        let line_end = at + find(&body[at..], b"\r\n")?;
        let size_text = std::str::from_utf8(&body[at..line_end]).ok()?;
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        at = line_end + 2;
        if size == 0 {
            // Trailers (none from DynamoDB) end with an empty line.
            return find(&body[at..], b"\r\n").map(|i| at + i + 2);
        }
        at += size + 2;
        if at > body.len() {
            return None;
        }
    }
}

/// An error answer in DynamoDB's JSON protocol.
fn error_answer(kind: &str, body: serde_json::Value) -> Vec<u8> {
    let mut body = body;
    body["__type"] = serde_json::Value::String(format!("com.amazonaws.dynamodb.v20120810#{kind}"));
    let text = body.to_string();
    format!(
        "HTTP/1.1 400 Bad Request\r\ncontent-type: application/x-amz-json-1.0\r\nx-amzn-requestid: fault-{:016x}\r\ncontent-length: {}\r\n\r\n{text}",
        rand::random::<u64>(),
        text.len()
    )
    .into_bytes()
}

/// The answer a fault gives instead of DynamoDB's.
fn fault_answer(fault: Fault, op: &str, body: &[u8]) -> Vec<u8> {
    use serde_json::json;
    match fault {
        Fault::ProvisionedThroughputExceeded => error_answer(
            "ProvisionedThroughputExceededException",
            json!({"message": "The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API."}),
        ),
        Fault::Throttling => {
            let text = json!({"__type": "com.amazon.coral.availability#ThrottlingException", "message": "Rate of requests exceeds the allowed throughput."}).to_string();
            format!("HTTP/1.1 400 Bad Request\r\ncontent-type: application/x-amz-json-1.0\r\ncontent-length: {}\r\n\r\n{text}", text.len()).into_bytes()
        }
        Fault::TransactionConflict if op == "TransactWriteItems" => {
            let items = serde_json::from_slice::<serde_json::Value>(body)
                .ok()
                .and_then(|v| v["TransactItems"].as_array().map(|a| a.len()))
                .unwrap_or(1)
                .max(1);
            let at = rand::random_range(0..items);
            let reasons: Vec<_> = (0..items)
                .map(|i| if i == at { json!({"Code": "TransactionConflict", "Message": "Transaction is ongoing for the item"}) } else { json!({"Code": "None"}) })
                .collect();
            let names: Vec<&str> = (0..items).map(|i| if i == at { "TransactionConflict" } else { "None" }).collect();
            error_answer(
                "TransactionCanceledException",
                json!({"message": format!("Transaction cancelled, please refer cancellation reasons for specific reasons [{}]", names.join(", ")),
                       "CancellationReasons": reasons}),
            )
        }
        Fault::TransactionConflict => {
            error_answer("TransactionConflictException", json!({"message": "Transaction is ongoing for the item"}))
        }
        Fault::Timeout | Fault::Drop | Fault::LostAnswer => unreachable!("these give no answer"),
    }
}

/// One client connection: requests one after another (keep-alive), each forwarded on this
/// connection's own upstream connection unless a fault takes it.
async fn serve(mut client: TcpStream, shared: Arc<Shared>) {
    let mut from_client = Vec::new();
    let mut upstream: Option<(TcpStream, Vec<u8>)> = None;
    loop {
        let request = match read_message(&mut client, &mut from_client).await {
            Ok(Some(m)) => m,
            _ => return,
        };
        let op = request.target.as_deref().and_then(|t| t.rsplit('.').next()).unwrap_or("").to_string();
        let rates = *shared.rates.lock().unwrap_or_else(|e| e.into_inner());
        let fault = if DATA_PLANE.contains(&op.as_str()) { rates.draw(&op) } else { None };
        if let Some(f) = fault {
            let i = Fault::ALL.iter().position(|x| *x == f).expect("a known fault");
            shared.injected[i].fetch_add(1, Ordering::Relaxed);
        }
        match fault {
            Some(Fault::Drop) => return,
            Some(Fault::Timeout) => {
                // Never answer; wait for the client to give up (its attempt timeout) or 60 s.
                let mut sink = [0u8; 1024];
                let _ = tokio::time::timeout(Duration::from_secs(60), async {
                    while matches!(client.read(&mut sink).await, Ok(n) if n > 0) {}
                })
                .await;
                return;
            }
            Some(f @ (Fault::ProvisionedThroughputExceeded | Fault::Throttling | Fault::TransactionConflict)) => {
                if client.write_all(&fault_answer(f, &op, &request.bytes[request.body_at..])).await.is_err() {
                    return;
                }
                continue;
            }
            Some(Fault::LostAnswer) | None => {}
        }
        let answer = match forward(&shared.upstream, &mut upstream, &request.bytes).await {
            Ok(a) => a,
            Err(_) => return,
        };
        if fault == Some(Fault::LostAnswer) {
            return;
        }
        shared.passed.fetch_add(1, Ordering::Relaxed);
        if client.write_all(&answer.bytes).await.is_err() || answer.close || request.close {
            return;
        }
    }
}

/// Sends the request upstream (reconnecting once when a kept-alive connection was closed) and
/// reads the answer.
async fn forward(addr: &str, upstream: &mut Option<(TcpStream, Vec<u8>)>, request: &[u8]) -> std::io::Result<Message> {
    for attempt in 0..2 {
        if upstream.is_none() {
            let s = TcpStream::connect(addr).await?;
            let _ = s.set_nodelay(true);
            *upstream = Some((s, Vec::new()));
        }
        let (stream, buf) = upstream.as_mut().expect("connected above");
        let sent = stream.write_all(request).await;
        let answer = match sent {
            Ok(()) => read_message(stream, buf).await,
            Err(e) => Err(e),
        };
        match answer {
            Ok(Some(m)) => {
                if m.close {
                    *upstream = None;
                }
                return Ok(m);
            }
            Ok(None) | Err(_) if attempt == 0 => *upstream = None,
            Ok(None) => return Err(std::io::ErrorKind::UnexpectedEof.into()),
            Err(e) => return Err(e),
        }
    }
    Err(std::io::ErrorKind::UnexpectedEof.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chunked_body_ends_after_its_last_chunk() {
        assert_eq!(chunked_end(b"4\r\nWiki\r\n0\r\n\r\n"), Some(14));
        assert_eq!(chunked_end(b"4\r\nWiki\r\n"), None);
    }

    #[test]
    fn faults_only_where_they_can_happen() {
        assert!(!applies(Fault::TransactionConflict, "Query"));
        assert!(applies(Fault::TransactionConflict, "TransactWriteItems"));
        assert!(!applies(Fault::LostAnswer, "PutItem"), "a single write has no idempotency token");
        assert!(applies(Fault::LostAnswer, "TransactWriteItems"));
        assert_eq!(FaultRates::only(Fault::Throttling, 1.0).draw("GetItem"), Some(Fault::Throttling));
        assert_eq!(FaultRates::none().draw("GetItem"), None);
        assert_eq!(FaultRates::only(Fault::TransactionConflict, 1.0).draw("Query"), None, "a read cannot meet a conflict");
        let mut faulty = 0;
        for _ in 0..1000 {
            let f = FaultRates::mixed(0.5).draw("Query");
            assert_ne!(f, Some(Fault::TransactionConflict));
            faulty += usize::from(f.is_some());
        }
        assert!((400..600).contains(&faulty), "a read is still faulty half the time: {faulty}");
    }
}
