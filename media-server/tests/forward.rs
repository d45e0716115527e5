//! Forwarding through the SFU on loopback, with webrtc-rs clients and no signaling server:
//! the test carries the SFU's offers and the clients' answers itself.
//!
//! Room 1: A publishes Opus and VP8, B publishes Opus. Room 2: C publishes Opus.
//! B must receive A's packets with A's payloads, in order; A must receive B's; C nothing.

use crate::client::{Client, Codec, SPAN, WAIT, signal, wait_until};
use anyhow::{Context, Result, ensure};
use media_server::{Sfu, SfuConfig};
use rtc::rtcp::payload_feedbacks::picture_loss_indication::PictureLossIndication;
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::timeout;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwards_within_a_room_and_not_across_rooms() -> Result<()> {
    let started = std::time::Instant::now();
    let sfu = Arc::new(Sfu::new(SfuConfig {
        media_addr: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0),
        ice_tcp: true,
        public_ip: None,
        room_close_after: Duration::from_millis(200),
        recordings: None,
        frame_tap: None,
    })?);

    let mut a = Client::new("alice", &[(Codec::Opus, b'a'), (Codec::Vp8, b'v')]).await?;
    let mut b = Client::new("bob", &[(Codec::Opus, b'b')]).await?;
    let mut c = Client::new("carol", &[(Codec::Opus, b'c')]).await?;

    let answered = Arc::new(std::sync::Mutex::new(HashMap::new()));
    let (closed_tx, mut closed) = mpsc::unbounded_channel();
    let clients = [&a, &b, &c]
        .iter()
        .map(|c| (c.name.to_owned(), Arc::clone(&c.pc)))
        .collect();
    let signaling = signal(Arc::clone(&sfu), clients, Arc::clone(&answered), closed_tx);

    a.join(&sfu, "room-1").await?;
    let _a_sending = a.start_sending();
    c.join(&sfu, "room-2").await?;
    let _c_sending = c.start_sending();
    b.join(&sfu, "room-1").await?;
    let _b_sending = b.start_sending();

    b.expect_streams(b"av").await?;
    a.expect_streams(b"b").await?;

    // Carol is alone in her room: nothing reached her, and her audio reached no one.
    ensure!(
        c.remote_tracks.lock().unwrap().is_empty(),
        "carol got a track"
    );
    ensure!(c.received.try_recv().is_err(), "carol received a packet");
    while let Ok(r) = b.received.try_recv() {
        ensure!(r.payload[0] != b'c', "bob received carol's audio");
    }

    // Bob's subscription made the SFU ask Alice for a keyframe.
    let plis = Arc::clone(&a.plis);
    wait_until("a PLI at alice", || plis.load(Ordering::SeqCst) >= 1).await?;

    // A PLI from Bob about Alice's video is passed on to Alice.
    let before = plis.load(Ordering::SeqCst);
    let video = b.remote_video().await.context("bob has alice's video")?;
    let media_ssrc = video.ssrcs().await[0];
    let pli = PictureLossIndication {
        sender_ssrc: 0,
        media_ssrc,
    };
    video.write_rtcp(vec![Box::new(pli)]).await?;
    wait_until("bob's PLI relayed to alice", || {
        plis.load(Ordering::SeqCst) > before
    })
    .await?;

    let stats = sfu.stats();
    println!("stats with everyone in: {stats:?}");
    ensure!(stats.rooms == 2 && stats.participants == 3, "{stats:?}");
    ensure!(stats.forwarded_packets >= u64::from(3 * SPAN), "{stats:?}");
    ensure!(stats.plis_sent >= 2, "{stats:?}");

    // Bob leaves: Alice is offered a description without his track, and answers it.
    let alice_answers = answered.lock().unwrap().get("alice").copied().unwrap_or(0);
    sfu.leave("room-1", "bob").await?;
    let counts = Arc::clone(&answered);
    wait_until("alice's renegotiation after bob left", || {
        counts.lock().unwrap().get("alice").copied().unwrap_or(0) > alice_answers
    })
    .await?;

    sfu.leave("room-1", "alice").await?;
    sfu.leave("room-2", "carol").await?;
    let mut rooms = vec![];
    while rooms.len() < 2 {
        let room = timeout(WAIT, closed.recv())
            .await?
            .context("events ended")?;
        rooms.push(room);
    }
    rooms.sort();
    ensure!(rooms == ["room-1", "room-2"], "{rooms:?}");
    let stats = sfu.stats();
    ensure!(stats.rooms == 0 && stats.participants == 0, "{stats:?}");
    println!(
        "final stats: {stats:?}; test body took {:?}",
        started.elapsed()
    );

    for client in [&a, &b, &c] {
        client.pc.close().await?;
    }
    signaling.abort();
    Ok(())
}

/// H264 reaches a subscriber unchanged, at the payload type of the subscriber's leg: the
/// publisher sends it at 104, the SFU offers H264 to subscribers at 125.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwards_h264_rewriting_the_payload_type() -> Result<()> {
    let sfu = Arc::new(Sfu::new(SfuConfig {
        media_addr: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0),
        ice_tcp: true,
        public_ip: None,
        room_close_after: Duration::from_millis(100),
        recordings: None,
        frame_tap: None,
    })?);
    let mut a = Client::new("dan", &[(Codec::H264, b'h')]).await?;
    let mut b = Client::new("eve", &[(Codec::Opus, b'e')]).await?;
    let answered = Arc::new(std::sync::Mutex::new(HashMap::new()));
    let (closed_tx, _closed) = mpsc::unbounded_channel();
    let clients = [&a, &b]
        .iter()
        .map(|c| (c.name.to_owned(), Arc::clone(&c.pc)))
        .collect();
    let signaling = signal(Arc::clone(&sfu), clients, answered, closed_tx);

    a.join(&sfu, "room-h").await?;
    let _a_sending = a.start_sending();
    b.join(&sfu, "room-h").await?;
    let _b_sending = b.start_sending();

    let payload_types = b.expect_streams(b"h").await?;
    ensure!(
        payload_types[&b'h'] == 125,
        "H264 arrived at {payload_types:?}"
    );
    a.expect_streams(b"e").await?;
    let plis = Arc::clone(&a.plis);
    wait_until("a PLI at dan", || plis.load(Ordering::SeqCst) >= 1).await?;

    sfu.shutdown().await;
    ensure!(sfu.stats().participants == 0);
    for client in [&a, &b] {
        client.pc.close().await?;
    }
    signaling.abort();
    Ok(())
}
