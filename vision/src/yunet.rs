//! YuNet (2023mar) face detection: pre-processing, decoding of its anchor-free outputs,
//! non-maximum suppression. Plain functions; [`crate::analyzer::Detector`] runs the model between
//! them.
//!
//! The model takes a BGR picture as floats 0–255, `1×3×H×W` with H and W multiples of 32
//! (the models script makes them symbolic). For each stride s ∈ {8, 16, 32} it outputs, per
//! cell of the `H/s × W/s` grid: `cls_s` and `obj_s` (one score each), `bbox_s` (centre
//! offset in cells, log width and height in cells) and `kps_s` (five landmarks, offsets in
//! cells): right eye, left eye, nose tip, right and left mouth corners — "right" being the
//! person's, so the first point is the one on the left of the picture.

use crate::image::Rgb;

/// The strides of YuNet's three heads.
pub const STRIDES: [u32; 3] = [8, 16, 32];

/// A face found in a picture, in the picture's pixel coordinates.
#[derive(Debug, Clone, PartialEq)]
pub struct Face {
    /// Left, top, width, height.
    pub bbox: [f32; 4],
    /// Eye (picture left), eye (picture right), nose tip, mouth corner (picture left),
    /// mouth corner (picture right).
    pub landmarks: [[f32; 2]; 5],
    /// Detection confidence 0–1.
    pub score: f32,
}

impl Face {
    /// Area of the box.
    pub fn area(&self) -> f32 {
        self.bbox[2].max(0.0) * self.bbox[3].max(0.0)
    }

    /// Intersection over union of two boxes.
    pub fn iou(&self, other: &Face) -> f32 {
        iou(&self.bbox, &other.bbox)
    }

    fn scaled(mut self, s: f32) -> Face {
        for v in &mut self.bbox {
            *v /= s;
        }
        for p in &mut self.landmarks {
            p[0] /= s;
            p[1] /= s;
        }
        self
    }
}

/// Intersection over union of two `x, y, w, h` boxes.
pub fn iou(a: &[f32; 4], b: &[f32; 4]) -> f32 {
    let x1 = a[0].max(b[0]);
    let y1 = a[1].max(b[1]);
    let x2 = (a[0] + a[2]).min(b[0] + b[2]);
    let y2 = (a[1] + a[3]).min(b[1] + b[3]);
    let inter = (x2 - x1).max(0.0) * (y2 - y1).max(0.0);
    let union = a[2] * a[3] + b[2] * b[3] - inter;
    if union <= 0.0 { 0.0 } else { inter / union }
}

/// The model input for a picture: the picture scaled (aspect kept) to fit `width ×
/// height`, padded with black at the right and bottom, as planar BGR floats 0–255. Also
/// returns the scale applied, to map detections back.
pub fn preprocess(img: &Rgb, width: u32, height: u32) -> (Vec<f32>, f32) {
    assert!(
        width.is_multiple_of(32) && height.is_multiple_of(32),
        "YuNet needs multiples of 32"
    );
    let scale = (width as f32 / img.width as f32).min(height as f32 / img.height as f32);
    let (sw, sh) = (
        ((img.width as f32 * scale).round() as u32).clamp(1, width),
        ((img.height as f32 * scale).round() as u32).clamp(1, height),
    );
    let scaled;
    let src = if (sw, sh) == (img.width, img.height) {
        img
    } else {
        scaled = img.resize(sw, sh);
        &scaled
    };
    let plane = (width * height) as usize;
    let mut out = vec![0f32; plane * 3];
    for y in 0..sh as usize {
        for x in 0..sw as usize {
            let s = (y * sw as usize + x) * 3;
            let t = y * width as usize + x;
            out[t] = f32::from(src.data[s + 2]); // B
            out[plane + t] = f32::from(src.data[s + 1]); // G
            out[2 * plane + t] = f32::from(src.data[s]); // R
        }
    }
    (out, scale)
}

/// The outputs of one stride's heads, flattened in grid order.
#[derive(Debug, Clone, Copy)]
pub struct Head<'a> {
    /// The stride.
    pub stride: u32,
    /// `cls_s`: one per cell.
    pub cls: &'a [f32],
    /// `obj_s`: one per cell.
    pub obj: &'a [f32],
    /// `bbox_s`: four per cell.
    pub bbox: &'a [f32],
    /// `kps_s`: ten per cell.
    pub kps: &'a [f32],
}

