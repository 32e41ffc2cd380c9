//! Live migration. The parameter and status objects are large and grow
//! with every QEMU release, so they are passed as JSON values.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// `migrate-set-parameters`, e.g. `{"max-bandwidth": 33554432,
/// "downtime-limit": 300}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(transparent)]
pub struct MigrateSetParameters(pub Value);
command!(MigrateSetParameters, "migrate-set-parameters", ());

/// `query-migrate-parameters`.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct QueryMigrateParameters;
command!(QueryMigrateParameters, "query-migrate-parameters", Value);

/// `migrate-set-capabilities`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MigrateSetCapabilities {
    pub capabilities: Vec<MigrationCapabilityStatus>,
}
command!(MigrateSetCapabilities, "migrate-set-capabilities", ());

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MigrationCapabilityStatus {
    /// e.g. `xbzrle`, `postcopy-ram`, `auto-converge`.
    pub capability: String,
    pub state: bool,
}

/// `migrate`: start an outgoing migration to `uri` (`tcp:host:port`,
/// `unix:/path`, ...); it runs in the background, watch `query-migrate`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Migrate {
    pub uri: String,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}
command!(Migrate, "migrate", ());

impl Migrate {
    pub fn new(uri: impl Into<String>) -> Self {
        Migrate {
            uri: uri.into(),
            extra: Map::new(),
        }
    }
}

/// `migrate_cancel`.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct MigrateCancel;
command!(MigrateCancel, "migrate_cancel", ());

/// `query-migrate`: `{}` before any migration, else `{"status": ...}`
/// with RAM/disk statistics.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct QueryMigrate;
command!(QueryMigrate, "query-migrate", Value);
