//! Proctoring end to end: a webrtc-rs peer publishes real H264 video (encoded here with
//! openh264 from the fixture photos) through `/ws/monitor` and the SFU of a running
//! `langcert serve`, during a written test: a face, then nobody for 6 s, then two faces
//! for 3 s, then the face again. The vision workers analyse the sampled keyframes and the
//! session's timeline gets exactly `FACE_ABSENT` and `MULTIPLE_FACES`, starting within
//! a second of when they did, and nothing else of medium or high severity.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use openh264::encoder::Encoder;
use openh264::formats::{RgbSliceU8, YUVBuffer};
use serde_json::json;
use vision::image::Rgb;

use crate::kit::peer::h264;
use crate::kit::ws::{self, expect_no_error as expect, send};
use crate::kit::{Peer, Server};

const SSRC: u32 = 0x5eed_0001;

fn unix_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

fn photo(name: &str) -> Rgb {
    Rgb::decode(&std::fs::read(format!("models/fixtures/{name}.png")).expect("run models/fetch"))
        .unwrap()
}

/// The three scenes, 640×480: the candidate, the empty room, the candidate and someone
/// behind.
fn scenes() -> [Rgb; 3] {
    let head = photo("astronaut").crop(143, 23, 160, 190);
    let wall = Rgb::filled(640, 480, [128, 124, 118]);
    let mut one = wall.clone();
    one.paste(&head.resize(200, 238), 220, 120);
    let mut two = one.clone();
    two.paste(&head.mirrored().resize(120, 142), 480, 60);
    [one, wall, two]
}

/// Each scene as one IDR access unit (Annex B): sent again and again, every frame is a
/// keyframe, so whenever the SFU samples it gets a decodable frame without waiting.
fn encode(scenes: &[Rgb]) -> Vec<Vec<u8>> {
    let mut enc = Encoder::new().unwrap();
    scenes
        .iter()
        .map(|img| {
            enc.force_intra_frame();
            let yuv = YUVBuffer::from_rgb8_source(RgbSliceU8::new(&img.data, (640, 480)));
            enc.encode(&yuv).unwrap().to_vec()
        })
        .collect()
}

/// The NAL units of an Annex B access unit.
fn nal_units(au: &[u8]) -> Vec<&[u8]> {
    let mut starts = Vec::new();
    let mut i = 0;
    while i + 3 <= au.len() {
        if au[i..i + 3] == [0, 0, 1] {
            starts.push(i + 3);
            i += 3;
        } else {
            i += 1;
        }
    }
    starts
        .iter()
        .enumerate()
        .map(|(n, &s)| {
            let mut end = starts.get(n + 1).map_or(au.len(), |&e| e - 3);
            while end > s && au[end - 1] == 0 {
                end -= 1; // a 4-byte start code's leading zero
            }
            &au[s..end]
        })
        .collect()
}

