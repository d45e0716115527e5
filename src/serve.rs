//! `langcert serve`: configuration, start-up (data directory, database, migrations, keys,
//! item bank, demo data), the sign-in links it prints, and clean shutdown on SIGTERM.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;
use exam_api::app::{ApiConfig, AppState, router};
use exam_api::db::Db;
use exam_core::bank::Bank;

/// Settings of `langcert serve`; each has a default, a flag and an environment variable.
#[derive(Args, Debug, Clone)]
pub(crate) struct ServeArgs {
    /// Address of the HTTP server.
    #[arg(long, env = "LANGCERT_HTTP", default_value = "127.0.0.1:8080")]
    http: SocketAddr,
    /// Folder for the SQLite database, keys and files.
    #[arg(long, env = "LANGCERT_DATA_DIR", default_value = "./data")]
    data_dir: PathBuf,
    /// Database URL: `postgres://…` for PostgreSQL; SQLite under --data-dir when absent.
    #[arg(long, env = "LANGCERT_DATABASE_URL")]
    database_url: Option<String>,
    /// The address users reach the server at, for links (default: http://<--http>).
    #[arg(long, env = "LANGCERT_PUBLIC_URL")]
    public_url: Option<String>,
    /// Do not create the demo centre or print its sign-in links.
    #[arg(long, env = "LANGCERT_NO_DEMO")]
    no_demo: bool,
    /// An item bank folder to load instead of the English bank built into the binary.
    #[arg(long, env = "LANGCERT_BANK")]
    bank: Option<PathBuf>,
    /// Lifetime of a session token, in seconds.
    #[arg(long, env = "LANGCERT_SESSION_TTL", default_value_t = 1800)]
    session_ttl_s: i64,
    /// Sign-in attempts allowed per account or address per minute.
    #[arg(long, env = "LANGCERT_SIGN_IN_PER_MINUTE", default_value_t = 10)]
    sign_in_per_minute: u32,
    /// SMTP server for mail (`smtp://host:25`, `smtps://user:pass@host`); without it,
    /// mail stays in the outbox and the local mailbox page shows it.
    #[arg(long, env = "LANGCERT_SMTP_URL")]
    smtp_url: Option<String>,
    /// The From address of mail.
    #[arg(
        long,
        env = "LANGCERT_SMTP_FROM",
        default_value = "langcert <no-reply@localhost>"
    )]
    smtp_from: String,
    /// The Ed25519 key (PKCS#8 PEM) that signs certificates; created in the data
    /// directory on first start when absent.
    #[arg(long, env = "LANGCERT_ISSUER_KEY")]
    issuer_key: Option<PathBuf>,
    /// The TLS certificate chain (PEM) for HTTPS of its own; with --tls-key. SIGHUP
    /// reads both files again.
    #[arg(long, env = "LANGCERT_TLS_CERT", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The TLS private key (PEM, PKCS#8, PKCS#1 or SEC1); with --tls-cert.
    #[arg(long, env = "LANGCERT_TLS_KEY", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Take clients' addresses from `X-Forwarded-For` (only behind a trusted reverse proxy).
    #[arg(long, env = "LANGCERT_TRUST_PROXY")]
    trust_proxy: bool,
    /// The one UDP address of all interview and monitoring media; ICE-TCP (for networks
    /// that block UDP) listens on the same port number. `0.0.0.0:3478` serves every
    /// interface; port 0 picks a free one.
    #[arg(long, env = "LANGCERT_MEDIA_UDP", default_value = "127.0.0.1:3478")]
    media_udp: std::net::SocketAddr,
    /// The public address announced in media candidates (1:1 NAT).
    #[arg(long, env = "LANGCERT_PUBLIC_IP")]
    public_ip: Option<std::net::IpAddr>,
    /// URLs of a TURN server for participants whose network blocks the media port
    /// (e.g. `turn:turn.example.org:3478?transport=udp,turns:turn.example.org:5349`);
    /// needs `--turn-secret`.
    #[arg(
        long,
        env = "LANGCERT_TURN_URL",
        value_delimiter = ',',
        requires = "turn_secret"
    )]
    turn_url: Vec<String>,
    /// The secret shared with the TURN server (coturn's `static-auth-secret`): each media
    /// grant comes with a TURN credential derived from it, valid `--turn-ttl-s`.
    #[arg(
        long,
        env = "LANGCERT_TURN_SECRET",
        requires = "turn_url",
        hide_env_values = true
    )]
    turn_secret: Option<String>,
    /// How long a TURN credential is valid, in seconds.
    #[arg(long, env = "LANGCERT_TURN_TTL_S", default_value_t = 3600)]
    turn_ttl_s: i64,
    /// Days interview recordings are kept before they are deleted.
    #[arg(long, env = "LANGCERT_RECORDING_RETENTION_DAYS", default_value_t = 30)]
    recording_retention_days: u64,
    /// Seconds an interview room stays open after its last participant left.
    #[arg(long, env = "LANGCERT_ROOM_CLOSE_AFTER", default_value_t = 60)]
    room_close_after_s: u64,
    /// The pause between two written-test items, in ms (the guide's 3 s; benchmarks lower it).
    #[arg(long, env = "LANGCERT_ITEM_PAUSE_MS", default_value_t = 3000)]
    item_pause_ms: i64,
    /// The folder of the face models (and, by default, of ONNX Runtime), filled by
    /// `models/fetch`.
    #[arg(long, env = "LANGCERT_MODELS", default_value = "models")]
    pub(crate) models: PathBuf,
    /// The ONNX Runtime shared library (default: $ORT_DYLIB_PATH, then the models folder).
    #[arg(long)]
    pub(crate) onnxruntime: Option<PathBuf>,
    /// Vision worker threads (each analyses one frame at a time on one core).
    #[arg(long, env = "LANGCERT_VISION_WORKERS", default_value_t = 1)]
    vision_workers: usize,
    /// Sampled frames per second and candidate during the written test.
    #[arg(long, env = "LANGCERT_MONITOR_FPS", default_value_t = 1.0)]
    monitor_fps: f64,
    /// Sampled frames waiting for a worker, at most; more are dropped (and counted).
    #[arg(long, env = "LANGCERT_VISION_QUEUE", default_value_t = 64)]
    vision_queue: usize,
    /// Days proctoring thumbnails, clips and identity images are kept.
    #[arg(long, env = "LANGCERT_PROCTORING_RETENTION_DAYS", default_value_t = 30)]
    proctoring_retention_days: u32,
    /// Minutes before its slot an interview's room opens (to the evaluator and the
    /// candidate); earlier, the room says when it opens.
    #[arg(long, env = "LANGCERT_ROOM_OPENS_BEFORE_MIN", default_value_t = 15)]
    room_opens_before_min: i64,
    /// Least minutes an interview must be in progress for its oral to be scored (unless
    /// its evaluator closes it as held without recording, with a reason).
    #[arg(long, env = "LANGCERT_ORAL_MIN_MINUTES", default_value_t = 10)]
    oral_min_minutes: i64,
    /// Minutes after the start a candidate may still come; then the evaluator may record
    /// a no-show, and the server records one at the slot's end for a candidate who never
    /// came to the waiting room.
    #[arg(long, env = "LANGCERT_NO_SHOW_GRACE_MIN", default_value_t = 10)]
    no_show_grace_min: i64,
}

