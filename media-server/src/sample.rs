//! The frame tap: sampled video frames of monitoring rooms, for the proctoring vision.
//!
//! A monitoring room (joined as [`RoomKind::Monitoring`]) holds one candidate
//! publishing their camera during the written test; nobody subscribes. Its connections
//! negotiate H264 only, so that every sample decodes with one decoder. The sampler is one
//! more consumer of the track's fan-out: when a sample is due it asks the publisher for a
//! keyframe (PLI), depacketizes packets only until that keyframe's access unit is
//! complete, and hands it — Annex B, SPS and PPS included — to the [`FrameTap`]. Between
//! samples packets only update the time of the last one: decoding exactly what is
//! sampled costs one intra frame a sample instead of decoding the whole stream.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::keyframe::KeyframeRequests;
use rtc::rtp;

/// What a room is for, fixed when its first participant joins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoomKind {
    /// An oral interview: forwarded between its participants and recorded.
    Interview,
    /// A candidate's camera during the written test: H264 only, sampled for the
    /// [`FrameTap`], neither forwarded nor recorded.
    Monitoring,
}

/// A sampled keyframe.
#[derive(Debug, Clone)]
pub struct SampledFrame {
    /// When its first packet arrived, unix ms.
    pub at_ms: i64,
    /// One H264 access unit in Annex B form (start codes), SPS and PPS first.
    pub annex_b: Vec<u8>,
}

/// Where sampled frames go (the binary hands them to the vision workers). Called on the
/// media runtime: it must not block.
pub trait FrameTap: Send + Sync + 'static {
    /// How often to sample a room's video.
    fn interval(&self, room: &str) -> Duration;
    /// A sampled frame of `participant` in `room`.
    fn frame(&self, room: &str, participant: &str, frame: SampledFrame);
}

fn unix_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// Rebuilds H264 access units from RTP payloads (RFC 6184: single NAL units, STAP-A,
/// FU-A) as Annex B. Remembers the last SPS and PPS, and puts them before an IDR that
/// comes without them.
///
/// Written here rather than taken from `rtc` (whose VP8 depacketizer the recorder uses):
/// rtc 0.21.1's `H264Packet` indexes past the end of a STAP-A that ends with one stray
/// byte — a remote peer could panic the sampler with one packet — and appends an FU-A
/// fragment whose start was lost to a fresh buffer. Both are tested below.
#[derive(Debug, Default)]
pub struct H264Depacketizer {
    unit: Vec<u8>,
    fragment: Option<Vec<u8>>,
    broken: bool,
    has_idr: bool,
    has_params: bool,
    sps: Option<Vec<u8>>,
    pps: Option<Vec<u8>>,
    last_sequence: Option<u16>,
}

const START: [u8; 4] = [0, 0, 0, 1];

impl H264Depacketizer {
    fn nal(&mut self, nal: &[u8]) {
        let Some(&header) = nal.first() else { return };
        match header & 0x1f {
            5 => self.has_idr = true,
            7 => {
                self.sps = Some(nal.to_vec());
                self.has_params = true;
            }
            8 => {
                self.pps = Some(nal.to_vec());
                self.has_params = true;
            }
            _ => {}
        }
        self.unit.extend_from_slice(&START);
        self.unit.extend_from_slice(nal);
    }

