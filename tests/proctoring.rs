//! Proctoring end to end: a webrtc-rs peer publishes real H264 video (encoded here with
//! openh264 from the fixture photos) through `/ws/monitor` and the SFU of a running
//! `langcert serve`, during a written test: a face, then nobody for 6 s, then two faces
//! for 3 s, then the face again. The vision workers analyse the sampled keyframes and the
//! session's timeline gets exactly `FACE_ABSENT` and `MULTIPLE_FACES`, starting within
//! a second of when they did, and nothing else of medium or high severity.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures_util::{SinkExt, StreamExt};
use openh264::encoder::Encoder;
use openh264::formats::{RgbSliceU8, YUVBuffer};
use rtc::media_stream::MediaStreamTrack;
use rtc::peer_connection::configuration::media_engine::MIME_TYPE_H264;
use rtc::rtp;
use rtc::rtp_transceiver::rtp_sender::{
    RTCPFeedback, RTCRtpCodec, RTCRtpCodecParameters, RTCRtpCodingParameters,
    RTCRtpEncodingParameters, RtpCodecKind,
};
use serde_json::{Value, json};
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use vision::image::Rgb;
use webrtc::media_stream::track_local::TrackLocal;
use webrtc::media_stream::track_local::static_rtp::TrackLocalStaticRTP;
use webrtc::peer_connection::{
    MediaEngine, PeerConnection, PeerConnectionBuilder, PeerConnectionEventHandler,
    RTCIceGatheringState, RTCSessionDescription, Registry, register_default_interceptors,
};

use crate::serve::{Server, session_from_link};

const WAIT: Duration = Duration::from_secs(20);
const SSRC: u32 = 0x5eed_0001;

fn h264() -> RTCRtpCodecParameters {
    RTCRtpCodecParameters {
        rtp_codec: RTCRtpCodec {
            mime_type: MIME_TYPE_H264.to_owned(),
            clock_rate: 90_000,
            channels: 0,
            sdp_fmtp_line: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"
                .to_owned(),
            rtcp_feedback: vec![RTCPFeedback {
                typ: "nack".to_owned(),
                parameter: "pli".to_owned(),
            }],
        },
        payload_type: 125,
    }
}

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

struct Handler {
    gathering: watch::Sender<RTCIceGatheringState>,
}

#[async_trait::async_trait]
impl PeerConnectionEventHandler for Handler {
    async fn on_ice_gathering_state_change(&self, state: RTCIceGatheringState) {
        self.gathering.send_replace(state);
    }
}

