//! The real models on real photos: scikit-image's `astronaut` (public domain, one face)
//! and `camera` (CC0, another person), and composites made from them. The files come
//! from `models/fetch`.

use vision::analyzer::{Analyzer, Capture, CaptureProblem, Stages};
use vision::image::Rgb;
use vision::pose::head_pose;
use vision::yunet::{Face, iou};
use vision::{ModelPaths, sface};

fn paths() -> ModelPaths {
    ModelPaths::in_checkout().expect("run models/fetch first")
}

fn photo(name: &str) -> Rgb {
    let path = format!(
        "{}/../models/fixtures/{name}.png",
        env!("CARGO_MANIFEST_DIR")
    );
    Rgb::decode(&std::fs::read(&path).expect("run models/fetch first")).unwrap()
}

/// Where the astronaut's face is in the 512×512 photo (measured once, by eye and with
/// OpenCV's detector).
const ASTRONAUT_FACE: [f32; 4] = [178.0, 63.0, 90.0, 113.0];

/// The astronaut's head and a margin around it.
fn head() -> Rgb {
    photo("astronaut").crop(143, 23, 160, 190)
}

/// A grey 640×480 canvas, like a plain wall behind a candidate.
fn wall() -> Rgb {
    Rgb::filled(640, 480, [128, 124, 118])
}

fn detect(a: &mut Analyzer, img: &Rgb, width: u32) -> Vec<Face> {
    a.detector
        .detect(img, width, &mut Stages::default())
        .unwrap()
}

#[test]
fn one_face_found_where_it_is_with_its_landmarks() {
    let mut a = Analyzer::new(&paths()).unwrap();
    let img = photo("astronaut");
    for width in [320, 512] {
        let faces = detect(&mut a, &img, width);
        assert_eq!(faces.len(), 1, "at {width}: {faces:?}");
        let f = &faces[0];
        assert!(
            iou(&f.bbox, &ASTRONAUT_FACE) > 0.6,
            "at {width}: {:?}",
            f.bbox
        );
        assert!(f.score > 0.85);
        // Eyes above the nose, nose above the mouth, all inside the box.
        let l = f.landmarks;
        assert!(l[0][0] < l[1][0] && l[3][0] < l[4][0]);
        assert!(l[0][1] < l[2][1] && l[2][1] < l[3][1]);
        for p in l {
            assert!(p[0] > f.bbox[0] && p[0] < f.bbox[0] + f.bbox[2]);
            assert!(p[1] > f.bbox[1] && p[1] < f.bbox[1] + f.bbox[3]);
        }
        let pose = head_pose(&l);
        assert!(pose.yaw.abs() < 25.0 && pose.pitch.abs() < 25.0, "{pose:?}");
    }
}

#[test]
fn zero_one_two_and_three_faces_are_counted() {
    let mut a = Analyzer::new(&paths()).unwrap();
    let head = head();
    // Zero: the wall, and the photo below the face (suit and flag).
    assert_eq!(detect(&mut a, &wall(), 320).len(), 0);
    let body = photo("astronaut").crop(0, 220, 512, 292);
    assert_eq!(detect(&mut a, &body, 512).len(), 0);
    // One, two, three heads on the wall, the others mirrored or smaller.
    let small = head.resize(128, 152);
    let layouts: [&[(&Rgb, i32, i32)]; 3] = [
        &[(&head, 240, 140)],
        &[(&head, 60, 120), (&head.mirrored(), 400, 150)],
        &[
            (&head, 20, 100),
            (&small, 250, 40),
            (&head.mirrored(), 450, 260),
        ],
    ];
    for (n, layout) in layouts.iter().enumerate() {
        let mut img = wall();
        for (h, x, y) in layout.iter() {
            img.paste(h, *x, *y);
        }
        for width in [320, 640] {
            let faces = detect(&mut a, &img, width);
            assert_eq!(faces.len(), n + 1, "{} heads at {width}: {faces:?}", n + 1);
        }
    }
}

#[test]
fn a_tilted_face_and_a_face_cut_by_the_frame_edge() {
    let mut a = Analyzer::new(&paths()).unwrap();
    // Tilted by 25° in the picture's plane: still one face, where the head went.
    let mut img = wall();
    img.paste(&head(), 240, 140);
    let tilted = img.rotated(25.0, [128, 124, 118]);
    let faces = detect(&mut a, &tilted, 640);
    assert_eq!(faces.len(), 1, "{faces:?}");
    assert!(
        faces[0].bbox[0] > 250.0 && faces[0].bbox[0] < 300.0,
        "{:?}",
        faces[0].bbox
    );
    // Turned three-quarters away from the camera (the cameraman): one face, and a yaw
    // well away from the astronaut's frontal one.
    let camera = photo("camera");
    let faces = detect(&mut a, &camera, 512);
    assert_eq!(faces.len(), 1, "{faces:?}");
    let yaw = head_pose(&faces[0].landmarks).yaw;
    assert!(yaw.abs() > 20.0, "yaw {yaw}");
    // A third of the face beyond the left edge: still found, its box reaching the edge.
    let mut img = wall();
    img.paste(&head(), -35 - 30, 140);
    let faces = detect(&mut a, &img, 640);
    assert_eq!(faces.len(), 1, "{faces:?}");
    assert!(faces[0].bbox[0] < 5.0, "{:?}", faces[0].bbox);
    // Only a sliver of it left: nothing.
    let mut img = wall();
    img.paste(&head(), -35 - 80, 140);
    assert_eq!(detect(&mut a, &img, 640).len(), 0);
}

