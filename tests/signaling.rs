//! Two webrtc-rs peers through the real signaling (`/ws` of a running `langcert serve`)
//! and its SFU on loopback: a waiting or denied candidate's offers never reach the media
//! server and nothing flows to them; once admitted, the candidate's audio reaches the
//! evaluator with the payloads it sent.

use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use rtc::media_stream::MediaStreamTrack;
use rtc::peer_connection::configuration::media_engine::MIME_TYPE_OPUS;
use rtc::rtp;
use rtc::rtp_transceiver::rtp_sender::{
    RTCRtpCodec, RTCRtpCodecParameters, RTCRtpCodingParameters, RTCRtpEncodingParameters,
    RtpCodecKind,
};
use serde_json::{Value, json};
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::Message;
use webrtc::media_stream::track_local::TrackLocal;
use webrtc::media_stream::track_local::static_rtp::TrackLocalStaticRTP;
use webrtc::media_stream::track_remote::{TrackRemote, TrackRemoteEvent};
use webrtc::peer_connection::{
    MediaEngine, PeerConnection, PeerConnectionBuilder, PeerConnectionEventHandler,
    RTCIceGatheringState, RTCSessionDescription, Registry, register_default_interceptors,
};

use crate::serve::Server;

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

const WAIT: Duration = Duration::from_secs(15);

fn opus() -> RTCRtpCodecParameters {
    RTCRtpCodecParameters {
        rtp_codec: RTCRtpCodec {
            mime_type: MIME_TYPE_OPUS.to_owned(),
            clock_rate: 48_000,
            channels: 2,
            sdp_fmtp_line: "minptime=10;useinbandfec=1".to_owned(),
            rtcp_feedback: vec![],
        },
        payload_type: 111,
    }
}

/// Records what arrives: the counter in each received payload.
struct Handler {
    gathering: watch::Sender<RTCIceGatheringState>,
    received: Arc<std::sync::Mutex<Vec<u32>>>,
}

#[async_trait::async_trait]
impl PeerConnectionEventHandler for Handler {
    async fn on_ice_gathering_state_change(&self, state: RTCIceGatheringState) {
        self.gathering.send_replace(state);
    }

    async fn on_track(&self, track: Arc<dyn TrackRemote>) {
        let received = self.received.clone();
        tokio::spawn(async move {
            while let Some(event) = track.poll().await {
                if let TrackRemoteEvent::OnRtpPacket(packet) = event
                    && packet.payload.len() >= 5
                    && packet.payload[0] == b'L'
                {
                    let n = u32::from_be_bytes(packet.payload[1..5].try_into().unwrap());
                    received.lock().unwrap().push(n);
                }
            }
        });
    }
}

/// A peer publishing one Opus track whose payloads carry a counter.
struct Peer {
    pc: Arc<dyn PeerConnection>,
    track: Arc<TrackLocalStaticRTP>,
    gathering: watch::Receiver<RTCIceGatheringState>,
    received: Arc<std::sync::Mutex<Vec<u32>>>,
}

impl Peer {
    async fn new(ssrc: u32) -> Peer {
        let mut engine = MediaEngine::default();
        engine.register_codec(opus(), RtpCodecKind::Audio).unwrap();
        let registry = register_default_interceptors(Registry::new(), &mut engine).unwrap();
        let (tx, gathering) = watch::channel(RTCIceGatheringState::New);
        let received = Arc::new(std::sync::Mutex::new(Vec::new()));
        let pc: Arc<dyn PeerConnection> = Arc::new(
            PeerConnectionBuilder::new()
                .with_media_engine(engine)
                .with_interceptor_registry(registry)
                .with_handler(Arc::new(Handler {
                    gathering: tx,
                    received: received.clone(),
                }))
                .with_udp_addrs(vec!["127.0.0.1:0".to_owned()])
                .build()
                .await
                .unwrap(),
        );
        let track = Arc::new(TrackLocalStaticRTP::new(MediaStreamTrack::new(
            format!("s{ssrc}"),
            format!("a{ssrc}"),
            format!("a{ssrc}"),
            RtpCodecKind::Audio,
            vec![RTCRtpEncodingParameters {
                rtp_coding_parameters: RTCRtpCodingParameters {
                    ssrc: Some(ssrc),
                    ..Default::default()
                },
                active: true,
                codec: opus().rtp_codec,
                ..Default::default()
            }],
        )));
        pc.add_track(track.clone() as Arc<dyn TrackLocal>)
            .await
            .unwrap();
        Peer {
            pc,
            track,
            gathering,
            received,
        }
    }

