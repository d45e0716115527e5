//! The hub over channels: an in-memory directory, a recording media server, and time
//! either real (short tests) or tokio's paused time (the waiting room's 60 s and 30 s),
//! which jumps to the owner's next deadline whenever everything waits.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::Instant;

use super::*;
use crate::messages::ServerMsg;

/// An in-memory directory: room-1 (cand, eval) and room-2 (cand2, eval2), tokens
/// "grant:<seat>:<user>:<room>", and room-1's order of steps (id checked → started →
/// ended).
#[derive(Default)]
struct Dir {
    steps: Mutex<Vec<Step>>,
    /// Reads of an interview so far.
    reads: AtomicUsize,
    /// Signing fails while set.
    grants_fail: AtomicBool,
    /// room-1 was cancelled (elsewhere).
    cancelled: AtomicBool,
}

impl Directory for Arc<Dir> {
    async fn interview(&self, room: &str) -> Option<Interview> {
        self.reads.fetch_add(1, Ordering::SeqCst);
        let ended = self.steps.lock().unwrap().contains(&Step::Ended);
        let closed = match room {
            "room-1" if self.cancelled.load(Ordering::SeqCst) => Some(Closed::Cancelled),
            "room-1" if ended => Some(Closed::Ended),
            _ => None,
        };
        let (candidate, evaluator) = match room {
            "room-1" => ("cand", "eval"),
            "room-2" => ("cand2", "eval2"),
            _ => return None,
        };
        Some(Interview {
            candidate: candidate.into(),
            evaluator: evaluator.into(),
            scheduled_at: 0,
            opens_at: 0,
            closed,
        })
    }
    async fn display_name(&self, user: &str) -> String {
        format!("Name of {user}")
    }
    fn media_token(
        &self,
        user: &str,
        seat: Seat,
        room: &str,
        _now_ms: i64,
    ) -> Result<String, GrantError> {
        if self.grants_fail.load(Ordering::SeqCst) {
            return Err(GrantError("no key".into()));
        }
        let seat = match seat {
            Seat::Evaluator => "evaluator",
            Seat::Candidate => "candidate",
        };
        Ok(format!("grant:{seat}:{user}:{room}"))
    }
    fn check_media_token(&self, token: &str, user: &str, room: &str) -> bool {
        token.starts_with("grant:") && token.ends_with(&format!(":{user}:{room}"))
    }
    async fn advance(
        &self,
        _room: &str,
        _user: &str,
        step: Step,
        now_ms: i64,
    ) -> Result<Option<i64>, StepRefused> {
        let mut done = self.steps.lock().unwrap();
        let before = match step {
            Step::Arrived => return Ok(None),
            Step::IdChecked => None,
            Step::Started => Some(Step::IdChecked),
            Step::Ended => Some(Step::Started),
        };
        if done.contains(&step) || before.is_some_and(|b| done.last() != Some(&b)) {
            return Err(StepRefused {
                code: "wrong_order".into(),
                message: "not now".into(),
            });
        }
        done.push(step);
        Ok(done.contains(&Step::Started).then_some(now_ms))
    }
}

/// Records what reaches the media server; offers in the `stalled` room never finish.
#[derive(Default)]
struct Recorder {
    calls: Mutex<Vec<String>>,
    stalled: Mutex<Option<String>>,
}

impl Recorder {
    fn calls(&self) -> Vec<String> {
        self.calls.lock().unwrap().clone()
    }
}

impl Media for Arc<Recorder> {
    type Error = std::convert::Infallible;

    async fn offer(
        &self,
        room: &str,
        participant: &str,
        _sdp: String,
    ) -> Result<String, Self::Error> {
        self.calls
            .lock()
            .unwrap()
            .push(format!("offer {room} {participant}"));
        let stalled = self.stalled.lock().unwrap().as_deref() == Some(room);
        if stalled {
            std::future::pending::<()>().await;
        }
        Ok("v=0 answer".into())
    }
    async fn answer(&self, room: &str, participant: &str, _sdp: String) -> Result<(), Self::Error> {
        self.calls
            .lock()
            .unwrap()
            .push(format!("answer {room} {participant}"));
        Ok(())
    }
    async fn leave(&self, room: &str, participant: &str) {
        self.calls
            .lock()
            .unwrap()
            .push(format!("leave {room} {participant}"));
    }
}

