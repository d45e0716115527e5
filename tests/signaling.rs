//! Two webrtc-rs peers through the real signaling (`/ws` of a running `langcert serve`)
//! and its SFU on loopback: a waiting or denied candidate's offers never reach the media
//! server and nothing flows to them; once admitted, the candidate's audio reaches the
//! evaluator with the payloads it sent.

use std::time::Duration;

use serde_json::json;

use crate::kit::peer::opus;
use crate::kit::ws::{self, Ws, expect, send};
use crate::kit::{DemoInterview, Peer, Server};

/// Answers the SFU's offer (the other side's track) and waits for its first packets.
async fn answer_offer(mut ws: Ws, mut peer: Peer, token: String) -> (Ws, Peer) {
    let v = expect(&mut ws, "offer").await;
    let sdp = peer.answer(v["sdp"].as_str().unwrap()).await;
    send(
        &mut ws,
        json!({ "type": "answer", "sdp": sdp, "media_token": token }),
    )
    .await;
    assert!(
        peer.wait_received(Duration::from_secs(20)).await,
        "media arrives once answered"
    );
    (ws, peer)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn media_flows_only_after_admission_through_the_real_signaling() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), None);
    let DemoInterview {
        room,
        candidate: cand,
        evaluator: eval,
        candidate_id: cand_id,
    } = server.demo_interview_soon().await;

    // The candidate knocks and waits; an offer now is refused before any media server.
    let mut cws = ws::connect(&server.base, "/ws", &cand).await;
    send(&mut cws, json!({ "type": "join", "room": room })).await;
    expect(&mut cws, "waiting").await;
    let mut cpeer = Peer::new(opus(), 0x1111).await;
    let early = cpeer.offer().await;
    send(
        &mut cws,
        json!({ "type": "offer", "sdp": early, "media_token": "forged" }),
    )
    .await;
    assert_eq!(expect(&mut cws, "error").await["code"], "forbidden");

    // The evaluator joins, publishes, and sees the candidate waiting.
    let mut ews = ws::connect(&server.base, "/ws", &eval).await;
    send(&mut ews, json!({ "type": "join", "room": room })).await;
    let joined = expect(&mut ews, "joined").await;
    let etoken = joined["media_token"].as_str().unwrap().to_owned();
    let list = expect(&mut ews, "waiting_list").await;
    assert_eq!(list["list"][0]["candidate"], cand_id.as_str());
    // A waiting candidate presenting the evaluator's grant is still refused.
    send(
        &mut cws,
        json!({ "type": "offer", "sdp": early, "media_token": etoken }),
    )
    .await;
    assert_eq!(expect(&mut cws, "error").await["code"], "forbidden");
    let mut epeer = Peer::new(opus(), 0x2222).await;
    let eoffer = epeer.offer().await;
    send(
        &mut ews,
        json!({ "type": "offer", "sdp": eoffer, "media_token": etoken }),
    )
    .await;
    let answer = expect(&mut ews, "answer").await;
    epeer.accept(answer["sdp"].as_str().unwrap()).await;
    let _esend = epeer.send_counter();
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert!(
        cpeer.received.lock().unwrap().is_empty(),
        "nothing reaches a waiting candidate"
    );

    // Admitted: the candidate gets a grant, publishes, and the evaluator receives it.
    send(&mut ews, json!({ "type": "admit", "candidate": cand_id })).await;
    let admitted = expect(&mut cws, "admitted").await;
    let ctoken = admitted["media_token"].as_str().unwrap().to_owned();
    let mut cpeer = Peer::new(opus(), 0x3333).await;
    let coffer = cpeer.offer().await;
    send(
        &mut cws,
        json!({ "type": "offer", "sdp": coffer, "media_token": ctoken }),
    )
    .await;
    let answer = expect(&mut cws, "answer").await;
    cpeer.accept(answer["sdp"].as_str().unwrap()).await;
    let _csend = cpeer.send_counter();
    // The SFU offers each side the other's track (renegotiation over the socket).
    let (e, c) = tokio::join!(
        tokio::time::timeout(Duration::from_secs(20), answer_offer(ews, epeer, etoken)),
        tokio::time::timeout(Duration::from_secs(20), answer_offer(cws, cpeer, ctoken)),
    );
    let (_ews, epeer) = e.expect("the evaluator receives the candidate's audio");
    let (_cws, cpeer) = c.expect("the candidate receives the evaluator's audio");
    // Wait for ten packets (a deadline, not a fixed sleep).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while epeer.received.lock().unwrap().len() < 10 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let got = epeer.received.lock().unwrap().clone();
    assert!(got.len() >= 10, "{} packets", got.len());
    assert!(
        got.windows(2).filter(|w| w[1] == w[0] + 1).count() * 10 >= (got.len() - 1) * 9,
        "payloads in order: {got:?}"
    );
    assert!(!cpeer.received.lock().unwrap().is_empty());
    server.stop();
}
