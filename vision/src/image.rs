//! Frames as the pipeline sees them, and the plain pixel functions around the models:
//! colour conversion, resizing, brightness and sharpness, JPEG in and out.

use crate::VisionError;

/// An 8-bit RGB image, rows top to bottom, pixels packed `R G B`.
#[derive(Clone, PartialEq, Eq)]
pub struct Rgb {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// `width × height × 3` bytes.
    pub data: Vec<u8>,
}

impl std::fmt::Debug for Rgb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Rgb({}×{})", self.width, self.height)
    }
}

impl Rgb {
    /// A uniform image.
    pub fn filled(width: u32, height: u32, rgb: [u8; 3]) -> Rgb {
        let data = rgb.repeat((width * height) as usize);
        Rgb {
            width,
            height,
            data,
        }
    }

    /// The pixel at (x, y).
    pub fn pixel(&self, x: u32, y: u32) -> [u8; 3] {
        let i = ((y * self.width + x) * 3) as usize;
        [self.data[i], self.data[i + 1], self.data[i + 2]]
    }

    /// Decodes a JPEG or PNG file held in memory.
    pub fn decode(bytes: &[u8]) -> Result<Rgb, VisionError> {
        let img = image::load_from_memory(bytes)
            .map_err(|e| VisionError::Image(e.to_string()))?
            .to_rgb8();
        let (width, height) = img.dimensions();
        if width < 32 || height < 32 {
            return Err(VisionError::Image(format!(
                "{width}×{height} is too small a picture"
            )));
        }
        Ok(Rgb {
            width,
            height,
            data: img.into_raw(),
        })
    }

