//! `langcert bench …`: load commands that print figures (tests never assert timings).
//!
//! `bench api` starts a real server (this binary, as a child process) and runs simulated
//! candidates through its HTTP API concurrently: each signs in, fills in the form, starts
//! the written test, then answers items with a think time between them. The figure is
//! the latency the client sees from sending an answer to holding the next item: the
//! answer's round trip plus the round trip of the view that brings the next item — the
//! guide's 3-second pause between them is waited out but not counted.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use rand::{Rng, SeedableRng, rngs::StdRng};
use serde_json::{Value, json};

#[derive(Subcommand)]
pub(crate) enum BenchCommand {
    /// Simulated candidates through the written test's HTTP API.
    Api(ApiArgs),
    /// Synthetic interview rooms through the SFU on loopback (two peers a room,
    /// 1.5 Mbit/s video and 32 kbit/s audio both ways).
    Sfu(SfuArgs),
    /// The SFU node that `bench sfu` starts as a child process and drives over its
    /// standard input and output (not for use by hand).
    #[command(hide = true)]
    SfuNode,
    /// Monitored candidates through a real server: webrtc-rs publishers of encoded H264
    /// in this process, the server's whole CPU, upload, analysed frames, event latency.
    Monitor(crate::bench_monitor::MonitorArgs),
    /// The proctoring vision's cost per frame by stage (decode, pre-processing, each
    /// model, post-processing) on one core, or `--overload N` candidates.
    Vision(crate::bench_vision::VisionArgs),
}

#[derive(Args, Debug, Clone)]
pub(crate) struct SfuArgs {
    /// Interview rooms.
    #[arg(long, default_value_t = 10)]
    rooms: usize,
    /// Seconds of measured traffic.
    #[arg(long, default_value_t = 30)]
    seconds: u64,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

#[derive(Args, Debug, Clone)]
pub(crate) struct ApiArgs {
    /// Concurrent candidates.
    #[arg(long, default_value_t = 200)]
    candidates: usize,
    /// Items each candidate answers.
    #[arg(long, default_value_t = 10)]
    items: usize,
    /// Shortest think time before an answer, in ms.
    #[arg(long, default_value_t = 300)]
    think_min_ms: u64,
    /// Longest think time before an answer, in ms.
    #[arg(long, default_value_t = 1500)]
    think_max_ms: u64,
    /// The pause between items the server applies (the guide's 3 s).
    #[arg(long, default_value_t = 3000)]
    pause_ms: u64,
    /// PostgreSQL URL (default: SQLite in a temporary folder).
    #[arg(long)]
    database_url: Option<String>,
    /// Seed of think times.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

pub(crate) fn run(command: BenchCommand) -> anyhow::Result<()> {
    match command {
        BenchCommand::Api(args) => tokio::runtime::Runtime::new()?.block_on(api(args)),
        BenchCommand::Vision(args) => crate::bench_vision::run(args),
        BenchCommand::Monitor(args) => crate::bench_monitor::run(args),
        BenchCommand::SfuNode => {
            media_server::bench::serve_stdio(media_server::bench::node_config())
                .map_err(|e| anyhow::anyhow!("bench sfu-node: {e}"))
        }
        BenchCommand::Sfu(args) => {
            // The bench builds its own runtime (the peers'), so it runs here; the SFU is
            // this binary again, as a child process, whose whole CPU time is measured.
            let node = media_server::bench::NodeCommand {
                program: std::env::current_exe()?,
                args: vec!["bench".to_owned(), "sfu-node".to_owned()],
            };
            let report = media_server::bench::run(args.rooms, args.seconds, &node)
                .map_err(|e| anyhow::anyhow!("bench sfu: {e}"))?;
            if args.json {
                println!("{}", serde_json::to_string(&report)?);
            } else {
                println!("{}", serde_json::to_string_pretty(&report)?);
            }
            Ok(())
        }
    }
}

/// The server under test, a child process of this one.
pub(crate) struct Server {
    child: Child,
    pub(crate) base: String,
    pub(crate) links: Vec<(String, String)>,
}

impl Server {
    fn start(data_dir: &std::path::Path, args: &ApiArgs) -> anyhow::Result<Server> {
        let mut extra = vec!["--item-pause-ms".to_owned(), args.pause_ms.to_string()];
        if let Some(url) = &args.database_url {
            extra.extend(["--database-url".to_owned(), url.clone()]);
        }
        Server::start_program(&std::env::current_exe()?, data_dir, &extra)
    }