/// The token-signing secret of this installation, created on first start.
fn jwt_secret(data_dir: &Path) -> anyhow::Result<Vec<u8>> {
    let path = data_dir.join("jwt.secret");
    if let Ok(bytes) = std::fs::read(&path)
        && bytes.len() >= 32
    {
        return Ok(bytes);
    }
    let mut secret = vec![0u8; 32];
    rand::fill(&mut secret[..]);
    use std::io::Write;
    private_file(&path)?
        .write_all(&secret)
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(secret)
}

/// Opens a file for writing, created (or truncated) readable by this user only.
fn private_file(path: &Path) -> anyhow::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let file = options
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    restrict(path, 0o600)?;
    Ok(file)
}

/// Sets a path's permission bits (Unix), e.g. on files an older version left readable.
fn restrict(path: &Path, mode: u32) -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
            .with_context(|| format!("restricting {}", path.display()))?;
    }
    #[cfg(not(unix))]
    let _ = (path, mode);
    Ok(())
}

/// The data directory holds the database (identity images included), the keys and the
/// recordings: it is this user's alone (0700), and so are the SQLite files (0600),
/// created so before SQLite opens them.
fn make_data_dir_private(data_dir: &Path, sqlite: bool) -> anyhow::Result<()> {
    restrict(data_dir, 0o700)?;
    if sqlite {
        let db = data_dir.join("langcert.db");
        if !db.exists() {
            private_file(&db)?;
        }
        for name in ["langcert.db", "langcert.db-wal", "langcert.db-shm"] {
            let p = data_dir.join(name);
            if p.exists() {
                restrict(&p, 0o600)?;
            }
        }
    }
    for name in ["jwt.secret", "issuer-key.pem"] {
        let p = data_dir.join(name);
        if p.exists() {
            restrict(&p, 0o600)?;
        }
    }
    Ok(())
}

