//! Recording of one interview track to a WebM file a browser can play, without dependencies.
//!
//! A [`WebmWriter`] writes the subset of Matroska that WebM players need: the EBML header,
//! one Segment holding a SeekHead, Info, Tracks (a single track, VP8 or Opus), Clusters of
//! SimpleBlocks and, at the end, Cues so that the recording can be seeked. Frames go in
//! as they come (the writer never reads a clock: every frame carries its timestamp), and
//! [`finish`](WebmWriter::finish) then goes back to fill in what was unknown while
//! recording: the Segment's size, the Duration, the SeekHead.
//!
//! A recording that is never finished (the process died) stays playable: the Segment and
//! the last Cluster keep the "unknown size" marker, which players accept, and the file only
//! lacks its Duration and Cues.
//!
//! For video, [`Vp8Depacketizer`] rebuilds frames from the RTP payloads of the track (in
//! sequence order, after the jitter buffer); for audio each RTP payload is one Opus packet
//! already. The main loop of a video recorder:
//!
//! ```
//! use media_server::webm::{Codec, Vp8Depacketizer, WebmWriter, vp8_is_keyframe};
//! use std::io::Cursor;
//!
//! # fn main() -> std::io::Result<()> {
//! // (sequence number, RTP timestamp, marker, payload) of each packet, as received.
//! let keyframe = [0x10, 0x50, 0x2a, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0xe0, 0x01, 0xaa];
//! let packets = vec![(7_u16, 90_000_u32, true, keyframe.to_vec())];
//!
//! let first_rtp_timestamp = 90_000_u32;
//! let mut depacketizer = Vp8Depacketizer::new();
//! // A File wrapped in a BufWriter in real use.
//! let codec = Codec::Vp8 { width: 640, height: 480 };
//! let mut writer = WebmWriter::new(Cursor::new(Vec::new()), codec)?;
//! for (sequence, rtp_timestamp, marker, payload) in packets {
//!     if let Some(frame) = depacketizer.push(sequence, &payload, marker) {
//!         // VP8 has a 90 kHz RTP clock; timestamps count from the start of the recording.
//!         let ms = u64::from(rtp_timestamp.wrapping_sub(first_rtp_timestamp)) / 90;
//!         writer.write_frame(ms, vp8_is_keyframe(&frame), &frame)?;
//!     }
//! }
//! let file = writer.finish()?.into_inner();
//! # assert_eq!(&file[..4], &[0x1a, 0x45, 0xdf, 0xa3]);
//! # Ok(())
//! # }
//! ```
//!
//! Timestamps are milliseconds (the file's TimestampScale is 1 ms) and should count from
//! the start of the interview: the writer stores them as given, so the tracks of one
//! interview recorded from one origin stay in sync with each other.

use std::io::{self, Seek, SeekFrom, Write};

use bytes::Bytes;
use rtc::rtp::codec::vp8::Vp8Packet;
use rtc::rtp::packetizer::Depacketizer;

/// Element IDs, with their marker bits, as written (EBML: RFC 8794; Matroska: RFC 9559).
mod id {
    pub(super) const EBML: u32 = 0x1A45_DFA3;
    pub(super) const EBML_VERSION: u32 = 0x4286;
    pub(super) const EBML_READ_VERSION: u32 = 0x42F7;
    pub(super) const EBML_MAX_ID_LENGTH: u32 = 0x42F2;
    pub(super) const EBML_MAX_SIZE_LENGTH: u32 = 0x42F3;
    pub(super) const DOC_TYPE: u32 = 0x4282;
    pub(super) const DOC_TYPE_VERSION: u32 = 0x4287;
    pub(super) const DOC_TYPE_READ_VERSION: u32 = 0x4285;
    pub(super) const VOID: u32 = 0xEC;

    pub(super) const SEGMENT: u32 = 0x1853_8067;

    pub(super) const SEEK_HEAD: u32 = 0x114D_9B74;
    pub(super) const SEEK: u32 = 0x4DBB;
    pub(super) const SEEK_ID: u32 = 0x53AB;
    pub(super) const SEEK_POSITION: u32 = 0x53AC;

    pub(super) const INFO: u32 = 0x1549_A966;
    pub(super) const TIMESTAMP_SCALE: u32 = 0x2A_D7B1;
    pub(super) const DURATION: u32 = 0x4489;
    pub(super) const MUXING_APP: u32 = 0x4D80;
    pub(super) const WRITING_APP: u32 = 0x5741;

    pub(super) const TRACKS: u32 = 0x1654_AE6B;
    pub(super) const TRACK_ENTRY: u32 = 0xAE;
    pub(super) const TRACK_NUMBER: u32 = 0xD7;
    pub(super) const TRACK_UID: u32 = 0x73C5;
    pub(super) const TRACK_TYPE: u32 = 0x83;
    pub(super) const FLAG_LACING: u32 = 0x9C;
    pub(super) const CODEC_ID: u32 = 0x86;
    pub(super) const CODEC_PRIVATE: u32 = 0x63A2;
    pub(super) const CODEC_DELAY: u32 = 0x56AA;
    pub(super) const SEEK_PRE_ROLL: u32 = 0x56BB;
    pub(super) const VIDEO: u32 = 0xE0;
    pub(super) const PIXEL_WIDTH: u32 = 0xB0;
    pub(super) const PIXEL_HEIGHT: u32 = 0xBA;
    pub(super) const AUDIO: u32 = 0xE1;
    pub(super) const SAMPLING_FREQUENCY: u32 = 0xB5;
    pub(super) const CHANNELS: u32 = 0x9F;

    pub(super) const CLUSTER: u32 = 0x1F43_B675;
    pub(super) const TIMESTAMP: u32 = 0xE7;
    pub(super) const SIMPLE_BLOCK: u32 = 0xA3;

    pub(super) const CUES: u32 = 0x1C53_BB6B;
    pub(super) const CUE_POINT: u32 = 0xBB;
    pub(super) const CUE_TIME: u32 = 0xB3;
    pub(super) const CUE_TRACK_POSITIONS: u32 = 0xB7;
    pub(super) const CUE_TRACK: u32 = 0xF7;
    pub(super) const CUE_CLUSTER_POSITION: u32 = 0xF1;
}

/// Nanoseconds per tick of the file's timestamps: ticks are milliseconds.
const TIMESTAMP_SCALE_NS: u64 = 1_000_000;
/// A Cluster holds at most this many milliseconds, so that seeking stays cheap.
const MAX_CLUSTER_MS: u64 = 5_000;
/// A video keyframe starts a new Cluster (and a cue point) once the Cluster is this old.
const KEYFRAME_CLUSTER_MS: u64 = 1_000;
const _: () = assert!(MAX_CLUSTER_MS <= i16::MAX as u64);

/// The only track of the file.
const TRACK_NUMBER: u8 = 1;
/// Its UID: any non-zero value unique within the file will do, and a constant one keeps
/// the output a pure function of the input.
const TRACK_UID: u64 = 1;

/// Opus pre-skip in 48 kHz samples, written both in the OpusHead and, as nanoseconds, in
/// CodecDelay. 312 samples (6.5 ms) is libopus's encoder lookahead, which is what the
/// browsers' encoders delay their output by. RFC 7845 suggests 3840 (80 ms) for streams
/// cut in the middle, but players shift the whole track earlier by CodecDelay, and 80 ms
/// would put the audio ~74 ms ahead of the video recorded with it; a recording that does
/// start mid-stream only risks a few ms of decoder warm-up at its very start.
const OPUS_PRE_SKIP: u16 = 312;
const OPUS_CODEC_DELAY_NS: u64 = OPUS_PRE_SKIP as u64 * 1_000_000_000 / 48_000;
/// What players must decode and discard after seeking in Opus: 80 ms, as WebM recommends.
const OPUS_SEEK_PRE_ROLL_NS: u64 = 80_000_000;

/// Frame duration assumed for the Duration when the frames give no better estimate.
const DEFAULT_VIDEO_FRAME_MS: u64 = 33;
const DEFAULT_AUDIO_FRAME_MS: u64 = 20;

/// Room kept at the start of the Segment for the SeekHead written by `finish`.
const SEEK_HEAD_RESERVED: usize = 80;
/// Room kept in Info for the Duration (ID, size, 8-byte float).
const DURATION_LEN: usize = 11;
/// A size of 8 bytes with all value bits set: "unknown", patched when known.
const UNKNOWN_SIZE: [u8; 8] = [0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF];
/// Cluster ID (4 bytes) and its 8-byte size.
const CLUSTER_HEADER_LEN: u64 = 12;