    /// `program serve` on `data_dir` with its demo data, on a free port, with `extra`
    /// arguments; once it printed its links.
    pub(crate) fn start_program(
        program: &std::path::Path,
        data_dir: &std::path::Path,
        extra: &[String],
    ) -> anyhow::Result<Server> {
        let mut cmd = Command::new(program);
        cmd.args([
            "serve",
            "--http",
            "127.0.0.1:0",
            "--sign-in-per-minute",
            "1000000",
        ])
        .arg("--data-dir")
        .arg(data_dir)
        .args(extra);
        let mut child = cmd
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()?;
        let mut lines = BufReader::new(child.stdout.take().context("stdout")?).lines();
        let (mut base, mut links) = (String::new(), Vec::new());
        for line in lines.by_ref() {
            let line = line?;
            if let Some(rest) = line.split("listening on ").nth(1) {
                base = rest.trim().to_owned();
            } else if line.starts_with("  ")
                && let Some((role, url)) = line.trim().split_once(char::is_whitespace)
            {
                links.push((role.to_owned(), url.trim().to_owned()));
            }
            if line.starts_with("API description") {
                break;
            }
        }
        std::thread::spawn(move || for _ in lines {});
        if base.is_empty() {
            bail!("the server did not start");
        }
        Ok(Server { child, base, links })
    }

    /// The server's process id.
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    pub(crate) fn stop(mut self) -> anyhow::Result<()> {
        Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()?;
        self.child.wait()?;
        Ok(())
    }
}

impl Drop for Server {
    /// A benchmark that fails half-way does not leave its server running.
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

pub(crate) struct Api {
    pub(crate) http: reqwest::Client,
    pub(crate) base: String,
}

impl Api {
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> anyhow::Result<Value> {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await?;
        let status = res.status();
        let body: Value = res.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            bail!("{path}: {status} {body}");
        }
        Ok(body)
    }

    /// The identity step with the fixture photo as selfie and document.
    async fn identity(&self, token: &str) -> anyhow::Result<()> {
        let photo = std::fs::read("models/fixtures/astronaut.png")
            .context("models/fixtures/astronaut.png (run models/fetch)")?;
        for capture in ["selfie", "document"] {
            let res = self
                .http
                .put(format!("{}/api/v1/me/identity/{capture}", self.base))
                .bearer_auth(token)
                .header("Content-Type", "image/png")
                .body(photo.clone())
                .send()
                .await?;
            if !res.status().is_success() {
                bail!("identity {capture}: {} {}", res.status(), res.text().await?);
            }
        }
        Ok(())
    }

