//! SFace (2021dec) face embedding: alignment of a detected face on the five-point template
//! the model was trained with, pre-processing, and the cosine similarity of two
//! embeddings.
//!
//! The model takes `1×3×112×112` RGB floats 0–255 and outputs a 128-d vector; two
//! pictures of one person give a cosine similarity of about 0.363 or more.

use crate::image::{Affine, Rgb, warp_affine};

/// Side of the aligned face, in pixels.
pub const SIZE: u32 = 112;

/// The usual cosine threshold for "same person" with SFace.
pub const SAME_PERSON: f32 = 0.363;

/// Where the five landmarks sit in a 112×112 aligned face (the ArcFace template):
/// eyes, nose tip, mouth corners, picture-left first.
pub const TEMPLATE: [[f32; 2]; 5] = [
    [38.2946, 51.6963],
    [73.5318, 51.5014],
    [56.0252, 71.7366],
    [41.5493, 92.3655],
    [70.7299, 92.2041],
];

/// The similarity transform (rotation, uniform scale, translation) that best maps `from`
/// onto `to` in the least-squares sense (Umeyama's closed form for 2-D points).
pub fn similarity_transform(from: &[[f32; 2]], to: &[[f32; 2]]) -> Affine {
    let n = from.len() as f32;
    let mean = |pts: &[[f32; 2]]| {
        let (sx, sy) = pts
            .iter()
            .fold((0.0, 0.0), |(a, b), p| (a + p[0], b + p[1]));
        [sx / n, sy / n]
    };
    let (mf, mt) = (mean(from), mean(to));
    // With complex numbers: z_to ≈ c · z_from + t, c = Σ conj(f)·t / Σ |f|².
    let (mut re, mut im, mut norm) = (0f32, 0f32, 0f32);
    for (f, t) in from.iter().zip(to) {
        let (fx, fy) = (f[0] - mf[0], f[1] - mf[1]);
        let (tx, ty) = (t[0] - mt[0], t[1] - mt[1]);
        re += fx * tx + fy * ty;
        im += fx * ty - fy * tx;
        norm += fx * fx + fy * fy;
    }
    let (a, b) = if norm > 0.0 {
        (re / norm, im / norm)
    } else {
        (1.0, 0.0)
    };
    Affine {
        a,
        b: -b,
        tx: mt[0] - (a * mf[0] - b * mf[1]),
        c: b,
        d: a,
        ty: mt[1] - (b * mf[0] + a * mf[1]),
    }
}

/// The face whose landmarks are given, cut out of `img` and aligned on [`TEMPLATE`].
pub fn align(img: &Rgb, landmarks: &[[f32; 2]; 5]) -> Rgb {
    let m = similarity_transform(landmarks, &TEMPLATE);
    let inverse = m.inverse().unwrap_or(Affine {
        a: 1.0,
        b: 0.0,
        tx: 0.0,
        c: 0.0,
        d: 1.0,
        ty: 0.0,
    });
    warp_affine(img, &inverse, SIZE, SIZE, [0, 0, 0])
}

/// The model input for an aligned face: planar RGB floats 0–255.
pub fn preprocess(aligned: &Rgb) -> Vec<f32> {
    let plane = (aligned.width * aligned.height) as usize;
    let mut out = vec![0f32; plane * 3];
    for (i, p) in aligned.data.chunks_exact(3).enumerate() {
        out[i] = f32::from(p[0]);
        out[plane + i] = f32::from(p[1]);
        out[2 * plane + i] = f32::from(p[2]);
    }
    out
}

/// Cosine similarity of two vectors (0 when either is zero).
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let na: f32 = a.iter().map(|x| x * x).sum::<f32>().sqrt();
    let nb: f32 = b.iter().map(|x| x * x).sum::<f32>().sqrt();
    if na == 0.0 || nb == 0.0 {
        0.0
    } else {
        dot / (na * nb)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn similarity_transform_recovers_a_known_one() {
        let (s, angle, t) = (2.5f32, 20f32.to_radians(), [30.0, -12.0]);
        let truth = Affine {
            a: s * angle.cos(),
            b: -s * angle.sin(),
            tx: t[0],
            c: s * angle.sin(),
            d: s * angle.cos(),
            ty: t[1],
        };
        let from: Vec<[f32; 2]> = TEMPLATE.to_vec();
        let to: Vec<[f32; 2]> = from.iter().map(|p| truth.apply(*p)).collect();
        let m = similarity_transform(&from, &to);
        for (got, want) in [m.a, m.b, m.tx, m.c, m.d, m.ty]
            .iter()
            .zip([truth.a, truth.b, truth.tx, truth.c, truth.d, truth.ty])
        {
            assert!((got - want).abs() < 1e-3, "{m:?} vs {truth:?}");
        }
    }

    #[test]
    fn align_puts_the_landmarks_on_the_template() {
        // A picture with a bright dot at each landmark of a face twice the template's size,
        // turned and shifted; after alignment the dots sit at the template points.
        let mut img = Rgb::filled(400, 300, [0, 0, 0]);
        let angle = -15f32.to_radians();
        let place = Affine {
            a: 2.0 * angle.cos(),
            b: -2.0 * angle.sin(),
            tx: 120.0,
            c: 2.0 * angle.sin(),
            d: 2.0 * angle.cos(),
            ty: 60.0,
        };
        let mut landmarks = [[0f32; 2]; 5];
        for (i, p) in TEMPLATE.iter().enumerate() {
            let q = place.apply(*p);
            landmarks[i] = q;
            img.paste(
                &Rgb::filled(5, 5, [255, 255, 255]),
                q[0] as i32 - 2,
                q[1] as i32 - 2,
            );
        }
        let aligned = align(&img, &landmarks);
        assert_eq!((aligned.width, aligned.height), (SIZE, SIZE));
        for p in TEMPLATE {
            let px = aligned.pixel(p[0].round() as u32, p[1].round() as u32);
            assert!(px[0] > 150, "landmark {p:?} is dark: {px:?}");
        }
        assert_eq!(aligned.pixel(5, 5), [0, 0, 0]);
    }

    #[test]
    fn preprocess_is_planar_rgb_and_cosine_is_scale_free() {
        let mut img = Rgb::filled(112, 112, [1, 2, 3]);
        img.data[0..3].copy_from_slice(&[9, 8, 7]);
        let t = preprocess(&img);
        let plane = 112 * 112;
        assert_eq!((t[0], t[plane], t[2 * plane]), (9.0, 8.0, 7.0));
        assert_eq!((t[1], t[plane + 1], t[2 * plane + 1]), (1.0, 2.0, 3.0));
        assert!((cosine(&[1.0, 2.0], &[2.0, 4.0]) - 1.0).abs() < 1e-6);
        assert!((cosine(&[1.0, 0.0], &[0.0, 3.0])).abs() < 1e-6);
        assert_eq!(cosine(&[0.0, 0.0], &[1.0, 1.0]), 0.0);
    }
}