    /// JPEG at `quality` (1–100).
    pub fn to_jpeg(&self, quality: u8) -> Vec<u8> {
        let mut out = Vec::with_capacity((self.width * self.height / 4) as usize);
        let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality);
        encoder
            .write_image(
                &self.data,
                self.width,
                self.height,
                image::ExtendedColorType::Rgb8,
            )
            .expect("an RGB buffer of the stated size encodes");
        out
    }

    /// PNG (lossless; for fixtures and debugging).
    pub fn to_png(&self) -> Vec<u8> {
        let mut out = Vec::new();
        image::codecs::png::PngEncoder::new(&mut out)
            .write_image(
                &self.data,
                self.width,
                self.height,
                image::ExtendedColorType::Rgb8,
            )
            .expect("an RGB buffer of the stated size encodes");
        out
    }

    /// Bilinear resize to `width × height` (pixel centres aligned, as OpenCV's
    /// `INTER_LINEAR`).
    pub fn resize(&self, width: u32, height: u32) -> Rgb {
        let mut data = vec![0u8; (width * height * 3) as usize];
        let sx = self.width as f32 / width as f32;
        let sy = self.height as f32 / height as f32;
        let (xs, ys) = (axis(width, sx, self.width), axis(height, sy, self.height));
        let stride = (self.width * 3) as usize;
        for (y, &(y0, y1, fy)) in ys.iter().enumerate() {
            let (r0, r1) = (y0 * stride, y1 * stride);
            let out_row = y * width as usize * 3;
            for (x, &(x0, x1, fx)) in xs.iter().enumerate() {
                for c in 0..3 {
                    let p00 = f32::from(self.data[r0 + x0 * 3 + c]);
                    let p01 = f32::from(self.data[r0 + x1 * 3 + c]);
                    let p10 = f32::from(self.data[r1 + x0 * 3 + c]);
                    let p11 = f32::from(self.data[r1 + x1 * 3 + c]);
                    let top = p00 + (p01 - p00) * fx;
                    let bottom = p10 + (p11 - p10) * fx;
                    data[out_row + x * 3 + c] = (top + (bottom - top) * fy).round() as u8;
                }
            }
        }
        Rgb {
            width,
            height,
            data,
        }
    }

    /// The image mirrored left to right.
    pub fn mirrored(&self) -> Rgb {
        let mut data = Vec::with_capacity(self.data.len());
        for row in self.data.chunks_exact((self.width * 3) as usize) {
            for px in row.chunks_exact(3).rev() {
                data.extend_from_slice(px);
            }
        }
        Rgb {
            width: self.width,
            height: self.height,
            data,
        }
    }

    /// The part of the image inside `x, y, w, h` (clamped to the image).
    pub fn crop(&self, x: u32, y: u32, w: u32, h: u32) -> Rgb {
        let x = x.min(self.width - 1);
        let y = y.min(self.height - 1);
        let w = w.min(self.width - x).max(1);
        let h = h.min(self.height - y).max(1);
        let mut data = Vec::with_capacity((w * h * 3) as usize);
        for row in y..y + h {
            let start = ((row * self.width + x) * 3) as usize;
            data.extend_from_slice(&self.data[start..start + (w * 3) as usize]);
        }
        Rgb {
            width: w,
            height: h,
            data,
        }
    }

    /// Copies `other` onto this image with its top-left corner at (x, y); what falls
    /// outside is cut off.
    pub fn paste(&mut self, other: &Rgb, x: i32, y: i32) {
        for oy in 0..other.height as i32 {
            let ty = y + oy;
            if ty < 0 || ty >= self.height as i32 {
                continue;
            }
            for ox in 0..other.width as i32 {
                let tx = x + ox;
                if tx < 0 || tx >= self.width as i32 {
                    continue;
                }
                let s = ((oy as u32 * other.width + ox as u32) * 3) as usize;
                let t = ((ty as u32 * self.width + tx as u32) * 3) as usize;
                self.data[t..t + 3].copy_from_slice(&other.data[s..s + 3]);
            }
        }
    }

    /// The image turned by `degrees` (counter-clockwise as seen) about its centre, same size, the
    /// corners filled with `fill`.
    pub fn rotated(&self, degrees: f32, fill: [u8; 3]) -> Rgb {
        let (s, c) = degrees.to_radians().sin_cos();
        let (cx, cy) = (self.width as f32 / 2.0, self.height as f32 / 2.0);
        // Inverse map: for each output pixel, the source point.
        let m = Affine {
            a: c,
            b: s,
            tx: cx - c * cx - s * cy,
            c: -s,
            d: c,
            ty: cy + s * cx - c * cy,
        };
        warp_affine(self, &m, self.width, self.height, fill)
    }

    /// Mean luma (BT.601) of the region, 0–255.
    pub fn mean_luma(&self, x: u32, y: u32, w: u32, h: u32) -> f32 {
        let region = self.crop(x, y, w, h);
        let sum: f32 = region.data.chunks_exact(3).map(luma).sum();
        sum / (region.width * region.height) as f32
    }
}

/// BT.601 luma of one RGB pixel.
fn luma(p: &[u8]) -> f32 {
    0.299 * f32::from(p[0]) + 0.587 * f32::from(p[1]) + 0.114 * f32::from(p[2])
}

/// For each output index along one axis: the two source indices and the weight of the
/// second.
fn axis(out: u32, scale: f32, len: u32) -> Vec<(usize, usize, f32)> {
    (0..out)
        .map(|i| {
            let src = ((i as f32 + 0.5) * scale - 0.5).clamp(0.0, (len - 1) as f32);
            let i0 = src.floor() as usize;
            let i1 = (i0 + 1).min(len as usize - 1);
            (i0, i1, src - i0 as f32)
        })
        .collect()
}

/// A 2×3 affine map `(x, y) → (a·x + b·y + tx, c·x + d·y + ty)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Affine {
    /// Row 1.
    pub a: f32,
    /// Row 1.
    pub b: f32,
    /// Row 1 translation.
    pub tx: f32,
    /// Row 2.
    pub c: f32,
    /// Row 2.
    pub d: f32,
    /// Row 2 translation.
    pub ty: f32,
}

impl Affine {
    /// Applies the map to a point.
    pub fn apply(&self, p: [f32; 2]) -> [f32; 2] {
        [
            self.a * p[0] + self.b * p[1] + self.tx,
            self.c * p[0] + self.d * p[1] + self.ty,
        ]
    }