/// The codec of the recorded track, with what the file header says about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codec {
    /// Opus audio (RTP payloads are Opus packets as they are).
    Opus {
        /// The sample rate of the encoder's input, for the OpusHead (48000 for WebRTC;
        /// 0 if unknown). Decoding is always at 48 kHz.
        sample_rate: u32,
        /// 1 or 2 (channel mapping family 0).
        channels: u8,
    },
    /// VP8 video.
    Vp8 {
        /// Width in pixels, as negotiated or from the first keyframe.
        width: u16,
        /// Height in pixels.
        height: u16,
    },
}

impl Codec {
    fn check(self) -> io::Result<()> {
        match self {
            Codec::Opus {
                channels: 1 | 2, ..
            } => Ok(()),
            Codec::Opus { .. } => Err(invalid("Opus mapping family 0 has 1 or 2 channels")),
            Codec::Vp8 { width, height } if width == 0 || height == 0 => {
                Err(invalid("VP8 track without width or height"))
            }
            Codec::Vp8 { .. } => Ok(()),
        }
    }

    fn is_video(self) -> bool {
        matches!(self, Codec::Vp8 { .. })
    }
}

/// Writes one track to a WebM file, frame by frame.
///
/// `W` is seeked back to patch sizes: when a Cluster closes and in
/// [`finish`](Self::finish). Writes are small, so give it a buffered writer
/// (`BufWriter<File>`). The file starts where `W` stands when the writer is created.
///
/// After an I/O error the writer's idea of the file is no longer trusted: every later
/// call fails.
#[derive(Debug)]
pub struct WebmWriter<W: Write + Seek> {
    out: W,
    codec: Codec,
    /// Absolute position of the next byte written.
    pos: u64,
    /// Absolute position of the Segment's 8-byte size.
    segment_size_at: u64,
    /// Absolute position of the Segment's first child; SeekHead and Cues positions count
    /// from here.
    segment_data: u64,
    /// Absolute positions of the room reserved for the SeekHead and the Duration.
    seek_head_at: u64,
    duration_at: u64,
    /// Positions of Info and Tracks, relative to `segment_data`.
    info_at: u64,
    tracks_at: u64,
    cluster: Option<OpenCluster>,
    cues: Vec<CuePoint>,
    last_ms: Option<u64>,
    /// The interval between the last two frames written.
    last_interval_ms: Option<u64>,
    /// The duration of the last Opus packet, from its TOC byte.
    last_packet_ms: Option<u32>,
    frames: u64,
    dropped_before_keyframe: u64,
    failed: bool,
}

#[derive(Debug)]
struct OpenCluster {
    /// Absolute position of the Cluster's ID.
    start: u64,
    timestamp_ms: u64,
}

#[derive(Debug)]
struct CuePoint {
    time_ms: u64,
    /// Position of the Cluster, relative to the Segment's data.
    cluster: u64,
}

impl<W: Write + Seek> WebmWriter<W> {
    /// Writes the file header (EBML header, Segment of yet-unknown size, Info, Tracks) to
    /// `out`, from its current position.
    ///
    /// Fails with `InvalidInput` for an Opus track of other than 1 or 2 channels, or a VP8
    /// track without width or height.
    pub fn new(mut out: W, codec: Codec) -> io::Result<Self> {
        codec.check()?;
        let base = out.stream_position()?;
        let mut head = Vec::with_capacity(320);

        let mut ebml = Vec::new();
        put_uint(&mut ebml, id::EBML_VERSION, 1);
        put_uint(&mut ebml, id::EBML_READ_VERSION, 1);
        put_uint(&mut ebml, id::EBML_MAX_ID_LENGTH, 4);
        put_uint(&mut ebml, id::EBML_MAX_SIZE_LENGTH, 8);
        put_bytes(&mut ebml, id::DOC_TYPE, b"webm");
        // Version 4 for CodecDelay and SeekPreRoll; reading needs only version 2 features
        // (SimpleBlock).
        put_uint(&mut ebml, id::DOC_TYPE_VERSION, 4);
        put_uint(&mut ebml, id::DOC_TYPE_READ_VERSION, 2);
        put_master(&mut head, id::EBML, &ebml);

        put_id(&mut head, id::SEGMENT);
        let segment_size_at = base + head.len() as u64;
        head.extend_from_slice(&UNKNOWN_SIZE);
        let segment_data = base + head.len() as u64;

        let seek_head_at = segment_data;
        put_void(&mut head, SEEK_HEAD_RESERVED);

        let info_at = base + head.len() as u64 - segment_data;
        let mut info = Vec::new();
        put_uint(&mut info, id::TIMESTAMP_SCALE, TIMESTAMP_SCALE_NS);
        put_bytes(&mut info, id::MUXING_APP, b"langcert");
        put_bytes(&mut info, id::WRITING_APP, b"langcert");
        let duration_in_info = info.len();
        put_void(&mut info, DURATION_LEN);
        put_master(&mut head, id::INFO, &info);
        let duration_at = base + (head.len() - info.len() + duration_in_info) as u64;

        let tracks_at = base + head.len() as u64 - segment_data;
        put_master(&mut head, id::TRACKS, &tracks(codec));

        out.write_all(&head)?;
        Ok(Self {
            out,
            codec,
            pos: base + head.len() as u64,
            segment_size_at,
            segment_data,
            seek_head_at,
            duration_at,
            info_at,
            tracks_at,
            cluster: None,
            cues: Vec::new(),
            last_ms: None,
            last_interval_ms: None,
            last_packet_ms: None,
            frames: 0,
            dropped_before_keyframe: 0,
            failed: false,
        })
    }

    /// Writes one frame (a VP8 frame, or an Opus packet) presented at `timestamp_ms`.
    ///
    /// A video file starts with a keyframe: frames before the first keyframe are dropped
    /// (not an error) and counted in [`dropped_before_keyframe`](Self::dropped_before_keyframe).
    /// Every Opus packet is marked a keyframe, whatever `keyframe` says.
    ///
    /// Fails with `InvalidInput`, writing nothing and leaving the writer usable, for an
    /// empty frame or a timestamp earlier than the previous frame's.
    pub fn write_frame(
        &mut self,
        timestamp_ms: u64,
        keyframe: bool,
        data: &[u8],
    ) -> io::Result<()> {
        self.check_usable()?;
        if data.is_empty() {
            return Err(invalid("empty frame"));
        }
        if let Some(last) = self.last_ms
            && timestamp_ms < last
        {
            return Err(invalid("frame timestamp earlier than the previous one"));
        }
        let video = self.codec.is_video();
        let keyframe = keyframe || !video;
        if video && self.frames == 0 && !keyframe {
            self.dropped_before_keyframe += 1;
            return Ok(());
        }

        let new_cluster = match &self.cluster {
            None => true,
            Some(cluster) => {
                let age = timestamp_ms - cluster.timestamp_ms;
                age > i16::MAX as u64
                    || age >= MAX_CLUSTER_MS
                    || (video && keyframe && age >= KEYFRAME_CLUSTER_MS)
            }
        };
        if new_cluster {
            self.close_cluster()?;
            self.open_cluster(timestamp_ms, keyframe)?;
        }
        let cluster_ms = self
            .cluster
            .as_ref()
            .map_or(timestamp_ms, |c| c.timestamp_ms);
        // At most MAX_CLUSTER_MS - 1, which fits (checked above and at compile time).
        let relative = (timestamp_ms - cluster_ms) as i16;

        let mut head = Vec::with_capacity(16);
        put_id(&mut head, id::SIMPLE_BLOCK);
        put_size(&mut head, data.len() as u64 + 4);
        head.push(0x80 | TRACK_NUMBER);
        head.extend_from_slice(&relative.to_be_bytes());
        head.push(if keyframe { 0x80 } else { 0x00 });
        self.emit(&head)?;
        self.emit(data)?;

        if let Some(last) = self.last_ms {
            self.last_interval_ms = Some(timestamp_ms - last);
        }
        self.last_ms = Some(timestamp_ms);
        if !video {
            self.last_packet_ms = opus_frame_duration_ms(data);
        }
        self.frames += 1;
        Ok(())
    }

    /// Frames written so far.
    pub fn frames_written(&self) -> u64 {
        self.frames
    }

    /// Video frames dropped because no keyframe had been written yet.
    pub fn dropped_before_keyframe(&self) -> u64 {
        self.dropped_before_keyframe
    }

