//! Just enough of a WebM reader to check recordings and to read the fixtures, written from
//! the specifications (EBML: RFC 8794; Matroska: RFC 9559) and independent of the writer.
//!
//! It reads files of one track whose frames are SimpleBlocks or BlockGroups, without
//! lacing — what the SFU writes and what the fixtures in `tests/data/` hold.

use anyhow::{Context, Result, bail, ensure};
use std::ops::Range;

const EBML: u32 = 0x1A45_DFA3;
const DOC_TYPE: u32 = 0x4282;
const SEGMENT: u32 = 0x1853_8067;
const SEEK_HEAD: u32 = 0x114D_9B74;
const INFO: u32 = 0x1549_A966;
const TIMESTAMP_SCALE: u32 = 0x2A_D7B1;
const DURATION: u32 = 0x4489;
const TRACKS: u32 = 0x1654_AE6B;
const TRACK_ENTRY: u32 = 0xAE;
const TRACK_NUMBER: u32 = 0xD7;
const CODEC_ID: u32 = 0x86;
const VIDEO: u32 = 0xE0;
const PIXEL_WIDTH: u32 = 0xB0;
const PIXEL_HEIGHT: u32 = 0xBA;
const AUDIO: u32 = 0xE1;
const CHANNELS: u32 = 0x9F;
const CLUSTER: u32 = 0x1F43_B675;
const TIMESTAMP: u32 = 0xE7;
const SIMPLE_BLOCK: u32 = 0xA3;
const BLOCK_GROUP: u32 = 0xA0;
const BLOCK: u32 = 0xA1;
const REFERENCE_BLOCK: u32 = 0xFB;
const CUES: u32 = 0x1C53_BB6B;
const TAGS: u32 = 0x1254_C367;

/// Elements whose data is more elements.
const MASTERS: &[u32] = &[
    EBML,
    SEGMENT,
    SEEK_HEAD,
    INFO,
    TRACKS,
    TRACK_ENTRY,
    VIDEO,
    AUDIO,
    CLUSTER,
    CUES,
    BLOCK_GROUP,
];
/// The children of a Segment: one of them ends a Cluster of unknown size.
const TOP_LEVEL: &[u32] = &[SEEK_HEAD, INFO, TRACKS, CLUSTER, CUES, TAGS];

struct Element {
    id: u32,
    data: Range<usize>,
    children: Vec<Element>,
}

impl Element {
    fn find(&self, id: u32) -> Option<&Element> {
        self.children.iter().find(|c| c.id == id)
    }

    fn child(&self, id: u32) -> Result<&Element> {
        self.find(id)
            .with_context(|| format!("no element {id:#x} in {:#x}", self.id))
    }

    fn all(&self, id: u32) -> impl Iterator<Item = &Element> {
        self.children.iter().filter(move |c| c.id == id)
    }

    fn uint(&self, file: &[u8]) -> Result<u64> {
        let bytes = &file[self.data.clone()];
        ensure!(bytes.len() <= 8, "integer of {} bytes", bytes.len());
        Ok(bytes.iter().fold(0, |v, &b| v << 8 | u64::from(b)))
    }

    fn float(&self, file: &[u8]) -> Result<f64> {
        let bytes = &file[self.data.clone()];
        Ok(match bytes.len() {
            4 => f64::from(f32::from_be_bytes(bytes.try_into()?)),
            8 => f64::from_be_bytes(bytes.try_into()?),
            n => bail!("float of {n} bytes"),
        })
    }

    fn text(&self, file: &[u8]) -> Result<String> {
        let bytes = &file[self.data.clone()];
        let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
        Ok(String::from_utf8(bytes[..end].to_vec())?)
    }
}

/// An element ID at `pos`: (ID with its marker bits, length).
fn read_id(file: &[u8], pos: usize) -> Result<(u32, usize)> {
    let first = *file.get(pos).context("ID past the end")?;
    let len = first.leading_zeros() as usize + 1;
    ensure!(len <= 4, "ID of more than 4 bytes at {pos}");
    let bytes = file.get(pos..pos + len).context("ID past the end")?;
    Ok((bytes.iter().fold(0, |v, &b| v << 8 | u32::from(b)), len))
}

/// A data size at `pos`: (size, or `None` when unknown; length).
fn read_size(file: &[u8], pos: usize) -> Result<(Option<u64>, usize)> {
    let first = *file.get(pos).context("size past the end")?;
    ensure!(first != 0, "size of more than 8 bytes at {pos}");
    let len = first.leading_zeros() as usize + 1;
    let bytes = file.get(pos..pos + len).context("size past the end")?;
    let value = bytes[1..]
        .iter()
        .fold(u64::from(first) & (0xFF >> len), |v, &b| {
            v << 8 | u64::from(b)
        });
    let unknown = value == (1 << (7 * len)) - 1;
    Ok(((!unknown).then_some(value), len))
}

