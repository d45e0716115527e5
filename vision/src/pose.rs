//! Head pose (yaw, pitch) from the five landmarks of a face.
//!
//! Model: seen from the camera (orthographic), the eyes lie on one line, the nose tip
//! stands out of the face by about 0.55 of the distance between the eyes, and the mouth
//! is one eye-distance below the eyes. Turning the head by a yaw θ moves the nose
//! sideways by `0.55·sin θ` while the eye distance shrinks to `cos θ`, so the nose's offset
//! from the eyes' midpoint, in half eye-distances, is `1.1·tan θ`. Tilting by a pitch φ
//! moves the nose along the eye–mouth line. The figures are rough for any given person,
//! which is why the smoother compares the angles with the candidate's own baseline.

/// Nose-tip depth, in eye distances.
const NOSE_DEPTH: f32 = 0.55;
/// Mouth-corner depth, in eye distances.
const MOUTH_DEPTH: f32 = 0.1;
/// Where the nose sits between the eye line (0) and the mouth line (1), head level.
const NOSE_LEVEL: f32 = 0.5;

/// Head pose in degrees: yaw positive when the face turns towards the picture's right,
/// pitch positive when the head tilts up.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Pose {
    /// Left–right turn.
    pub yaw: f32,
    /// Up–down tilt.
    pub pitch: f32,
    /// In-plane tilt of the eye line.
    pub roll: f32,
}

/// The pose of a face from its landmarks (eyes, nose, mouth corners; picture-left first).
pub fn head_pose(l: &[[f32; 2]; 5]) -> Pose {
    let (le, re, nose, lm, rm) = (l[0], l[1], l[2], l[3], l[4]);
    let roll = (re[1] - le[1]).atan2(re[0] - le[0]);
    // Undo the roll about the eyes' midpoint.
    let centre = [(le[0] + re[0]) / 2.0, (le[1] + re[1]) / 2.0];
    let (s, c) = (-roll).sin_cos();
    let level = |p: [f32; 2]| {
        let (x, y) = (p[0] - centre[0], p[1] - centre[1]);
        [c * x - s * y, s * x + c * y]
    };
    let (re, nose, lm, rm) = (level(re), level(nose), level(lm), level(rm));
    let half_eyes = re[0].abs().max(1e-3);
    let yaw = (nose[0] / half_eyes / (2.0 * NOSE_DEPTH)).atan();
    let mouth_y = (lm[1] + rm[1]) / 2.0;
    let pitch = if mouth_y.abs() < 1e-3 {
        0.0
    } else {
        // Nose level t (0 at the eyes, 1 at the mouth): with the model above,
        // tan φ = (NOSE_LEVEL − t) / (NOSE_DEPTH − MOUTH_DEPTH · t).
        let t = nose[1] / mouth_y;
        ((NOSE_LEVEL - t) / (NOSE_DEPTH - MOUTH_DEPTH * t)).atan()
    };
    Pose {
        yaw: yaw.to_degrees(),
        pitch: pitch.to_degrees(),
        roll: roll.to_degrees(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The model's face (x right, y down, z towards the camera; eye distance 1) turned by
    /// `yaw`, `pitch`, `roll` degrees, projected and placed at `scale` and `offset`.
    fn project(yaw: f32, pitch: f32, roll: f32, scale: f32, offset: [f32; 2]) -> [[f32; 2]; 5] {
        let points = [
            [-0.5, 0.0, 0.0],
            [0.5, 0.0, 0.0],
            [0.0, NOSE_LEVEL, NOSE_DEPTH],
            [-0.4, 1.0, MOUTH_DEPTH],
            [0.4, 1.0, MOUTH_DEPTH],
        ];
        let (sy, cy) = yaw.to_radians().sin_cos();
        let (sp, cp) = pitch.to_radians().sin_cos();
        let (sr, cr) = roll.to_radians().sin_cos();
        let mut out = [[0f32; 2]; 5];
        for (o, [x, y, z]) in out.iter_mut().zip(points) {
            // Pitch about x (head up moves the nose, in front, upwards), then yaw about y.
            let (y1, z1) = (y * cp - z * sp, y * sp + z * cp);
            let (x2, _z2) = (x * cy + z1 * sy, -x * sy + z1 * cy);
            let (x3, y3) = (x2 * cr - y1 * sr, x2 * sr + y1 * cr);
            *o = [offset[0] + scale * x3, offset[1] + scale * y3];
        }
        out
    }

    #[test]
    fn a_frontal_face_has_no_yaw_or_pitch() {
        let p = head_pose(&project(0.0, 0.0, 0.0, 80.0, [320.0, 200.0]));
        assert!(
            p.yaw.abs() < 0.01 && p.pitch.abs() < 0.01 && p.roll.abs() < 0.01,
            "{p:?}"
        );
    }

    #[test]
    fn yaw_and_pitch_alone_are_recovered() {
        for angle in [-50.0, -30.0, -10.0, 10.0, 25.0, 45.0] {
            let p = head_pose(&project(angle, 0.0, 0.0, 60.0, [100.0, 100.0]));
            assert!((p.yaw - angle).abs() < 0.5, "yaw {angle}: {p:?}");
            assert!(p.pitch.abs() < 0.5, "yaw {angle}: {p:?}");
            let p = head_pose(&project(
                0.0,
                angle.clamp(-35.0, 35.0),
                0.0,
                60.0,
                [100.0, 100.0],
            ));
            assert!(
                (p.pitch - angle.clamp(-35.0, 35.0)).abs() < 0.5,
                "pitch {angle}: {p:?}"
            );
            assert!(p.yaw.abs() < 0.5, "pitch {angle}: {p:?}");
        }
    }

    #[test]
    fn roll_does_not_change_yaw_or_pitch_and_combined_turns_stay_close() {
        let p = head_pose(&project(20.0, -10.0, 25.0, 70.0, [50.0, 80.0]));
        assert!((p.roll - 25.0).abs() < 3.0, "{p:?}");
        // Tilting the head moves the nose tip towards or away from the camera, which the
        // yaw estimate does not know: a few degrees off.
        assert!((p.yaw - 20.0).abs() < 4.0, "{p:?}");
        assert!((p.pitch + 10.0).abs() < 3.0, "{p:?}");
        // The thresholds that matter (30° yaw, 20° pitch) are told apart under the
        // other angle.
        let p = head_pose(&project(35.0, 15.0, 0.0, 70.0, [50.0, 80.0]));
        assert!(p.yaw > 30.0 && p.pitch < 20.0 && p.pitch > 10.0, "{p:?}");
    }
}
