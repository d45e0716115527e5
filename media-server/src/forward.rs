//! Forwarding: one published track, fanned out to a down-track per subscriber.
//!
//! ```text
//! publisher ─RTP─▶ TrackRemote ──read loop──▶ PublishedTrack::fan_out
//!                                                 │ try_send (bounded queue per subscriber:
//!                                                 ▼  a slow subscriber loses packets, others don't wait)
//!                                  write loop: SSRC, payload type rewritten, header
//!                                  extensions dropped ─▶ TrackLocalStaticRTP ─RTP─▶ subscriber
//!                                                 │ try_send (bounded, own queue)
//!                                                 ▼
//!                                  recorder (when recording; see `recording`) ─▶ WebM file
//! subscriber ─PLI/FIR─▶ tap ─▶ feedback loop ─┐
//! new subscriber live ────────────────────────┴─▶ keyframe loop (merged, ≤ 1 per 500 ms) ─PLI─▶ publisher
//! ```
//!
//! Payloads and sequence numbers pass untouched; the SSRC and payload type are those the
//! subscriber's leg negotiated; header extension ids are per leg, so they are dropped rather
//! than forwarded wrong.

use crate::codecs::payload_type_for;
use crate::keyframe::{KEYFRAME_INTERVAL, KeyframeLimiter};
use crate::peer::Participant;
use crate::recording::{Recorder, Target};
use crate::sample::{RoomKind, Sampler};
use crate::sfu::{Inner, lock};
use crate::tap::is_keyframe_request;
use rtc::media_stream::MediaStreamTrack;
use rtc::peer_connection::configuration::media_engine::MIME_TYPE_H264;
use rtc::rtcp::payload_feedbacks::picture_loss_indication::PictureLossIndication;
use rtc::rtp;
use rtc::rtp_transceiver::rtp_sender::{
    RTCRtpCodec, RTCRtpCodingParameters, RTCRtpEncodingParameters, RtpCodecKind,
};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Instant;
use tokio::sync::{mpsc, watch};
use tracing::{debug, warn};
use webrtc::media_stream::track_local::static_rtp::TrackLocalStaticRTP;
use webrtc::media_stream::track_local::{TrackLocal, TrackLocalEvent};
use webrtc::media_stream::track_remote::{TrackRemote, TrackRemoteEvent};
use webrtc::rtp_transceiver::{
    RTCRtpTransceiverDirection, RTCRtpTransceiverInit, RtpSender, RtpTransceiver,
};

/// Packets queued per subscriber before the newest are dropped (≈ 1 s of 720p video).
const DOWN_TRACK_QUEUE: usize = 512;

/// A track a participant publishes, and where it goes.
pub(crate) struct PublishedTrack {
    pub(crate) room: String,
    pub(crate) publisher: String,
    pub(crate) publisher_session: u64,
    kind: RtpCodecKind,
    codec: RTCRtpCodec,
    track_id: String,
    /// Requests for a keyframe from the publisher (video only); capacity 1, so requests
    /// made while one is queued merge into it.
    keyframes: Option<mpsc::Sender<()>>,
    fanout: Mutex<Fanout>,
}

#[derive(Default)]
struct Fanout {
    /// Set once the track is unpublished: no down-track may be added after that.
    closed: bool,
    down: Vec<DownTrack>,
    /// The track's recording, when the SFU records and WebM can hold the codec.
    recorder: Option<Recorder>,
    /// The frame sampler of a monitoring room's video.
    sampler: Option<Sampler>,
}

/// The forwarding of one published track to one subscriber.
pub(crate) struct DownTrack {
    subscriber: Weak<Participant>,
    subscriber_session: u64,
    packets: mpsc::Sender<rtp::Packet>,
    sender: Arc<dyn RtpSender>,
}

impl PublishedTrack {
    fn fan_out(&self, packet: &rtp::Packet) {
        let mut fanout = lock(&self.fanout);
        if let Some(sampler) = &mut fanout.sampler {
            sampler.push(packet);
        }
        for down in &fanout.down {
            if down.packets.try_send(packet.clone()).is_err() {
                debug!("down-track queue full or closed; packet dropped");
            }
        }
        if let Some(recorder) = &fanout.recorder {
            recorder.push(packet);
        }
    }

    /// Stops forwarding to the participant with `session` (which is leaving).
    pub(crate) fn drop_subscriber(&self, session: u64) {
        lock(&self.fanout)
            .down
            .retain(|d| d.subscriber_session != session);
    }
}

