//! Recording: every published Opus or VP8 track, as received, to a WebM file of its own.
//!
//! ```text
//! PublishedTrack::fan_out ──try_send (bounded; when full the packet is dropped and counted)──┐
//!                                                                                             ▼
//!   recorder, on the blocking pool: RTP ─▶ Framer (sans-IO) ─▶ WebmWriter ─▶ <dir>/<room>/<participant>-<kind>-<n>.webm
//! ```
//!
//! The recorder is one more consumer of a track's fan-out, with a queue of its own, so a
//! slow disk costs recorded packets, never forwarded ones. Nothing is transcoded: VP8 frames
//! are rebuilt from their packets, Opus packets are frames already. Timestamps come from the
//! RTP timestamps (48 kHz for Opus, 90 kHz for VP8), counted from the track's first packet.
//! H264 tracks are not recorded (WebM has no H264).
//!
//! A file is created at the first frame that can start it (for VP8, the first keyframe,
//! which also gives the dimensions), and finished — Duration, Cues — when the track's queue
//! closes: the track ended, its publisher left, or the SFU shut down. A file whose process
//! died is still playable, without Duration and Cues.

use crate::keyframe::KeyframeRequests;
use crate::webm::{Codec, Vp8Depacketizer, WebmWriter, vp8_is_keyframe};
use rtc::peer_connection::configuration::media_engine::{MIME_TYPE_OPUS, MIME_TYPE_VP8};
use rtc::rtp;
use rtc::rtp_transceiver::rtp_sender::{RTCRtpCodec, RtpCodecKind};
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tracing::{debug, warn};

/// Packets queued for the recorder before the newest are dropped (≈ 5 s of 1.5 Mbit/s video).
const RECORDER_QUEUE: usize = 1024;
/// Bytes buffered before a write reaches the file.
const WRITE_BUFFER: usize = 64 * 1024;
/// `<n>` of the file name is looked for up to this; more files of one participant's track
/// kind in one room means something is wrong.
const MAX_FILES_PER_KIND: u32 = 10_000;

/// Where a track's recording goes: `<recordings>/<room>/<participant>-<kind>-<n>.webm`.
pub(crate) struct Target {
    /// The room's directory: `<recordings>/<room>`.
    pub(crate) dir: PathBuf,
    /// The file name's start: `<participant>-<kind>`.
    pub(crate) stem: String,
}

impl Target {
    pub(crate) fn new(
        recordings: &Path,
        room: &str,
        participant: &str,
        kind: RtpCodecKind,
    ) -> Self {
        let kind = match kind {
            RtpCodecKind::Audio => "audio",
            _ => "video",
        };
        Target {
            dir: exam_core::interview::recordings_folder(recordings, room),
            stem: format!(
                "{}-{kind}",
                exam_core::interview::path_component(participant)
            ),
        }
    }

    /// Creates the next free `<stem>-<n>.webm`, `n` from 1; never overwrites a file.
    fn create(&self) -> io::Result<File> {
        fs::create_dir_all(&self.dir)?;
        for n in 1..=MAX_FILES_PER_KIND {
            let path = self.dir.join(format!("{}-{n}.webm", self.stem));
            match OpenOptions::new().write(true).create_new(true).open(&path) {
                Err(err) if err.kind() == io::ErrorKind::AlreadyExists => continue,
                other => return other,
            }
        }
        Err(io::Error::other("too many recordings of this track kind"))
    }
}

/// A recording under way: the queue into it and its task.
pub(crate) struct Recorder {
    packets: mpsc::Sender<rtp::Packet>,
    dropped: Arc<AtomicU64>,
    task: JoinHandle<()>,
}

impl Recorder {
    /// Starts recording a track of `codec` into `target`, or `None` for a codec WebM cannot
    /// hold. `keyframes` requests a keyframe from the publisher (video); `dropped` counts
    /// packets the recorder had no room for.
    pub(crate) fn start(
        target: Target,
        codec: &RTCRtpCodec,
        keyframes: Option<KeyframeRequests>,
        dropped: Arc<AtomicU64>,
    ) -> Option<Recorder> {
        let framer = Framer::for_codec(codec)?;
        let (packets, rx) = mpsc::channel(RECORDER_QUEUE);
        // File I/O blocks: the recorder gets a thread of the blocking pool, not a worker.
        let task = tokio::task::spawn_blocking(move || record(rx, target, framer, keyframes));
        Some(Recorder {
            packets,
            dropped,
            task,
        })
    }