    async fn gathered_sdp(&mut self) -> String {
        tokio::time::timeout(
            WAIT,
            self.gathering
                .wait_for(|s| *s == RTCIceGatheringState::Complete),
        )
        .await
        .unwrap()
        .unwrap();
        self.pc.local_description().await.unwrap().sdp
    }

    async fn offer(&mut self) -> String {
        let offer = self.pc.create_offer(None).await.unwrap();
        self.pc.set_local_description(offer).await.unwrap();
        self.gathered_sdp().await
    }

    /// Sends 20 ms audio packets carrying a counter, forever.
    fn send(&self, ssrc: u32) -> tokio::task::JoinHandle<()> {
        let track = self.track.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(20));
            for n in 0u32.. {
                tick.tick().await;
                let mut payload = vec![b'L'];
                payload.extend_from_slice(&n.to_be_bytes());
                payload.extend_from_slice(&[0u8; 60]);
                let packet = rtp::Packet {
                    header: rtp::header::Header {
                        version: 2,
                        marker: true,
                        payload_type: 111,
                        sequence_number: n as u16,
                        timestamp: n * 960,
                        ssrc,
                        ..Default::default()
                    },
                    payload: payload.into(),
                };
                if track.write_rtp(packet).await.is_err() {
                    return;
                }
            }
        })
    }
}

async fn ws(base: &str, token: &str) -> Ws {
    let url = format!("{}/ws?token={token}", base.replace("http://", "ws://"));
    tokio_tungstenite::connect_async(url)
        .await
        .expect("the WebSocket opens")
        .0
}

async fn send(ws: &mut Ws, v: Value) {
    ws.send(Message::Text(v.to_string().into())).await.unwrap();
}

/// The next message of a type (skipping others).
async fn expect(ws: &mut Ws, kind: &str) -> Value {
    loop {
        let msg = tokio::time::timeout(WAIT, ws.next())
            .await
            .unwrap_or_else(|_| panic!("no {kind}"))
            .unwrap()
            .unwrap();
        if let Message::Text(t) = msg {
            let v: Value = serde_json::from_str(&t).unwrap();
            if v["type"] == kind {
                return v;
            }
        }
    }
}