    /// Closes the file: writes the Cues and fills in the Segment's size, the Duration (the
    /// last timestamp plus an estimate of the last frame's duration) and the SeekHead.
    /// Returns `out`, positioned at the end of the file and flushed.
    ///
    /// A file without frames gets no Duration and no Cues.
    pub fn finish(mut self) -> io::Result<W> {
        self.check_usable()?;
        self.close_cluster()?;

        let cues_at = if self.cues.is_empty() {
            None
        } else {
            let at = self.pos - self.segment_data;
            let cues = self.cues_element();
            self.emit(&cues)?;
            Some(at)
        };
        if let Some(duration_ms) = self.duration_ms() {
            let mut duration = Vec::with_capacity(DURATION_LEN);
            put_f64(&mut duration, id::DURATION, duration_ms as f64);
            debug_assert_eq!(duration.len(), DURATION_LEN);
            self.patch(self.duration_at, &duration)?;
        }
        let seek_head = self.seek_head(cues_at);
        self.patch(self.seek_head_at, &seek_head)?;
        let segment_size = fixed_size(self.pos - self.segment_data)?;
        self.patch(self.segment_size_at, &segment_size)?;
        self.out.flush()?;
        Ok(self.out)
    }

    fn check_usable(&self) -> io::Result<()> {
        if self.failed {
            Err(io::Error::other(
                "an earlier write to this WebM file failed",
            ))
        } else {
            Ok(())
        }
    }

    fn open_cluster(&mut self, timestamp_ms: u64, keyframe: bool) -> io::Result<()> {
        let start = self.pos;
        let mut head = Vec::with_capacity(24);
        put_id(&mut head, id::CLUSTER);
        head.extend_from_slice(&UNKNOWN_SIZE);
        put_uint(&mut head, id::TIMESTAMP, timestamp_ms);
        self.emit(&head)?;
        self.cluster = Some(OpenCluster {
            start,
            timestamp_ms,
        });
        // Players seek to cue points and decode from there: only where a keyframe starts
        // the Cluster (for audio, every Cluster).
        if keyframe {
            self.cues.push(CuePoint {
                time_ms: timestamp_ms,
                cluster: start - self.segment_data,
            });
        }
        Ok(())
    }

    fn close_cluster(&mut self) -> io::Result<()> {
        if let Some(cluster) = self.cluster.take() {
            let size = fixed_size(self.pos - (cluster.start + CLUSTER_HEADER_LEN))?;
            self.patch(cluster.start + 4, &size)?;
        }
        Ok(())
    }

    fn cues_element(&self) -> Vec<u8> {
        let mut points = Vec::with_capacity(self.cues.len() * 16);
        for cue in &self.cues {
            let mut positions = Vec::with_capacity(12);
            put_uint(&mut positions, id::CUE_TRACK, u64::from(TRACK_NUMBER));
            put_uint(&mut positions, id::CUE_CLUSTER_POSITION, cue.cluster);
            let mut point = Vec::with_capacity(24);
            put_uint(&mut point, id::CUE_TIME, cue.time_ms);
            put_master(&mut point, id::CUE_TRACK_POSITIONS, &positions);
            put_master(&mut points, id::CUE_POINT, &point);
        }
        let mut cues = Vec::with_capacity(points.len() + 12);
        put_master(&mut cues, id::CUES, &points);
        cues
    }

    /// The SeekHead, padded with a Void to exactly `SEEK_HEAD_RESERVED` bytes.
    fn seek_head(&self, cues_at: Option<u64>) -> Vec<u8> {
        let mut entries = Vec::with_capacity(64);
        let targets = [
            (id::INFO, Some(self.info_at)),
            (id::TRACKS, Some(self.tracks_at)),
            (id::CUES, cues_at),
        ];
        for (target, at) in targets {
            let Some(at) = at else { continue };
            let mut seek = Vec::with_capacity(20);
            put_bytes(&mut seek, id::SEEK_ID, &target.to_be_bytes());
            // Fixed width, so that the SeekHead's length does not depend on the file's.
            put_id(&mut seek, id::SEEK_POSITION);
            put_size(&mut seek, 8);
            seek.extend_from_slice(&at.to_be_bytes());
            put_master(&mut entries, id::SEEK, &seek);
        }
        let mut seek_head = Vec::with_capacity(SEEK_HEAD_RESERVED);
        put_master(&mut seek_head, id::SEEK_HEAD, &entries);
        // 47 bytes with two entries, 68 with three: always room for a Void after them.
        let padding = SEEK_HEAD_RESERVED - seek_head.len();
        put_void(&mut seek_head, padding);
        seek_head
    }

    fn duration_ms(&self) -> Option<u64> {
        let last = self.last_ms?;
        let frame = match self.codec {
            Codec::Opus { .. } => self
                .last_packet_ms
                .map(u64::from)
                .or(self.last_interval_ms)
                .unwrap_or(DEFAULT_AUDIO_FRAME_MS),
            Codec::Vp8 { .. } => self.last_interval_ms.unwrap_or(DEFAULT_VIDEO_FRAME_MS),
        };
        Some(last + frame.max(1))
    }

    fn emit(&mut self, bytes: &[u8]) -> io::Result<()> {
        let result = self.out.write_all(bytes);
        match result {
            Ok(()) => self.pos += bytes.len() as u64,
            Err(_) => self.failed = true,
        }
        result
    }

    /// Overwrites `bytes` at absolute position `at`, then comes back to the end.
    fn patch(&mut self, at: u64, bytes: &[u8]) -> io::Result<()> {
        let result = overwrite(&mut self.out, at, bytes, self.pos);
        self.failed |= result.is_err();
        result
    }
}

fn overwrite<W: Write + Seek>(out: &mut W, at: u64, bytes: &[u8], end: u64) -> io::Result<()> {
    out.seek(SeekFrom::Start(at))?;
    out.write_all(bytes)?;
    out.seek(SeekFrom::Start(end))?;
    Ok(())
}

/// The Tracks element's body: one TrackEntry.
fn tracks(codec: Codec) -> Vec<u8> {
    let mut entry = Vec::with_capacity(96);
    put_uint(&mut entry, id::TRACK_NUMBER, u64::from(TRACK_NUMBER));
    put_uint(&mut entry, id::TRACK_UID, TRACK_UID);
    put_uint(&mut entry, id::FLAG_LACING, 0);
    match codec {
        Codec::Vp8 { width, height } => {
            put_uint(&mut entry, id::TRACK_TYPE, 1);
            put_bytes(&mut entry, id::CODEC_ID, b"V_VP8");
            let mut video = Vec::with_capacity(8);
            put_uint(&mut video, id::PIXEL_WIDTH, u64::from(width));
            put_uint(&mut video, id::PIXEL_HEIGHT, u64::from(height));
            put_master(&mut entry, id::VIDEO, &video);
        }
        Codec::Opus {
            sample_rate,
            channels,
        } => {
            put_uint(&mut entry, id::TRACK_TYPE, 2);
            put_bytes(&mut entry, id::CODEC_ID, b"A_OPUS");
            put_bytes(
                &mut entry,
                id::CODEC_PRIVATE,
                &opus_head(sample_rate, channels),
            );
            put_uint(&mut entry, id::CODEC_DELAY, OPUS_CODEC_DELAY_NS);
            put_uint(&mut entry, id::SEEK_PRE_ROLL, OPUS_SEEK_PRE_ROLL_NS);
            let mut audio = Vec::with_capacity(16);
            put_f64(&mut audio, id::SAMPLING_FREQUENCY, 48_000.0);
            put_uint(&mut audio, id::CHANNELS, u64::from(channels));
            put_master(&mut entry, id::AUDIO, &audio);
        }
    }
    let mut tracks = Vec::with_capacity(entry.len() + 4);
    put_master(&mut tracks, id::TRACK_ENTRY, &entry);
    tracks
}

/// The Ogg Opus identification header (RFC 7845 §5.1), WebM's CodecPrivate for Opus.
fn opus_head(sample_rate: u32, channels: u8) -> [u8; 19] {
    let mut head = [0; 19];
    head[..8].copy_from_slice(b"OpusHead");
    head[8] = 1; // version
    head[9] = channels;
    head[10..12].copy_from_slice(&OPUS_PRE_SKIP.to_le_bytes());
    head[12..16].copy_from_slice(&sample_rate.to_le_bytes());
    // 16..18: output gain 0 dB; 18: channel mapping family 0 (mono or stereo, no table).
    head
}

fn invalid(message: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, message)
}

fn put_id(buf: &mut Vec<u8>, id: u32) {
    let skip = (id.leading_zeros() / 8) as usize;
    buf.extend_from_slice(&id.to_be_bytes()[skip..]);
}

/// An element data size as the shortest variable-length integer. Sizes of 2^56 - 1 and
/// more do not exist here: elements are built in memory or are single frames.
fn put_size(buf: &mut Vec<u8>, size: u64) {
    debug_assert!(size < (1 << 56) - 1);
    let mut len = 1;
    // The all-ones value of each length is reserved for "unknown".
    while len < 8 && size >= (1 << (7 * len)) - 1 {
        len += 1;
    }
    let marked = size | (1 << (7 * len));
    buf.extend_from_slice(&marked.to_be_bytes()[8 - len..]);
}

