//! Changes made while the server could not be reached: kept in `<data>/unsent-NAME.json` (a
//! private file) with what they were and when, listed in the window's banner and by `keymanager
//! remote unsent`, sent again or discarded by the seller. Never a request carrying a secret.

use crate::error::{Error, ErrorCode, Result};
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// One kept change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct UnsentChange {
    pub id: String,
    /// The operation's wire name (`license_change_status`).
    pub op: String,
    /// What it does, for people ("license change status: license 12, suspend").
    pub label: String,
    pub at: String,
    #[ts(type = "unknown")]
    pub body: serde_json::Value,
}

pub struct Unsent {
    path: PathBuf,
    lock: Mutex<()>,
}

/// A short, readable summary of a request: its name and its simple fields.
pub fn label(op: &str, body: &serde_json::Value) -> String {
    let mut parts = Vec::new();
    if let Some(map) = body.as_object() {
        for (k, v) in map {
            let text = match v {
                serde_json::Value::String(s) => crate::text::truncate_chars(s, 40).to_string(),
                serde_json::Value::Number(n) => n.to_string(),
                serde_json::Value::Bool(b) => b.to_string(),
                // A map of settings: its keys and values.
                serde_json::Value::Object(inner) => inner
                    .iter()
                    .filter(|(_, v)| !v.is_object() && !v.is_array())
                    .map(|(k, v)| format!("{k}={}", crate::text::truncate_chars(&v.to_string(), 40)))
                    .collect::<Vec<_>>()
                    .join(" "),
                _ => continue,
            };
            parts.push(format!("{k} {text}"));
        }
    }
    let name = op.replace('_', " ");
    if parts.is_empty() {
        name
    } else {
        format!("{name}: {}", parts.join(", "))
    }
}

impl Unsent {
    pub fn new(data_dir: &Path, remote: &str) -> Unsent {
        Unsent { path: data_dir.join(format!("unsent-{remote}.json")), lock: Mutex::new(()) }
    }

    fn load(&self) -> Result<Vec<UnsentChange>> {
        match std::fs::read(&self.path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
                Error::new(ErrorCode::StoreCorrupt, format!("{} cannot be read: {e}.", self.path.display()))
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(e) => Err(Error::new(ErrorCode::StoreIo, format!("Cannot read {}: {e}.", self.path.display()))),
        }
    }

    fn save(&self, all: &[UnsentChange]) -> Result<()> {
        if all.is_empty() {
            return crate::private_files::delete_secret_file(&self.path);
        }
        let text = serde_json::to_string_pretty(all).unwrap_or_default();
        crate::private_files::write_secret_file(&self.path, &text)
    }

    /// Every kept change, oldest first.
    pub fn list(&self) -> Result<Vec<UnsentChange>> {
        let _g = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        self.load()
    }

    pub fn keep(&self, op: &str, body: &serde_json::Value, now: Timestamp) -> Result<UnsentChange> {
        let _g = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        let mut all = self.load()?;
        let mut id = [0u8; 6];
        getrandom::fill(&mut id).map_err(|e| Error::internal(format!("The system's random source failed: {e}.")))?;
        let change = UnsentChange {
            id: crate::text::hex(&id),
            op: op.to_string(),
            label: label(op, body),
            at: crate::time::to_db(now),
            body: body.clone(),
        };
        all.push(change.clone());
        self.save(&all)?;
        Ok(change)
    }

    pub fn get(&self, id: &str) -> Result<UnsentChange> {
        self.list()?.into_iter().find(|c| c.id == id).ok_or_else(|| {
            Error::new(ErrorCode::InputInvalid, format!("There is no kept change {id} (sent or discarded already)."))
        })
    }

    pub fn discard(&self, id: &str) -> Result<()> {
        let _g = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        let mut all = self.load()?;
        all.retain(|c| c.id != id);
        self.save(&all)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kept_changes_survive_until_discarded() {
        let dir = tempfile::tempdir().unwrap();
        let u = Unsent::new(dir.path(), "vps");
        assert!(u.list().unwrap().is_empty());
        let body = serde_json::json!({"id": 12, "action": "suspend", "reason": "chargeback"});
        let kept = u.keep("license_change_status", &body, crate::time::now()).unwrap();
        assert_eq!(kept.label, "license change status: action suspend, id 12, reason chargeback");
        // Another process (the CLI) sees it too.
        let again = Unsent::new(dir.path(), "vps");
        assert_eq!(again.list().unwrap(), vec![kept.clone()]);
        assert_eq!(again.get(&kept.id).unwrap().body, body);
        again.discard(&kept.id).unwrap();
        assert!(u.list().unwrap().is_empty());
        assert!(!dir.path().join("unsent-vps.json").exists());
        assert_eq!(u.get(&kept.id).unwrap_err().code, ErrorCode::InputInvalid);
    }
}