pub(crate) async fn run(args: ServeArgs) -> anyhow::Result<()> {
    std::fs::create_dir_all(&args.data_dir)
        .with_context(|| format!("creating the data directory {}", args.data_dir.display()))?;
    make_data_dir_private(&args.data_dir, args.database_url.is_none())?;
    let url = match &args.database_url {
        Some(u) => u.clone(),
        None => format!(
            "sqlite://{}?mode=rwc",
            args.data_dir.join("langcert.db").display()
        ),
    };
    // Settings are checked before anything is changed (a failed start changes nothing).
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some(crate::tls::TlsFiles::load(cert, key)?),
        _ => None,
    };
    let smtp = match &args.smtp_url {
        Some(url) => Some(
            exam_api::mail::smtp::Smtp::new(url, &args.smtp_from)
                .map_err(|e| anyhow::anyhow!("--smtp-url / --smtp-from: {e}"))?,
        ),
        None => None,
    };
    // The face models first: without them there is no proctoring, so no start.
    let models = vision::ModelPaths::resolve(&args.models, args.onnxruntime.as_deref())?;
    let identity = std::sync::Arc::new(
        crate::monitor::IdentityChecks::new(&models).context("loading the face models")?,
    );
    let db = Db::connect(&url).await.context("opening the database")?;
    match exam_api::results::log::catch_up(&db)
        .await
        .context("indexing the certificate log")?
    {
        0 => {}
        n => tracing::info!(certificates = n, "certificate log indexed"),
    }
    let monitor = crate::monitor::Monitor::start(
        &models,
        crate::monitor::MonitorConfig {
            fps: args.monitor_fps,
            workers: args.vision_workers,
            queue: args.vision_queue,
        },
        identity.clone(),
        db.clone(),
    )
    .context("starting the vision workers")?;
    let bank = match &args.bank {
        Some(p) => Bank::load(p).map_err(|errors| {
            let list: Vec<String> = errors.iter().map(ToString::to_string).collect();
            anyhow::anyhow!("the bank {} is invalid:\n{}", p.display(), list.join("\n"))
        })?,
        None => Bank::english(),
    };
    let sfu = std::sync::Arc::new(
        media_server::Sfu::new(media_server::SfuConfig {
            media_addr: args.media_udp,
            ice_tcp: true,
            public_ip: args.public_ip,
            room_close_after: std::time::Duration::from_secs(args.room_close_after_s),
            recordings: Some(args.data_dir.join("recordings")),
            frame_tap: Some(monitor.clone()),
        })
        .map_err(|e| anyhow::anyhow!("starting the media server: {e}"))?,
    );
    let listener = tokio::net::TcpListener::bind(args.http)
        .await
        .with_context(|| format!("binding {}", args.http))?;
    let addr = listener.local_addr()?;
    // Links name the bound address (an --http port of 0 picks a free one).
    let public_url = args.public_url.clone().unwrap_or_else(|| {
        let scheme = if tls.is_some() { "https" } else { "http" };
        format!("{scheme}://{addr}")
    });
    let config = ApiConfig {
        public_url: public_url.clone(),
        session_ttl_s: args.session_ttl_s,
        sign_in_per_minute: args.sign_in_per_minute,
        item_pause_ms: args.item_pause_ms,
        trust_proxy: args.trust_proxy,
        recordings_dir: Some(args.data_dir.join("recordings")),
        // Behind HTTPS the session cookie is marked Secure.
        secure_cookie: public_url.starts_with("https://") || tls.is_some(),
        proctoring_retention_days: args.proctoring_retention_days,
        lifecycle: exam_core::interview::Lifecycle {
            open_before_ms: args.room_opens_before_min.max(0) * 60_000,
            min_in_progress_ms: args.oral_min_minutes.max(0) * 60_000,
            no_show_grace_ms: args.no_show_grace_min.max(0) * 60_000,
        },
        ..ApiConfig::default()
    };
    let key_path = args
        .issuer_key
        .clone()
        .unwrap_or_else(|| args.data_dir.join("issuer-key.pem"));
    let issuer = credential::keys::load_or_create(&key_path)
        .with_context(|| format!("reading or creating the issuer key {}", key_path.display()))?;
    let state = AppState::new(db.clone(), &jwt_secret(&args.data_dir)?, bank, config)
        .with_issuer(issuer)
        .with_identity_vision(identity);
    // Sign-outs hold across restarts.
    state
        .keys
        .load_revoked(&db)
        .await
        .map_err(|e| anyhow::anyhow!("loading revoked sessions: {e}"))?;
    // Items that were on screen when the server stopped get back the time it was down.
    let extended = exam_api::written::store::extend_after_downtime(&db, exam_api::db::now_ms())
        .await
        .map_err(|e| anyhow::anyhow!("resuming written tests: {e}"))?;
    if extended > 0 {
        tracing::info!(
            items = extended,
            "written-test items resumed with the time that was left"
        );
    }
    tokio::spawn(heartbeat(db.clone()));
    tokio::spawn(purge_proctoring(db.clone(), args.proctoring_retention_days));
    tokio::spawn(purge_recordings(
        args.data_dir.join("recordings"),
        std::time::Duration::from_secs(args.recording_retention_days * 24 * 3600),
    ));
    tokio::spawn(scheduled_mail(
        db.clone(),
        exam_api::mail::scheduler::Context {
            public_url: public_url.clone(),
            link_ttl_ms: state.config.link_ttl_s * 1000,
        },
        state.config.lifecycle,
    ));
    if let Some(smtp) = smtp {
        tokio::spawn(deliver_mail(db.clone(), smtp));
    }
    let n = exam_api::bank_api::store_bank(&state)
        .await
        .map_err(|e| anyhow::anyhow!("storing the bank: {e}"))?;
    tracing::info!(items = n, database = ?db.backend, "item bank loaded");

    // Listening for SIGTERM before saying we are up: a supervisor (or a test) that stops
    // the server right after these lines gets a clean shutdown, not the default action.
    let shutdown = shutdown_signal()?;
    println!(
        "langcert {} listening on {}://{addr}",
        env!("CARGO_PKG_VERSION"),
        if tls.is_some() { "https" } else { "http" }
    );
    if !args.no_demo {
        let (created, links) = exam_api::seed::seed_demo(&state)
            .await
            .map_err(|e| anyhow::anyhow!("seeding the demo centre: {e}"))?;
        if created {
            println!("Demo centre created — single-use sign-in links (each works once):");
            for l in links {
                println!("  {:<15} {}", l.role.as_str(), l.url);
            }
        } else {
            println!("Demo centre: `langcert demo links` prints new sign-in links");
        }
    }
    println!("API description: {public_url}/api/openapi.json");
    use std::io::Write;
    std::io::stdout().flush()?;

    let keys = state.keys.clone();
    let hub = crate::interview::start_hub(
        db.clone(),
        keys.clone(),
        state.config.lifecycle,
        args.turn_secret
            .clone()
            .map(|secret| signaling::turn::TurnConfig {
                urls: args.turn_url.clone(),
                secret,
                ttl_s: args.turn_ttl_s,
            }),
        sfu.clone(),
    );
    // An interview its evaluator closes over HTTP closes its live room too.
    let closing = hub.clone();
    let state = state.with_interview_closed(std::sync::Arc::new(move |room: String| {
        closing.closed(&room)
    }));
    let app = router(state)
        .merge(crate::interview::router(crate::interview::WsState {
            hub,
            keys: keys.clone(),
        }))
        .merge(crate::monitor::router(crate::monitor::MonitorWs {
            monitor,
            sfu: sfu.clone(),
            db: db.clone(),
            keys,
        }));
    let service = app.into_make_service_with_connect_info::<SocketAddr>();
    match tls {
        Some(files) => {
            use axum::serve::ListenerExt;
            crate::tls::reload_on_sighup(files.clone())?;
            // `tap_io` only to get the peer's address as connect info.
            let listener = crate::tls::TlsListener::new(listener, files)?.tap_io(|_| {});
            axum::serve(listener, service)
                .with_graceful_shutdown(shutdown)
                .await?;
        }
        None => {
            axum::serve(listener, service)
                .with_graceful_shutdown(shutdown)
                .await?;
        }
    }
    sfu.shutdown().await;
    db.close().await;
    tracing::info!("stopped cleanly");
    Ok(())
}

