//! Files operators and their tools read: `config.data` (Ganeti's JSON
//! format), `ssconf_*` and `queue/drain`. They are exports of the store,
//! rewritten atomically after each config change; the store stays the
//! source of truth.
//!
//! Every atomic write costs an fsync, so an ssconf file is rewritten only
//! when its content changed (most config changes touch one or two of them).

use std::collections::HashMap;

use ganeti_crypto::write_file_atomic;
use ganeti_types::{ConfigData, Paths};

/// Error writing an export.
pub type ExportError = ganeti_crypto::CryptoError;

/// The ssconf keys and values of a configuration.
fn ssconf_values(cfg: &ConfigData) -> Vec<(&'static str, String)> {
    let lines = |v: Vec<String>| v.join("\n");
    vec![
        ("cluster_name", cfg.cluster.cluster_name.clone()),
        (
            "master_node",
            cfg.master_node()
                .map(|n| n.name.clone())
                .unwrap_or_default(),
        ),
        ("master_ip", cfg.cluster.master_ip.clone()),
        ("master_netdev", cfg.cluster.master_netdev.clone()),
        ("master_netmask", cfg.cluster.master_netmask.to_string()),
        ("file_storage_dir", cfg.cluster.file_storage_dir.clone()),
        (
            "shared_file_storage_dir",
            cfg.cluster.shared_file_storage_dir.clone(),
        ),
        (
            "primary_ip_family",
            cfg.cluster.primary_ip_family.to_string(),
        ),
        (
            "enabled_hypervisors",
            cfg.cluster.enabled_hypervisors.join("\n"),
        ),
        (
            "node_list",
            lines(cfg.nodes.values().map(|n| n.name.clone()).collect()),
        ),
        (
            "node_primary_ips",
            lines(
                cfg.nodes
                    .values()
                    .map(|n| format!("{} {}", n.name, n.primary_ip))
                    .collect(),
            ),
        ),
        (
            "master_candidates",
            lines(
                cfg.nodes
                    .values()
                    .filter(|n| n.master_candidate)
                    .map(|n| n.name.clone())
                    .collect(),
            ),
        ),
        (
            "instance_list",
            lines(cfg.instances.values().map(|i| i.name.clone()).collect()),
        ),
        ("cluster_tags", cfg.cluster.tags.join("\n")),
        ("release_version", ganeti_types::GANETI_VERSION.to_string()),
    ]
}

/// Writes the exports, remembering what the ssconf files hold.
#[derive(Debug, Default)]
pub struct Exporter {
    /// Content last written (or found) per ssconf key.
    ssconf: HashMap<&'static str, String>,
}

impl Exporter {
    /// Write `config.data` and every ssconf file whose content changed.
    pub fn export(&mut self, paths: &Paths, cfg: &ConfigData) -> Result<(), ExportError> {
        let data = serde_json::to_vec(cfg).map_err(|e| ExportError::Io {
            action: "serialize",
            path: paths.config_data(),
            source: std::io::Error::other(e),
        })?;
        write_file_atomic(&paths.config_data(), &data, 0o600)?;
        for (key, value) in ssconf_values(cfg) {
            let content = format!("{value}\n");
            let known = match self.ssconf.get(key) {
                Some(c) => c == &content,
                None => std::fs::read_to_string(paths.ssconf(key)).ok().as_ref() == Some(&content),
            };
            if !known {
                write_file_atomic(&paths.ssconf(key), content.as_bytes(), 0o644)?;
            }
            self.ssconf.insert(key, content);
        }
        Ok(())
    }
}

/// Write every export once (cluster init).
pub fn export_config(paths: &Paths, cfg: &ConfigData) -> Result<(), ExportError> {
    Exporter::default().export(paths, cfg)
}

/// Mirror the drain flag into Ganeti's `queue/drain` file.
pub fn write_drain_file(paths: &Paths, drained: bool) {
    let f = paths.queue_drain_file();
    let res = if drained {
        write_file_atomic(&f, b"", 0o644).map_err(|e| e.to_string())
    } else {
        match std::fs::remove_file(&f) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.to_string()),
            _ => Ok(()),
        }
    };
    if let Err(e) = res {
        tracing::warn!("cannot update {}: {e}", f.display());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmdlib::cluster::checks::testcfg;

    #[test]
    fn unchanged_ssconf_files_are_not_rewritten() {
        let dir = tempfile::tempdir().unwrap();
        let paths = Paths::new(dir.path());
        std::fs::create_dir_all(paths.data_dir()).unwrap();
        let mut cfg = testcfg::config();
        let mut ex = Exporter::default();
        ex.export(&paths, &cfg).unwrap();
        let name_file = paths.ssconf("cluster_name");
        let inode = |p: &std::path::Path| {
            std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(p).unwrap())
        };
        let (name_ino, list_ino) = (inode(&name_file), inode(&paths.ssconf("instance_list")));
        cfg.cluster.tags.push("t".into());
        cfg.serial_no += 1;
        ex.export(&paths, &cfg).unwrap();
        // atomic replacement gives a new inode; untouched files keep theirs
        assert_eq!(inode(&name_file), name_ino);
        assert_eq!(inode(&paths.ssconf("instance_list")), list_ino);
        assert_eq!(
            std::fs::read_to_string(paths.ssconf("cluster_tags")).unwrap(),
            "t\n"
        );
        let back: ConfigData =
            serde_json::from_slice(&std::fs::read(paths.config_data()).unwrap()).unwrap();
        assert_eq!(back, cfg);
        // a fresh exporter trusts files already holding the right content
        let mut ex2 = Exporter::default();
        ex2.export(&paths, &cfg).unwrap();
        assert_eq!(inode(&name_file), name_ino);
    }
}
