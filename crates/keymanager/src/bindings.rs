//! The types the UI sees, generated into ui/src/bindings by ts-rs and committed.
//!
//! The test below regenerates every binding in memory and fails when the committed files
//! differ (or when a file no longer belongs there). `make bindings` (UPDATE_BINDINGS=1) rewrites
//! them. A type added to IPC or `--json` must be added to `all()`.

use std::path::PathBuf;
use ts_rs::{Config, TS};

/// (file name, TypeScript source) for every boundary type.
pub fn all() -> Vec<(PathBuf, String)> {
    use crate::account::{
        EnvatoSaveResult, MissingScope, StepKind, StepState, TokenStatus, ValidationReport, ValidationStep,
    };
    use crate::dashboard::{Dashboard, ProductSeries};
    use crate::error::{Error, ErrorCode};
    use crate::events::EventType;
    use crate::licensing::{LicenseAction, LicenseDetail};
    use crate::lookup::{LookupResult, LookupSale, LookupVerdict};
    use crate::model::{
        Activation, AppInfo, KeyHistoryEntry, License, LicenseSource, LicenseStatus, NewProduct, Product,
        ProductStatus, SupportWindow,
    };
    use crate::server::{ServedError, ServerStatus};
    use crate::settings::{LicenseType, Settings, SmtpSecurity};
    use crate::store::DbChanged;
    use crate::store::{
        AuditEntry, AuditLevel, LicenseCounts, LicenseFilter, LicensePage, LicenseSort, LookupHistoryEntry, PageCounts,
        ReviewItem, SupportFilter, SyncRun, SyncRunStatus, SyncTrigger,
    };
    use crate::store::{Channel, Delivery, DeliveryStatus, FailingDestination, OutboxCounts, WebhookEndpoint};
    use crate::sync::worker::SyncStatus;
    use crate::sync::{SyncPhase, SyncProgress, SyncSummary};
    use crate::webhooks::NewEndpoint;
    vec![
        one::<AppInfo>(),
        one::<crate::remote::Remote>(),
        one::<crate::workspace::Link>(),
        one::<crate::workspace::WorkspaceInfo>(),
        one::<crate::workspace::unsent::UnsentChange>(),
        one::<crate::workspace::pull::MoveReport>(),
        one::<crate::updates::UpdateKind>(),
        one::<crate::updates::ReleaseChannel>(),
        one::<crate::updates::ReleaseStatus>(),
        one::<crate::updates::UpdateCode>(),
        one::<crate::updates::Release>(),
        one::<crate::updates::PackageMeta>(),
        one::<crate::updates::ProductUpdates>(),
        one::<crate::store::ReleaseEdit>(),
        one::<crate::updates::publish::AddRelease>(),
        one::<crate::updates::publish::Added>(),
        one::<crate::updates::snippet::Snippet>(),
        one::<Error>(),
        one::<ErrorCode>(),
        one::<Settings>(),
        one::<LicenseType>(),
        one::<Product>(),
        one::<ProductStatus>(),
        one::<NewProduct>(),
        one::<License>(),
        one::<crate::site::Environment>(),
        one::<crate::site::Classification>(),
        one::<LicenseStatus>(),
        one::<LicenseSource>(),
        one::<AuditEntry>(),
        one::<AuditLevel>(),
        one::<ValidationReport>(),
        one::<ValidationStep>(),
        one::<StepKind>(),
        one::<StepState>(),
        one::<MissingScope>(),
        one::<TokenStatus>(),
        one::<crate::account::KeychainProblem>(),
        one::<EnvatoSaveResult>(),
        one::<SyncRun>(),
        one::<SyncTrigger>(),
        one::<SyncRunStatus>(),
        one::<ReviewItem>(),
        one::<PageCounts>(),
        one::<SyncPhase>(),
        one::<SyncProgress>(),
        one::<SyncSummary>(),
        one::<SyncStatus>(),
        one::<DbChanged>(),
        one::<LicenseCounts>(),
        one::<Activation>(),
        one::<LookupSale>(),
        one::<ServerStatus>(),
        one::<ServedError>(),
        one::<KeyHistoryEntry>(),
        one::<LicenseAction>(),
        one::<LicenseDetail>(),
        one::<LookupResult>(),
        one::<LookupVerdict>(),
        one::<SupportWindow>(),
        one::<LicenseFilter>(),
        one::<LicensePage>(),
        one::<LicenseSort>(),
        one::<SupportFilter>(),
        one::<LookupHistoryEntry>(),
        one::<Dashboard>(),
        one::<ProductSeries>(),
        one::<SmtpSecurity>(),
        one::<EventType>(),
        one::<WebhookEndpoint>(),
        one::<NewEndpoint>(),
        one::<Delivery>(),
        one::<Channel>(),
        one::<DeliveryStatus>(),
        one::<OutboxCounts>(),
        one::<FailingDestination>(),
        one::<crate::backup::BackupFile>(),
        one::<crate::licensing::BulkResult>(),
        one::<crate::refund_watch::RecheckProgress>(),
        one::<crate::licensing::BulkSkip>(),
        one::<crate::backup::BackupList>(),
        one::<crate::backup::RestoreReport>(),
        options(),
    ]
}