/// Deletes proctoring images past their retention, hourly.
async fn purge_proctoring(db: Db, days: u32) {
    let mut every = tokio::time::interval(std::time::Duration::from_secs(3600));
    loop {
        every.tick().await;
        match exam_api::proctoring::purge_media(&db, exam_api::db::now_ms(), days).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(images = n, "old proctoring images deleted"),
            Err(e) => tracing::warn!(error = %e, "deleting old proctoring images failed"),
        }
    }
}

/// Records four times a second that the server is alive, so that a restart knows how
/// long it was down (see `extend_after_downtime`): a crash costs or gives a candidate at
/// most a quarter of a second.
async fn heartbeat(db: Db) {
    let mut tick = tokio::time::interval(std::time::Duration::from_millis(250));
    loop {
        tick.tick().await;
        if let Err(e) = exam_api::written::store::heartbeat(&db, exam_api::db::now_ms()).await {
            tracing::warn!(error = %e, "heartbeat not stored");
        }
    }
}

/// Deletes interview recordings older than the retention period, every hour.
async fn purge_recordings(dir: PathBuf, max_age: std::time::Duration) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(3600));
    loop {
        tick.tick().await;
        match exam_api::recordings::purge(&dir, max_age) {
            Ok(0) => {}
            Ok(n) => tracing::info!(interviews = n, "old recordings deleted"),
            Err(e) => tracing::warn!(error = %e, "recordings not purged"),
        }
    }
}

