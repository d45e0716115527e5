//! clipgen: writes the listening clips of an item bank from their transcripts.
//!
//! For each `listening` item of `BANK/listening.toml` (or every `*.toml` of the folder):
//! espeak-ng speaks the transcript (lines starting `A:`/`B:` with two voices), the
//! speech is resampled to 24 kHz mono and encoded with libopus (the `opus` crate) into
//! an Ogg Opus file at `BANK/<clip>` (RFC 7845: OpusHead, OpusTags, then audio pages
//! with granule positions at 48 kHz).
//!
//! Usage: `cargo run --release --manifest-path tools/clipgen/Cargo.toml -- bank/en [--force]`
//! Needs Debian's `espeak-ng` and `cmake`. Output is deterministic for a given
//! espeak-ng version; the generated clips are committed.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};

const RATE: u32 = 24_000;
const FRAME: usize = 480; // 20 ms at 24 kHz
const BITRATE: i32 = 24_000;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let force = args.iter().any(|a| a == "--force");
    let bank = PathBuf::from(args.iter().find(|a| !a.starts_with("--")).context("usage: clipgen BANK_DIR [--force]")?);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&bank)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    let (mut made, mut kept) = (0, 0);
    for file in files {
        let table: toml::Table = std::fs::read_to_string(&file)?.parse().with_context(|| format!("{}", file.display()))?;
        let Some(items) = table.get("items").and_then(|v| v.as_array()) else { continue };
        for item in items {
            let get = |k: &str| item.get(k).and_then(|v| v.as_str());
            if get("type") != Some("listening") {
                continue;
            }
            let id = get("id").context("an item without id")?;
            let transcript = get("transcript").with_context(|| format!("{id}: no transcript"))?;
            let clip = get("clip").with_context(|| format!("{id}: no clip"))?;
            let out = bank.join(clip);
            if out.exists() && !force {
                kept += 1;
                continue;
            }
            let pcm = speak(transcript, get("voice").unwrap_or("en-gb"))?;
            std::fs::create_dir_all(out.parent().unwrap_or(Path::new(".")))?;
            std::fs::write(&out, encode_ogg_opus(&pcm, serial(id))?)?;
            println!("{id}: {} ({:.1} s)", out.display(), pcm.len() as f64 / f64::from(RATE));
            made += 1;
        }
    }
    println!("{made} clip(s) written, {kept} kept");
    Ok(())
}

/// A stable Ogg stream serial number per item (FNV-1a of the id).
fn serial(id: &str) -> u32 {
    id.bytes().fold(0x811c_9dc5u32, |h, b| (h ^ u32::from(b)).wrapping_mul(0x0100_0193))
}

/// Speech for a transcript at 24 kHz; `A:`/`B:` lines alternate two voices.
fn speak(transcript: &str, voice: &str) -> anyhow::Result<Vec<i16>> {
    let lines: Vec<&str> = transcript.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    let dialogue = lines.iter().any(|l| l.starts_with("A:") || l.starts_with("B:"));
    if !dialogue {
        return espeak(&lines.join(" "), voice);
    }
    let mut out = Vec::new();
    for line in lines {
        let (v, text) = if let Some(t) = line.strip_prefix("A:") {
            ("en-gb", t)
        } else if let Some(t) = line.strip_prefix("B:") {
            ("en-us+f3", t)
        } else {
            (voice, line)
        };
        out.extend(espeak(text.trim(), v)?);
        out.extend(std::iter::repeat_n(0i16, RATE as usize * 35 / 100));
    }
    Ok(out)
}

