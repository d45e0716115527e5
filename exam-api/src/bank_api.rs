//! The item bank over HTTP, for platform admins only: items carry their answer keys.

use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::app::AppState;
use crate::auth::{AuthUser, Role};
use crate::db::now_ms;
use crate::error::{ApiError, ApiQuery, ErrorBody};
use exam_core::bank::{Domain, Item, ItemType};

/// The routes of this area.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/items", get(list))
        .route("/api/v1/items/{id}", get(get_one))
}

/// Filters of the item list.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ItemFilter {
    /// Only this domain.
    pub domain: Option<Domain>,
    /// Only this type.
    #[serde(rename = "type")]
    pub item_type: Option<ItemType>,
}

/// An item in the list.
#[derive(Serialize, ToSchema)]
pub struct ItemSummary {
    /// Id.
    pub id: String,
    /// Domain.
    pub domain: Domain,
    /// Type.
    #[serde(rename = "type")]
    pub item_type: ItemType,
    /// CEFR tag.
    pub cefr: String,
    /// Time limit in seconds.
    pub time_limit_s: u32,
    /// Whether the IRT parameters are provisional.
    pub provisional: bool,
}

/// The items of the bank (platform admins).
#[utoipa::path(get, path = "/api/v1/items", tag = "items", params(ItemFilter),
    responses((status = 200, description = "the bank's items", body = [ItemSummary]),
        (status = 400, description = "`bad_query`: an unknown filter or value", body = ErrorBody),
        (status = 403, description = "not a platform admin", body = ErrorBody)))]
async fn list(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiQuery(f): ApiQuery<ItemFilter>,
) -> Result<Json<Vec<ItemSummary>>, ApiError> {
    auth.require(&[Role::PlatformAdmin])?;
    Ok(Json(
        state
            .bank
            .items
            .iter()
            .filter(|i| f.domain.is_none_or(|d| d == i.domain))
            .filter(|i| f.item_type.is_none_or(|t| t == i.item_type()))
            .map(|i| ItemSummary {
                id: i.id.clone(),
                domain: i.domain,
                item_type: i.item_type(),
                cefr: i.cefr.to_string(),
                time_limit_s: i.time_limit_s,
                provisional: i.irt.provisional,
            })
            .collect(),
    ))
}

/// One item with its key and parameters (platform admins).
#[utoipa::path(get, path = "/api/v1/items/{id}", tag = "items", params(("id" = String, Path, description = "item id")),
    responses((status = 200, description = "the item as in the bank format (`docs/items.md`), with its key and IRT parameters", body = Item),
        (status = 403, description = "not a platform admin", body = ErrorBody),
        (status = 404, description = "no such item", body = ErrorBody)))]
async fn get_one(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(id): Path<String>,
) -> Result<Json<Item>, ApiError> {
    auth.require(&[Role::PlatformAdmin])?;
    state
        .bank
        .item(&id)
        .cloned()
        .map(Json)
        .ok_or_else(|| ApiError::NotFound("no such item".to_owned()))
}

/// Stores the bank's items in the database (insert or update), so sessions can refer to them.
pub async fn store_bank(state: &AppState) -> Result<usize, ApiError> {
    let now = now_ms();
    let mut tx = state.db.begin_write().await?;
    for item in &state.bank.items {
        let json = serde_json::to_string(item).map_err(|e| ApiError::Internal(e.to_string()))?;
        sqlx::query(
            "INSERT INTO items (id, language, domain, item_type, cefr, item_json, loaded_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (id) DO UPDATE SET language = excluded.language, domain = excluded.domain, item_type = excluded.item_type, \
             cefr = excluded.cefr, item_json = excluded.item_json, loaded_at = excluded.loaded_at",
        )
        .bind(&item.id)
        .bind(&state.bank.language)
        .bind(item.domain.as_str())
        .bind(item.item_type().as_str())
        .bind(item.cefr.to_string())
        .bind(json)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(state.bank.items.len())
}