    /// Queues a packet for recording; drops it (counted) if the recorder is behind.
    pub(crate) fn push(&self, packet: &rtp::Packet) {
        if self.packets.try_send(packet.clone()).is_err() {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Closes the queue and waits until the file is finished.
    pub(crate) async fn finish(self) {
        drop(self.packets);
        if let Err(err) = self.task.await {
            warn!(%err, "recorder task failed");
        }
    }
}

/// The recorder's loop: packets in, frames out to the file; ends when the queue closes.
fn record(
    mut packets: mpsc::Receiver<rtp::Packet>,
    target: Target,
    mut framer: Framer,
    keyframes: Option<KeyframeRequests>,
) {
    let mut writer: Option<WebmWriter<BufWriter<File>>> = None;
    let mut failed = false;
    while let Some(packet) = packets.blocking_recv() {
        let frame = framer.push(
            packet.header.sequence_number,
            packet.header.timestamp,
            packet.header.marker,
            &packet.payload,
        );
        if framer.take_keyframe_request()
            && let Some(keyframes) = &keyframes
        {
            // Full means a request is already queued: this one merges into it.
            keyframes.request();
        }
        let (Some(frame), false) = (frame, failed) else {
            continue;
        };
        let out = match writer.as_mut() {
            Some(out) => out,
            None => {
                let Some(codec) = framer.codec() else {
                    continue;
                };
                let created = target.create().and_then(|file| {
                    WebmWriter::new(BufWriter::with_capacity(WRITE_BUFFER, file), codec)
                });
                match created {
                    Ok(created) => writer.insert(created),
                    Err(err) => {
                        warn!(%err, "could not create a recording; this track is not recorded");
                        failed = true;
                        continue;
                    }
                }
            }
        };
        if let Err(err) = out.write_frame(frame.timestamp_ms, frame.keyframe, &frame.data) {
            if err.kind() == io::ErrorKind::InvalidInput {
                debug!(%err, "frame not recorded");
            } else {
                warn!(%err, "recording failed; the file ends here");
                failed = true;
            }
        }
    }
    if let Some(out) = writer
        && !failed
        && let Err(err) = out.finish()
    {
        warn!(%err, "could not finish a recording");
    }
}

/// One frame to write: milliseconds from the track's first packet.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Frame {
    pub(crate) timestamp_ms: u64,
    pub(crate) keyframe: bool,
    pub(crate) data: Vec<u8>,
}

#[derive(Debug)]
enum Media {
    Opus,
    Vp8(Box<Vp8Depacketizer>),
}

/// Turns a track's RTP packets, in arrival order, into frames to write (sans-IO).
///
/// Opus: each packet is a frame; duplicates and packets older than the last are dropped.
/// VP8: frames are rebuilt by the depacketizer; none is returned before the first keyframe,
/// and a keyframe is asked for whenever one is missing (at the start, after a lost frame).
#[derive(Debug)]
pub(crate) struct Framer {
    media: Media,
    clock_rate: u32,
    clock: Option<RtpClock>,
    last_sequence: Option<u16>,
    last_ms: u64,
    codec: Option<Codec>,
    dropped_frames: u64,
    wants_keyframe: bool,
}

impl Framer {
    /// A framer for `codec`, or `None` when WebM cannot hold it (H264).
    pub(crate) fn for_codec(codec: &RTCRtpCodec) -> Option<Framer> {
        let (media, default_rate) = if codec.mime_type.eq_ignore_ascii_case(MIME_TYPE_OPUS) {
            (Media::Opus, 48_000)
        } else if codec.mime_type.eq_ignore_ascii_case(MIME_TYPE_VP8) {
            (Media::Vp8(Box::default()), 90_000)
        } else {
            return None;
        };
        Some(Framer {
            media,
            clock_rate: if codec.clock_rate == 0 {
                default_rate
            } else {
                codec.clock_rate
            },
            clock: None,
            last_sequence: None,
            last_ms: 0,
            codec: None,
            dropped_frames: 0,
            wants_keyframe: false,
        })
    }

    /// The file's codec, known from the first frame this framer returned.
    pub(crate) fn codec(&self) -> Option<Codec> {
        self.codec
    }

    /// Whether a keyframe should be asked for (since the last call).
    pub(crate) fn take_keyframe_request(&mut self) -> bool {
        std::mem::take(&mut self.wants_keyframe)
    }