/// The elements from `pos` to `end`; the children of an element of unknown size end at the
/// first element in `stop`.
fn parse(file: &[u8], mut pos: usize, end: usize, stop: &[u32]) -> Result<(Vec<Element>, usize)> {
    let mut out = Vec::new();
    while pos < end {
        let (id, id_len) = read_id(file, pos)?;
        if stop.contains(&id) {
            break;
        }
        let (size, size_len) = read_size(file, pos + id_len)?;
        let start = pos + id_len + size_len;
        let (children, stop_at) = match size {
            Some(size) => {
                let stop_at = start + usize::try_from(size)?;
                ensure!(
                    stop_at <= end,
                    "element {id:#x} at {pos} overruns its parent"
                );
                let children = if MASTERS.contains(&id) {
                    let (children, reached) = parse(file, start, stop_at, &[])?;
                    ensure!(reached == stop_at, "children of {id:#x} do not fill it");
                    children
                } else {
                    Vec::new()
                };
                (children, stop_at)
            }
            None => {
                ensure!(MASTERS.contains(&id), "unknown size for {id:#x} at {pos}");
                let stop = if id == CLUSTER { TOP_LEVEL } else { &[] };
                parse(file, start, end, stop)?
            }
        };
        out.push(Element {
            id,
            data: start..stop_at,
            children,
        });
        pos = stop_at;
    }
    Ok((out, pos))
}

/// One frame of the file: its time in milliseconds, whether it is a keyframe, its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Frame {
    pub(crate) ms: i64,
    pub(crate) keyframe: bool,
    pub(crate) data: Vec<u8>,
}

/// What the checks need to know about a one-track WebM file.
#[derive(Debug)]
pub(crate) struct Webm {
    pub(crate) codec_id: String,
    /// Width and height of a video track.
    pub(crate) dimensions: Option<(u64, u64)>,
    /// Channels of an audio track.
    pub(crate) channels: Option<u64>,
    /// Info's Duration, in milliseconds.
    pub(crate) duration_ms: Option<f64>,
    pub(crate) frames: Vec<Frame>,
}

/// Reads a whole WebM file: EBML header with DocType `webm`, one Segment, one track.
pub(crate) fn read(file: &[u8]) -> Result<Webm> {
    let (top, end) = parse(file, 0, file.len(), &[])?;
    ensure!(end == file.len(), "trailing bytes");
    let [ebml, segment] = &top[..] else {
        bail!(
            "{} top-level elements, not EBML header and Segment",
            top.len()
        );
    };
    ensure!(
        ebml.id == EBML && segment.id == SEGMENT,
        "not EBML + Segment"
    );
    let doc_type = ebml.child(DOC_TYPE)?.text(file)?;
    ensure!(doc_type == "webm", "DocType {doc_type:?}");

    let info = segment.child(INFO)?;
    let scale_ns = match info.find(TIMESTAMP_SCALE) {
        Some(scale) => scale.uint(file)?,
        None => 1_000_000,
    };
    let duration_ms = info
        .find(DURATION)
        .map(|d| d.float(file))
        .transpose()?
        .map(|ticks| ticks * scale_ns as f64 / 1e6);

    let entries: Vec<&Element> = segment.child(TRACKS)?.all(TRACK_ENTRY).collect();
    let [track] = &entries[..] else {
        bail!("{} tracks, not one", entries.len());
    };
    let number = track.child(TRACK_NUMBER)?.uint(file)?;
    let codec_id = track.child(CODEC_ID)?.text(file)?;
    let dimensions = match track.find(VIDEO) {
        Some(video) => Some((
            video.child(PIXEL_WIDTH)?.uint(file)?,
            video.child(PIXEL_HEIGHT)?.uint(file)?,
        )),
        None => None,
    };
    let channels = match track.find(AUDIO) {
        Some(audio) => Some(audio.find(CHANNELS).map_or(Ok(1), |c| c.uint(file))?),
        None => None,
    };

    let mut frames = Vec::new();
    for cluster in segment.all(CLUSTER) {
        let base = i64::try_from(cluster.child(TIMESTAMP)?.uint(file)?)?;
        for element in &cluster.children {
            // A SimpleBlock flags keyframes; a BlockGroup's Block is one unless it refers
            // to another.
            let (block, keyframe) = match element.id {
                SIMPLE_BLOCK => (&file[element.data.clone()], None),
                BLOCK_GROUP => (
                    &file[element.child(BLOCK)?.data.clone()],
                    Some(element.find(REFERENCE_BLOCK).is_none()),
                ),
                _ => continue,
            };
            ensure!(
                block.len() > 4 && block[0] & 0x80 != 0,
                "track number of one byte"
            );
            ensure!(
                u64::from(block[0] & 0x7F) == number,
                "block of another track"
            );
            ensure!(block[3] & 0x06 == 0, "laced block");
            let ticks = base + i64::from(i16::from_be_bytes([block[1], block[2]]));
            frames.push(Frame {
                ms: ticks * i64::try_from(scale_ns)? / 1_000_000,
                keyframe: keyframe.unwrap_or(block[3] & 0x80 != 0),
                data: block[4..].to_vec(),
            });
        }
    }
    Ok(Webm {
        codec_id,
        dimensions,
        channels,
        duration_ms,
        frames,
    })
}