/// A size in 8 bytes, to overwrite an `UNKNOWN_SIZE`.
fn fixed_size(size: u64) -> io::Result<[u8; 8]> {
    if size >= (1 << 56) - 1 {
        return Err(io::Error::other("WebM element larger than 2^56 bytes"));
    }
    Ok((size | (1 << 56)).to_be_bytes())
}

fn put_uint(buf: &mut Vec<u8>, id: u32, value: u64) {
    let skip = ((value.leading_zeros() / 8) as usize).min(7);
    put_bytes(buf, id, &value.to_be_bytes()[skip..]);
}

fn put_f64(buf: &mut Vec<u8>, id: u32, value: f64) {
    put_bytes(buf, id, &value.to_be_bytes());
}

fn put_bytes(buf: &mut Vec<u8>, id: u32, data: &[u8]) {
    put_id(buf, id);
    put_size(buf, data.len() as u64);
    buf.extend_from_slice(data);
}

fn put_master(buf: &mut Vec<u8>, id: u32, body: &[u8]) {
    put_bytes(buf, id, body);
}

/// A Void element of exactly `total` bytes (at least 2), reserving room to patch later.
fn put_void(buf: &mut Vec<u8>, total: usize) {
    debug_assert!(total >= 2);
    put_id(buf, id::VOID);
    let body = if total - 2 < 127 {
        put_size(buf, (total - 2) as u64);
        total - 2
    } else {
        buf.extend_from_slice(&((total as u64 - 9) | (1 << 56)).to_be_bytes());
        total - 9
    };
    buf.resize(buf.len() + body, 0);
}

/// Whether a VP8 frame is a keyframe: bit 0 of the frame tag is 0 (RFC 6386 §9.1), and,
/// so that a truncated or foreign frame is not taken for one, the keyframe start code
/// 0x9d 0x01 0x2a follows the 3-byte tag.
pub fn vp8_is_keyframe(frame: &[u8]) -> bool {
    frame.len() >= 10 && frame[0] & 0x01 == 0 && frame[3..6] == [0x9d, 0x01, 0x2a]
}

/// The duration of an Opus packet in milliseconds, rounded up (2.5 ms frames), from its
/// TOC byte and, for code 3, its frame count (RFC 6716 §3.1–3.2). `None` for an empty or
/// malformed packet, or one longer than the 120 ms a packet may hold. Frame lengths are
/// not checked.
pub fn opus_frame_duration_ms(packet: &[u8]) -> Option<u32> {
    let toc = *packet.first()?;
    let config = toc >> 3;
    // Frame size in 48 kHz samples.
    let frame: u32 = match config {
        0..=11 => [480, 960, 1920, 2880][usize::from(config % 4)], // SILK: 10, 20, 40, 60 ms
        12..=15 => [480, 960][usize::from(config % 2)],            // hybrid: 10, 20 ms
        _ => [120, 240, 480, 960][usize::from(config % 4)],        // CELT: 2.5, 5, 10, 20 ms
    };
    let frames = match toc & 0x03 {
        0 => 1,
        1 | 2 => 2,
        _ => match u32::from(*packet.get(1)? & 0x3F) {
            0 => return None,
            count => count,
        },
    };
    let samples = frame * frames;
    (samples <= 5_760).then_some(samples.div_ceil(48))
}

/// The most a rebuilt VP8 frame may hold; a sender that never ends its frame cannot make
/// the depacketizer grow without bound.
const MAX_VP8_FRAME_LEN: usize = 4 << 20;
/// A sequence number this far behind the last one is a late packet, further a restart.
const MAX_MISORDER: i16 = 100;

/// Rebuilds VP8 frames from the RTP payloads of one stream (RFC 7741).
///
/// Feed it every packet of the stream in sequence order. A frame begins with a packet
/// whose payload descriptor has S = 1 and PartID = 0 and ends with the packet carrying the
/// RTP marker bit; the payload descriptors are removed. A frame missing a packet (a gap in
/// sequence numbers), or with a malformed descriptor, is dropped rather than returned
/// corrupt; packets are then ignored until the next frame begins.
#[derive(Debug, Default)]
pub struct Vp8Depacketizer {
    frame: Vec<u8>,
    /// A frame has begun and every packet since has arrived.
    assembling: bool,
    last_sequence: Option<u16>,
    dropped: u64,
}

impl Vp8Depacketizer {
    /// A depacketizer waiting for the start of a frame.
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes the payload of the RTP packet numbered `sequence`, with its `marker` bit;
    /// returns the frame this packet completes, if any.
    ///
    /// A duplicate or late packet (up to 100 numbers behind the last) is ignored; any
    /// other break in the numbering loses the frame under way.
    pub fn push(&mut self, sequence: u16, payload: &[u8], marker: bool) -> Option<Vec<u8>> {
        if let Some(last) = self.last_sequence {
            let delta = sequence.wrapping_sub(last) as i16;
            if delta <= 0 && delta > -MAX_MISORDER {
                return None;
            }
            if delta != 1 {
                self.abandon();
            }
        }
        self.last_sequence = Some(sequence);

        let Some((starts_frame, data)) = vp8_payload(payload) else {
            self.abandon();
            return None;
        };
        if starts_frame {
            // A frame under way never got its marker.
            self.abandon();
            self.assembling = true;
        } else if !self.assembling {
            return None;
        }
        if self.frame.len() + data.len() > MAX_VP8_FRAME_LEN {
            self.abandon();
            return None;
        }
        self.frame.extend_from_slice(&data);
        if marker {
            self.assembling = false;
            return Some(std::mem::take(&mut self.frame));
        }
        None
    }

    /// Frames begun but dropped: a packet missing, a malformed descriptor, or no marker.
    pub fn dropped_frames(&self) -> u64 {
        self.dropped
    }

    fn abandon(&mut self) {
        if self.assembling {
            self.dropped += 1;
            self.assembling = false;
        }
        self.frame.clear();
    }
}