#[test]
fn the_embedding_tells_the_same_person_from_another() {
    let mut a = Analyzer::new(&paths()).unwrap();
    let embed = |a: &mut Analyzer, img: &Rgb| {
        let faces = detect(a, img, 512);
        assert_eq!(faces.len(), 1);
        let e = a.embedder.embed(img, &faces[0]).unwrap();
        assert_eq!(e.len(), 128);
        e
    };
    let astronaut = photo("astronaut");
    let me = embed(&mut a, &astronaut);
    let mirrored = embed(&mut a, &astronaut.mirrored());
    // Smaller and recompressed, as a webcam frame would be.
    let mut frame = wall();
    frame.paste(&head().resize(120, 142), 300, 160);
    let frame = Rgb::decode(&frame.to_jpeg(75)).unwrap();
    let faces = detect(&mut a, &frame, 320);
    assert_eq!(faces.len(), 1);
    let webcam = a.embedder.embed(&frame, &faces[0]).unwrap();
    let other = embed(&mut a, &photo("camera"));
    let same = sface::cosine(&me, &mirrored);
    let same_small = sface::cosine(&me, &webcam);
    let different = sface::cosine(&me, &other);
    assert!(
        same > sface::SAME_PERSON && same_small > sface::SAME_PERSON,
        "{same} {same_small}"
    );
    assert!(different < sface::SAME_PERSON, "{different}");
}

#[test]
fn identity_captures_get_specific_refusals() {
    let mut a = Analyzer::new(&paths()).unwrap();
    let jpeg = |img: &Rgb| img.to_jpeg(90);
    let mut selfie = wall();
    selfie.paste(&head().resize(240, 285), 200, 100);
    assert!(a.check_capture(Capture::Selfie, &jpeg(&selfie)).is_ok());
    assert!(
        a.check_capture(Capture::Selfie, &photo("astronaut").to_png())
            .is_ok()
    );

    assert_eq!(
        a.check_capture(Capture::Selfie, &jpeg(&wall()))
            .unwrap_err(),
        CaptureProblem::NoFace
    );
    assert_eq!(
        a.check_capture(Capture::Selfie, b"GIF89a....").unwrap_err(),
        CaptureProblem::Unreadable
    );
    let mut two = wall();
    two.paste(&head(), 60, 120);
    two.paste(&head().mirrored(), 400, 150);
    assert_eq!(
        a.check_capture(Capture::Selfie, &jpeg(&two)).unwrap_err(),
        CaptureProblem::SeveralFaces
    );
    let mut far = Rgb::filled(1280, 960, [128, 124, 118]);
    far.paste(&head().resize(80, 95), 600, 400);
    assert_eq!(
        a.check_capture(Capture::Selfie, &jpeg(&far)).unwrap_err(),
        CaptureProblem::FaceTooSmall
    );
    let mut dark = selfie.clone();
    for v in &mut dark.data {
        *v /= 8;
    }
    assert_eq!(
        a.check_capture(Capture::Selfie, &jpeg(&dark)).unwrap_err(),
        CaptureProblem::TooDark
    );
    // A document may hold a small photo, and may show two (the other a watermark).
    assert!(a.check_capture(Capture::Document, &jpeg(&two)).is_ok());
    assert_eq!(
        a.check_capture(Capture::Document, &jpeg(&wall()))
            .unwrap_err(),
        CaptureProblem::NoFace
    );
}

#[test]
fn a_monitoring_frame_is_analysed_at_320_with_quality() {
    let mut a = Analyzer::new(&paths()).unwrap();
    let mut frame = wall();
    frame.paste(&head(), 240, 140);
    let mut stages = Stages::default();
    let r = a.analyse(&frame, &mut stages).unwrap();
    assert_eq!(r.faces.len(), 1);
    let b = r.faces[0].bbox;
    assert!(
        b[0] > 0.35 && b[0] < 0.5 && b[2] > 0.1 && b[2] < 0.25,
        "{b:?}"
    );
    assert!(!r.dark && !r.blurred);
    assert!(stages.detector > 0.0 && stages.preprocess > 0.0);
    let mut dark = frame.clone();
    for v in &mut dark.data {
        *v /= 10;
    }
    assert!(a.analyse(&dark, &mut stages).unwrap().dark);
    // A webcam out of focus: detail at a sixteenth of the resolution.
    let blurred = frame.resize(40, 30).resize(640, 480);
    assert!(a.analyse(&blurred, &mut stages).unwrap().blurred);
}

#[test]
fn an_overloaded_pipeline_drops_and_counts_frames_instead_of_queueing_them() {
    use std::sync::Arc;
    use vision::pipeline::{Job, Pipeline, Raw};
    let (tx, rx) = std::sync::mpsc::channel();
    let pipeline = Pipeline::start(&paths(), 1, 4, || Raw, tx).unwrap();
    let mut frame = wall();
    frame.paste(&head(), 240, 140);
    let key: Arc<str> = Arc::from("s");
    let started = std::time::Instant::now();
    for i in 0..200u64 {
        pipeline.offer(Job {
            key: key.clone(),
            at_ms: i as i64,
            frame: i,
            input: frame.clone(),
            reference: None,
        });
    }
    // Offering never waits for the workers.
    assert!(started.elapsed() < std::time::Duration::from_secs(1));
    let during = pipeline.stats();
    assert_eq!(during.offered, 200);
    assert!(during.dropped >= 150, "{during:?}");
    pipeline.shutdown();
    let analysed: Vec<_> = rx.try_iter().collect();
    // Everything accepted was analysed (the queue held at most 4 besides the one in work).
    assert_eq!(analysed.len() as u64 + during.dropped, 200, "{during:?}");
    assert!(analysed.iter().all(|a| a.analysis.faces.len() == 1));
}