async fn api(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> Value {
    let mut req = http
        .request(method, format!("{base}{path}"))
        .bearer_auth(token);
    if let Some(b) = body {
        req = req.json(&b);
    }
    req.send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap_or(Value::Null)
}

/// Answers the SFU's offer (the other side's track) and waits for its first packets.
async fn answer_offer(mut ws: Ws, mut peer: Peer, token: String) -> (Ws, Peer) {
    let v = expect(&mut ws, "offer").await;
    peer.pc
        .set_remote_description(
            RTCSessionDescription::offer(v["sdp"].as_str().unwrap().to_owned()).unwrap(),
        )
        .await
        .unwrap();
    let answer = peer.pc.create_answer(None).await.unwrap();
    peer.pc.set_local_description(answer).await.unwrap();
    let sdp = peer.gathered_sdp().await;
    send(
        &mut ws,
        json!({ "type": "answer", "sdp": sdp, "media_token": token }),
    )
    .await;
    while peer.received.lock().unwrap().is_empty() {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    (ws, peer)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn media_flows_only_after_admission_through_the_real_signaling() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_with(dir.path(), None, &["--media-ports", "48000-48063"]);
    let http = reqwest::Client::new();
    let admin = server.session("centre_admin").await;
    let cand = server.session("candidate").await;
    let eval = server.session("evaluator").await;
    let cand_id = api(
        &http,
        &server.base,
        &cand,
        reqwest::Method::GET,
        "/api/v1/me",
        None,
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let eval_id = api(
        &http,
        &server.base,
        &eval,
        reqwest::Method::GET,
        "/api/v1/me",
        None,
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // In five minutes: its room is open (from 15 minutes before).
    let at = (chrono::Utc::now() + chrono::Duration::minutes(5)).to_rfc3339();
    let interview = api(
        &http,
        &server.base,
        &admin,
        reqwest::Method::POST,
        "/api/v1/interviews",
        Some(json!({ "candidate_id": cand_id, "evaluator_id": eval_id, "scheduled_at": at })),
    )
    .await;
    let room = interview["id"].as_str().unwrap().to_owned();

    // The candidate knocks and waits; an offer now is refused before any media server.
    let mut cws = ws(&server.base, &cand).await;
    send(&mut cws, json!({ "type": "join", "room": room })).await;
    expect(&mut cws, "waiting").await;
    let mut cpeer = Peer::new(0x1111).await;
    let early = cpeer.offer().await;
    send(
        &mut cws,
        json!({ "type": "offer", "sdp": early, "media_token": "forged" }),
    )
    .await;
    assert_eq!(expect(&mut cws, "error").await["code"], "forbidden");

    // The evaluator joins, publishes, and sees the candidate waiting.
    let mut ews = ws(&server.base, &eval).await;
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
    let mut epeer = Peer::new(0x2222).await;
    let eoffer = epeer.offer().await;
    send(
        &mut ews,
        json!({ "type": "offer", "sdp": eoffer, "media_token": etoken }),
    )
    .await;
    let answer = expect(&mut ews, "answer").await;
    epeer
        .pc
        .set_remote_description(
            RTCSessionDescription::answer(answer["sdp"].as_str().unwrap().to_owned()).unwrap(),
        )
        .await
        .unwrap();
    let _esend = epeer.send(0x2222);
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert!(
        cpeer.received.lock().unwrap().is_empty(),
        "nothing reaches a waiting candidate"
    );

    // Admitted: the candidate gets a grant, publishes, and the evaluator receives it.
    send(&mut ews, json!({ "type": "admit", "candidate": cand_id })).await;
    let admitted = expect(&mut cws, "admitted").await;
    let ctoken = admitted["media_token"].as_str().unwrap().to_owned();
    let mut cpeer = Peer::new(0x3333).await;
    let coffer = cpeer.offer().await;
    send(
        &mut cws,
        json!({ "type": "offer", "sdp": coffer, "media_token": ctoken }),
    )
    .await;
    let answer = expect(&mut cws, "answer").await;
    cpeer
        .pc
        .set_remote_description(
            RTCSessionDescription::answer(answer["sdp"].as_str().unwrap().to_owned()).unwrap(),
        )
        .await
        .unwrap();
    let _csend = cpeer.send(0x3333);
    // The SFU offers each side the other's track (renegotiation over the socket).
    let (e, c) = tokio::join!(
        tokio::time::timeout(Duration::from_secs(20), answer_offer(ews, epeer, etoken)),
        tokio::time::timeout(Duration::from_secs(20), answer_offer(cws, cpeer, ctoken)),
    );
    let (_ews, epeer) = e.expect("the evaluator receives the candidate's audio");
    let (_cws, cpeer) = c.expect("the candidate receives the evaluator's audio");
    tokio::time::sleep(Duration::from_millis(600)).await;
    let got = epeer.received.lock().unwrap().clone();
    assert!(got.len() >= 10, "{} packets", got.len());
    assert!(
        got.windows(2).filter(|w| w[1] == w[0] + 1).count() * 10 >= (got.len() - 1) * 9,
        "payloads in order: {got:?}"
    );
    assert!(!cpeer.received.lock().unwrap().is_empty());
    server.stop();
}
