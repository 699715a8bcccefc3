//! IPC commands: each parses its arguments, calls one core function, and returns the core's
//! `Error` (serialised as `{code, message, field?}`) on failure. No SQL or rules here.

use crate::state::AppState;
use keymanager::model::{AppInfo, License, LicenseStatus, NewProduct, Product};
use keymanager::settings::Settings;
use keymanager::store::LicenseQuery;
use keymanager::{time, Error};
use std::collections::BTreeMap;
use tauri::State;

type Reply<T> = Result<T, Error>;

#[tauri::command]
pub async fn app_info(state: State<'_, AppState>) -> Reply<AppInfo> {
    let data_dir = state.data_dir.as_ref().map(|d| d.display().to_string());
    let schema_version = state.with_store(|s| s.schema_version()).await?;
    Ok(AppInfo {
        version: keymanager::VERSION.to_string(),
        data_dir,
        schema_version,
    })
}

#[tauri::command]
pub async fn settings_get(state: State<'_, AppState>) -> Reply<Settings> {
    state.with_store(|s| s.settings()).await
}

#[tauri::command]
pub async fn settings_update(
    state: State<'_, AppState>,
    changes: BTreeMap<String, String>,
) -> Reply<Settings> {
    state
        .with_store(move |s| {
            s.update_settings(&changes.into_iter().collect::<Vec<_>>(), time::now())
        })
        .await
}

#[tauri::command]
pub async fn products_list(state: State<'_, AppState>) -> Reply<Vec<Product>> {
    state.with_store(|s| s.products()).await
}

#[tauri::command]
pub async fn product_create(state: State<'_, AppState>, product: NewProduct) -> Reply<Product> {
    state
        .with_store(move |s| s.create_product(&product, time::now()))
        .await
}

#[tauri::command]
pub async fn licenses_list(
    state: State<'_, AppState>,
    status: Option<LicenseStatus>,
    limit: Option<u32>,
    before_id: Option<i64>,
) -> Reply<Vec<License>> {
    let q = LicenseQuery {
        status,
        product_id: None,
        limit: limit.unwrap_or(100).min(1000),
        before_id,
    };
    state.with_store(move |s| s.licenses(&q)).await
}