impl Inner {
    /// Runs for as long as `remote` (published by `publisher` in `room`) lives: announces the
    /// track, subscribes every other participant of the room to it, and forwards its packets.
    pub(crate) async fn publish(
        self: Arc<Self>,
        room: String,
        publisher: String,
        session: u64,
        remote: Arc<dyn TrackRemote>,
    ) {
        let Some(media_ssrc) = remote.ssrcs().await.first().copied() else {
            warn!("published track has no SSRC; ignored");
            return;
        };
        // webrtc-rs 0.21 may hand over a track whose codec a renegotiation running at the same
        // time wiped (its codings are re-read from the SDP, without codecs). The first packet's
        // payload type, looked up in the receiver's negotiated codecs, tells it then.
        let mut first_packet = None;
        let codec = match remote.codec(media_ssrc).await {
            Some(codec) => codec,
            None => {
                let Some(packet) = first_rtp_packet(remote.as_ref()).await else {
                    return; // ended before its first packet
                };
                let pt = packet.header.payload_type;
                let Some(codec) = self.negotiated_codec(&room, &publisher, &remote, pt).await
                else {
                    warn!(pt, "published track has no codec; ignored");
                    return;
                };
                debug!(pt, "codec taken from the first packet's payload type");
                first_packet = Some(packet);
                codec
            }
        };
        let kind = remote.kind().await;
        let keyframes = (kind == RtpCodecKind::Video).then(|| {
            let (tx, rx) = mpsc::channel(1);
            tokio::spawn(keyframe_loop(
                Arc::clone(&remote),
                media_ssrc,
                rx,
                Arc::clone(&self.plis_sent),
            ));
            tx
        });
        let track = Arc::new(PublishedTrack {
            room: room.clone(),
            publisher: publisher.clone(),
            publisher_session: session,
            kind,
            codec,
            track_id: remote.track_id().await,
            keyframes,
            fanout: Mutex::new(Fanout::default()),
        });
        debug!(%room, %publisher, mime = %track.codec.mime_type, "track published");

        let (room_kind, subscribers): (RoomKind, Vec<Arc<Participant>>) = {
            let mut rooms = lock(&self.rooms);
            let Some(r) = rooms.get_mut(&room) else {
                return;
            };
            if r.participants.get(&publisher).map(|p| p.session) != Some(session) {
                return; // the publisher left meanwhile
            }
            r.tracks.push(Arc::clone(&track));
            let others = r
                .participants
                .values()
                .filter(|p| p.session != session)
                .cloned()
                .collect();
            (r.kind, others)
        };
        if let Some(tap) = &self.config.frame_tap
            && room_kind == RoomKind::Monitoring
            && kind == RtpCodecKind::Video
            && track.codec.mime_type.eq_ignore_ascii_case(MIME_TYPE_H264)
        {
            lock(&track.fanout).sampler = Some(Sampler::new(
                Arc::clone(tap),
                &room,
                &publisher,
                track.keyframes.clone(),
            ));
        }
        if let Some(dir) = &self.config.recordings
            && room_kind == RoomKind::Interview
        {
            let target = Target::new(dir, &room, &publisher, kind);
            let recorder = Recorder::start(
                target,
                &track.codec,
                track.keyframes.clone(),
                Arc::clone(&self.recorder_dropped),
            );
            let unpublished = {
                let mut fanout = lock(&track.fanout);
                if fanout.closed {
                    recorder
                } else {
                    fanout.recorder = recorder;
                    None
                }
            };
            if let Some(recorder) = unpublished {
                recorder.finish().await; // nothing was recorded: no file
            }
        }
        for subscriber in subscribers {
            if let Err(err) = self.subscribe(&subscriber, &track).await {
                warn!(%err, "could not subscribe a participant to a track");
            }
        }

        if let Some(packet) = first_packet {
            track.fan_out(&packet);
        }
        while let Some(event) = remote.poll().await {
            match event {
                TrackRemoteEvent::OnRtpPacket(packet) => track.fan_out(&packet),
                TrackRemoteEvent::OnEnded => break,
                _ => {}
            }
        }
        self.unpublish(&track).await;
    }

    /// The codec `publisher`'s connection negotiated at payload type `pt` for the receiver
    /// of `remote`.
    async fn negotiated_codec(
        &self,
        room: &str,
        publisher: &str,
        remote: &Arc<dyn TrackRemote>,
        pt: u8,
    ) -> Option<RTCRtpCodec> {
        let p = lock(&self.rooms).participant(room, publisher).cloned()?;
        for receiver in p.pc.get_receivers().await {
            if !Arc::ptr_eq(receiver.track(), remote) {
                continue;
            }
            let parameters = receiver.get_parameters().await.ok()?;
            return parameters
                .rtp_parameters
                .codecs
                .into_iter()
                .find(|c| c.payload_type == pt)
                .map(|c| c.rtp_codec);
        }
        None
    }