async fn camera_peer() -> (
    Arc<dyn PeerConnection>,
    Arc<TrackLocalStaticRTP>,
    watch::Receiver<RTCIceGatheringState>,
) {
    let mut engine = MediaEngine::default();
    engine.register_codec(h264(), RtpCodecKind::Video).unwrap();
    let registry = register_default_interceptors(Registry::new(), &mut engine).unwrap();
    let (tx, gathering) = watch::channel(RTCIceGatheringState::New);
    let pc: Arc<dyn PeerConnection> = Arc::new(
        PeerConnectionBuilder::new()
            .with_media_engine(engine)
            .with_interceptor_registry(registry)
            .with_handler(Arc::new(Handler { gathering: tx }))
            .with_udp_addrs(vec!["127.0.0.1:0".to_owned()])
            .build()
            .await
            .unwrap(),
    );
    let track = Arc::new(TrackLocalStaticRTP::new(MediaStreamTrack::new(
        "camera".to_owned(),
        "v".to_owned(),
        "v".to_owned(),
        RtpCodecKind::Video,
        vec![RTCRtpEncodingParameters {
            rtp_coding_parameters: RTCRtpCodingParameters {
                ssrc: Some(SSRC),
                ..Default::default()
            },
            active: true,
            codec: h264().rtp_codec,
            ..Default::default()
        }],
    )));
    pc.add_track(track.clone() as Arc<dyn TrackLocal>)
        .await
        .unwrap();
    (pc, track, gathering)
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn expect(ws: &mut Ws, kind: &str) -> Value {
    loop {
        let msg = tokio::time::timeout(WAIT, ws.next())
            .await
            .unwrap_or_else(|_| panic!("no {kind}"))
            .unwrap()
            .unwrap();
        if let Message::Text(t) = msg {
            let v: Value = serde_json::from_str(&t).unwrap();
            assert_ne!(v["type"], "error", "{v}");
            if v["type"] == kind {
                return v;
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_published_camera_becomes_a_timeline_of_events() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_with(dir.path(), None, &["--monitor-fps", "2"]);
    let http = reqwest::Client::new();
    let link = server
        .links
        .iter()
        .find(|(r, _)| r == "candidate")
        .unwrap()
        .1
        .clone();
    let token = session_from_link(&server.base, &link).await;
    let call = |method: reqwest::Method, path: &str, body: Option<Value>| {
        let mut req = http
            .request(method, format!("{}{path}", server.base))
            .bearer_auth(&token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        req.send()
    };
    let profile = json!({ "birth_name": "MARTIN", "first_names": "Camille", "birth_date": "1994-05-17", "sex": "F",
                          "birth_commune": "Lyon", "birth_country": "France" });
    assert_eq!(
        call(reqwest::Method::PUT, "/api/v1/me/profile", Some(profile))
            .await
            .unwrap()
            .status(),
        204
    );
    crate::serve::identity(&http, &server.base, &token).await;
    let res = call(reqwest::Method::POST, "/api/v1/written", None)
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let session = res.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // Someone else's session id is refused.
    let mut req = format!("{}/ws/monitor", server.base.replace("http://", "ws://"))
        .into_client_request()
        .unwrap();
    req.headers_mut()
        .insert("Authorization", format!("Bearer {token}").parse().unwrap());
    let (mut ws, _) = tokio_tungstenite::connect_async(req).await.unwrap();
    ws.send(Message::Text(
        json!({ "type": "monitor", "session": "not-mine" })
            .to_string()
            .into(),
    ))
    .await
    .unwrap();
    let refused = tokio::time::timeout(WAIT, ws.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(
        refused.to_text().unwrap().contains("forbidden"),
        "{refused:?}"
    );

    ws.send(Message::Text(
        json!({ "type": "monitor", "session": session })
            .to_string()
            .into(),
    ))
    .await
    .unwrap();
    expect(&mut ws, "monitoring").await;
    let (pc, track, mut gathering) = camera_peer().await;
    let offer = pc.create_offer(None).await.unwrap();
    pc.set_local_description(offer).await.unwrap();
    tokio::time::timeout(
        WAIT,
        gathering.wait_for(|s| *s == RTCIceGatheringState::Complete),
    )
    .await
    .unwrap()
    .unwrap();
    let sdp = pc.local_description().await.unwrap().sdp;
    ws.send(Message::Text(
        json!({ "type": "offer", "sdp": sdp }).to_string().into(),
    ))
    .await
    .unwrap();
    let answer = expect(&mut ws, "answer").await;
    pc.set_remote_description(
        RTCSessionDescription::answer(answer["sdp"].as_str().unwrap().to_owned()).unwrap(),
    )
    .await
    .unwrap();

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
                let packet = rtp::Packet {
                    header: rtp::header::Header {
                        version: 2,
                        marker: i == last,
                        payload_type: 125,
                        sequence_number: seq,
                        timestamp: ts,
                        ssrc: SSRC,
                        ..Default::default()
                    },
                    payload: payload.into(),
                };
                seq = seq.wrapping_add(1);
                track.write_rtp(packet).await.unwrap();
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
        (absent.3 - starts[2] - 0).abs() <= 1_000,
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
    let _ = pc.close().await;
    server.stop();
}