/// Splits an RTP payload into whether it starts a frame and the VP8 data after the payload
/// descriptor (RFC 7741 §4.2, parsed by `rtc`'s depacketizer); `None` if the descriptor is
/// truncated or nothing follows it.
fn vp8_payload(payload: &[u8]) -> Option<(bool, Bytes)> {
    let mut descriptor = Vp8Packet::default();
    let data = descriptor
        .depacketize(&Bytes::copy_from_slice(payload))
        .ok()?;
    if data.is_empty() {
        return None;
    }
    Some((descriptor.s == 1 && descriptor.pid == 0, data))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    // IDs from the specifications, written out again so that the reader below does not
    // trust the writer's table.
    const EBML: u32 = 0x1A45DFA3;
    const DOC_TYPE: u32 = 0x4282;
    const DOC_TYPE_VERSION: u32 = 0x4287;
    const DOC_TYPE_READ_VERSION: u32 = 0x4285;
    const SEGMENT: u32 = 0x18538067;
    const SEEK_HEAD: u32 = 0x114D9B74;
    const SEEK: u32 = 0x4DBB;
    const SEEK_ID: u32 = 0x53AB;
    const SEEK_POSITION: u32 = 0x53AC;
    const INFO: u32 = 0x1549A966;
    const TIMESTAMP_SCALE: u32 = 0x2AD7B1;
    const DURATION: u32 = 0x4489;
    const MUXING_APP: u32 = 0x4D80;
    const TRACKS: u32 = 0x1654AE6B;
    const TRACK_ENTRY: u32 = 0xAE;
    const TRACK_NUMBER: u32 = 0xD7;
    const TRACK_UID: u32 = 0x73C5;
    const TRACK_TYPE: u32 = 0x83;
    const CODEC_ID: u32 = 0x86;
    const CODEC_PRIVATE: u32 = 0x63A2;
    const CODEC_DELAY: u32 = 0x56AA;
    const SEEK_PRE_ROLL: u32 = 0x56BB;
    const VIDEO: u32 = 0xE0;
    const PIXEL_WIDTH: u32 = 0xB0;
    const PIXEL_HEIGHT: u32 = 0xBA;
    const AUDIO: u32 = 0xE1;
    const SAMPLING_FREQUENCY: u32 = 0xB5;
    const CHANNELS: u32 = 0x9F;
    const CLUSTER: u32 = 0x1F43B675;
    const TIMESTAMP: u32 = 0xE7;
    const SIMPLE_BLOCK: u32 = 0xA3;
    const CUES: u32 = 0x1C53BB6B;
    const CUE_POINT: u32 = 0xBB;
    const CUE_TIME: u32 = 0xB3;
    const CUE_TRACK_POSITIONS: u32 = 0xB7;
    const CUE_TRACK: u32 = 0xF7;
    const CUE_CLUSTER_POSITION: u32 = 0xF1;

    const MASTERS: &[u32] = &[
        EBML,
        SEGMENT,
        SEEK_HEAD,
        SEEK,
        INFO,
        TRACKS,
        TRACK_ENTRY,
        VIDEO,
        AUDIO,
        CLUSTER,
        CUES,
        CUE_POINT,
        CUE_TRACK_POSITIONS,
    ];
    /// What ends a Cluster of unknown size.
    const SEGMENT_CHILDREN: &[u32] = &[SEEK_HEAD, INFO, TRACKS, CLUSTER, CUES];

    // ---- A tiny EBML reader ----

    #[derive(Debug)]
    struct El {
        id: u32,
        /// Offset of the ID, of the data, and of the end.
        at: usize,
        data: usize,
        end: usize,
        unknown_size: bool,
        children: Vec<El>,
    }

    impl El {
        fn child(&self, id: u32) -> &El {
            self.find(id)
                .unwrap_or_else(|| panic!("no child {id:#x} in {:#x}", self.id))
        }
        fn find(&self, id: u32) -> Option<&El> {
            self.children.iter().find(|c| c.id == id)
        }
        fn all(&self, id: u32) -> impl Iterator<Item = &El> {
            self.children.iter().filter(move |c| c.id == id)
        }
        fn bytes<'a>(&self, file: &'a [u8]) -> &'a [u8] {
            &file[self.data..self.end]
        }
        fn uint(&self, file: &[u8]) -> u64 {
            let bytes = self.bytes(file);
            assert!(bytes.len() <= 8);
            bytes.iter().fold(0, |v, &b| v << 8 | u64::from(b))
        }
        fn float(&self, file: &[u8]) -> f64 {
            match self.bytes(file) {
                b if b.len() == 8 => f64::from_be_bytes(b.try_into().unwrap()),
                b if b.len() == 4 => f64::from(f32::from_be_bytes(b.try_into().unwrap())),
                b => panic!("float of {} bytes", b.len()),
            }
        }
    }

    /// A variable-length integer at `pos`: (value without the marker, length, all ones).
    fn vint(file: &[u8], pos: usize) -> (u64, usize, bool) {
        let first = file[pos];
        assert_ne!(first, 0, "vint longer than 8 bytes at {pos}");
        let len = first.leading_zeros() as usize + 1;
        let mut value = u64::from(first) & (0xFF >> len);
        for &b in &file[pos + 1..pos + len] {
            value = value << 8 | u64::from(b);
        }
        let all_ones = value == (1 << (7 * len)) - 1;
        (value, len, all_ones)
    }

    fn element_id(file: &[u8], pos: usize) -> (u32, usize) {
        let len = file[pos].leading_zeros() as usize + 1;
        assert!(len <= 4, "ID longer than 4 bytes at {pos}");
        let id = file[pos..pos + len]
            .iter()
            .fold(0, |v, &b| v << 8 | u32::from(b));
        (id, len)
    }

    /// Parses elements from `pos` up to `end`, or, for the children of an unknown-size
    /// element, up to the first element in `stop`.
    fn parse(file: &[u8], mut pos: usize, end: usize, stop: &[u32]) -> (Vec<El>, usize) {
        let mut out = Vec::new();
        while pos < end {
            let (id, id_len) = element_id(file, pos);
            if stop.contains(&id) {
                break;
            }
            let (size, size_len, unknown_size) = vint(file, pos + id_len);
            let data = pos + id_len + size_len;
            let (children, el_end) = if unknown_size {
                assert!(MASTERS.contains(&id), "unknown size for {id:#x}");
                let stop = if id == CLUSTER { SEGMENT_CHILDREN } else { &[] };
                parse(file, data, end, stop)
            } else {
                let el_end = data + usize::try_from(size).unwrap();
                assert!(
                    el_end <= end,
                    "element {id:#x} at {pos} overruns its parent"
                );
                let children = if MASTERS.contains(&id) {
                    let (children, stopped) = parse(file, data, el_end, &[]);
                    assert_eq!(
                        stopped, el_end,
                        "children of {id:#x} at {pos} do not fill it"
                    );
                    children
                } else {
                    Vec::new()
                };
                (children, el_end)
            };
            out.push(El {
                id,
                at: pos,
                data,
                end: el_end,
                unknown_size,
                children,
            });
            pos = el_end;
        }
        (out, pos)
    }

    struct File {
        bytes: Vec<u8>,
        top: Vec<El>,
    }

    impl File {
        fn read(bytes: Vec<u8>) -> Self {
            let (top, end) = parse(&bytes, 0, bytes.len(), &[]);
            assert_eq!(end, bytes.len());
            assert_eq!(top.len(), 2, "EBML header and one Segment");
            assert_eq!((top[0].id, top[1].id), (EBML, SEGMENT));
            File { bytes, top }
        }
        fn segment(&self) -> &El {
            &self.top[1]
        }
        fn track(&self) -> &El {
            let tracks: Vec<_> = self.segment().all(TRACKS).collect();
            assert_eq!(tracks.len(), 1);
            let entries: Vec<_> = tracks[0].all(TRACK_ENTRY).collect();
            assert_eq!(entries.len(), 1, "one track");
            entries[0]
        }
        fn clusters(&self) -> Vec<&El> {
            self.segment().all(CLUSTER).collect()
        }
        /// Every SimpleBlock: (absolute time, keyframe, data), checking the track number.
        fn blocks(&self) -> Vec<(u64, bool, Vec<u8>)> {
            let mut blocks = Vec::new();
            for cluster in self.clusters() {
                let base = cluster.child(TIMESTAMP).uint(&self.bytes);
                for block in cluster.all(SIMPLE_BLOCK) {
                    let b = block.bytes(&self.bytes);
                    assert_eq!(b[0], 0x81, "track 1");
                    let relative = i16::from_be_bytes([b[1], b[2]]);
                    assert!(relative >= 0);
                    assert_eq!(b[3] & 0x06, 0, "no lacing");
                    let time = base.checked_add_signed(i64::from(relative)).unwrap();
                    blocks.push((time, b[3] & 0x80 != 0, b[4..].to_vec()));
                }
            }
            blocks
        }
        fn duration(&self) -> Option<f64> {
            let info = self.segment().child(INFO);
            assert_eq!(info.child(TIMESTAMP_SCALE).uint(&self.bytes), 1_000_000);
            assert_eq!(info.child(MUXING_APP).bytes(&self.bytes), b"langcert");
            info.find(DURATION).map(|d| d.float(&self.bytes))
        }
        /// Checks the EBML header, that the Segment's size is what follows its header, and
        /// that the SeekHead and Cues point where they say.
        fn check_structure(&self) {
            let b = &self.bytes;
            let ebml = &self.top[0];
            assert_eq!(ebml.child(DOC_TYPE).bytes(b), b"webm");
            assert_eq!(ebml.child(DOC_TYPE_VERSION).uint(b), 4);
            assert_eq!(ebml.child(DOC_TYPE_READ_VERSION).uint(b), 2);

            let segment = self.segment();
            assert!(!segment.unknown_size, "Segment size patched");
            assert_eq!(
                segment.end,
                b.len(),
                "Segment size is the bytes after its header"
            );

            let seek_head = segment.child(SEEK_HEAD);
            let mut sought = Vec::new();
            for seek in seek_head.all(SEEK) {
                let id = element_id(seek.child(SEEK_ID).bytes(b), 0).0;
                let at = segment.data + seek.child(SEEK_POSITION).uint(b) as usize;
                assert_eq!(element_id(b, at).0, id, "SeekHead entry for {id:#x}");
                sought.push(id);
            }
            assert_eq!(sought, [INFO, TRACKS, CUES]);

            let cues = segment.child(CUES);
            for point in cues.all(CUE_POINT) {
                let time = point.child(CUE_TIME).uint(b);
                let positions = point.child(CUE_TRACK_POSITIONS);
                assert_eq!(positions.child(CUE_TRACK).uint(b), 1);
                let at = segment.data + positions.child(CUE_CLUSTER_POSITION).uint(b) as usize;
                let cluster = segment
                    .children
                    .iter()
                    .find(|c| c.at == at)
                    .expect("cue on an element");
                assert_eq!(cluster.id, CLUSTER);
                assert_eq!(cluster.child(TIMESTAMP).uint(b), time);
                let first = cluster.child(SIMPLE_BLOCK).bytes(b);
                assert_eq!(
                    (first[1], first[2]),
                    (0, 0),
                    "cue on the Cluster's first block"
                );
                assert!(first[3] & 0x80 != 0, "cue on a keyframe");
            }
        }
        fn cue_times(&self) -> Vec<u64> {
            let cues = self.segment().child(CUES);
            cues.all(CUE_POINT)
                .map(|p| p.child(CUE_TIME).uint(&self.bytes))
                .collect()
        }
    }

    // ---- Synthetic frames ----

    /// A VP8 frame of `len` bytes: frame tag (keyframe bit, version 0, shown, first
    /// partition size), then for a keyframe the start code and 640x480.
    fn vp8_frame(keyframe: bool, len: usize, seed: u32) -> Vec<u8> {
        let partition = (len as u32).saturating_sub(10) / 2;
        let tag = u32::from(!keyframe) | 1 << 4 | partition << 5;
        let mut frame = tag.to_le_bytes()[..3].to_vec();
        if keyframe {
            frame.extend_from_slice(&[0x9d, 0x01, 0x2a]);
            frame.extend_from_slice(&640u16.to_le_bytes());
            frame.extend_from_slice(&480u16.to_le_bytes());
        }
        let mut x = seed.wrapping_mul(2_654_435_761) | 1;
        while frame.len() < len {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            frame.push(x as u8);
        }
        frame
    }

    fn opus_packet(toc: u8, len: usize, seed: u8) -> Vec<u8> {
        let mut packet = vec![toc];
        packet.extend((1..len).map(|i| (i as u8).wrapping_mul(31) ^ seed));
        packet
    }

    // ---- Writer ----

    #[test]
    fn vp8_file_reads_back() {
        let mut writer = WebmWriter::new(
            Cursor::new(Vec::new()),
            Codec::Vp8 {
                width: 640,
                height: 480,
            },
        )
        .unwrap();
        // Inter frames before the first keyframe: dropped.
        for (i, t) in [0, 33, 66].into_iter().enumerate() {
            writer
                .write_frame(t, false, &vp8_frame(false, 300, i as u32))
                .unwrap();
        }
        let mut written = Vec::new();
        let mut t = 100;
        for n in 0..400_u32 {
            // Keyframes every 3 s, but one 6 s wait (a Cluster cut at 5 s without one), one
            // keyframe only 0.2 s after another (same Cluster), and a 40 s hole (the camera
            // was off) after which the stream resumes with a keyframe.
            let keyframe = (n % 90 == 0 && n != 180) || n == 95 || n == 300;
            if n == 300 {
                t += 40_000;
            }
            let frame = vp8_frame(
                keyframe,
                if keyframe {
                    4_000
                } else {
                    200 + n as usize % 700
                },
                n,
            );
            assert_eq!(vp8_is_keyframe(&frame), keyframe);
            writer.write_frame(t, keyframe, &frame).unwrap();
            written.push((t, keyframe, frame));
            t += 33 + u64::from(n % 3); // some jitter
        }
        assert_eq!(writer.dropped_before_keyframe(), 3);
        assert_eq!(writer.frames_written(), 400);
        let last = written.last().unwrap().0;
        let file = File::read(writer.finish().unwrap().into_inner());
        file.check_structure();

        let track = file.track();
        let b = &file.bytes;
        assert_eq!(track.child(TRACK_NUMBER).uint(b), 1);
        assert_ne!(track.child(TRACK_UID).uint(b), 0);
        assert_eq!(track.child(TRACK_TYPE).uint(b), 1);
        assert_eq!(track.child(CODEC_ID).bytes(b), b"V_VP8");
        assert!(track.find(CODEC_PRIVATE).is_none());
        let video = track.child(VIDEO);
        assert_eq!(
            (
                video.child(PIXEL_WIDTH).uint(b),
                video.child(PIXEL_HEIGHT).uint(b)
            ),
            (640, 480)
        );

        let duration = file.duration().expect("Duration written");
        assert!(
            (duration - (last + 33) as f64).abs() <= 34.0,
            "duration {duration}, last {last}"
        );

        let blocks = file.blocks();
        assert_eq!(
            blocks, written,
            "every frame, at its time, keyframe flag and bytes intact"
        );
        assert!(
            blocks[0].1 && vp8_is_keyframe(&blocks[0].2),
            "first block is a keyframe"
        );

        // Clusters: under 5 s each; a new one at a keyframe once 1 s old, else at 5 s.
        let clusters = file.clusters();
        let mut previous: Option<u64> = None;
        for cluster in &clusters {
            let start = cluster.child(TIMESTAMP).uint(b);
            let first = cluster.child(SIMPLE_BLOCK).bytes(b);
            let keyframe = first[3] & 0x80 != 0;
            if let Some(previous) = previous {
                let age = start - previous;
                assert!(
                    if keyframe { age >= 1_000 } else { age >= 5_000 },
                    "Cluster at {start} after {previous}"
                );
            }
            for block in cluster.all(SIMPLE_BLOCK) {
                let bytes = block.bytes(b);
                let relative = i16::from_be_bytes([bytes[1], bytes[2]]);
                assert!(relative < 5_000);
                assert!(
                    bytes[3] & 0x80 == 0 || relative < 1_000,
                    "a late keyframe starts a Cluster"
                );
            }
            previous = Some(start);
        }
        // Cue points: the Clusters that start with a keyframe, which include every keyframe
        // but the one 0.2 s after another.
        let keyframe_times: Vec<u64> = written
            .iter()
            .filter(|f| f.1)
            .map(|f| f.0)
            .filter(|&t| t != written[95].0)
            .collect();
        assert_eq!(file.cue_times(), keyframe_times);
    }

    #[test]
    fn opus_file_reads_back() {
        let codec = Codec::Opus {
            sample_rate: 48_000,
            channels: 2,
        };
        let mut writer = WebmWriter::new(Cursor::new(Vec::new()), codec).unwrap();
        let mut written = Vec::new();
        let mut t = 0;
        for n in 0..1_000_u32 {
            // 20 ms CELT fullband stereo packets; silence (DTX) gaps of 2 s and of 35 s,
            // longer than a SimpleBlock's relative timestamp can reach.
            match n {
                300 => t += 2_000,
                600 => t += 35_000,
                _ => {}
            }
            let packet = opus_packet(0xFC, 40 + (n % 80) as usize, n as u8);
            // The flag is ignored for audio: every Opus packet is a keyframe.
            writer.write_frame(t, n % 2 == 0, &packet).unwrap();
            written.push((t, true, packet));
            t += 20;
        }
        let last = written.last().unwrap().0;
        let file = File::read(writer.finish().unwrap().into_inner());
        file.check_structure();

        let b = &file.bytes;
        let track = file.track();
        assert_eq!(track.child(TRACK_TYPE).uint(b), 2);
        assert_eq!(track.child(CODEC_ID).bytes(b), b"A_OPUS");
        let head = track.child(CODEC_PRIVATE).bytes(b);
        assert_eq!(head.len(), 19);
        assert_eq!(&head[..8], b"OpusHead");
        assert_eq!(head[8], 1, "version");
        assert_eq!(head[9], 2, "channels");
        let pre_skip = u16::from_le_bytes([head[10], head[11]]);
        assert_eq!(pre_skip, 312);
        assert_eq!(u32::from_le_bytes(head[12..16].try_into().unwrap()), 48_000);
        assert_eq!(&head[16..], &[0, 0, 0], "gain 0, mapping family 0");
        assert_eq!(
            track.child(CODEC_DELAY).uint(b),
            u64::from(pre_skip) * 1_000_000_000 / 48_000
        );
        assert_eq!(track.child(SEEK_PRE_ROLL).uint(b), 80_000_000);
        let audio = track.child(AUDIO);
        assert_eq!(audio.child(SAMPLING_FREQUENCY).float(b), 48_000.0);
        assert_eq!(audio.child(CHANNELS).uint(b), 2);

        assert_eq!(file.duration(), Some((last + 20) as f64));
        assert_eq!(file.blocks(), written);
        // Every audio Cluster is a cue point.
        let cluster_times: Vec<u64> = file
            .clusters()
            .iter()
            .map(|c| c.child(TIMESTAMP).uint(b))
            .collect();
        assert_eq!(file.cue_times(), cluster_times);
        assert!(
            cluster_times.contains(&written[600].0),
            "a new Cluster after the 35 s gap"
        );
    }

    #[test]
    fn unfinished_file_is_still_readable() {
        let mut out = Cursor::new(Vec::new());
        let mut writer = WebmWriter::new(
            &mut out,
            Codec::Vp8 {
                width: 320,
                height: 240,
            },
        )
        .unwrap();
        let mut written = Vec::new();
        for n in 0..300_u32 {
            let keyframe = n % 100 == 0;
            let frame = vp8_frame(keyframe, 500, n);
            writer
                .write_frame(u64::from(n) * 40, keyframe, &frame)
                .unwrap();
            written.push((u64::from(n) * 40, keyframe, frame));
        }
        drop(writer); // the process died
        let file = File::read(out.into_inner());
        assert!(file.segment().unknown_size);
        let clusters = file.clusters();
        assert!(clusters.len() >= 3);
        assert!(
            clusters
                .iter()
                .take(clusters.len() - 1)
                .all(|c| !c.unknown_size),
            "closed Clusters sized"
        );
        assert!(clusters.last().unwrap().unknown_size);
        assert_eq!(file.duration(), None);
        assert!(file.segment().find(CUES).is_none() && file.segment().find(SEEK_HEAD).is_none());
        assert_eq!(file.blocks(), written);
    }

    #[test]
    fn file_may_start_inside_the_writer() {
        let mut out = Cursor::new(b"prefix!".to_vec());
        out.seek(SeekFrom::End(0)).unwrap();
        let mut writer = WebmWriter::new(
            out,
            Codec::Opus {
                sample_rate: 16_000,
                channels: 1,
            },
        )
        .unwrap();
        for n in 0..400 {
            writer
                .write_frame(n * 20, true, &opus_packet(0x08, 30, n as u8))
                .unwrap();
        }
        let bytes = writer.finish().unwrap().into_inner();
        assert_eq!(&bytes[..7], b"prefix!");
        let file = File::read(bytes[7..].to_vec());
        file.check_structure();
        assert_eq!(file.blocks().len(), 400);
        assert_eq!(file.duration(), Some((399 * 20 + 20) as f64));
    }

    #[test]
    fn empty_file_has_a_header_and_no_duration() {
        let writer = WebmWriter::new(
            Cursor::new(Vec::new()),
            Codec::Vp8 {
                width: 2,
                height: 2,
            },
        )
        .unwrap();
        let file = File::read(writer.finish().unwrap().into_inner());
        assert_eq!(file.segment().end, file.bytes.len());
        assert_eq!(file.duration(), None);
        assert!(file.clusters().is_empty() && file.segment().find(CUES).is_none());
        let seeks = file.segment().child(SEEK_HEAD).all(SEEK).count();
        assert_eq!(seeks, 2, "Info and Tracks");
    }

    #[test]
    fn only_keyframes_before_the_first_are_dropped() {
        let mut writer = WebmWriter::new(
            Cursor::new(Vec::new()),
            Codec::Vp8 {
                width: 640,
                height: 480,
            },
        )
        .unwrap();
        writer
            .write_frame(0, false, &vp8_frame(false, 50, 0))
            .unwrap();
        writer
            .write_frame(10, true, &vp8_frame(true, 50, 1))
            .unwrap();
        writer
            .write_frame(20, false, &vp8_frame(false, 50, 2))
            .unwrap();
        assert_eq!(
            (writer.dropped_before_keyframe(), writer.frames_written()),
            (1, 2)
        );
        let file = File::read(writer.finish().unwrap().into_inner());
        let times: Vec<_> = file.blocks().iter().map(|b| (b.0, b.1)).collect();
        assert_eq!(times, [(10, true), (20, false)]);
        assert_eq!(
            file.duration(),
            Some(30.0),
            "last interval as the frame duration"
        );
    }

    #[test]
    fn bad_input_is_refused() {
        for channels in [0, 3, 8] {
            let error = WebmWriter::new(
                Cursor::new(Vec::new()),
                Codec::Opus {
                    sample_rate: 48_000,
                    channels,
                },
            );
            assert_eq!(error.unwrap_err().kind(), io::ErrorKind::InvalidInput);
        }
        let error = WebmWriter::new(
            Cursor::new(Vec::new()),
            Codec::Vp8 {
                width: 0,
                height: 480,
            },
        );
        assert_eq!(error.unwrap_err().kind(), io::ErrorKind::InvalidInput);

        let codec = Codec::Opus {
            sample_rate: 48_000,
            channels: 1,
        };
        let mut writer = WebmWriter::new(Cursor::new(Vec::new()), codec).unwrap();
        writer.write_frame(100, true, &[0xFC, 1]).unwrap();
        let error = writer.write_frame(99, true, &[0xFC, 2]).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::InvalidInput);
        let error = writer.write_frame(120, true, &[]).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::InvalidInput);
        // Still usable, and nothing of the refused frames was written.
        writer.write_frame(120, true, &[0xFC, 3]).unwrap();
        let file = File::read(writer.finish().unwrap().into_inner());
        let blocks: Vec<_> = file.blocks().into_iter().map(|b| (b.0, b.2)).collect();
        assert_eq!(blocks, [(100, vec![0xFC, 1]), (120, vec![0xFC, 3])]);
    }

    /// A sink that fails its n-th write.
    struct Failing {
        inner: Cursor<Vec<u8>>,
        writes_left: usize,
    }
    impl Write for Failing {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            if self.writes_left == 0 {
                return Err(io::Error::other("disk full"));
            }
            self.writes_left -= 1;
            self.inner.write(buf)
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
    impl Seek for Failing {
        fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
            self.inner.seek(pos)
        }
    }

    #[test]
    fn a_failed_write_fails_everything_after() {
        // The header, then a Cluster, a block header and a block; the next write fails.
        let out = Failing {
            inner: Cursor::new(Vec::new()),
            writes_left: 4,
        };
        let codec = Codec::Opus {
            sample_rate: 48_000,
            channels: 1,
        };
        let mut writer = WebmWriter::new(out, codec).unwrap();
        let results: Vec<bool> = (0..4)
            .map(|n| writer.write_frame(n * 20, true, &[0xFC, 0]).is_ok())
            .collect();
        assert_eq!(results, [true, false, false, false]);
        assert!(writer.finish().is_err());
    }

    #[test]
    fn ebml_sizes_are_shortest_and_avoid_the_unknown_value() {
        let cases: [(u64, &[u8]); 6] = [
            (0, &[0x80]),
            (126, &[0xFE]),
            (127, &[0x40, 0x7F]),
            (16_382, &[0x7F, 0xFE]),
            (16_383, &[0x20, 0x3F, 0xFF]),
            (
                (1 << 56) - 2,
                &[0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE],
            ),
        ];
        for (size, expected) in cases {
            let mut buf = Vec::new();
            put_size(&mut buf, size);
            assert_eq!(buf, expected, "size {size}");
            assert_eq!(vint(&buf, 0), (size, expected.len(), false));
        }
        for total in [2, 3, 11, 128, 129, 130, 500] {
            let mut buf = Vec::new();
            put_void(&mut buf, total);
            assert_eq!(buf.len(), total);
            let (elements, end) = parse(&buf, 0, buf.len(), &[]);
            assert_eq!((elements.len(), elements[0].id, end), (1, 0xEC, total));
        }
    }

    // ---- Opus TOC and VP8 keyframe ----

    #[test]
    fn opus_durations_from_the_toc() {
        let ms = |toc: u8| opus_frame_duration_ms(&[toc, 0x01, 0xAA]);
        // config << 3 | stereo << 2 | code
        let expected = [
            10, 20, 40, 60, 10, 20, 40, 60, 10, 20, 40, 60, // SILK NB, MB, WB
            10, 20, 10, 20, // hybrid SWB, FB
            3, 5, 10, 20, 3, 5, 10, 20, 3, 5, 10, 20, 3, 5, 10, 20, // CELT, 2.5 ms rounded up
        ];
        for (config, &duration) in expected.iter().enumerate() {
            let toc = (config as u8) << 3;
            assert_eq!(ms(toc), Some(duration), "config {config}");
            assert_eq!(
                ms(toc | 0x04),
                Some(duration),
                "stereo flag does not matter"
            );
        }
        assert_eq!(ms(19 << 3 | 1), Some(40), "code 1: two frames");
        assert_eq!(ms(16 << 3 | 2), Some(5), "code 2: two 2.5 ms frames");
        assert_eq!(
            opus_frame_duration_ms(&[31 << 3 | 3, 0x83]),
            Some(60),
            "code 3: three frames, padding bit"
        );
        assert_eq!(
            opus_frame_duration_ms(&[16 << 3 | 3, 48]),
            Some(120),
            "48 × 2.5 ms"
        );
        assert_eq!(
            opus_frame_duration_ms(&[16 << 3 | 3, 49]),
            None,
            "over 120 ms"
        );
        assert_eq!(opus_frame_duration_ms(&[3 << 3 | 3, 3]), None, "3 × 60 ms");
        assert_eq!(opus_frame_duration_ms(&[3 << 3 | 3, 2]), Some(120));
        assert_eq!(opus_frame_duration_ms(&[31 << 3 | 3, 0]), None, "no frames");
        assert_eq!(
            opus_frame_duration_ms(&[31 << 3 | 3]),
            None,
            "count missing"
        );
        assert_eq!(opus_frame_duration_ms(&[]), None);
    }

    #[test]
    fn vp8_keyframes_are_recognised() {
        assert!(vp8_is_keyframe(&vp8_frame(true, 20, 0)));
        assert!(!vp8_is_keyframe(&vp8_frame(false, 20, 0)));
        let mut no_start_code = vp8_frame(true, 20, 0);
        no_start_code[4] = 0;
        assert!(!vp8_is_keyframe(&no_start_code));
        assert!(!vp8_is_keyframe(&vp8_frame(true, 20, 0)[..9]));
        assert!(!vp8_is_keyframe(&[]));
    }

    // ---- Depacketizer ----

    #[derive(Clone, Copy)]
    enum Descriptor {
        /// One byte: X = 0.
        Short,
        /// X, I with a 7-bit PictureID.
        PictureId7,
        /// X, I with a 15-bit PictureID, L, T and K.
        Full,
    }

    /// Splits `frame` into RTP payloads of at most `chunk` VP8 bytes, as a sender would:
    /// (payload, marker).
    fn packetize(
        frame: &[u8],
        chunk: usize,
        descriptor: Descriptor,
        picture_id: u16,
    ) -> Vec<(Vec<u8>, bool)> {
        let chunks: Vec<&[u8]> = frame.chunks(chunk).collect();
        let last = chunks.len() - 1;
        chunks
            .into_iter()
            .enumerate()
            .map(|(i, data)| {
                let start = if i == 0 { 0x10 } else { 0x00 };
                let mut payload = match descriptor {
                    Descriptor::Short => vec![start],
                    Descriptor::PictureId7 => vec![0x80 | start, 0x80, (picture_id & 0x7F) as u8],
                    Descriptor::Full => {
                        let [high, low] = (0x8000 | picture_id).to_be_bytes();
                        vec![0x80 | 0x20 | start, 0xF0, high, low, 0x17, 0x45]
                    }
                };
                payload.extend_from_slice(data);
                (payload, i == last)
            })
            .collect()
    }

    #[test]
    fn frames_are_rebuilt_from_their_packets() {
        for descriptor in [Descriptor::Short, Descriptor::PictureId7, Descriptor::Full] {
            let mut depacketizer = Vp8Depacketizer::new();
            // Sequence numbers wrap around in the middle of the second frame.
            let mut sequence = 65_530_u16;
            for (n, (keyframe, len)) in [(true, 5_000), (false, 2_400), (false, 900), (false, 1)]
                .into_iter()
                .enumerate()
            {
                let frame = vp8_frame(keyframe, len, n as u32);
                let packets = packetize(&frame, 1_100, descriptor, 300 + n as u16);
                let mut out = Vec::new();
                for (payload, marker) in packets {
                    out.push(depacketizer.push(sequence, &payload, marker));
                    sequence = sequence.wrapping_add(1);
                }
                let (rebuilt, before) = out.split_last().unwrap();
                assert!(before.iter().all(Option::is_none));
                assert_eq!(rebuilt.as_deref(), Some(&frame[..]), "frame {n}");
            }
            assert_eq!(depacketizer.dropped_frames(), 0);
        }
    }

    #[test]
    fn a_frame_missing_a_packet_is_dropped() {
        let mut depacketizer = Vp8Depacketizer::new();
        let first = vp8_frame(true, 4_000, 1);
        let second = vp8_frame(false, 1_500, 2);
        let mut sequence = 10_u16;
        for (i, (payload, marker)) in packetize(&first, 1_000, Descriptor::Full, 1)
            .into_iter()
            .enumerate()
        {
            if i != 2 {
                assert_eq!(depacketizer.push(sequence, &payload, marker), None);
            }
            sequence += 1;
        }
        assert_eq!(depacketizer.dropped_frames(), 1);
        let mut rebuilt = None;
        for (payload, marker) in packetize(&second, 1_000, Descriptor::Full, 2) {
            rebuilt = depacketizer.push(sequence, &payload, marker);
            sequence += 1;
        }
        assert_eq!(rebuilt, Some(second), "the next frame comes through");
    }

    #[test]
    fn a_lost_marker_packet_loses_only_its_frame() {
        let mut depacketizer = Vp8Depacketizer::new();
        let first = packetize(&vp8_frame(true, 3_000, 1), 1_000, Descriptor::Short, 0);
        let second = vp8_frame(false, 800, 2);
        let mut sequence = 0_u16;
        for (payload, _) in &first[..first.len() - 1] {
            assert_eq!(depacketizer.push(sequence, payload, false), None);
            sequence += 1;
        }
        sequence += 1; // the marker packet is lost
        let (payload, marker) = &packetize(&second, 1_000, Descriptor::Short, 0)[0];
        assert_eq!(depacketizer.push(sequence, payload, *marker), Some(second));
        assert_eq!(depacketizer.dropped_frames(), 1);
    }

    #[test]
    fn joining_mid_frame_waits_for_the_next_frame() {
        let mut depacketizer = Vp8Depacketizer::new();
        let first = packetize(
            &vp8_frame(false, 3_000, 1),
            1_000,
            Descriptor::PictureId7,
            5,
        );
        let second = vp8_frame(false, 2_000, 2);
        let mut sequence = 100_u16;
        for (payload, marker) in &first[1..] {
            assert_eq!(depacketizer.push(sequence, payload, *marker), None);
            sequence += 1;
        }
        let mut rebuilt = None;
        for (payload, marker) in packetize(&second, 1_000, Descriptor::PictureId7, 6) {
            rebuilt = depacketizer.push(sequence, &payload, marker);
            sequence += 1;
        }
        assert_eq!(rebuilt, Some(second));
        assert_eq!(
            depacketizer.dropped_frames(),
            0,
            "never begun, so not counted"
        );
    }

    #[test]
    fn duplicates_and_late_packets_are_ignored() {
        let mut depacketizer = Vp8Depacketizer::new();
        let frame = vp8_frame(true, 3_000, 7);
        let packets = packetize(&frame, 1_000, Descriptor::Full, 9);
        assert_eq!(depacketizer.push(1, &packets[0].0, false), None);
        assert_eq!(depacketizer.push(2, &packets[1].0, false), None);
        assert_eq!(
            depacketizer.push(2, &packets[1].0, false),
            None,
            "duplicate"
        );
        assert_eq!(
            depacketizer.push(1, &packets[0].0, false),
            None,
            "late retransmission"
        );
        assert_eq!(depacketizer.push(3, &packets[2].0, true), Some(frame));
        assert_eq!(depacketizer.dropped_frames(), 0);
        // A jump far back is a restart of the numbering, not a late packet.
        let frame = vp8_frame(false, 10, 8);
        let (payload, marker) = &packetize(&frame, 1_000, Descriptor::Short, 0)[0];
        assert_eq!(depacketizer.push(60_000, payload, *marker), Some(frame));
    }

    #[test]
    fn malformed_descriptors_drop_the_frame() {
        let mut depacketizer = Vp8Depacketizer::new();
        let frame = vp8_frame(true, 2_000, 3);
        let packets = packetize(&frame, 1_000, Descriptor::Short, 0);
        assert_eq!(depacketizer.push(1, &packets[0].0, false), None);
        // X set, I set, M set, but the PictureID's second byte and the data are missing.
        assert_eq!(depacketizer.push(2, &[0x80, 0x80, 0x80], true), None);
        assert_eq!(depacketizer.dropped_frames(), 1);
        for payload in [
            &[][..],
            &[0x10],
            &[0x90],
            &[0x90, 0x40],
            &[0x90, 0x10],
            &[0x90, 0x80, 0x05],
        ] {
            assert_eq!(depacketizer.push(3, payload, true), None, "{payload:?}");
            assert_eq!(depacketizer.push(4, payload, true), None, "{payload:?}");
        }
        // A start with PartID 1 is not a frame start.
        assert_eq!(depacketizer.push(5, &[0x11, 0xAA], true), None);
    }

    #[test]
    fn arbitrary_payloads_never_panic() {
        let mut depacketizer = Vp8Depacketizer::new();
        let mut x = 0x1234_5678_u32;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x
        };
        for _ in 0..20_000 {
            let len = (next() % 24) as usize;
            let payload: Vec<u8> = (0..len).map(|_| next() as u8).collect();
            let sequence = (next() % 8) as u16;
            let marker = next() % 3 == 0;
            if let Some(frame) = depacketizer.push(sequence, &payload, marker) {
                assert!(!frame.is_empty());
            }
            let _ = opus_frame_duration_ms(&payload);
            let _ = vp8_is_keyframe(&payload);
        }
    }
}