    /// The inverse map (None when singular).
    pub fn inverse(&self) -> Option<Affine> {
        let det = self.a * self.d - self.b * self.c;
        if det.abs() < 1e-9 {
            return None;
        }
        let (a, b, c, d) = (self.d / det, -self.b / det, -self.c / det, self.a / det);
        Some(Affine {
            a,
            b,
            tx: -(a * self.tx + b * self.ty),
            c,
            d,
            ty: -(c * self.tx + d * self.ty),
        })
    }
}

/// An output image of `width × height` whose pixel (x, y) is the source sampled
/// bilinearly at `inverse(x, y)`; outside the source: `fill`.
pub fn warp_affine(src: &Rgb, inverse: &Affine, width: u32, height: u32, fill: [u8; 3]) -> Rgb {
    let mut data = Vec::with_capacity((width * height * 3) as usize);
    let (sw, sh) = (src.width as f32, src.height as f32);
    for y in 0..height {
        for x in 0..width {
            let [u, v] = inverse.apply([x as f32, y as f32]);
            if u < 0.0 || v < 0.0 || u > sw - 1.0 || v > sh - 1.0 {
                data.extend_from_slice(&fill);
                continue;
            }
            let (x0, y0) = (u.floor() as u32, v.floor() as u32);
            let (x1, y1) = ((x0 + 1).min(src.width - 1), (y0 + 1).min(src.height - 1));
            let (fx, fy) = (u - x0 as f32, v - y0 as f32);
            let (p00, p01, p10, p11) = (
                src.pixel(x0, y0),
                src.pixel(x1, y0),
                src.pixel(x0, y1),
                src.pixel(x1, y1),
            );
            for c in 0..3 {
                let top = f32::from(p00[c]) + (f32::from(p01[c]) - f32::from(p00[c])) * fx;
                let bottom = f32::from(p10[c]) + (f32::from(p11[c]) - f32::from(p10[c])) * fx;
                data.push((top + (bottom - top) * fy).round() as u8);
            }
        }
    }
    Rgb {
        width,
        height,
        data,
    }
}

/// A decoded video frame in I420 (planar Y, then U and V at half resolution), as both
/// decoders produce it.
#[derive(Debug, Clone, Copy)]
pub struct I420<'a> {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Luma plane and its stride.
    pub y: (&'a [u8], usize),
    /// Cb plane and its stride.
    pub u: (&'a [u8], usize),
    /// Cr plane and its stride.
    pub v: (&'a [u8], usize),
}

impl I420<'_> {
    /// Converts to RGB (BT.601 limited range, as camera encoders emit), scaling to
    /// `width × height` on the way (nearest chroma, bilinear luma is not worth it here:
    /// the detector works on a smaller picture anyway).
    pub fn to_rgb(&self, width: u32, height: u32) -> Rgb {
        let mut data = Vec::with_capacity((width * height * 3) as usize);
        for oy in 0..height {
            let sy = ((oy as u64 * self.height as u64) / height as u64) as usize;
            for ox in 0..width {
                let sx = ((ox as u64 * self.width as u64) / width as u64) as usize;
                let yv = f32::from(self.y.0[sy * self.y.1 + sx]) - 16.0;
                let u = f32::from(self.u.0[(sy / 2) * self.u.1 + sx / 2]) - 128.0;
                let v = f32::from(self.v.0[(sy / 2) * self.v.1 + sx / 2]) - 128.0;
                let l = 1.164 * yv;
                data.push((l + 1.596 * v).clamp(0.0, 255.0) as u8);
                data.push((l - 0.392 * u - 0.813 * v).clamp(0.0, 255.0) as u8);
                data.push((l + 2.017 * u).clamp(0.0, 255.0) as u8);
            }
        }
        Rgb {
            width,
            height,
            data,
        }
    }
}

impl I420<'_> {
    /// Converts to RGB at half the width and height, each output pixel the mean of a 2×2
    /// block of luma with its chroma sample (what the detector needs from a 640×480
    /// frame, at a quarter of the cost of a full conversion and a resize).
    pub fn to_rgb_half(&self) -> Rgb {
        let (w, h) = (self.width / 2, self.height / 2);
        let mut data = Vec::with_capacity((w * h * 3) as usize);
        let (y, ys) = self.y;
        for oy in 0..h as usize {
            let (r0, r1) = (2 * oy * ys, (2 * oy + 1) * ys);
            let (u, v) = (&self.u.0[oy * self.u.1..], &self.v.0[oy * self.v.1..]);
            for ox in 0..w as usize {
                let x = 2 * ox;
                let sum = u32::from(y[r0 + x])
                    + u32::from(y[r0 + x + 1])
                    + u32::from(y[r1 + x])
                    + u32::from(y[r1 + x + 1]);
                let l = 1.164 * (sum as f32 / 4.0 - 16.0);
                let (cu, cv) = (f32::from(u[ox]) - 128.0, f32::from(v[ox]) - 128.0);
                data.push((l + 1.596 * cv).clamp(0.0, 255.0) as u8);
                data.push((l - 0.392 * cu - 0.813 * cv).clamp(0.0, 255.0) as u8);
                data.push((l + 2.017 * cu).clamp(0.0, 255.0) as u8);
            }
        }
        Rgb {
            width: w,
            height: h,
            data,
        }
    }
}