    /// Takes one RTP packet; returns the frame it completes, if any.
    pub(crate) fn push(
        &mut self,
        sequence: u16,
        timestamp: u32,
        marker: bool,
        payload: &[u8],
    ) -> Option<Frame> {
        // Relative to the first packet, whatever it carries.
        let ticks = match &mut self.clock {
            None => self.clock.insert(RtpClock::new(timestamp)).ticks(timestamp),
            Some(clock) => clock.ticks(timestamp),
        };
        let (data, keyframe) = match &mut self.media {
            Media::Opus => {
                if let Some(last) = self.last_sequence
                    && sequence.wrapping_sub(last) as i16 <= 0
                {
                    return None; // a duplicate, or late
                }
                self.last_sequence = Some(sequence);
                if payload.is_empty() {
                    return None;
                }
                if self.codec.is_none() {
                    // The TOC's s bit: stereo. (Decoding is always at 48 kHz.)
                    let channels = if payload[0] & 0x04 != 0 { 2 } else { 1 };
                    self.codec = Some(Codec::Opus {
                        sample_rate: 48_000,
                        channels,
                    });
                }
                (payload.to_vec(), true)
            }
            Media::Vp8(depacketizer) => {
                let frame = depacketizer.push(sequence, payload, marker);
                if depacketizer.dropped_frames() > self.dropped_frames {
                    self.dropped_frames = depacketizer.dropped_frames();
                    self.wants_keyframe = true;
                }
                let frame = frame?;
                let keyframe = vp8_is_keyframe(&frame);
                if self.codec.is_none() {
                    match vp8_dimensions(&frame) {
                        Some((width, height)) if keyframe => {
                            self.codec = Some(Codec::Vp8 { width, height });
                        }
                        _ => {
                            self.wants_keyframe = true;
                            return None;
                        }
                    }
                }
                (frame, keyframe)
            }
        };
        let ms = u64::try_from(ticks).ok()? * 1000 / u64::from(self.clock_rate);
        // Never earlier than the frame before (a sender's clock jumping back).
        self.last_ms = ms.max(self.last_ms);
        Some(Frame {
            timestamp_ms: self.last_ms,
            keyframe,
            data,
        })
    }
}

/// The width and height a VP8 keyframe declares (RFC 6386 §9.1; scaling bits ignored).
fn vp8_dimensions(frame: &[u8]) -> Option<(u16, u16)> {
    if !vp8_is_keyframe(frame) {
        return None;
    }
    let width = u16::from_le_bytes([frame[6], frame[7]]) & 0x3FFF;
    let height = u16::from_le_bytes([frame[8], frame[9]]) & 0x3FFF;
    (width > 0 && height > 0).then_some((width, height))
}

/// Unwraps 32-bit RTP timestamps into ticks since the first one (negative for a packet
/// stamped before it).
#[derive(Debug)]
struct RtpClock {
    last: u32,
    ticks: i64,
}

impl RtpClock {
    fn new(first: u32) -> Self {
        RtpClock {
            last: first,
            ticks: 0,
        }
    }