    /// Takes one packet; returns `(access unit, is_keyframe)` when `marker` ends a
    /// complete one. A unit with a lost packet is dropped.
    pub fn push(&mut self, sequence: u16, payload: &[u8], marker: bool) -> Option<(Vec<u8>, bool)> {
        if let Some(last) = self.last_sequence
            && sequence != last.wrapping_add(1)
        {
            self.broken = true;
            self.fragment = None;
        }
        self.last_sequence = Some(sequence);
        if let Some(&header) = payload.first() {
            match header & 0x1f {
                1..=23 => self.nal(payload),
                24 => {
                    // STAP-A: 16-bit sizes, then NAL units.
                    let mut rest = &payload[1..];
                    while rest.len() >= 2 {
                        let size = usize::from(u16::from_be_bytes([rest[0], rest[1]]));
                        if rest.len() < 2 + size {
                            self.broken = true;
                            break;
                        }
                        let nal = rest[2..2 + size].to_vec();
                        self.nal(&nal);
                        rest = &rest[2 + size..];
                    }
                }
                28 if payload.len() >= 2 => {
                    // FU-A: the indicator's F/NRI with the header's type.
                    let fu = payload[1];
                    let (start, end) = (fu & 0x80 != 0, fu & 0x40 != 0);
                    if start {
                        let mut nal = vec![(header & 0xe0) | (fu & 0x1f)];
                        nal.extend_from_slice(&payload[2..]);
                        self.fragment = Some(nal);
                    } else if let Some(f) = &mut self.fragment {
                        f.extend_from_slice(&payload[2..]);
                    } else {
                        self.broken = true;
                    }
                    if end && let Some(nal) = self.fragment.take() {
                        self.nal(&nal);
                    }
                }
                _ => {} // STAP-B, MTAP, FU-B: not in packetization-mode 1 from browsers
            }
        }
        if !marker {
            return None;
        }
        let mut unit = std::mem::take(&mut self.unit);
        let (broken, idr, params) = (self.broken, self.has_idr, self.has_params);
        self.broken = false;
        self.has_idr = false;
        self.has_params = false;
        self.fragment = None;
        if broken || unit.is_empty() {
            return None;
        }
        if idr && !params {
            let (Some(sps), Some(pps)) = (&self.sps, &self.pps) else {
                return Some((unit, false)); // not decodable on its own
            };
            let mut with = Vec::with_capacity(unit.len() + sps.len() + pps.len() + 8);
            for nal in [sps, pps] {
                with.extend_from_slice(&START);
                with.extend_from_slice(nal);
            }
            with.append(&mut unit);
            unit = with;
        }
        Some((unit, idr))
    }
}

/// Samples one published H264 track.
pub(crate) struct Sampler {
    tap: Arc<dyn FrameTap>,
    room: String,
    participant: String,
    interval: Duration,
    keyframes: Option<KeyframeRequests>,
    depacketizer: H264Depacketizer,
    next_due: Instant,
    /// When a keyframe was asked for, while waiting for it.
    requested: Option<Instant>,
    first_packet_ms: Option<i64>,
}

/// A keyframe that has not come by then is asked for again.
const KEYFRAME_RETRY: Duration = Duration::from_millis(800);

impl Sampler {
    pub(crate) fn new(
        tap: Arc<dyn FrameTap>,
        room: &str,
        participant: &str,
        keyframes: Option<KeyframeRequests>,
    ) -> Sampler {
        let interval = tap.interval(room);
        Sampler {
            tap,
            room: room.to_owned(),
            participant: participant.to_owned(),
            interval,
            keyframes,
            depacketizer: H264Depacketizer::default(),
            next_due: Instant::now(),
            requested: None,
            first_packet_ms: None,
        }
    }

    fn ask_keyframe(&mut self, now: Instant) {
        self.requested = Some(now);
        if let Some(k) = &self.keyframes {
            k.request();
        }
    }

