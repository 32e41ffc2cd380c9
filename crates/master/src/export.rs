//! Files operators and their tools read: `config.data` (Ganeti's JSON
//! format), `ssconf_*` and `queue/drain`. They are exports of the store,
//! rewritten atomically after each config change; the store stays the
//! source of truth.

use std::io::Write;
use std::path::Path;

use ganeti_types::{ConfigData, Paths};

fn write_atomic(path: &Path, data: &[u8], mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(
        ".{}.tmp{}",
        path.file_name().and_then(|s| s.to_str()).unwrap_or("file"),
        std::process::id()
    ));
    {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(mode)
            .open(&tmp)?;
        f.write_all(data)?;
        f.sync_data()?;
    }
    std::fs::rename(&tmp, path)?;
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Write `config.data` and the ssconf files for a configuration.
pub fn export_config(paths: &Paths, cfg: &ConfigData) -> std::io::Result<()> {
    let data = serde_json::to_vec(cfg).map_err(std::io::Error::other)?;
    write_atomic(&paths.config_data(), &data, 0o600)?;
    let master = cfg.master_node();
    let ss: Vec<(&str, String)> = vec![
        ("cluster_name", cfg.cluster.cluster_name.clone()),
        (
            "master_node",
            master.map(|n| n.name.clone()).unwrap_or_default(),
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
            cfg.nodes
                .values()
                .map(|n| n.name.clone())
                .collect::<Vec<_>>()
                .join("\n"),
        ),
        (
            "node_primary_ips",
            cfg.nodes
                .values()
                .map(|n| format!("{} {}", n.name, n.primary_ip))
                .collect::<Vec<_>>()
                .join("\n"),
        ),
        (
            "master_candidates",
            cfg.nodes
                .values()
                .filter(|n| n.master_candidate)
                .map(|n| n.name.clone())
                .collect::<Vec<_>>()
                .join("\n"),
        ),
        (
            "instance_list",
            cfg.instances
                .values()
                .map(|i| i.name.clone())
                .collect::<Vec<_>>()
                .join("\n"),
        ),
        ("cluster_tags", cfg.cluster.tags.join("\n")),
        ("release_version", ganeti_types::GANETI_VERSION.to_string()),
    ];
    for (k, v) in ss {
        write_atomic(&paths.ssconf(k), format!("{v}\n").as_bytes(), 0o644)?;
    }
    Ok(())
}

/// Mirror the drain flag into Ganeti's `queue/drain` file.
pub fn write_drain_file(paths: &Paths, drained: bool) {
    let f = paths.queue_drain_file();
    if drained {
        let _ = write_atomic(&f, b"", 0o644);
    } else {
        let _ = std::fs::remove_file(&f);
    }
}