struct Client {
    tx: mpsc::UnboundedSender<String>,
    rx: mpsc::UnboundedReceiver<String>,
    /// How long to wait for a message.
    wait: Duration,
}

impl Client {
    /// Waits long enough for the waiting room's deadlines (in paused time, where this
    /// only bounds the jumps to the next deadline).
    fn patient(self) -> Client {
        Client {
            wait: Duration::from_secs(600),
            ..self
        }
    }

    fn send(&self, text: &str) {
        self.tx.send(text.to_owned()).unwrap();
    }

    async fn next(&mut self) -> ServerMsg {
        let text = tokio::time::timeout(self.wait, self.rx.recv())
            .await
            .expect("a reply")
            .expect("open");
        serde_json::from_str(&text).unwrap()
    }

    /// The next message of a type, skipping others.
    async fn expect(&mut self, wanted: &str) -> ServerMsg {
        loop {
            let m = self.next().await;
            let json = serde_json::to_value(&m).unwrap();
            if json["type"] == wanted {
                return m;
            }
        }
    }

    fn join(&self, room: &str) {
        self.send(&format!(r#"{{"type":"join","room":"{room}"}}"#));
    }
}

fn connect(hub: &Hub, user: &str) -> Client {
    let (in_tx, in_rx) = mpsc::unbounded_channel::<String>();
    let (out_tx, out_rx) = mpsc::unbounded_channel::<String>();
    let incoming =
        futures_util::stream::unfold(
            in_rx,
            |mut rx| async move { rx.recv().await.map(|m| (m, rx)) },
        );
    let outgoing = futures_util::sink::unfold(out_tx, |tx, m: String| async move {
        tx.send(m).map_err(|_| ())?;
        Ok::<_, ()>(tx)
    });
    let hub = hub.clone();
    let user = User {
        id: user.to_owned(),
    };
    tokio::spawn(async move { hub.run(user, Box::pin(incoming), Box::pin(outgoing)).await });
    Client {
        tx: in_tx,
        rx: out_rx,
        wait: Duration::from_secs(5),
    }
}

/// A clock over tokio's time (paused or not), from an arbitrary epoch.
fn clock() -> impl Clock {
    let t0 = Instant::now();
    move || 1_700_000_000_000 + t0.elapsed().as_millis() as i64
}

fn hub() -> (Hub, Arc<Dir>, Arc<Recorder>) {
    let dir = Arc::new(Dir::default());
    let rec = Arc::new(Recorder::default());
    let hub = Hub::spawn(dir.clone(), rec.clone(), Timing::default(), clock());
    (hub, dir, rec)
}

fn waiting_list(m: ServerMsg) -> Vec<crate::messages::WaitingEntry> {
    match m {
        ServerMsg::WaitingList { list, .. } => list,
        other => panic!("not a waiting list: {other:?}"),
    }
}

#[tokio::test]
async fn knock_admit_then_media() {
    let (hub, _, rec) = hub();
    let mut cand = connect(&hub, "cand");
    cand.join("room-1");
    assert!(matches!(cand.next().await, ServerMsg::Waiting { .. }));
    // Waiting: an offer, even with a well-formed token, is refused and reaches nothing.
    cand.send(r#"{"type":"offer","sdp":"v=0 x","media_token":"grant:candidate:cand:room-1"}"#);
    assert!(matches!(cand.next().await, ServerMsg::Error { code, .. } if code == "not_admitted"));
    let mut eval = connect(&hub, "eval");
    eval.join("room-1");
    let ServerMsg::Joined { media_token, .. } = eval.expect("joined").await else {
        unreachable!()
    };
    assert_eq!(media_token, "grant:evaluator:eval:room-1");
    let list = waiting_list(eval.expect("waiting_list").await);
    assert_eq!(list[0].candidate, "cand");
    assert_eq!(list[0].name, "Name of cand");
    eval.send(&format!(
        r#"{{"type":"offer","sdp":"v=0 e","media_token":"{media_token}"}}"#
    ));
    assert!(matches!(
        eval.expect("answer").await,
        ServerMsg::Answer { .. }
    ));
    eval.send(r#"{"type":"admit","candidate":"cand"}"#);
    let ServerMsg::Admitted { media_token, .. } = cand.expect("admitted").await else {
        unreachable!()
    };
    assert_eq!(media_token, "grant:candidate:cand:room-1");
    cand.send(&format!(
        r#"{{"type":"offer","sdp":"v=0 c","media_token":"{media_token}"}}"#
    ));
    assert!(matches!(
        cand.expect("answer").await,
        ServerMsg::Answer { .. }
    ));
    assert_eq!(rec.calls(), ["offer room-1 eval", "offer room-1 cand"]);
}

#[tokio::test]
async fn forged_grants_wrong_roles_and_bad_order_are_refused() {
    let (hub, _, rec) = hub();
    let mut cand = connect(&hub, "cand");
    cand.send(r#"{"type":"start"}"#);
    assert!(matches!(cand.next().await, ServerMsg::Error { code, .. } if code == "not_joined"));
    cand.send("{not json");
    assert!(matches!(cand.next().await, ServerMsg::Error { code, .. } if code == "malformed"));
    let mut stranger = connect(&hub, "someone");
    stranger.join("room-1");
    assert!(matches!(stranger.next().await, ServerMsg::Error { code, .. } if code == "forbidden"));
    stranger.join("room-9");
    assert!(
        matches!(stranger.next().await, ServerMsg::Error { code, .. } if code == "unknown_room")
    );
    cand.join("room-1");
    cand.expect("waiting").await;
    // A candidate cannot admit themself nor run the interview.
    cand.send(r#"{"type":"admit","candidate":"cand"}"#);
    assert!(matches!(cand.next().await, ServerMsg::Error { code, .. } if code == "forbidden"));
    cand.send(r#"{"type":"id_checked"}"#);
    assert!(matches!(cand.next().await, ServerMsg::Error { code, .. } if code == "forbidden"));
    let mut eval = connect(&hub, "eval");
    eval.join("room-1");
    eval.expect("waiting_list").await;
    eval.send(r#"{"type":"admit","candidate":"cand"}"#);
    cand.expect("admitted").await;
    // A forged token (the evaluator's) is refused.
    cand.send(r#"{"type":"offer","sdp":"v=0 c","media_token":"grant:evaluator:eval:room-1"}"#);
    assert!(matches!(cand.next().await, ServerMsg::Error { code, .. } if code == "forbidden"));
    // The interview's steps in order only.
    eval.send(r#"{"type":"start"}"#);
    assert!(
        matches!(eval.expect("error").await, ServerMsg::Error { code, .. } if code == "wrong_order")
    );
    eval.send(r#"{"type":"id_checked"}"#);
    assert!(
        matches!(eval.expect("interview").await, ServerMsg::Interview { state, .. } if state == "id_checked")
    );
    eval.send(r#"{"type":"start"}"#);
    assert!(
        matches!(cand.expect("interview").await, ServerMsg::Interview { state, .. } if state == "id_checked")
    );
    assert!(
        matches!(cand.expect("interview").await, ServerMsg::Interview { state, started_at: Some(_), .. } if state == "in_progress")
    );
    assert!(rec.calls().is_empty(), "nothing reached the media server");
}

#[tokio::test]
async fn a_denied_candidate_gets_the_reason_and_no_media() {
    let (hub, _, rec) = hub();
    let mut cand = connect(&hub, "cand");
    cand.join("room-1");
    cand.expect("waiting").await;
    let mut eval = connect(&hub, "eval");
    eval.join("room-1");
    eval.expect("waiting_list").await;
    eval.send(r#"{"type":"deny","candidate":"cand","reason":"Wrong day"}"#);
    assert!(
        matches!(cand.expect("denied").await, ServerMsg::Denied { reason, .. } if reason == "Wrong day")
    );
    cand.send(r#"{"type":"offer","sdp":"v=0 c","media_token":"grant:candidate:cand:room-1"}"#);
    assert!(matches!(cand.next().await, ServerMsg::Error { code, .. } if code == "not_admitted"));
    assert!(rec.calls().is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_waiting_candidate_gone_more_than_60_s_expires_at_that_moment() {
    let (hub, _, _) = hub();
    let mut eval = connect(&hub, "eval").patient();
    eval.join("room-1");
    eval.expect("joined").await;
    assert!(waiting_list(eval.expect("waiting_list").await).is_empty());
    let mut cand = connect(&hub, "cand").patient();
    cand.join("room-1");
    cand.expect("waiting").await;
    assert!(waiting_list(eval.expect("waiting_list").await)[0].connected);
    // A reload 59 s away keeps the place.
    drop(cand);
    assert!(!waiting_list(eval.expect("waiting_list").await)[0].connected);
    tokio::time::sleep(Duration::from_secs(59)).await;
    let mut cand = connect(&hub, "cand").patient();
    cand.join("room-1");
    cand.expect("waiting").await;
    assert!(waiting_list(eval.expect("waiting_list").await)[0].connected);
    // Gone for good: the entry expires just after 60 s, not at some later tick.
    drop(cand);
    assert!(!waiting_list(eval.expect("waiting_list").await)[0].connected);
    let gone = Instant::now();
    let list = waiting_list(eval.expect("waiting_list").await);
    assert!(list.is_empty(), "{list:?}");
    let after = gone.elapsed();
    assert!(
        after > Duration::from_secs(60) && after < Duration::from_millis(60_100),
        "expired after {after:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn an_admitted_candidate_back_within_30_s_is_admitted_again_later_waits() {
    let (hub, _, rec) = hub();
    let mut eval = connect(&hub, "eval").patient();
    eval.join("room-1");
    eval.expect("joined").await;
    assert!(waiting_list(eval.expect("waiting_list").await).is_empty());
    let mut cand = connect(&hub, "cand").patient();
    cand.join("room-1");
    eval.expect("waiting_list").await;
    eval.send(r#"{"type":"admit","candidate":"cand"}"#);
    cand.expect("admitted").await;
    assert!(waiting_list(eval.expect("waiting_list").await).is_empty());
    // Back 29 s later: admitted again at once, with a new grant.
    drop(cand);
    tokio::time::sleep(Duration::from_secs(29)).await;
    let mut cand = connect(&hub, "cand").patient();
    cand.join("room-1");
    assert!(
        matches!(cand.next().await, ServerMsg::Admitted { .. }),
        "no waiting again"
    );
    // Gone 30 s: the media is revoked then, and the candidate waits again.
    drop(cand);
    let gone = Instant::now();
    let list = waiting_list(eval.expect("waiting_list").await);
    let after = gone.elapsed();
    assert!(
        after > Duration::from_secs(30) && after < Duration::from_millis(30_100),
        "revoked after {after:?}"
    );
    assert_eq!(list[0].candidate, "cand");
    assert!(!list[0].connected);
    // The revocation reaches the media server (off the loop: wait for it).
    while !rec.calls().contains(&"leave room-1 cand".to_owned()) {
        tokio::task::yield_now().await;
    }
    let mut cand = connect(&hub, "cand").patient();
    cand.join("room-1");
    assert!(matches!(cand.next().await, ServerMsg::Waiting { .. }));
}

#[tokio::test]
async fn a_stalled_media_server_stalls_no_other_room() {
    let (hub, _, rec) = hub();
    *rec.stalled.lock().unwrap() = Some("room-1".into());
    let mut eval = connect(&hub, "eval");
    eval.join("room-1");
    let ServerMsg::Joined { media_token, .. } = eval.expect("joined").await else {
        unreachable!()
    };
    eval.send(&format!(
        r#"{{"type":"offer","sdp":"v=0 e","media_token":"{media_token}"}}"#
    ));
    while rec.calls().is_empty() {
        tokio::task::yield_now().await;
    }
    // The offer of room-1 never finishes; room-2 goes on.
    let mut cand2 = connect(&hub, "cand2");
    cand2.join("room-2");
    cand2.expect("waiting").await;
    let mut eval2 = connect(&hub, "eval2");
    eval2.join("room-2");
    eval2.expect("joined").await;
    eval2.send(r#"{"type":"admit","candidate":"cand2"}"#);
    cand2.expect("admitted").await;
}

#[tokio::test]
async fn the_interview_is_read_on_join_and_after_a_step_not_per_message() {
    let (hub, dir, _) = hub();
    let reads = || dir.reads.load(Ordering::SeqCst);
    let mut cand = connect(&hub, "cand");
    cand.join("room-1");
    cand.expect("waiting").await;
    let mut eval = connect(&hub, "eval");
    eval.join("room-1");
    eval.expect("waiting_list").await;
    assert_eq!(reads(), 2, "one read per join");
    eval.send(r#"{"type":"admit","candidate":"cand"}"#);
    let ServerMsg::Admitted { media_token, .. } = cand.expect("admitted").await else {
        unreachable!()
    };
    for _ in 0..3 {
        cand.send(&format!(
            r#"{{"type":"answer","sdp":"v=0 c","media_token":"{media_token}"}}"#
        ));
    }
    cand.send(r#"{"type":"start"}"#);
    cand.expect("error").await;
    eval.send(r#"{"type":"remove","candidate":"nobody"}"#);
    eval.expect("error").await;
    assert_eq!(reads(), 2, "no read per message");
    eval.send(r#"{"type":"id_checked"}"#);
    eval.expect("interview").await;
    assert_eq!(reads(), 3, "a step reads the interview again");
}

#[tokio::test]
async fn a_grant_that_cannot_be_signed_is_an_error_not_an_empty_token() {
    let (hub, dir, _) = hub();
    dir.grants_fail.store(true, Ordering::SeqCst);
    let mut eval = connect(&hub, "eval");
    eval.join("room-1");
    assert!(
        matches!(eval.next().await, ServerMsg::Error { code, message } if code == "unavailable" && message.contains("no media grant")),
        "the evaluator is told, and not joined"
    );
    dir.grants_fail.store(false, Ordering::SeqCst);
    eval.join("room-1");
    eval.expect("joined").await;
    assert!(waiting_list(eval.expect("waiting_list").await).is_empty());
    let mut cand = connect(&hub, "cand");
    cand.join("room-1");
    cand.expect("waiting").await;
    dir.grants_fail.store(true, Ordering::SeqCst);
    eval.send(r#"{"type":"admit","candidate":"cand"}"#);
    assert!(matches!(cand.next().await, ServerMsg::Error { code, .. } if code == "unavailable"));
}

#[tokio::test]
async fn an_interview_closed_elsewhere_tells_both_and_stops_their_media() {
    let (hub, dir, rec) = hub();
    let mut eval = connect(&hub, "eval");
    eval.join("room-1");
    eval.expect("joined").await;
    assert!(waiting_list(eval.expect("waiting_list").await).is_empty());
    let mut cand = connect(&hub, "cand");
    cand.join("room-1");
    eval.expect("waiting_list").await;
    eval.send(r#"{"type":"admit","candidate":"cand"}"#);
    let ServerMsg::Admitted { media_token, .. } = cand.expect("admitted").await else {
        unreachable!()
    };
    dir.cancelled.store(true, Ordering::SeqCst);
    hub.closed("room-1");
    for side in [&mut cand, &mut eval] {
        assert!(
            matches!(side.expect("closed").await, ServerMsg::Closed { state, .. } if state == "cancelled")
        );
    }
    // The room's interview was read again: media is refused from now on.
    cand.send(&format!(
        r#"{{"type":"offer","sdp":"v=0 c","media_token":"{media_token}"}}"#
    ));
    assert!(matches!(cand.next().await, ServerMsg::Error { code, .. } if code == "wrong_order"));
    while rec.calls().len() < 2 {
        tokio::task::yield_now().await;
    }
    let mut calls = rec.calls();
    calls.sort();
    assert_eq!(calls, ["leave room-1 cand", "leave room-1 eval"]);
}