/// `options.ts`: every value of each enum the UI offers as a choice, in Rust's order, from the
/// enum's `ALL`. The UI pairs each list with a `Record<Enum, string>` of labels, so a value
/// without a label fails `tsc`.
fn options() -> (PathBuf, String) {
    use crate::events::EventType;
    use crate::licensing::LicenseAction;
    use crate::model::{LicenseStatus, LicenseType, ProductStatus};
    use crate::release::{ReleaseChannel, UpdateKind};
    use crate::settings::SmtpSecurity;
    use crate::store::{LicenseSort, SupportFilter};
    let webhook_events: Vec<EventType> = EventType::ALL.iter().copied().filter(|e| e.subscribable()).collect();
    fn list<T: TS + Copy>(constant: &str, all: &[T], text: impl Fn(T) -> &'static str) -> (String, String) {
        let name = T::name(&Config::new());
        let values: Vec<String> = all.iter().map(|v| format!("\"{}\"", text(*v))).collect();
        let import = format!("import type {{ {name} }} from \"./{name}\";\n");
        (import, format!("export const {constant}: readonly {name}[] = [{}];\n", values.join(", ")))
    }
    let lists = [
        list("LICENSE_STATUSES", LicenseStatus::ALL, LicenseStatus::as_str),
        list("LICENSE_SORTS", LicenseSort::ALL, LicenseSort::as_str),
        list("SUPPORT_FILTERS", SupportFilter::ALL, SupportFilter::as_str),
        list("LICENSE_ACTIONS", LicenseAction::ALL, LicenseAction::as_str),
        list("LICENSE_TYPES", LicenseType::ALL, LicenseType::as_str),
        list("PRODUCT_STATUSES", ProductStatus::ALL, ProductStatus::as_str),
        list("RELEASE_CHANNELS", ReleaseChannel::ALL, ReleaseChannel::as_str),
        list("UPDATE_KINDS", UpdateKind::ALL, UpdateKind::as_str),
        list("SMTP_SECURITIES", SmtpSecurity::ALL, SmtpSecurity::as_str),
        list("WEBHOOK_EVENT_TYPES", &webhook_events, EventType::as_str),
    ];
    let mut text = String::from(
        "// Generated from each enum's ALL by crates/keymanager/src/bindings.rs (`make bindings`). Do not edit.\n",
    );
    let mut imports: Vec<&String> = lists.iter().map(|(i, _)| i).collect();
    imports.sort();
    text.extend(imports.into_iter().cloned());
    text.push('\n');
    text.extend(lists.iter().map(|(_, l)| l.clone()));
    (PathBuf::from("options.ts"), text)
}

fn one<T: TS + 'static>() -> (PathBuf, String) {
    let path = T::output_path().expect("a named type");
    let text = T::export_to_string(&Config::new()).expect("ts-rs export");
    (path, text)
}

/// ui/src/bindings, from this crate's folder.
pub fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../ui/src/bindings")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn committed_bindings_match_the_rust_types() {
        let dir = dir();
        let update = std::env::var_os("UPDATE_BINDINGS").is_some();
        let generated = all();
        let wanted: BTreeSet<PathBuf> = generated.iter().map(|(p, _)| p.clone()).collect();
        if update {
            std::fs::create_dir_all(&dir).unwrap();
        }
        let mut stale = Vec::new();
        for (path, text) in &generated {
            let file = dir.join(path);
            if std::fs::read_to_string(&file).ok().as_deref() != Some(text.as_str()) {
                if update {
                    std::fs::write(&file, text).unwrap();
                } else {
                    stale.push(path.display().to_string());
                }
            }
            // Every import must point at a file we generate too.
            for line in text.lines().filter(|l| l.starts_with("import type")) {
                let target = line.split('"').nth(1).unwrap().trim_start_matches("./");
                assert!(
                    wanted.contains(&PathBuf::from(format!("{target}.ts"))),
                    "{path:?} imports {target}, which all() does not list"
                );
            }
        }
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let name = PathBuf::from(entry.file_name());
            if !wanted.contains(&name) {
                if update {
                    std::fs::remove_file(entry.path()).unwrap();
                } else {
                    stale.push(format!("{} (no longer generated)", name.display()));
                }
            }
        }
        assert!(stale.is_empty(), "ui/src/bindings is stale: {stale:?}. Run `make bindings` and commit the result.");
    }
}