/// RTP payloads of an access unit (RFC 6184 packetization mode 1: single NAL units, FU-A
/// for the large ones).
fn packetize(au: &[u8]) -> Vec<Vec<u8>> {
    const MTU: usize = 1100;
    let mut out = Vec::new();
    for nal in nal_units(au) {
        if nal.len() <= MTU {
            out.push(nal.to_vec());
            continue;
        }
        let (header, body) = (nal[0], &nal[1..]);
        let chunks: Vec<&[u8]> = body.chunks(MTU).collect();
        for (i, chunk) in chunks.iter().enumerate() {
            let mut fu = vec![(header & 0xe0) | 28, header & 0x1f];
            if i == 0 {
                fu[1] |= 0x80;
            }
            if i == chunks.len() - 1 {
                fu[1] |= 0x40;
            }
            fu.extend_from_slice(chunk);
            out.push(fu);
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_published_camera_becomes_a_timeline_of_events() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_with(dir.path(), None, &["--monitor-fps", "2"]);
    let candidate = server.api("candidate").await;
    let view = candidate.start_written().await;
    let session = view["id"].as_str().unwrap().to_owned();

    // Someone else's session id is refused.
    let mut ws = ws::connect_bearer(&server.base, "/ws/monitor", &candidate.token).await;
    send(&mut ws, json!({ "type": "monitor", "session": "not-mine" })).await;
    let refused = ws::next(&mut ws, "a refusal").await;
    assert!(refused.to_string().contains("forbidden"), "{refused:?}");

    send(&mut ws, json!({ "type": "monitor", "session": session })).await;
    expect(&mut ws, "monitoring").await;
    let mut camera = Peer::new(h264(), SSRC).await;
    let sdp = camera.offer().await;
    send(&mut ws, json!({ "type": "offer", "sdp": sdp })).await;
    let answer = expect(&mut ws, "answer").await;
    camera.accept(answer["sdp"].as_str().unwrap()).await;

    // The script: scene, seconds. 10 frames a second.
    let units = encode(&scenes());
    let script = [(0usize, 8u64), (1, 6), (2, 3), (0, 6)];
    let mut starts = Vec::new();
    let mut seq = 0u16;
    let mut ts = 0u32;
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    for (scene, seconds) in script {
        starts.push(unix_ms());
        for _ in 0..seconds * 10 {
            tick.tick().await;
            let payloads = packetize(&units[scene]);
            let last = payloads.len() - 1;
            for (i, payload) in payloads.into_iter().enumerate() {
                assert!(camera.write(payload, seq, ts, i == last).await);
                seq = seq.wrapping_add(1);
            }
            ts = ts.wrapping_add(9_000);
        }
    }

    // Both events have closed (2 s clear) by now; they reach the database shortly after.
    let db = sqlx::SqlitePool::connect(&format!(
        "sqlite://{}",
        dir.path().join("langcert.db").display()
    ))
    .await
    .unwrap();
    let mut events: Vec<(String, String, i64, i64)> = Vec::new();
    for _ in 0..50 {
        events = sqlx::query_as(
            "SELECT kind, severity, start_ms, end_ms FROM proctoring_events WHERE session_id = $1 ORDER BY start_ms",
        )
        .bind(&session)
        .fetch_all(&db)
        .await
        .unwrap();
        if events.iter().any(|e| e.0 == "MULTIPLE_FACES") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let serious: Vec<&(String, String, i64, i64)> = events
        .iter()
        .filter(|e| e.1 == "medium" || e.1 == "high")
        .collect();
    assert_eq!(
        serious.iter().map(|e| e.0.as_str()).collect::<Vec<_>>(),
        ["FACE_ABSENT", "MULTIPLE_FACES"],
        "{events:?}"
    );
    for (event, truth) in [(serious[0], starts[1]), (serious[1], starts[2])] {
        let off = event.2 - truth;
        assert!(
            off.abs() <= 1_000,
            "{} starts {off} ms from the truth: {events:?}",
            event.0
        );
    }
    let (absent, two) = (serious[0], serious[1]);
    assert!(
        (absent.3 - starts[2]).abs() <= 1_000,
        "FACE_ABSENT ends when the faces come back: {events:?}"
    );
    assert!(
        (two.3 - starts[3]).abs() <= 1_000,
        "MULTIPLE_FACES ends when the second face goes: {events:?}"
    );
    // Thumbnails and a clip were kept for the reviewer.
    let (media,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM proctoring_media m JOIN proctoring_events e ON e.id = m.event_id WHERE e.session_id = $1",
    )
    .bind(&session)
    .fetch_one(&db)
    .await
    .unwrap();
    assert!(media >= 4, "{media} images");

    // The operators' counters: for the platform's administrators only, and they say what
    // was analysed.
    let http = reqwest::Client::new();
    let metrics = |token: String| {
        let req = http
            .get(format!("{}/metrics", server.base))
            .bearer_auth(token);
        async move {
            let res = req.send().await.unwrap();
            (res.status().as_u16(), res.text().await.unwrap())
        }
    };
    assert_eq!(metrics(candidate.token.clone()).await.0, 403);
    let (status, text) = metrics(server.session("platform_admin").await).await;
    assert_eq!(status, 200, "{text}");
    let value = |name: &str| -> f64 {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{name} ")))
            .unwrap_or_else(|| panic!("{name} in {text}"))
            .parse()
            .unwrap()
    };
    assert!(
        value("langcert_monitor_frames_analysed_total") >= 20.0,
        "{text}"
    );
    assert!(
        value("langcert_monitor_events_stored_total") >= 2.0,
        "{text}"
    );
    assert_eq!(value("langcert_monitor_sessions"), 1.0, "{text}");
    let _ = camera.pc.close().await;
    server.stop();
}
