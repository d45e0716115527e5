//! `langcert simulate` and `langcert bench`: the commands that print figures, checked
//! for what they print (never for the figures themselves).

use std::process::Command;

use serde_json::Value;

fn simulate(args: &[&str]) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_langcert"))
        .arg("simulate")
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("one JSON object")
}

#[test]
fn the_synthetic_study_meets_its_targets() {
    let r = simulate(&[
        "--synthetic-bank",
        "150",
        "--candidates",
        "2000",
        "--seed",
        "7",
        "--json",
    ]);
    let domains = r["domains"].as_array().unwrap();
    let names: Vec<&str> = domains
        .iter()
        .map(|d| d["domain"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "vocabulary",
            "grammar",
            "expressions",
            "reading",
            "listening"
        ]
    );
    for d in domains {
        for key in [
            "rmse",
            "bias",
            "exact_level",
            "within_one_level",
            "max_exposure",
            "mean_overlap",
        ] {
            assert!(d[key].is_number(), "{key} in {d}");
        }
    }
    assert!(r["mean_rmse"].as_f64().unwrap() <= 0.30, "{r}");
    assert!(r["exact_level"].as_f64().unwrap() >= 0.76, "{r}");
    assert!(r["max_exposure"].as_f64().unwrap() <= 0.30, "{r}");
}

#[test]
fn the_study_runs_on_the_shipped_bank() {
    let bank = concat!(env!("CARGO_MANIFEST_DIR"), "/bank/en");
    let r = simulate(&[
        "--bank",
        bank,
        "--candidates",
        "200",
        "--seed",
        "3",
        "--json",
    ]);
    assert_eq!(r["domains"].as_array().unwrap().len(), 5);
    // 42 provisional items a domain: less precise than the synthetic bank, still informative.
    let rmse = r["mean_rmse"].as_f64().unwrap();
    assert!(rmse > 0.0 && rmse < 0.6, "{r}");
    assert!(r["max_exposure"].as_f64().unwrap() <= 0.30, "{r}");
}

#[test]
fn bench_api_runs_candidates_through_a_real_server() {
    let out = Command::new(env!("CARGO_BIN_EXE_langcert"))
        .args([
            "bench",
            "api",
            "--candidates",
            "4",
            "--items",
            "3",
            "--pause-ms",
            "0",
            "--think-min-ms",
            "0",
            "--think-max-ms",
            "10",
            "--json",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    assert_eq!(r["answers"], 12);
    assert_eq!(
        r["stored_answers"], 12,
        "every acknowledged answer is stored"
    );
    for key in ["p50_ms", "p99_ms", "answers_per_s"] {
        assert!(r[key].as_f64().is_some_and(|v| v > 0.0), "{key}: {r}");
    }
}

/// `langcert bench sfu --rooms <rooms> --seconds 2 --json`: its report.
fn bench_sfu(rooms: &str) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_langcert"))
        .args(["bench", "sfu", "--rooms", rooms, "--seconds", "2", "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("one JSON object")
}

#[test]
fn bench_sfu_runs_rooms_over_loopback() {
    let r = bench_sfu("1");
    assert_eq!(r["rooms"], 1);
    for key in [
        "forwarded_packets",
        "cpu_s_per_1000_packets",
        "latency_p50_ms",
        "latency_p99_ms",
        "loss",
        "rss_bytes_per_room",
    ] {
        assert!(r[key].is_number(), "{key}: {r}");
    }
    assert!(r["forwarded_packets"].as_u64().unwrap() > 0, "{r}");
}

#[test]
fn ten_peers_share_the_sfu_process_s_one_udp_socket() {
    // Five rooms of two peers, the SFU in a process of its own (the benchmark's node).
    let r = bench_sfu("5");
    // Every one of the 20 streams (each peer's audio and video, to the other) flowed…
    assert_eq!(r["streams"], 20, "{r}");
    assert_eq!(r["streams_flowing"], 20, "{r}");
    // …and the node's process held one UDP socket for all of them.
    let sockets = r["server_udp_sockets"].as_array().unwrap();
    assert_eq!(sockets.len(), 1, "one media socket: {r}");
}