    pub(crate) fn push(&mut self, packet: &rtp::Packet) {
        let now = Instant::now();
        match self.requested {
            None if now >= self.next_due => {
                self.ask_keyframe(now);
                // The request's answer comes later; this packet may already start an IDR
                // (the publisher's own periodic keyframe): depacketize from here on.
            }
            None => return,
            Some(at) if now.duration_since(at) >= KEYFRAME_RETRY => self.ask_keyframe(now),
            Some(_) => {}
        }
        self.first_packet_ms.get_or_insert_with(unix_ms);
        let done = self.depacketizer.push(
            packet.header.sequence_number,
            &packet.payload,
            packet.header.marker,
        );
        let Some((unit, keyframe)) = done else { return };
        let at_ms = self.first_packet_ms.take().unwrap_or_else(unix_ms);
        if !keyframe {
            return;
        }
        let asked = self.requested.take().unwrap_or(now);
        // The next sample is due one interval after this one was due (not after the
        // packet that noticed it, which comes up to a frame late), so the rate holds
        // whatever the frame rate and the keyframe's delay; after a long wait, at once.
        self.next_due = (self.next_due + self.interval).max(asked);
        self.depacketizer = H264Depacketizer {
            sps: self.depacketizer.sps.take(),
            pps: self.depacketizer.pps.take(),
            ..H264Depacketizer::default()
        };
        self.tap.frame(
            &self.room,
            &self.participant,
            SampledFrame {
                at_ms,
                annex_b: unit,
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stap_a_with_a_stray_byte_or_a_headless_fragment_is_survived() {
        let mut d = H264Depacketizer::default();
        // One NAL of two bytes, then a lone byte where a size should be.
        let stap = [24u8, 0x00, 0x02, 0x41, 0x9a, 0x07];
        let (unit, key) = d.push(1, &stap, true).expect("the whole NAL is kept");
        assert_eq!(unit, [0, 0, 0, 1, 0x41, 0x9a]);
        assert!(!key);
        // An FU-A middle fragment with no start: the unit is dropped, not corrupted.
        assert_eq!(d.push(2, &[28, 0x05, 0xaa, 0xbb], true), None);
        // And the next unit decodes again.
        assert!(d.push(3, &[0x41, 0x9a, 0x01], true).is_some());
    }

    #[test]
    fn single_stap_a_and_fu_a_packets_make_annex_b_units() {
        let mut d = H264Depacketizer::default();
        let sps = [0x67, 1, 2, 3];
        let pps = [0x68, 4];
        let mut stap = vec![24u8];
        for nal in [&sps[..], &pps[..]] {
            stap.extend_from_slice(&(nal.len() as u16).to_be_bytes());
            stap.extend_from_slice(nal);
        }
        assert!(d.push(10, &stap, false).is_none());
        // An IDR slice (type 5, NRI 3) in three fragments.
        assert!(d.push(11, &[0x7c, 0x80 | 5, 0xa, 0xb], false).is_none());
        assert!(d.push(12, &[0x7c, 5, 0xc], false).is_none());
        let (unit, key) = d.push(13, &[0x7c, 0x40 | 5, 0xd], true).unwrap();
        assert!(key);
        assert_eq!(
            unit,
            [
                &START[..],
                &sps,
                &START,
                &pps,
                &START,
                &[0x65, 0xa, 0xb, 0xc, 0xd]
            ]
            .concat()
        );
        // A delta frame as a single NAL unit.
        let (unit, key) = d.push(14, &[0x41, 9, 9], true).unwrap();
        assert!(!key);
        assert_eq!(unit, [&START[..], &[0x41, 9, 9]].concat());
    }

    #[test]
    fn a_lost_packet_drops_the_unit_and_an_idr_alone_gets_the_last_parameters() {
        let mut d = H264Depacketizer::default();
        assert!(d.push(1, &[0x67, 1], false).is_none());
        assert!(d.push(2, &[0x68, 2], false).is_none());
        assert!(d.push(3, &[0x7c, 0x80 | 5, 1], false).is_none());
        // 4 is lost.
        assert!(d.push(5, &[0x7c, 0x40 | 5, 3], true).is_none());
        // The next IDR comes without SPS/PPS: they are put back in front.
        let (unit, key) = d.push(6, &[0x65, 7], true).unwrap();
        assert!(key);
        assert_eq!(
            unit,
            [
                &START[..],
                &[0x67, 1],
                &START,
                &[0x68, 2],
                &START,
                &[0x65, 7]
            ]
            .concat()
        );
        // A sequence wrap is not a loss.
        let mut d = H264Depacketizer::default();
        assert!(d.push(65_535, &[0x41, 1], true).is_some());
        assert!(d.push(0, &[0x41, 1], true).is_some());
    }
}