/// Sends the scheduled mails that are due (reminders) and records the no-shows of
/// slots that are over, every five seconds.
async fn scheduled_mail(
    db: Db,
    ctx: exam_api::mail::scheduler::Context,
    rules: exam_core::interview::Lifecycle,
) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(5));
    loop {
        tick.tick().await;
        let now = exam_api::db::now_ms();
        match exam_api::mail::scheduler::run_due(&db, &ctx, now).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(mails = n, "scheduled mails sent"),
            Err(e) => tracing::warn!(error = %e, "scheduled mails not sent"),
        }
        match exam_api::interviews::store::sweep_no_shows(&db, &rules, now).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(interviews = n, "no-shows recorded"),
            Err(e) => tracing::warn!(error = %e, "no-shows not recorded"),
        }
    }
}

/// Delivers the outbox by SMTP, every two seconds.
async fn deliver_mail(db: Db, smtp: exam_api::mail::smtp::Smtp) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(2));
    loop {
        tick.tick().await;
        if let Err(e) = smtp.deliver_pending(&db).await {
            tracing::warn!(error = %e, "mail delivery failed");
        }
    }
}

/// Resolves on Ctrl-C or SIGTERM; the handlers are in place when this returns.
#[cfg(unix)]
fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    Ok(async move {
        tokio::select! {
            _ = term.recv() => {},
            _ = int.recv() => {},
        }
        tracing::info!("shutting down");
    })
}

/// Resolves on Ctrl-C.
#[cfg(not(unix))]
fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    Ok(async {
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("shutting down");
    })
}
