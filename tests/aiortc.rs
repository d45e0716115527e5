//! An independent WebRTC implementation through the real signaling and SFU: both sides of
//! an interview are aiortc peers (PyPI, `tests/aiortc/rejoin.py`), each publishing Opus and
//! VP8 and decoding the other's; the evaluator leaves and rejoins three times.

use std::process::Command;

use serde_json::Value;

use crate::kit::{DemoInterview, Server};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aiortc_peers_publish_receive_and_rejoin_without_growing_the_sdp() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), None);
    let DemoInterview {
        room,
        candidate: cand,
        evaluator: eval,
        candidate_id: cand_id,
    } = server.demo_interview_soon().await;

    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/aiortc/rejoin.py");
    let out = tokio::task::spawn_blocking({
        let base = server.base.clone();
        move || {
            Command::new("python3")
                .arg(script)
                .args(["--base", &base, "--room", &room, "--candidate-id", &cand_id])
                .args(["--candidate-token", &cand, "--evaluator-token", &eval])
                .args(["--rounds", "3"])
                .output()
                .expect("python3 runs (aiortc and websockets from PyPI: .ci/run installs them)")
        }
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "rejoin.py failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    eprintln!("rejoin.py: {report}");
    let rounds = report["rounds"].as_array().unwrap();
    // The first meeting, then three rejoins: media both ways each time (the script waits
    // for fresh decoded frames of every kind on each side, so reaching here says so).
    assert_eq!(rounds.len(), 4, "{report}");
    for round in rounds {
        for side in ["evaluator_decoded", "candidate_decoded"] {
            for kind in ["audio", "video"] {
                assert!(round[side][kind].as_u64().unwrap() >= 10, "{report}");
            }
        }
    }
    // The candidate stayed: every offer the SFU sent it across the rejoins has as many
    // m-sections as the first one (inactive ones are reused, none is added).
    let offers: Vec<u64> = report["candidate_offer_m_sections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_u64().unwrap())
        .collect();
    assert!(
        offers.len() >= 4,
        "an offer per arrival of the evaluator: {report}"
    );
    assert!(
        offers.iter().all(|n| *n == offers[0]),
        "the SDP grew: {offers:?}"
    );
    server.stop();
}
