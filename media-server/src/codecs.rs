//! The codecs the SFU negotiates, and how a forwarded packet finds its payload type on
//! each subscriber's leg.
//!
//! Forwarding never transcodes, so a subscriber receives a track in the publisher's codec
//! or not at all. Opus, VP8 and H264 (packetization-mode 1, baseline and constrained
//! baseline) are offered — what browsers agree on. No RTX: without it browsers retransmit
//! on the media SSRC itself, which the NACK interceptors handle end to end.

use rtc::peer_connection::configuration::media_engine::{
    MIME_TYPE_H264, MIME_TYPE_OPUS, MIME_TYPE_VP8, MediaEngine,
};
use rtc::rtp_transceiver::rtp_sender::{
    RTCPFeedback, RTCRtpCodec, RTCRtpCodecParameters, RtpCodecKind,
};

/// A media engine with the SFU's codecs (no interceptor feedback yet: see
/// `register_default_interceptors`, which adds NACK/PLI/TWCC feedback to it).
///
/// A monitoring room's connection (`h264_only`) offers Opus and H264 alone: its video is
/// sampled and decoded on the server, with one decoder.
pub(crate) fn media_engine(h264_only: bool) -> Result<MediaEngine, rtc::shared::error::Error> {
    let mut engine = MediaEngine::default();
    for (codec, kind) in codecs() {
        if h264_only
            && codec
                .rtp_codec
                .mime_type
                .eq_ignore_ascii_case(MIME_TYPE_VP8)
        {
            continue;
        }
        engine.register_codec(codec, kind)?;
    }
    Ok(engine)
}

/// The parameters the SFU negotiates a codec with, by payload type (111 Opus, 96 VP8,
/// 102 and 125 H264): what a peer of the SFU — the benchmark's, a test's — registers to
/// have its track forwarded as is.
pub fn codec(payload_type: u8) -> Option<(RTCRtpCodecParameters, RtpCodecKind)> {
    codecs()
        .into_iter()
        .find(|(c, _)| c.payload_type == payload_type)
}

fn codecs() -> Vec<(RTCRtpCodecParameters, RtpCodecKind)> {
    let video_feedback = vec![
        RTCPFeedback {
            typ: "ccm".to_owned(),
            parameter: "fir".to_owned(),
        },
        RTCPFeedback {
            typ: "nack".to_owned(),
            parameter: String::new(),
        },
        RTCPFeedback {
            typ: "nack".to_owned(),
            parameter: "pli".to_owned(),
        },
    ];
    let video = |payload_type: u8, mime: &str, fmtp: &str| {
        (
            RTCRtpCodecParameters {
                rtp_codec: RTCRtpCodec {
                    mime_type: mime.to_owned(),
                    clock_rate: 90_000,
                    channels: 0,
                    sdp_fmtp_line: fmtp.to_owned(),
                    rtcp_feedback: video_feedback.clone(),
                },
                payload_type,
            },
            RtpCodecKind::Video,
        )
    };
    vec![
        (
            RTCRtpCodecParameters {
                rtp_codec: RTCRtpCodec {
                    mime_type: MIME_TYPE_OPUS.to_owned(),
                    clock_rate: 48_000,
                    channels: 2,
                    sdp_fmtp_line: "minptime=10;useinbandfec=1".to_owned(),
                    rtcp_feedback: vec![],
                },
                payload_type: 111,
            },
            RtpCodecKind::Audio,
        ),
        video(96, MIME_TYPE_VP8, ""),
        video(
            102,
            MIME_TYPE_H264,
            "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f",
        ),
        video(
            125,
            MIME_TYPE_H264,
            "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f",
        ),
    ]
}

