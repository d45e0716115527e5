//! H264 for the proctoring pipeline: the decoder the vision workers use on sampled
//! keyframes (openh264, built from its bundled source), and an encoder for the tests and
//! the benchmark (a peer publishing real encoded video).

use openh264::decoder::Decoder;
use openh264::encoder::Encoder;
use openh264::formats::{RgbSliceU8, YUVBuffer, YUVSource};
use vision::image::{I420, Rgb};

/// Decodes one access unit at a time (a sampled IDR with its SPS and PPS).
pub(crate) struct H264Decoder(Decoder);

/// Why an access unit gave no picture.
#[derive(Debug, thiserror::Error)]
pub(crate) enum H264Error {
    /// The decoder refused the bytes.
    #[error("H264: {0}")]
    Decode(#[from] openh264::Error),
    /// The access unit holds no complete picture.
    #[error("H264: the access unit gave no picture")]
    NoPicture,
}

impl H264Decoder {
    pub(crate) fn new() -> Result<H264Decoder, String> {
        Decoder::new().map(H264Decoder).map_err(|e| e.to_string())
    }
}

impl vision::pipeline::Decode for H264Decoder {
    type Input = Vec<u8>;
    type Error = H264Error;

    fn decode(&mut self, access_unit: Vec<u8>) -> Result<Rgb, H264Error> {
        let picture = self.0.decode(&access_unit)?.ok_or(H264Error::NoPicture)?;
        let (w, h) = picture.dimensions();
        let (ys, us, vs) = picture.strides();
        let frame = I420 {
            width: w as u32,
            height: h as u32,
            y: (picture.y(), ys),
            u: (picture.u(), us),
            v: (picture.v(), vs),
        };
        // The detector works at 320 wide: a 640-wide camera is converted at half size.
        Ok(if w >= 640 {
            frame.to_rgb_half()
        } else {
            frame.to_rgb(w as u32, h as u32)
        })
    }
}

/// Encodes pictures to H264 access units (Annex B).
pub(crate) struct H264Encoder(Encoder);

impl H264Encoder {
    pub(crate) fn new() -> Result<H264Encoder, String> {
        Encoder::new().map(H264Encoder).map_err(|e| e.to_string())
    }

    /// An encoder holding `kbps` at `fps` frames a second, with an IDR every
    /// `intra_period` frames (as a browser's encoder under the server's periodic keyframe
    /// requests).
    pub(crate) fn with_rate(kbps: u32, fps: u32, intra_period: u32) -> Result<H264Encoder, String> {
        use openh264::encoder::{
            BitRate, EncoderConfig, FrameRate, IntraFramePeriod, RateControlMode,
        };
        let config = EncoderConfig::new()
            .bitrate(BitRate::from_bps(kbps * 1000))
            .max_frame_rate(FrameRate::from_hz(fps as f32))
            .rate_control_mode(RateControlMode::Bitrate)
            .skip_frames(true)
            .intra_frame_period(IntraFramePeriod::from_num_frames(intra_period));
        Encoder::with_api_config(openh264::OpenH264API::from_source(), config)
            .map(H264Encoder)
            .map_err(|e| e.to_string())
    }

    /// The access unit of `img` shown at `at_ms` into the stream (for rate control); an
    /// IDR when `keyframe`.
    pub(crate) fn encode_at(
        &mut self,
        img: &Rgb,
        at_ms: u64,
        keyframe: bool,
    ) -> Result<Vec<u8>, String> {
        if keyframe {
            self.0.force_intra_frame();
        }
        let rgb = RgbSliceU8::new(&img.data, (img.width as usize, img.height as usize));
        let yuv = YUVBuffer::from_rgb8_source(rgb);
        let out = self
            .0
            .encode_at(&yuv, openh264::Timestamp::from_millis(at_ms))
            .map_err(|e| e.to_string())?;
        Ok(out.to_vec())
    }

    /// The access unit of `img`; an IDR (with SPS and PPS) when `keyframe`.
    pub(crate) fn encode(&mut self, img: &Rgb, keyframe: bool) -> Result<Vec<u8>, String> {
        if keyframe {
            self.0.force_intra_frame();
        }
        let rgb = RgbSliceU8::new(&img.data, (img.width as usize, img.height as usize));
        let yuv = YUVBuffer::from_rgb8_source(rgb);
        let out = self.0.encode(&yuv).map_err(|e| e.to_string())?;
        Ok(out.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vision::pipeline::Decode;

    #[test]
    fn an_encoded_keyframe_decodes_alone_to_the_same_picture() {
        let mut img = Rgb::filled(640, 480, [40, 120, 200]);
        img.paste(&Rgb::filled(200, 100, [250, 250, 20]), 100, 300);
        let mut enc = H264Encoder::new().unwrap();
        let _first = enc.encode(&img, true).unwrap();
        let _delta = enc.encode(&img, false).unwrap();
        let key = enc.encode(&img, true).unwrap();
        // A fresh decoder, as a worker that never saw this stream.
        let mut dec = H264Decoder::new().unwrap();
        let out = dec.decode(key).unwrap();
        assert_eq!(
            (out.width, out.height),
            (320, 240),
            "converted at half size"
        );
        for (x, y, want) in [(5, 5, [40, 120, 200]), (100, 175, [250, 250, 20])] {
            let got = out.pixel(x, y);
            for c in 0..3 {
                assert!(
                    (i32::from(got[c]) - want[c]).abs() < 20,
                    "({x},{y}): {got:?} vs {want:?}"
                );
            }
        }
    }
}