    pub(crate) async fn sign_in(&self, link: &str) -> anyhow::Result<String> {
        let token = link.rsplit('/').next().context("link")?;
        let s = self
            .call(
                reqwest::Method::POST,
                "/api/v1/auth/link",
                None,
                Some(json!({ "token": token })),
            )
            .await?;
        Ok(s["token"].as_str().context("token")?.to_owned())
    }
}

/// A response of the right shape for a public item.
fn response_for(item: &Value) -> Value {
    let gaps = item["gaps"].as_array().map_or(0, Vec::len);
    match item["type"].as_str().unwrap_or("") {
        "dropdown_gaps" => json!({ "selected": vec![0; gaps] }),
        "word_bank" => {
            json!({ "placed": vec![Value::Null; item["gap_count"].as_u64().unwrap_or(0) as usize] })
        }
        "text_gaps" => json!({ "typed": vec!["answer"; gaps] }),
        "order_sentences" | "order_words" => {
            json!({ "order": (0..item["shuffled"].as_array().map_or(0, Vec::len)).collect::<Vec<_>>() })
        }
        "listening" if item["response"] == "text_gaps" => json!({ "typed": vec!["answer"; gaps] }),
        _ => json!({ "choice": 0 }),
    }
}

/// One candidate ready to answer: session token and test id.
pub(crate) async fn prepare(api: &Api, admin: &str, n: usize) -> anyhow::Result<(String, String)> {
    let c = api
        .call(
            reqwest::Method::POST,
            "/api/v1/candidates",
            Some(admin),
            Some(json!({ "email": format!("bench{n}-{}@bench.invalid", std::process::id()), "first_names": "Bench", "last_name": format!("Candidate {n}"), "cefr_target": "B1" })),
        )
        .await?;
    let token = api
        .sign_in(c["sign_in_url"].as_str().context("link")?)
        .await?;
    let profile = json!({ "birth_name": "BENCH", "first_names": "Bench", "birth_date": "1990-01-01", "sex": "F", "birth_commune": "Lyon", "birth_country": "France" });
    api.call(
        reqwest::Method::PUT,
        "/api/v1/me/profile",
        Some(&token),
        Some(profile),
    )
    .await?;
    api.identity(&token).await?;
    let view = api
        .call(reqwest::Method::POST, "/api/v1/written", Some(&token), None)
        .await?;
    Ok((token, view["id"].as_str().context("id")?.to_owned()))
}

/// Answers `items` items; returns the latency of each (answer sent → next item held).
async fn candidate(
    api: Arc<Api>,
    token: String,
    id: String,
    args: ApiArgs,
    seed: u64,
) -> anyhow::Result<Vec<f64>> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut view = api
        .call(
            reqwest::Method::GET,
            &format!("/api/v1/written/{id}"),
            Some(&token),
            None,
        )
        .await?;
    let mut latencies = Vec::with_capacity(args.items);
    for _ in 0..args.items {
        if view["status"] != "item" {
            break;
        }
        let think = rng.random_range(args.think_min_ms..=args.think_max_ms.max(args.think_min_ms));
        tokio::time::sleep(Duration::from_millis(think)).await;
        let item = &view["item"];
        let body = json!({ "item_id": item["id"], "response": response_for(item) });
        let t0 = Instant::now();
        let ack = api
            .call(
                reqwest::Method::POST,
                &format!("/api/v1/written/{id}/answers"),
                Some(&token),
                Some(body),
            )
            .await?;
        let mut counted = t0.elapsed();
        // Wait out the pause (not counted), then fetch the next item (counted).
        if let Some(until) = ack["pause_until_ms"].as_i64() {
            let now =
                view["server_now_ms"].as_i64().unwrap_or(until) + t0.elapsed().as_millis() as i64;
            tokio::time::sleep(Duration::from_millis((until - now).clamp(0, 5000) as u64)).await;
        }
        loop {
            let until = ack["pause_until_ms"].as_i64();
            let t1 = Instant::now();
            view = api
                .call(
                    reqwest::Method::GET,
                    &format!("/api/v1/written/{id}"),
                    Some(&token),
                    None,
                )
                .await?;
            if view["status"] != "pause" {
                counted += t1.elapsed();
                break;
            }
            let left = view["pause_until_ms"].as_i64().or(until).unwrap_or(0)
                - view["server_now_ms"].as_i64().unwrap_or(0);
            tokio::time::sleep(Duration::from_millis(left.clamp(1, 5000) as u64)).await;
        }
        latencies.push(counted.as_secs_f64() * 1000.0);
    }
    Ok(latencies)
}

async fn api(args: ApiArgs) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let server = Server::start(dir.path(), &args)?;
    let api = Arc::new(Api {
        http: reqwest::Client::builder()
            .pool_max_idle_per_host(1024)
            .build()?,
        base: server.base.clone(),
    });
    let admin_link = server
        .links
        .iter()
        .find(|(r, _)| r == "centre_admin")
        .context("no centre admin link")?
        .1
        .clone();
    let admin = api.sign_in(&admin_link).await?;
    // Set-up (not measured), 16 candidates at a time.
    let mut ready = Vec::new();
    for chunk in (0..args.candidates).collect::<Vec<_>>().chunks(16) {
        let batch = chunk.iter().map(|&n| {
            let api = api.clone();
            let admin = admin.clone();
            async move { prepare(&api, &admin, n).await }
        });
        for r in futures_join(batch).await {
            ready.push(r?);
        }
    }
    let started = Instant::now();
    let tasks: Vec<_> = ready
        .into_iter()
        .enumerate()
        .map(|(n, (token, id))| {
            tokio::spawn(candidate(
                api.clone(),
                token,
                id,
                args.clone(),
                args.seed ^ n as u64,
            ))
        })
        .collect();
    let mut latencies = Vec::new();
    for t in tasks {
        latencies.extend(t.await??);
    }
    let wall = started.elapsed().as_secs_f64();
    server.stop()?;
    let stored = stored_answers(&args, dir.path()).await?;
    latencies.sort_by(f64::total_cmp);
    let pct = |p: f64| {
        latencies
            .get(((latencies.len() as f64 * p).ceil() as usize).saturating_sub(1))
            .copied()
            .unwrap_or(0.0)
    };
    let out = json!({
        "candidates": args.candidates,
        "answers": latencies.len(),
        "stored_answers": stored,
        "database": if args.database_url.is_some() { "postgres" } else { "sqlite" },
        "p50_ms": round2(pct(0.50)),
        "p99_ms": round2(pct(0.99)),
        "max_ms": round2(latencies.last().copied().unwrap_or(0.0)),
        "answers_per_s": round2(latencies.len() as f64 / wall),
        "think_ms": [args.think_min_ms, args.think_max_ms],
        "item_pause_ms": args.pause_ms,
        "wall_s": round2(wall),
    });
    if args.json {
        println!("{out}");
    } else {
        println!("{}", serde_json::to_string_pretty(&out)?);
    }
    if stored < latencies.len() as i64 {
        bail!(
            "{} answers were acknowledged but only {stored} are stored",
            latencies.len()
        );
    }
    Ok(())
}

pub(crate) fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// Runs futures concurrently and collects their outputs in order.
async fn futures_join<F: std::future::Future + Send + 'static>(
    futs: impl Iterator<Item = F>,
) -> Vec<F::Output>
where
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futs.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.expect("task"));
    }
    out
}

/// Answers stored in the database once the server has stopped.
async fn stored_answers(args: &ApiArgs, dir: &std::path::Path) -> anyhow::Result<i64> {
    let url = match &args.database_url {
        Some(u) => u.clone(),
        None => format!(
            "sqlite://{}?mode=rw",
            PathBuf::from(dir).join("langcert.db").display()
        ),
    };
    let db = exam_api::db::Db::connect(&url).await?;
    let n = exam_api::written::store::answered_count(&db)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    db.close().await;
    Ok(n)
}
