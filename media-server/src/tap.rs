//! The interceptor that lets keyframe requests reach the application.
//!
//! In rtc 0.21 inbound RTCP stops at the end of the interceptor chain unless an
//! interceptor marks it `DeliverToApplication`. The SFU must see a subscriber's PLI/FIR to
//! pass it on to the publisher, so this interceptor, placed application-most, keeps the
//! keyframe requests of each inbound RTCP compound packet, marks them, and drops the rest
//! (which the NACK and report interceptors before it have already consumed).

use rtc::interceptor::{Attribute, Interceptor, Packet, Registry, Slot, StreamInfo, TaggedPacket};
use rtc::rtcp;
use rtc::rtcp::payload_feedbacks::full_intra_request::FullIntraRequest;
use rtc::rtcp::payload_feedbacks::picture_loss_indication::PictureLossIndication;
use rtc::sansio::Protocol;
use std::collections::VecDeque;
use std::time::Instant;

/// Application-most: after the jitter buffer (13 000), the last of the default chain.
const TAP_SLOT: usize = 14_000;

/// Adds the keyframe-request tap to `registry`, so that PLI and FIR received about a sent
/// track come out of the connection's `poll_read` as `RTCMessage::RtcpPacket` (in a
/// webrtc-rs client, out of `TrackLocal::poll` as `TrackLocalEvent::OnRtcpPacket`).
///
/// The SFU installs it on every peer connection; a client built with webrtc-rs (the tests)
/// can install it to observe the PLIs the SFU sends.
pub fn with_keyframe_request_tap(registry: Registry) -> Registry {
    registry.with(Slot::from(TAP_SLOT), KeyframeRequestTap::default())
}

/// Whether an RTCP packet asks for a keyframe (PLI or FIR).
pub(crate) fn is_keyframe_request(packet: &dyn rtcp::Packet) -> bool {
    let any = packet.as_any();
    any.is::<PictureLossIndication>() || any.is::<FullIntraRequest>()
}

#[derive(Default)]
struct KeyframeRequestTap {
    reads: VecDeque<TaggedPacket>,
    writes: VecDeque<TaggedPacket>,
}

impl Protocol<TaggedPacket, TaggedPacket, ()> for KeyframeRequestTap {
    type Rout = TaggedPacket;
    type Wout = TaggedPacket;
    type Eout = ();
    type Error = rtc::shared::error::Error;
    type Time = Instant;

    fn handle_read(&mut self, mut msg: TaggedPacket) -> Result<(), Self::Error> {
        if let Packet::Rtcp(packets) = &msg.message.packet {
            let requests: Vec<Box<dyn rtcp::Packet>> = packets
                .iter()
                .filter(|p| is_keyframe_request(p.as_ref()))
                .cloned()
                .collect();
            if requests.is_empty() {
                return Ok(());
            }
            msg.message.packet = Packet::Rtcp(requests);
            msg.message.add(Attribute::DeliverToApplication);
        }
        self.reads.push_back(msg);
        Ok(())
    }

    fn poll_read(&mut self) -> Option<TaggedPacket> {
        self.reads.pop_front()
    }

    fn handle_write(&mut self, msg: TaggedPacket) -> Result<(), Self::Error> {
        self.writes.push_back(msg);
        Ok(())
    }

    fn poll_write(&mut self) -> Option<TaggedPacket> {
        self.writes.pop_front()
    }
}

impl Interceptor for KeyframeRequestTap {
    fn bind_local_stream(&mut self, _info: &StreamInfo) {}
    fn unbind_local_stream(&mut self, _info: &StreamInfo) {}
    fn bind_remote_stream(&mut self, _info: &StreamInfo) {}
    fn unbind_remote_stream(&mut self, _info: &StreamInfo) {}
}
