//! Recording through the SFU on loopback.
//!
//! Alice publishes real VP8 and Opus — the frames of `tests/data/clip-vp8.webm` and
//! `clip-opus.webm`, 3 s made with libvpx and libopus — packetized as a browser would; Bob
//! publishes the same Opus and an H264 track. After the 3 s and a shutdown, the room's
//! recordings are Alice's two tracks and Bob's audio: WebM files holding the frames sent,
//! byte for byte, timed from their RTP timestamps, 3 s long ± 10 %. H264 is not recorded.
//!
//! With `MEDIA_SERVER_KEEP_RECORDINGS=<dir>` the recordings are written under `<dir>` and
//! kept, to be played in a browser (`tests/data/README.md`).

use crate::client::{Client, Codec, signal};
use crate::ebml::{self, Webm};
use anyhow::{Context, Result, ensure};
use bytes::Bytes;
use media_server::{Sfu, SfuConfig};
use rtc::rtp;
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use webrtc::media_stream::track_local::TrackLocal;
use webrtc::media_stream::track_local::static_rtp::TrackLocalStaticRTP;

/// How long the fixtures last, in ms.
const CLIP_MS: f64 = 3_000.0;
/// The largest VP8 payload per RTP packet, as browsers keep packets under the MTU.
const VP8_CHUNK: usize = 1_100;

fn fixture(name: &str) -> Result<Webm> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name);
    ebml::read(&std::fs::read(&path).with_context(|| format!("{}", path.display()))?)
}

/// A packet to send `at_ms` after the start, on `track`.
struct Scheduled {
    at_ms: u64,
    track: Arc<TrackLocalStaticRTP>,
    packet: rtp::Packet,
}

/// What a publisher's sending loop needs to know about one of its tracks.
struct Stream<'a> {
    client: &'a Client,
    tag: u8,
    /// First sequence number: close to the wrap, so that the recorder crosses it.
    sequence: u16,
    /// First RTP timestamp: arbitrary, the recording counts from it.
    timestamp: u32,
}

impl Stream<'_> {
    fn packet(
        &self,
        n: u16,
        timestamp: u32,
        marker: bool,
        payload: Vec<u8>,
    ) -> Result<(Arc<TrackLocalStaticRTP>, rtp::Packet)> {
        let out = self
            .client
            .outgoing
            .iter()
            .find(|o| o.tag == self.tag)
            .context("no such track")?;
        let packet = rtp::Packet {
            header: rtp::header::Header {
                version: 2,
                marker,
                payload_type: out.codec.parameters().payload_type,
                sequence_number: self.sequence.wrapping_add(n),
                timestamp: self.timestamp.wrapping_add(timestamp),
                ssrc: out.ssrc,
                ..Default::default()
            },
            payload: Bytes::from(payload),
        };
        Ok((Arc::clone(&out.track), packet))
    }

    /// Every VP8 frame, 30 per second, split into packets behind a 1-byte payload
    /// descriptor (S = 1 on a frame's first packet), the marker on its last.
    fn vp8(&self, frames: &[ebml::Frame]) -> Result<Vec<Scheduled>> {
        let mut out = vec![];
        let mut n = 0u16;
        for (i, frame) in frames.iter().enumerate() {
            let chunks: Vec<&[u8]> = frame.data.chunks(VP8_CHUNK).collect();
            for (j, chunk) in chunks.iter().enumerate() {
                let mut payload = vec![if j == 0 { 0x10 } else { 0x00 }];
                payload.extend_from_slice(chunk);
                let marker = j + 1 == chunks.len();
                let (track, packet) = self.packet(n, i as u32 * 3_000, marker, payload)?;
                out.push(Scheduled {
                    at_ms: i as u64 * 1_000 / 30,
                    track,
                    packet,
                });
                n = n.wrapping_add(1);
            }
        }
        Ok(out)
    }

    /// Every Opus packet, one per 20 ms.
    fn opus(&self, frames: &[ebml::Frame]) -> Result<Vec<Scheduled>> {
        frames
            .iter()
            .enumerate()
            .map(|(i, frame)| {
                let (track, packet) =
                    self.packet(i as u16, i as u32 * 960, true, frame.data.clone())?;
                Ok(Scheduled {
                    at_ms: i as u64 * 20,
                    track,
                    packet,
                })
            })
            .collect()
    }

    /// 3 s of H264-labelled bytes, one 1000-byte packet per frame (the SFU does not parse
    /// H264, and this track must not be recorded anyway).
    fn h264(&self) -> Result<Vec<Scheduled>> {
        (0..90u16)
            .map(|i| {
                let (track, packet) =
                    self.packet(i, u32::from(i) * 3_000, true, vec![0x65; 1_000])?;
                Ok(Scheduled {
                    at_ms: u64::from(i) * 1_000 / 30,
                    track,
                    packet,
                })
            })
            .collect()
    }
}

/// Sends every packet at its time (real time: the recording's timing comes from the RTP
/// timestamps, so the pace only keeps queues as short as with real media).
async fn send(mut packets: Vec<Scheduled>) -> Result<()> {
    packets.sort_by_key(|p| p.at_ms);
    let start = tokio::time::Instant::now();
    for p in packets {
        tokio::time::sleep_until(start + Duration::from_millis(p.at_ms)).await;
        p.track.write_rtp(p.packet).await?;
    }
    Ok(())
}

