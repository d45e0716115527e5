//! The benchmark's server side: an SFU in a process of its own, driven over its standard
//! input and output, so that its whole CPU time — every thread, timer and socket — is what
//! the benchmark reads from `/proc/<pid>/stat`.
//!
//! One JSON object per line. The driver sends requests, each with an `id` the reply
//! repeats:
//!
//! ```text
//! → {"id":1,"op":"join","room":"room-0","participant":"p0","sdp":"v=0…"}
//! ← {"id":1,"ok":"v=0…"}                      (the answer)
//! → {"id":2,"op":"answer","room":"room-0","participant":"p0","sdp":"v=0…"}
//! ← {"id":2,"ok":null}
//! → {"id":3,"op":"stats"}
//! ← {"id":3,"ok":{"forwarded_packets":1234}}
//! ← {"event":"offer","room":"room-0","participant":"p1","sdp":"v=0…"}   (unasked)
//! ← {"id":4,"error":"unknown participant"}
//! ```
//!
//! End of input shuts the SFU down and ends the process.

use super::BenchError;
use crate::{Sfu, SfuConfig, SfuEvent};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin};
use tokio::sync::{mpsc, oneshot};
use tracing::warn;

#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
enum Op {
    Join {
        room: String,
        participant: String,
        sdp: String,
    },
    Answer {
        room: String,
        participant: String,
        sdp: String,
    },
    Stats,
}

#[derive(Debug, Serialize, Deserialize)]
struct Request {
    id: u64,
    #[serde(flatten)]
    op: Op,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(untagged)]
enum Line {
    Reply {
        id: u64,
        #[serde(default)]
        ok: Option<Value>,
        #[serde(default)]
        error: Option<String>,
    },
    Event {
        event: String,
        room: String,
        participant: String,
        #[serde(default)]
        sdp: Option<String>,
    },
}

/// Runs the SFU node until its standard input ends (`langcert bench sfu-node`).
pub fn serve_stdio(config: SfuConfig) -> Result<(), BenchError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(serve(config))
}

/// The SFU settings of the benchmark's node: loopback, rooms closed a second after they
/// empty, no recording.
pub fn node_config() -> SfuConfig {
    SfuConfig {
        media_addr: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0),
        room_close_after: Duration::from_secs(1),
        ..SfuConfig::default()
    }
}

async fn serve(config: SfuConfig) -> Result<(), BenchError> {
    let sfu = Arc::new(Sfu::new(config)?);
    let mut events = sfu
        .take_events()
        .ok_or_else(|| BenchError::Setup("the SFU's events were already taken".to_owned()))?;
    let (out, mut out_rx) = mpsc::unbounded_channel::<String>();
    let writer = tokio::spawn(async move {
        let mut stdout = tokio::io::stdout();
        while let Some(mut line) = out_rx.recv().await {
            line.push('\n');
            if stdout.write_all(line.as_bytes()).await.is_err() || stdout.flush().await.is_err() {
                break;
            }
        }
    });
    let event_out = out.clone();
    let forward_events = tokio::spawn(async move {
        while let Some(event) = events.recv().await {
            let line = match event {
                SfuEvent::Offer {
                    room,
                    participant,
                    sdp,
                } => Line::Event {
                    event: "offer".to_owned(),
                    room,
                    participant,
                    sdp: Some(sdp),
                },
                SfuEvent::ConnectionFailed { room, participant } => Line::Event {
                    event: "connection_failed".to_owned(),
                    room,
                    participant,
                    sdp: None,
                },
                _ => continue,
            };
            let _ = event_out.send(encode(&line));
        }
    });

    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    while let Some(line) = lines.next_line().await? {
        let request: Request = match serde_json::from_str(&line) {
            Ok(request) => request,
            Err(err) => {
                warn!(%err, "bench node: unreadable request");
                continue;
            }
        };
        let (sfu, out) = (Arc::clone(&sfu), out.clone());
        tokio::spawn(async move {
            let result = match request.op {
                Op::Join {
                    room,
                    participant,
                    sdp,
                } => sfu
                    .join(&room, &participant, sdp)
                    .await
                    .map(Value::String)
                    .map_err(|e| e.to_string()),
                Op::Answer {
                    room,
                    participant,
                    sdp,
                } => sfu
                    .answer(&room, &participant, sdp)
                    .await
                    .map(|()| Value::Null)
                    .map_err(|e| e.to_string()),
                Op::Stats => Ok(serde_json::json!({
                    "forwarded_packets": sfu.stats().forwarded_packets,
                })),
            };
            let (ok, error) = match result {
                Ok(value) => (Some(value), None),
                Err(err) => (None, Some(err)),
            };
            let _ = out.send(encode(&Line::Reply {
                id: request.id,
                ok,
                error,
            }));
        });
    }
    sfu.shutdown().await;
    forward_events.abort();
    drop(out);
    let _ = writer.await;
    Ok(())
}