/// Sharpness: the variance of the 4-neighbour Laplacian of the luma, on a grid of every
/// second pixel. Low values mean blur (or a flat picture).
pub fn sharpness(img: &Rgb) -> f32 {
    let w = img.width as usize;
    let lum: Vec<f32> = img.data.chunks_exact(3).map(luma).collect();
    let (mut n, mut sum, mut sq) = (0f32, 0f32, 0f32);
    for y in (1..img.height as usize - 1).step_by(2) {
        for x in (1..w - 1).step_by(2) {
            let c = lum[y * w + x];
            let l = lum[y * w + x - 1]
                + lum[y * w + x + 1]
                + lum[(y - 1) * w + x]
                + lum[(y + 1) * w + x]
                - 4.0 * c;
            n += 1.0;
            sum += l;
            sq += l * l;
        }
    }
    if n == 0.0 {
        return 0.0;
    }
    let mean = sum / n;
    sq / n - mean * mean
}

use image::ImageEncoder;

#[cfg(test)]
mod tests {
    use super::*;

    fn gradient(w: u32, h: u32) -> Rgb {
        let mut data = Vec::new();
        for y in 0..h {
            for x in 0..w {
                data.extend_from_slice(&[(x * 255 / (w - 1)) as u8, (y * 255 / (h - 1)) as u8, 7]);
            }
        }
        Rgb {
            width: w,
            height: h,
            data,
        }
    }

    #[test]
    fn resize_keeps_a_uniform_image_uniform_and_halves_a_gradient() {
        let flat = Rgb::filled(64, 48, [10, 200, 30]).resize(20, 10);
        assert_eq!((flat.width, flat.height), (20, 10));
        assert!(flat.data.chunks(3).all(|p| p == [10, 200, 30]));

        let g = gradient(256, 2);
        let half = g.resize(128, 1);
        // Output pixel i samples source x = 2i + 0.5: between 2i and 2i + 1.
        let expect =
            |i: u32| (f32::from(g.pixel(2 * i, 0)[0]) + f32::from(g.pixel(2 * i + 1, 0)[0])) / 2.0;
        for i in [0, 17, 64, 127] {
            let got = f32::from(half.pixel(i, 0)[0]);
            assert!(
                (got - expect(i)).abs() <= 1.0,
                "pixel {i}: {got} vs {}",
                expect(i)
            );
        }
    }

    #[test]
    fn crop_paste_and_mirror() {
        let g = gradient(40, 30);
        let c = g.crop(10, 5, 8, 4);
        assert_eq!((c.width, c.height), (8, 4));
        assert_eq!(c.pixel(0, 0), g.pixel(10, 5));
        assert_eq!(c.pixel(7, 3), g.pixel(17, 8));
        let mut canvas = Rgb::filled(20, 20, [0, 0, 0]);
        canvas.paste(&c, -2, 18);
        assert_eq!(canvas.pixel(0, 18), c.pixel(2, 0));
        assert_eq!(canvas.pixel(5, 19), c.pixel(7, 1));
        assert_eq!(canvas.pixel(6, 19), [0, 0, 0]);
        let m = g.mirrored();
        assert_eq!(m.pixel(0, 3), g.pixel(39, 3));
    }