/// Checks that `recorded` holds the frames of `sent`, in order and byte for byte, at most 2 %
/// missing, timed `ms_of(i)` for the `i`-th frame sent (from the first), 3 s long ± 10 %.
fn check_frames(
    name: &str,
    recorded: &Webm,
    sent: &[ebml::Frame],
    ms_of: impl Fn(usize) -> i64,
) -> Result<()> {
    let duration = recorded.duration_ms.context("no Duration")?;
    ensure!(
        (duration - CLIP_MS).abs() <= CLIP_MS * 0.1,
        "{name}: lasts {duration} ms"
    );
    let mut next = 0;
    for (k, frame) in recorded.frames.iter().enumerate() {
        let i = (next..sent.len())
            .find(|&i| sent[i].data == frame.data)
            .with_context(|| {
                format!("{name}: recorded frame {k} was not sent (or out of order)")
            })?;
        ensure!(
            frame.ms == ms_of(i),
            "{name}: frame {i} at {} ms, not {}",
            frame.ms,
            ms_of(i)
        );
        next = i + 1;
    }
    ensure!(
        recorded.frames.len() * 100 >= sent.len() * 98,
        "{name}: {} of {} frames",
        recorded.frames.len(),
        sent.len()
    );
    println!(
        "{name}: {} {} frames of {}, {duration} ms, frames equal to those sent",
        recorded.codec_id,
        recorded.frames.len(),
        sent.len()
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_each_opus_and_vp8_track_to_a_webm_file() -> Result<()> {
    let video = fixture("clip-vp8.webm")?;
    let audio = fixture("clip-opus.webm")?;
    ensure!(video.frames[0].keyframe && video.frames.len() >= 85);

    let temp = tempfile::tempdir()?;
    let dir: PathBuf = match std::env::var_os("MEDIA_SERVER_KEEP_RECORDINGS") {
        Some(keep) => keep.into(),
        None => temp.path().to_owned(),
    };
    let room = format!("room-rec-{}", std::process::id());
    let sfu = Arc::new(Sfu::new(SfuConfig {
        media_addr: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0),
        ice_tcp: true,
        public_ip: None,
        room_close_after: Duration::from_millis(100),
        recordings: Some(dir.clone()),
        frame_tap: None,
    })?);
    let mut alice = Client::new("alice", &[(Codec::Opus, b'a'), (Codec::Vp8, b'v')]).await?;
    let mut bob = Client::new("bob", &[(Codec::Opus, b'b'), (Codec::H264, b'h')]).await?;
    let clients = [&alice, &bob]
        .iter()
        .map(|c| (c.name.to_owned(), Arc::clone(&c.pc)))
        .collect();
    let (closed_tx, _closed) = mpsc::unbounded_channel();
    let answered = Arc::new(std::sync::Mutex::new(HashMap::new()));
    let signaling = signal(Arc::clone(&sfu), clients, answered, closed_tx);
    alice.join(&sfu, &room).await?;
    bob.join(&sfu, &room).await?;

    let stream = |client, tag| Stream {
        client,
        tag,
        sequence: 65_500,
        timestamp: 4_000_000_000,
    };
    let mut packets = stream(&alice, b'v').vp8(&video.frames)?;
    packets.extend(stream(&alice, b'a').opus(&audio.frames)?);
    packets.extend(stream(&bob, b'b').opus(&audio.frames)?);
    packets.extend(stream(&bob, b'h').h264()?);
    send(packets).await?;
    // Let the last packets cross loopback; a missing one is tolerated anyway.
    tokio::time::sleep(Duration::from_millis(100)).await;

    sfu.shutdown().await;
    let recordings = sfu.recordings(&room);
    let names: Vec<String> = recordings
        .iter()
        .map(|p| {
            p.file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    ensure!(
        names
            == [
                "alice-audio-1.webm",
                "alice-video-1.webm",
                "bob-audio-1.webm"
            ],
        "recordings: {names:?}"
    );
    ensure!(
        sfu.stats().recorder_dropped_packets == 0,
        "{:?}",
        sfu.stats()
    );

    let read = |i: usize| -> Result<Webm> { ebml::read(&std::fs::read(&recordings[i])?) };
    let alice_audio = read(0)?;
    let alice_video = read(1)?;
    let bob_audio = read(2)?;

    ensure!(alice_video.codec_id == "V_VP8", "{}", alice_video.codec_id);
    ensure!(
        alice_video.dimensions == Some((320, 240)),
        "{:?}",
        alice_video.dimensions
    );
    ensure!(
        alice_video.frames[0].keyframe,
        "the video starts with a keyframe"
    );
    for (k, f) in alice_video.frames.iter().enumerate() {
        let sent = video.frames.iter().find(|s| s.data == f.data);
        ensure!(
            sent.is_some_and(|s| s.keyframe == f.keyframe),
            "video frame {k}: keyframe flag differs from the encoder's"
        );
    }
    check_frames("alice video", &alice_video, &video.frames, |i| {
        (i as i64 * 3_000) * 1_000 / 90_000
    })?;
    for (name, recorded) in [("alice audio", &alice_audio), ("bob audio", &bob_audio)] {
        ensure!(
            recorded.codec_id == "A_OPUS",
            "{name}: {}",
            recorded.codec_id
        );
        ensure!(
            recorded.channels == Some(1),
            "{name}: {:?}",
            recorded.channels
        );
        check_frames(name, recorded, &audio.frames, |i| i as i64 * 20)?;
    }

    for client in [&alice, &bob] {
        client.pc.close().await?;
    }
    signaling.abort();
    Ok(())
}