    /// Adds a down-track of `track` to `subscriber`'s connection and renegotiates.
    pub(crate) async fn subscribe(
        self: &Arc<Self>,
        subscriber: &Arc<Participant>,
        track: &Arc<PublishedTrack>,
    ) -> Result<(), crate::SfuError> {
        let ssrc = rand::random::<u32>();
        // Stream id = publisher id, so a browser groups a participant's audio and video.
        let local = Arc::new(TrackLocalStaticRTP::new(MediaStreamTrack::new(
            track.publisher.clone(),
            format!("{}:{}", track.publisher, track.track_id),
            track.track_id.clone(),
            track.kind,
            vec![RTCRtpEncodingParameters {
                rtp_coding_parameters: RTCRtpCodingParameters {
                    ssrc: Some(ssrc),
                    ..Default::default()
                },
                active: true,
                codec: track.codec.clone(),
                ..Default::default()
            }],
        )));
        let transceiver = subscriber
            .pc
            .add_transceiver_from_track(
                Arc::clone(&local) as Arc<dyn TrackLocal>,
                Some(RTCRtpTransceiverInit {
                    direction: RTCRtpTransceiverDirection::Sendonly,
                    streams: vec![],
                    send_encodings: vec![],
                }),
            )
            .await?;
        let sender = transceiver
            .sender()
            .await?
            .ok_or(webrtc::error::Error::ErrRTPSenderNotExisted)?;

        let (packets, rx) = mpsc::channel(DOWN_TRACK_QUEUE);
        let down = DownTrack {
            subscriber: Arc::downgrade(subscriber),
            subscriber_session: subscriber.session,
            packets,
            sender: Arc::clone(&sender),
        };
        let unpublished = {
            let mut fanout = lock(&track.fanout);
            if !fanout.closed {
                fanout.down.push(down);
            }
            fanout.closed
        };
        if unpublished {
            subscriber.pc.remove_track(&sender).await?;
            return Ok(());
        }
        tokio::spawn(write_loop(WriteLoop {
            local: Arc::clone(&local),
            packets: rx,
            transceiver,
            sender,
            codec: track.codec.clone(),
            ssrc,
            answers: subscriber.answers.subscribe(),
            keyframes: track.keyframes.clone(),
            forwarded: Arc::clone(&self.forwarded),
        }));
        if let Some(keyframes) = &track.keyframes {
            tokio::spawn(feedback_loop(local, keyframes.clone()));
        }
        let offer_now = lock(&subscriber.negotiation).changed();
        if offer_now {
            self.negotiate(subscriber).await;
        }
        Ok(())
    }

    /// Ends the forwarding of `track`: removes it from its room and from every subscriber's
    /// connection (each of which is then renegotiated), and finishes its recording — when
    /// this returns, the file is complete. Idempotent.
    pub(crate) async fn unpublish(self: &Arc<Self>, track: &Arc<PublishedTrack>) {
        if let Some(room) = lock(&self.rooms).get_mut(&track.room) {
            room.tracks.retain(|t| !Arc::ptr_eq(t, track));
        }
        let (down, recorder) = {
            let mut fanout = lock(&track.fanout);
            fanout.closed = true;
            (std::mem::take(&mut fanout.down), fanout.recorder.take())
        };
        for d in down {
            let Some(subscriber) = d.subscriber.upgrade() else {
                continue;
            };
            drop(d.packets);
            if subscriber.pc.remove_track(&d.sender).await.is_err() {
                continue; // its connection is closing
            }
            let offer_now = lock(&subscriber.negotiation).changed();
            if offer_now {
                self.negotiate(&subscriber).await;
            }
        }
        if let Some(recorder) = recorder {
            recorder.finish().await;
        }
    }
}

/// Waits for `remote`'s first RTP packet; `None` if the track ends first.
async fn first_rtp_packet(remote: &dyn TrackRemote) -> Option<rtp::Packet> {
    while let Some(event) = remote.poll().await {
        match event {
            TrackRemoteEvent::OnRtpPacket(packet) => return Some(packet),
            TrackRemoteEvent::OnEnded => return None,
            _ => {}
        }
    }
    None
}

/// Points a forwarded packet at a subscriber's leg.
pub(crate) fn rewrite(packet: &mut rtp::Packet, ssrc: u32, payload_type: u8) {
    let header = &mut packet.header;
    header.ssrc = ssrc;
    header.payload_type = payload_type;
    header.extension = false;
    header.extension_profile = 0;
    header.extensions.clear();
    header.extensions_padding = 0;
}