    #[test]
    fn affine_inverse_round_trips_and_rotation_by_zero_is_identity() {
        let m = Affine {
            a: 1.2,
            b: -0.3,
            tx: 5.0,
            c: 0.4,
            d: 0.9,
            ty: -2.0,
        };
        let inv = m.inverse().unwrap();
        let p = inv.apply(m.apply([13.0, -7.5]));
        assert!((p[0] - 13.0).abs() < 1e-4 && (p[1] + 7.5).abs() < 1e-4);
        let g = gradient(33, 21);
        assert_eq!(g.rotated(0.0, [0, 0, 0]), g);
        // A half turn puts the top-left pixel at the bottom-right.
        let r = g.rotated(180.0, [0, 0, 0]);
        assert!((i32::from(r.pixel(32, 20)[0]) - i32::from(g.pixel(0, 0)[0])).abs() <= 8);
    }

    #[test]
    fn i420_grey_and_primaries_convert() {
        let (w, h) = (4, 2);
        let y = [235u8; 8];
        let u = [128u8; 2];
        let v = [128u8; 2];
        let f = I420 {
            width: w,
            height: h,
            y: (&y, 4),
            u: (&u, 2),
            v: (&v, 2),
        };
        let rgb = f.to_rgb(4, 2);
        assert!(
            rgb.data.iter().all(|&c| c >= 253),
            "limited-range white is white"
        );
        // Red in BT.601 limited range: Y 81, U 90, V 240.
        let (y, u, v) = ([81u8; 8], [90u8; 2], [240u8; 2]);
        let f = I420 {
            width: w,
            height: h,
            y: (&y, 4),
            u: (&u, 2),
            v: (&v, 2),
        };
        let p = f.to_rgb(2, 1).pixel(0, 0);
        assert!(p[0] > 245 && p[1] < 10 && p[2] < 10, "{p:?}");
        let half = f.to_rgb_half();
        assert_eq!((half.width, half.height), (2, 1));
        assert_eq!(half.pixel(1, 0), p);
    }

    #[test]
    fn sharpness_tells_edges_from_blur_and_luma_is_weighted() {
        let mut checker = Rgb::filled(64, 64, [0, 0, 0]);
        for y in 0..64 {
            for x in 0..64 {
                if (x / 2 + y / 2) % 2 == 0 {
                    let i = ((y * 64 + x) * 3) as usize;
                    checker.data[i..i + 3].copy_from_slice(&[255, 255, 255]);
                }
            }
        }
        let blurred = checker.resize(8, 8).resize(64, 64);
        assert!(sharpness(&checker) > 10.0 * sharpness(&blurred));
        assert_eq!(sharpness(&Rgb::filled(32, 32, [90, 90, 90])), 0.0);
        let green = Rgb::filled(8, 8, [0, 255, 0]);
        assert!((green.mean_luma(0, 0, 8, 8) - 149.685).abs() < 0.01);
    }

    #[test]
    fn jpeg_round_trip_is_close_and_garbage_is_refused() {
        let g = gradient(64, 48);
        let back = Rgb::decode(&g.to_jpeg(95)).unwrap();
        assert_eq!((back.width, back.height), (64, 48));
        let err: i32 = g
            .data
            .iter()
            .zip(&back.data)
            .map(|(a, b)| (i32::from(*a) - i32::from(*b)).abs())
            .max()
            .unwrap();
        assert!(err < 24, "max error {err}");
        assert!(Rgb::decode(b"not an image").is_err());
        assert!(
            Rgb::decode(&Rgb::filled(8, 8, [0, 0, 0]).to_png()).is_err(),
            "too small"
        );
    }
}