    fn ticks(&mut self, timestamp: u32) -> i64 {
        // Steps of less than 2^31 ticks either way (6.6 h at 90 kHz): the shorter way round.
        self.ticks += i64::from(timestamp.wrapping_sub(self.last) as i32);
        self.last = timestamp;
        self.ticks
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codec(mime: &str, clock_rate: u32) -> RTCRtpCodec {
        RTCRtpCodec {
            mime_type: mime.to_owned(),
            clock_rate,
            ..Default::default()
        }
    }

    /// A VP8 frame: the 3-byte tag, and for a keyframe the start code and 320x240.
    fn vp8(keyframe: bool, len: usize) -> Vec<u8> {
        let mut frame = vec![if keyframe { 0x10 } else { 0x11 }, 0x02, 0x00];
        if keyframe {
            frame.extend_from_slice(&[0x9d, 0x01, 0x2a, 0x40, 0x01, 0xf0, 0x00]);
        }
        frame.resize(len, 0xAB);
        frame
    }

    /// The frame as RTP payloads of at most `chunk` VP8 bytes, with the 1-byte descriptor.
    fn packets(frame: &[u8], chunk: usize) -> Vec<(Vec<u8>, bool)> {
        let n = frame.chunks(chunk).count();
        frame
            .chunks(chunk)
            .enumerate()
            .map(|(i, c)| {
                let mut p = vec![if i == 0 { 0x10 } else { 0x00 }];
                p.extend_from_slice(c);
                (p, i + 1 == n)
            })
            .collect()
    }

    #[test]
    fn h264_is_not_recorded() {
        let h264 = codec("video/H264", 90_000);
        assert!(Framer::for_codec(&h264).is_none());
        assert!(Framer::for_codec(&codec("audio/opus", 48_000)).is_some());
        assert!(Framer::for_codec(&codec("video/vp8", 90_000)).is_some());
    }

    #[test]
    fn opus_packets_are_frames_timed_from_the_first_across_a_wrap() {
        let mut framer = Framer::for_codec(&codec(MIME_TYPE_OPUS, 48_000)).unwrap();
        let first = u32::MAX - 959; // wraps at the second packet
        let toc = 0x78; // SILK wideband 20 ms, mono
        let f = framer.push(10, first, true, &[toc, 1, 2]).unwrap();
        assert_eq!(
            (f.timestamp_ms, f.keyframe, &f.data[..]),
            (0, true, &[toc, 1, 2][..])
        );
        assert_eq!(
            framer.codec(),
            Some(Codec::Opus {
                sample_rate: 48_000,
                channels: 1
            })
        );
        let f = framer
            .push(11, first.wrapping_add(960), true, &[toc, 3])
            .unwrap();
        assert_eq!(f.timestamp_ms, 20);
        // A duplicate and a late packet are dropped.
        assert!(
            framer
                .push(11, first.wrapping_add(960), true, &[toc, 3])
                .is_none()
        );
        assert!(
            framer
                .push(9, first.wrapping_sub(960), true, &[toc, 0])
                .is_none()
        );
        let f = framer
            .push(13, first.wrapping_add(3 * 960), true, &[toc, 4])
            .unwrap();
        assert_eq!(f.timestamp_ms, 60);
        assert!(!framer.take_keyframe_request());
    }

    #[test]
    fn vp8_waits_for_a_keyframe_and_asks_for_one() {
        let mut framer = Framer::for_codec(&codec(MIME_TYPE_VP8, 90_000)).unwrap();
        let mut seq = 100u16;
        let mut send = |framer: &mut Framer, frame: &[u8], ts: u32| {
            let mut out = None;
            for (payload, marker) in packets(frame, 500) {
                out = framer.push(seq, ts, marker, &payload);
                seq = seq.wrapping_add(1);
            }
            out
        };
        // An interframe first: nothing to write yet, and a keyframe is wanted.
        assert!(send(&mut framer, &vp8(false, 700), 1_000).is_none());
        assert!(framer.take_keyframe_request());
        assert!(!framer.take_keyframe_request());
        assert_eq!(framer.codec(), None);

        let key = vp8(true, 1_200);
        let f = send(&mut framer, &key, 1_000 + 3_000).unwrap();
        assert_eq!((f.timestamp_ms, f.keyframe, f.data), (33, true, key));
        assert_eq!(
            framer.codec(),
            Some(Codec::Vp8 {
                width: 320,
                height: 240
            })
        );
        let inter = vp8(false, 900);
        let f = send(&mut framer, &inter, 1_000 + 6_000).unwrap();
        assert_eq!((f.timestamp_ms, f.keyframe, f.data), (66, false, inter));
    }

    #[test]
    fn a_lost_vp8_packet_asks_for_a_keyframe() {
        let mut framer = Framer::for_codec(&codec(MIME_TYPE_VP8, 90_000)).unwrap();
        let key = packets(&vp8(true, 1_000), 400);
        for (i, (payload, marker)) in key.iter().enumerate() {
            framer.push(i as u16, 0, *marker, payload);
        }
        assert!(framer.codec().is_some());
        assert!(!framer.take_keyframe_request());
        let inter = packets(&vp8(false, 1_000), 400);
        // The middle packet of the next frame is lost.
        assert!(framer.push(3, 3_000, inter[0].1, &inter[0].0).is_none());
        assert!(framer.push(5, 3_000, inter[2].1, &inter[2].0).is_none());
        assert!(framer.take_keyframe_request());
    }

    #[test]
    fn timestamps_never_go_back() {
        let mut framer = Framer::for_codec(&codec(MIME_TYPE_OPUS, 48_000)).unwrap();
        framer.push(1, 48_000, true, &[0x78]).unwrap();
        assert_eq!(
            framer.push(2, 96_000, true, &[0x78]).unwrap().timestamp_ms,
            1_000
        );
        // Newer sequence number, older timestamp: kept at the last time.
        assert_eq!(
            framer.push(3, 60_000, true, &[0x78]).unwrap().timestamp_ms,
            1_000
        );
        // Stamped before the first packet: not writable.
        assert!(framer.push(4, 0, true, &[0x78]).is_none());
    }

    #[test]
    fn files_are_numbered_and_never_overwritten() {
        let dir = std::env::temp_dir().join(format!(
            "media-server-recording-{}-{}",
            std::process::id(),
            rand::random::<u32>()
        ));
        let target = Target::new(&dir, "r/1", "p", RtpCodecKind::Video);
        target.create().unwrap();
        target.create().unwrap();
        let mut names: Vec<String> =
            fs::read_dir(exam_core::interview::recordings_folder(&dir, "r/1"))
                .unwrap()
                .map(|e| e.unwrap().file_name().into_string().unwrap())
                .collect();
        names.sort();
        assert_eq!(names, ["p-video-1.webm", "p-video-2.webm"]);
        fs::remove_dir_all(&dir).unwrap();
    }
}