/// The payload type that carries `codec` on a sender leg whose negotiated codecs are
/// `negotiated`, or `None` when that leg cannot carry it.
///
/// Matching is by MIME type (case-insensitive). H264 must also agree on the packetization
/// mode; among those, an identical `profile-level-id` is preferred.
pub(crate) fn payload_type_for(
    codec: &RTCRtpCodec,
    negotiated: &[RTCRtpCodecParameters],
) -> Option<u8> {
    let same_mime =
        |c: &&RTCRtpCodecParameters| c.rtp_codec.mime_type.eq_ignore_ascii_case(&codec.mime_type);
    if !codec.mime_type.eq_ignore_ascii_case(MIME_TYPE_H264) {
        return negotiated.iter().find(same_mime).map(|c| c.payload_type);
    }
    let mode = fmtp_value(&codec.sdp_fmtp_line, "packetization-mode").unwrap_or("0");
    let profile = fmtp_value(&codec.sdp_fmtp_line, "profile-level-id");
    let candidates: Vec<&RTCRtpCodecParameters> = negotiated
        .iter()
        .filter(same_mime)
        .filter(|c| {
            fmtp_value(&c.rtp_codec.sdp_fmtp_line, "packetization-mode").unwrap_or("0") == mode
        })
        .collect();
    candidates
        .iter()
        .find(|c| {
            profile.is_some_and(|p| {
                fmtp_value(&c.rtp_codec.sdp_fmtp_line, "profile-level-id")
                    .is_some_and(|q| q.eq_ignore_ascii_case(p))
            })
        })
        .or_else(|| candidates.first())
        .map(|c| c.payload_type)
}

/// The value of `key` in an fmtp line such as `a=1;b=2`.
fn fmtp_value<'a>(fmtp: &'a str, key: &str) -> Option<&'a str> {
    fmtp.split(';').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        k.trim().eq_ignore_ascii_case(key).then(|| v.trim())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pt: u8, mime: &str, fmtp: &str) -> RTCRtpCodecParameters {
        RTCRtpCodecParameters {
            rtp_codec: RTCRtpCodec {
                mime_type: mime.to_owned(),
                clock_rate: 90_000,
                channels: 0,
                sdp_fmtp_line: fmtp.to_owned(),
                rtcp_feedback: vec![],
            },
            payload_type: pt,
        }
    }

    #[test]
    fn vp8_and_opus_match_by_mime_type_whatever_the_case() {
        let leg = vec![params(111, "audio/opus", ""), params(100, "video/vp8", "")];
        let vp8 = params(96, MIME_TYPE_VP8, "").rtp_codec;
        assert_eq!(payload_type_for(&vp8, &leg), Some(100));
        let opus = params(109, MIME_TYPE_OPUS, "minptime=10").rtp_codec;
        assert_eq!(payload_type_for(&opus, &leg), Some(111));
        let h264 = params(102, MIME_TYPE_H264, "packetization-mode=1").rtp_codec;
        assert_eq!(payload_type_for(&h264, &leg), None);
    }

    #[test]
    fn h264_needs_the_same_packetization_mode_and_prefers_the_same_profile() {
        let leg = vec![
            params(
                127,
                MIME_TYPE_H264,
                "packetization-mode=0;profile-level-id=42e01f",
            ),
            params(
                102,
                MIME_TYPE_H264,
                "packetization-mode=1;profile-level-id=42001f",
            ),
            params(
                125,
                MIME_TYPE_H264,
                "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f",
            ),
        ];
        let cb = params(
            0,
            MIME_TYPE_H264,
            "profile-level-id=42e01f;packetization-mode=1",
        )
        .rtp_codec;
        assert_eq!(payload_type_for(&cb, &leg), Some(125));
        let high = params(
            0,
            MIME_TYPE_H264,
            "profile-level-id=640032;packetization-mode=1",
        )
        .rtp_codec;
        assert_eq!(payload_type_for(&high, &leg), Some(102));
        let mode0 = params(0, MIME_TYPE_H264, "profile-level-id=42e01f").rtp_codec;
        assert_eq!(payload_type_for(&mode0, &leg), Some(127));
    }

    #[test]
    fn the_engine_registers_opus_vp8_and_h264() {
        let kinds: Vec<String> = codecs()
            .iter()
            .map(|(c, _)| c.rtp_codec.mime_type.clone())
            .collect();
        assert!(kinds.iter().any(|m| m == MIME_TYPE_OPUS));
        assert!(kinds.iter().any(|m| m == MIME_TYPE_VP8));
        assert!(kinds.iter().any(|m| m == MIME_TYPE_H264));
        media_engine(false).expect("codecs register");
        media_engine(true).expect("monitoring codecs register");
    }
}