fn encode(line: &Line) -> String {
    serde_json::to_string(line).unwrap_or_default()
}

/// What the driver hears from the node without asking.
#[derive(Debug)]
pub(crate) struct NodeOffer {
    pub(crate) room: String,
    pub(crate) participant: String,
    pub(crate) sdp: String,
}

type Pending = Arc<Mutex<HashMap<u64, oneshot::Sender<Result<Value, String>>>>>;

/// The driver's end: the node's child process and its request/reply channel.
pub(crate) struct Node {
    child: Child,
    stdin: tokio::sync::Mutex<Option<ChildStdin>>,
    pending: Pending,
    next_id: std::sync::atomic::AtomicU64,
}

impl Node {
    /// Starts `program args…` (a `langcert bench sfu-node`) and returns it with the
    /// stream of its offers.
    pub(crate) fn start(
        program: &std::path::Path,
        args: &[String],
    ) -> Result<(Node, mpsc::UnboundedReceiver<NodeOffer>), BenchError> {
        let mut child = tokio::process::Command::new(program)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()?;
        let stdin = child.stdin.take();
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| BenchError::Setup("the node has no stdout".to_owned()))?;
        let pending: Pending = Arc::default();
        let (offers, offers_rx) = mpsc::unbounded_channel();
        let replies = Arc::clone(&pending);
        tokio::spawn(async move {
            let mut lines = BufReader::new(stdout).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                match serde_json::from_str::<Line>(&line) {
                    Ok(Line::Reply { id, ok, error }) => {
                        let waiter = super::lock(&replies).remove(&id);
                        if let Some(waiter) = waiter {
                            let _ = waiter.send(match error {
                                Some(err) => Err(err),
                                None => Ok(ok.unwrap_or(Value::Null)),
                            });
                        }
                    }
                    Ok(Line::Event {
                        event,
                        room,
                        participant,
                        sdp: Some(sdp),
                    }) if event == "offer" => {
                        let _ = offers.send(NodeOffer {
                            room,
                            participant,
                            sdp,
                        });
                    }
                    Ok(Line::Event { .. }) => {}
                    Err(err) => warn!(%err, "bench: unreadable line from the node"),
                }
            }
            // The node is gone: nobody answers the requests still waiting.
            super::lock(&replies).clear();
        });
        Ok((
            Node {
                child,
                stdin: tokio::sync::Mutex::new(stdin),
                pending,
                next_id: std::sync::atomic::AtomicU64::new(1),
            },
            offers_rx,
        ))
    }

    /// The node's process id, for `/proc/<pid>/…`.
    pub(crate) fn pid(&self) -> Result<u32, BenchError> {
        self.child
            .id()
            .ok_or_else(|| BenchError::Setup("the node has exited".to_owned()))
    }

    async fn call(&self, op: Op) -> Result<Value, BenchError> {
        let id = self
            .next_id
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let (reply, reply_rx) = oneshot::channel();
        super::lock(&self.pending).insert(id, reply);
        let mut line = serde_json::to_string(&Request { id, op })
            .map_err(|e| BenchError::Setup(e.to_string()))?;
        line.push('\n');
        {
            let mut stdin = self.stdin.lock().await;
            let stdin = stdin
                .as_mut()
                .ok_or_else(|| BenchError::Setup("the node's input is closed".to_owned()))?;
            stdin.write_all(line.as_bytes()).await?;
            stdin.flush().await?;
        }
        reply_rx
            .await
            .map_err(|_| BenchError::Setup("the node exited".to_owned()))?
            .map_err(BenchError::Node)
    }

    pub(crate) async fn join(
        &self,
        room: &str,
        participant: &str,
        sdp: String,
    ) -> Result<String, BenchError> {
        let answer = self
            .call(Op::Join {
                room: room.to_owned(),
                participant: participant.to_owned(),
                sdp,
            })
            .await?;
        answer
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| BenchError::Setup("the node's answer is not a string".to_owned()))
    }

    pub(crate) async fn answer(
        &self,
        room: &str,
        participant: &str,
        sdp: String,
    ) -> Result<(), BenchError> {
        self.call(Op::Answer {
            room: room.to_owned(),
            participant: participant.to_owned(),
            sdp,
        })
        .await
        .map(|_| ())
    }

    pub(crate) async fn forwarded_packets(&self) -> Result<u64, BenchError> {
        let stats = self.call(Op::Stats).await?;
        stats["forwarded_packets"]
            .as_u64()
            .ok_or_else(|| BenchError::Setup("the node's stats lack forwarded_packets".to_owned()))
    }

    /// Closes the node's input (it shuts its SFU down) and waits for it to exit.
    pub(crate) async fn stop(mut self) {
        self.stdin.lock().await.take();
        if tokio::time::timeout(Duration::from_secs(10), self.child.wait())
            .await
            .is_err()
        {
            let _ = self.child.kill().await;
        }
    }
}