/// Decodes the heads of an input of `width × height` into faces scoring at least
/// `threshold`, before suppression, in input coordinates.
pub fn decode(heads: &[Head<'_>], width: u32, threshold: f32) -> Vec<Face> {
    let mut faces = Vec::new();
    for h in heads {
        let cols = (width / h.stride) as usize;
        let s = h.stride as f32;
        for i in 0..h.cls.len() {
            let score = (h.cls[i].clamp(0.0, 1.0) * h.obj[i].clamp(0.0, 1.0)).sqrt();
            if score < threshold {
                continue;
            }
            let (col, row) = ((i % cols) as f32, (i / cols) as f32);
            let b = &h.bbox[i * 4..i * 4 + 4];
            let (cx, cy) = ((col + b[0]) * s, (row + b[1]) * s);
            let (w, hh) = (b[2].exp() * s, b[3].exp() * s);
            let k = &h.kps[i * 10..i * 10 + 10];
            let mut landmarks = [[0f32; 2]; 5];
            for (n, p) in landmarks.iter_mut().enumerate() {
                *p = [(k[2 * n] + col) * s, (k[2 * n + 1] + row) * s];
            }
            faces.push(Face {
                bbox: [cx - w / 2.0, cy - hh / 2.0, w, hh],
                landmarks,
                score,
            });
        }
    }
    faces
}

/// Greedy non-maximum suppression: the best-scoring faces, dropping any whose box
/// overlaps a kept one by more than `iou_limit`; at most `keep`.
pub fn nms(mut faces: Vec<Face>, iou_limit: f32, keep: usize) -> Vec<Face> {
    faces.sort_by(|a, b| b.score.total_cmp(&a.score));
    let mut kept: Vec<Face> = Vec::new();
    for f in faces {
        if kept.len() == keep {
            break;
        }
        if kept.iter().all(|k| k.iou(&f) <= iou_limit) {
            kept.push(f);
        }
    }
    kept
}

/// Decoding, suppression and mapping back to the picture's coordinates (`scale` as
/// returned by [`preprocess`]).
pub fn postprocess(heads: &[Head<'_>], width: u32, scale: f32, threshold: f32) -> Vec<Face> {
    nms(decode(heads, width, threshold), 0.3, 16)
        .into_iter()
        .map(|f| f.scaled(scale))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preprocess_letterboxes_in_bgr_planes() {
        let mut img = Rgb::filled(64, 32, [10, 20, 30]);
        img.data[0..3].copy_from_slice(&[200, 100, 50]);
        let (t, scale) = preprocess(&img, 64, 64);
        assert_eq!(scale, 1.0);
        let plane = 64 * 64;
        assert_eq!(
            (t[0], t[plane], t[2 * plane]),
            (50.0, 100.0, 200.0),
            "BGR order"
        );
        assert_eq!((t[1], t[plane + 1], t[2 * plane + 1]), (30.0, 20.0, 10.0));
        // Rows 32.. are padding.
        assert_eq!(t[40 * 64 + 3], 0.0);
        // 640×480 into 320×256: half scale, 240 rows of picture then 16 of padding.
        let (t, scale) = preprocess(&Rgb::filled(640, 480, [255, 255, 255]), 320, 256);
        assert_eq!(scale, 0.5);
        assert_eq!(t.len(), 3 * 320 * 256);
        assert_eq!(t[239 * 320 + 319], 255.0);
        assert_eq!(t[240 * 320], 0.0);
    }

    /// One stride-8 head over a 32-wide input (4 columns), with a face in cell (row 1, col 2).
    #[test]
    fn decode_reads_the_grid_and_the_log_sizes() {
        let cells = 4 * 4;
        let mut cls = vec![0.0; cells];
        let mut obj = vec![0.0; cells];
        let mut bbox = vec![0.0; cells * 4];
        let mut kps = vec![0.0; cells * 10];
        let i = 4 + 2;
        cls[i] = 0.9;
        obj[i] = 1.2; // clamped to 1
        bbox[i * 4..i * 4 + 4].copy_from_slice(&[0.5, 0.25, 2f32.ln(), 1.0f32.ln()]);
        kps[i * 10..i * 10 + 2].copy_from_slice(&[-1.0, 0.5]);
        // A weak cell that the threshold drops.
        cls[0] = 0.3;
        obj[0] = 0.3;
        let head = Head {
            stride: 8,
            cls: &cls,
            obj: &obj,
            bbox: &bbox,
            kps: &kps,
        };
        let faces = decode(&[head], 32, 0.6);
        assert_eq!(faces.len(), 1);
        let f = &faces[0];
        assert!((f.score - 0.9f32.sqrt()).abs() < 1e-6);
        // Centre ((2 + 0.5)·8, (1 + 0.25)·8) = (20, 10); size (16, 8).
        assert_eq!(f.bbox, [12.0, 6.0, 16.0, 8.0]);
        assert_eq!(f.landmarks[0], [8.0, 12.0]);
        assert_eq!(f.landmarks[1], [16.0, 8.0], "zero offset: the cell corner");
    }

    fn face(x: f32, y: f32, w: f32, score: f32) -> Face {
        Face {
            bbox: [x, y, w, w],
            landmarks: [[x, y]; 5],
            score,
        }
    }

    #[test]
    fn nms_keeps_the_best_of_overlapping_boxes_and_separate_ones() {
        let kept = nms(
            vec![
                face(0.0, 0.0, 10.0, 0.8),
                face(1.0, 1.0, 10.0, 0.95),
                face(50.0, 50.0, 10.0, 0.7),
                face(2.0, 0.0, 10.0, 0.9),
            ],
            0.3,
            10,
        );
        let scores: Vec<f32> = kept.iter().map(|f| f.score).collect();
        assert_eq!(scores, vec![0.95, 0.7]);
        assert_eq!(nms(vec![face(0.0, 0.0, 1.0, 0.5); 3], 0.3, 10).len(), 1);
        assert_eq!(iou(&[0.0, 0.0, 2.0, 2.0], &[1.0, 0.0, 2.0, 2.0]), 2.0 / 6.0);
        assert_eq!(iou(&[0.0, 0.0, 2.0, 2.0], &[5.0, 5.0, 2.0, 2.0]), 0.0);
    }

    #[test]
    fn postprocess_maps_back_to_the_picture() {
        let cells = 2 * 2;
        let cls = vec![1.0; cells];
        let obj = vec![0.0, 0.0, 0.0, 1.0];
        let bbox = vec![0.0; cells * 4];
        let kps = vec![0.0; cells * 10];
        let head = Head {
            stride: 32,
            cls: &cls,
            obj: &obj,
            bbox: &bbox,
            kps: &kps,
        };
        let faces = postprocess(&[head], 64, 0.5, 0.5);
        assert_eq!(faces.len(), 1);
        // Cell (1, 1), 32 wide at input scale → centre (64, 64), size 64 in the picture.
        assert_eq!(faces[0].bbox, [32.0, 32.0, 64.0, 64.0]);
        assert_eq!(faces[0].landmarks[2], [64.0, 64.0]);
    }
}