struct WriteLoop {
    local: Arc<TrackLocalStaticRTP>,
    packets: mpsc::Receiver<rtp::Packet>,
    transceiver: Arc<dyn RtpTransceiver>,
    sender: Arc<dyn RtpSender>,
    codec: RTCRtpCodec,
    ssrc: u32,
    answers: watch::Receiver<u64>,
    keyframes: Option<mpsc::Sender<()>>,
    forwarded: Arc<AtomicU64>,
}

impl WriteLoop {
    /// The payload type of the forwarded codec on this leg, once the leg sends.
    async fn resolve_payload_type(&self) -> Option<u8> {
        let direction = self.transceiver.current_direction().await.ok()?;
        if !direction.has_send() {
            return None;
        }
        let parameters = self.sender.get_parameters().await.ok()?;
        let pt = payload_type_for(&self.codec, &parameters.rtp_parameters.codecs);
        if pt.is_none() {
            warn!(mime = %self.codec.mime_type, "subscriber cannot receive this codec; not forwarded");
        }
        pt
    }
}

/// Writes a down-track's packets once its leg is negotiated. Until the subscriber answered
/// an offer carrying it, packets are dropped: without the keyframe requested when the leg
/// goes live they could not be decoded anyway.
async fn write_loop(mut w: WriteLoop) {
    let mut payload_type = None;
    while let Some(mut packet) = w.packets.recv().await {
        if payload_type.is_none() && w.answers.has_changed().unwrap_or(false) {
            w.answers.borrow_and_update();
            payload_type = w.resolve_payload_type().await;
            if payload_type.is_some()
                && let Some(keyframes) = &w.keyframes
            {
                let _ = keyframes.try_send(());
            }
        }
        let Some(pt) = payload_type else {
            continue;
        };
        rewrite(&mut packet, w.ssrc, pt);
        if w.local.write_rtp(packet).await.is_err() {
            break; // unbound: the track was removed or the connection closed
        }
        w.forwarded.fetch_add(1, Ordering::Relaxed);
    }
}

/// Passes a subscriber's keyframe requests (PLI/FIR, let through by the tap) upstream.
async fn feedback_loop(local: Arc<TrackLocalStaticRTP>, keyframes: mpsc::Sender<()>) {
    while let Some(event) = local.poll().await {
        if let TrackLocalEvent::OnRtcpPacket(packets) = event
            && packets.iter().any(|p| is_keyframe_request(p.as_ref()))
        {
            // Full means a request is already queued: this one merges into it.
            let _ = keyframes.try_send(());
        }
    }
}

/// Sends PLIs to a publisher's video track, at most one per [`KEYFRAME_INTERVAL`]; ends
/// when every holder of a request sender is gone or the publisher's connection is.
async fn keyframe_loop(
    remote: Arc<dyn TrackRemote>,
    media_ssrc: u32,
    mut requests: mpsc::Receiver<()>,
    plis_sent: Arc<AtomicU64>,
) {
    let mut limiter = KeyframeLimiter::new(KEYFRAME_INTERVAL);
    loop {
        let send = match limiter.poll_timeout() {
            Some(due) => tokio::select! {
                request = requests.recv() => match request {
                    Some(()) => limiter.request(Instant::now()),
                    None => break,
                },
                () = tokio::time::sleep_until(due.into()) => limiter.handle_timeout(Instant::now()),
            },
            None => match requests.recv().await {
                Some(()) => limiter.request(Instant::now()),
                None => break,
            },
        };
        if send {
            let pli = PictureLossIndication {
                sender_ssrc: 0,
                media_ssrc,
            };
            if remote.write_rtcp(vec![Box::new(pli)]).await.is_err() {
                break;
            }
            plis_sent.fetch_add(1, Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rtc::rtp::header::{Extension, Header};

    #[test]
    fn rewrite_keeps_payload_and_sequence_and_drops_extensions() {
        let mut packet = rtp::Packet {
            header: Header {
                version: 2,
                marker: true,
                payload_type: 96,
                sequence_number: 4242,
                timestamp: 90_000,
                ssrc: 1,
                extension: true,
                extension_profile: 0xBEDE,
                extensions: vec![Extension {
                    id: 3,
                    payload: vec![1, 2].into(),
                }],
                ..Default::default()
            },
            payload: vec![9, 8, 7].into(),
        };
        rewrite(&mut packet, 77, 100);
        assert_eq!(packet.header.ssrc, 77);
        assert_eq!(packet.header.payload_type, 100);
        assert_eq!(packet.header.sequence_number, 4242);
        assert_eq!(packet.header.timestamp, 90_000);
        assert!(packet.header.marker);
        assert!(!packet.header.extension);
        assert!(packet.header.extensions.is_empty());
        assert_eq!(&packet.payload[..], &[9, 8, 7]);
    }
}