/// Runs espeak-ng and returns its speech resampled to 24 kHz mono.
fn espeak(text: &str, voice: &str) -> anyhow::Result<Vec<i16>> {
    let out = Command::new("espeak-ng")
        .args(["-v", voice, "-s", "150", "--stdout", text])
        .output()
        .context("running espeak-ng (apt-get install espeak-ng)")?;
    if !out.status.success() {
        bail!("espeak-ng failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    let (rate, samples) = parse_wav(&out.stdout)?;
    Ok(resample(&samples, rate, RATE))
}

/// The sample rate and 16-bit mono samples of a WAV file (espeak-ng writes its data
/// chunk length as 0xFFFFFFFF when streaming, so the chunk runs to the end).
fn parse_wav(b: &[u8]) -> anyhow::Result<(u32, Vec<i16>)> {
    if b.len() < 12 || &b[0..4] != b"RIFF" || &b[8..12] != b"WAVE" {
        bail!("espeak-ng did not write a WAV file");
    }
    let mut pos = 12;
    let mut rate = 0;
    while pos + 8 <= b.len() {
        let id = &b[pos..pos + 4];
        let len = u32::from_le_bytes([b[pos + 4], b[pos + 5], b[pos + 6], b[pos + 7]]) as usize;
        let body = pos + 8;
        if id == b"fmt " {
            let channels = u16::from_le_bytes([b[body + 2], b[body + 3]]);
            rate = u32::from_le_bytes([b[body + 4], b[body + 5], b[body + 6], b[body + 7]]);
            let bits = u16::from_le_bytes([b[body + 14], b[body + 15]]);
            if channels != 1 || bits != 16 {
                bail!("expected 16-bit mono speech, got {channels} channel(s) of {bits} bits");
            }
        } else if id == b"data" {
            let end = body.saturating_add(len).min(b.len());
            let samples = b[body..end].chunks_exact(2).map(|c| i16::from_le_bytes([c[0], c[1]])).collect();
            return Ok((rate, samples));
        }
        pos = body + len + (len & 1);
    }
    bail!("no data chunk in espeak-ng's WAV")
}

/// Linear-interpolation resampling (speech only, so this is enough).
fn resample(x: &[i16], from: u32, to: u32) -> Vec<i16> {
    if from == to || x.is_empty() {
        return x.to_vec();
    }
    let n = (x.len() as u64 * u64::from(to) / u64::from(from)) as usize;
    (0..n)
        .map(|i| {
            let t = i as f64 * f64::from(from) / f64::from(to);
            let j = t as usize;
            let f = t - j as f64;
            let a = f64::from(x[j.min(x.len() - 1)]);
            let b = f64::from(x[(j + 1).min(x.len() - 1)]);
            (a + (b - a) * f).round() as i16
        })
        .collect()
}

/// Encodes 24 kHz mono speech as an Ogg Opus file.
fn encode_ogg_opus(pcm: &[i16], serial: u32) -> anyhow::Result<Vec<u8>> {
    let mut enc = opus::Encoder::new(RATE, opus::Channels::Mono, opus::Application::Voip)?;
    enc.set_bitrate(opus::Bitrate::Bits(BITRATE))?;
    let lookahead_48k = enc.get_lookahead()? as u64 * 48_000 / u64::from(RATE);
    let mut out = Vec::new();
    {
        let mut w = ogg::PacketWriter::new(&mut out);
        let mut head = Vec::with_capacity(19);
        head.extend_from_slice(b"OpusHead");
        head.push(1); // version
        head.push(1); // channels
        head.extend_from_slice(&(lookahead_48k as u16).to_le_bytes()); // pre-skip
        head.extend_from_slice(&RATE.to_le_bytes()); // original input rate
        head.extend_from_slice(&0i16.to_le_bytes()); // output gain
        head.push(0); // mapping family
        w.write_packet(head, serial, ogg::PacketWriteEndInfo::EndPage, 0)?;
        let vendor = b"langcert clipgen (libopus)";
        let mut tags = Vec::new();
        tags.extend_from_slice(b"OpusTags");
        tags.extend_from_slice(&(vendor.len() as u32).to_le_bytes());
        tags.extend_from_slice(vendor);
        tags.extend_from_slice(&0u32.to_le_bytes());
        w.write_packet(tags, serial, ogg::PacketWriteEndInfo::EndPage, 0)?;
        // Pad so the decoder's pre-skip and the last partial frame are covered.
        let mut samples = pcm.to_vec();
        let total = samples.len() as u64 * 48_000 / u64::from(RATE);
        let padded = (samples.len() + FRAME + enc.get_lookahead()? as usize).div_ceil(FRAME) * FRAME;
        samples.resize(padded, 0);
        let frames = samples.len() / FRAME;
        let mut buf = vec![0u8; 4000];
        for (k, frame) in samples.chunks_exact(FRAME).enumerate() {
            let len = enc.encode(frame, &mut buf)?;
            let last = k + 1 == frames;
            let granule = if last {
                lookahead_48k + total
            } else {
                ((k + 1) * FRAME) as u64 * 48_000 / u64::from(RATE)
            };
            let end = if last {
                ogg::PacketWriteEndInfo::EndStream
            } else if (k + 1) % 50 == 0 {
                ogg::PacketWriteEndInfo::EndPage
            } else {
                ogg::PacketWriteEndInfo::NormalPacket
            };
            w.write_packet(buf[..len].to_vec(), serial, end, granule)?;
        }
    }
    Ok(out)
}
