//! The demo training centre created on first start, and fresh sign-in links for it.

use crate::accounts::{NewUser, insert_user, new_id};
use crate::app::AppState;
use crate::auth::Role;
use crate::db::Db;
use crate::db::now_ms;
use crate::error::ApiError;

const DEMO_KEY: &str = "demo_centre";

/// The demo accounts: role, e-mail, first names, last name (fictitious people).
const PEOPLE: [(Role, &str, &str, &str); 5] = [
    (
        Role::Candidate,
        "candidat@demo.langcert.invalid",
        "Camille",
        "Martin",
    ),
    (
        Role::Evaluator,
        "evaluateur@demo.langcert.invalid",
        "Bruno",
        "Leroy",
    ),
    (
        Role::Reviewer,
        "surveillance@demo.langcert.invalid",
        "Chloé",
        "Bernard",
    ),
    (
        Role::CentreAdmin,
        "centre@demo.langcert.invalid",
        "Alice",
        "Durand",
    ),
    (
        Role::PlatformAdmin,
        "plateforme@demo.langcert.invalid",
        "Paul",
        "Moreau",
    ),
];

/// A sign-in link for one demo role.
#[derive(Debug, Clone)]
pub struct DemoLink {
    /// The role of the account.
    pub role: Role,
    /// A fresh single-use link.
    pub url: String,
}

/// Creates the demo centre on the first start of a data directory. Returns whether it
/// was created now and, only then, a fresh sign-in link per demo account: later starts
/// print none (`langcert demo links` makes new ones), and an installation without the
/// demo centre never gets any.
pub async fn seed_demo(state: &AppState) -> Result<(bool, Vec<DemoLink>), ApiError> {
    if demo_centre(&state.db).await?.is_some() {
        return Ok((false, Vec::new()));
    }
    create(state).await?;
    let links = demo_links(
        &state.db,
        &state.config.public_url,
        state.config.link_ttl_s * 1000,
    )
    .await?
    .unwrap_or_default();
    Ok((true, links))
}

/// The demo centre's id, when this installation has one.
async fn demo_centre(db: &Db) -> Result<Option<String>, ApiError> {
    let row: Option<(String,)> = sqlx::query_as("SELECT value FROM settings WHERE key = $1")
        .bind(DEMO_KEY)
        .fetch_optional(&db.pool)
        .await?;
    Ok(row.map(|(c,)| c))
}

/// Fresh single-use sign-in links for the demo accounts (each replaces the account's
/// older unused links); `None` when the installation has no demo centre.
pub async fn demo_links(
    db: &Db,
    public_url: &str,
    ttl_ms: i64,
) -> Result<Option<Vec<DemoLink>>, ApiError> {
    let Some(centre) = demo_centre(db).await? else {
        return Ok(None);
    };
    let mut links = Vec::new();
    for (role, email, ..) in PEOPLE {
        let row: Option<(String,)> = sqlx::query_as(
            "SELECT id FROM users WHERE email = $1 AND (centre_id = $2 OR role = 'platform_admin')",
        )
        .bind(email)
        .bind(&centre)
        .fetch_optional(&db.pool)
        .await?;
        if let Some((id,)) = row {
            let token = crate::auth::create_link(db, &id, now_ms(), ttl_ms).await?;
            links.push(DemoLink {
                role,
                url: format!("{}/signin/{token}", public_url.trim_end_matches('/')),
            });
        }
    }
    Ok(Some(links))
}

async fn create(state: &AppState) -> Result<String, ApiError> {
    let centre = new_id();
    let now = now_ms();
    sqlx::query("INSERT INTO centres (id, name, created_at) VALUES ($1, $2, $3)")
        .bind(&centre)
        .bind("Centre de démonstration")
        .bind(now)
        .execute(&state.db.pool)
        .await?;
    let mut ids = Vec::new();
    for (role, email, first, last) in PEOPLE {
        let id = new_id();
        let c = (role != Role::PlatformAdmin).then_some(centre.as_str());
        let user = NewUser {
            id: &id,
            centre: c,
            role,
            email,
            first_names: first,
            last_name: last,
            password_hash: None,
            created_at: now_ms(),
        };
        insert_user(state, &user).await?;
        ids.push(id);
    }
    sqlx::query("INSERT INTO candidates (user_id, centre_id, cefr_target, time_multiplier) VALUES ($1, $2, 'B2', 1.0)")
        .bind(&ids[0])
        .bind(&centre)
        .execute(&state.db.pool)
        .await?;
    // The demo evaluator is available on weekdays, 09:00–12:00 and 14:00–17:00 in Paris.
    let weekly = (1..=5)
        .flat_map(|d| {
            [("09:00", "12:00"), ("14:00", "17:00")].map(|(start, end)| {
                crate::booking::availability::Window {
                    weekday: d,
                    start: start.to_owned(),
                    end: end.to_owned(),
                }
            })
        })
        .collect();
    let availability = crate::booking::Availability {
        weekly,
        ..crate::booking::Availability::empty("Europe/Paris")
    };
    let mut conn = state.db.pool.acquire().await?;
    crate::booking::routes::store_availability(&mut conn, &ids[1], &availability).await?;
    sqlx::query("INSERT INTO settings (key, value) VALUES ($1, $2)")
        .bind(DEMO_KEY)
        .bind(&centre)
        .execute(&state.db.pool)
        .await?;
    tracing::info!("demo centre created");
    Ok(centre)
}
