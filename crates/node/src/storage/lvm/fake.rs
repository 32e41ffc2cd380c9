//! A recorded fake of the LVM2 tools, for tests (here and in the master).
//!
//! This machine's kernel has no device-mapper, so real `lvcreate` (and
//! `lvchange -ay`) cannot work here: tests of the `plain` template run
//! against this fake instead. It is one shell script installed under each
//! tool's name that keeps volume groups and LVs as files and prints what
//! LVM 2.03.16 printed when the same reports and commands were run for
//! real on a loop-device volume group on this machine (`pvcreate`,
//! `vgcreate`, `vgs`, `pvs` work without device-mapper; LVs were created
//! with activation disabled to record `lvs`, `lvextend`, `lvrename` and
//! `lvremove`). Each VG has exactly one PV; extents are 4 MiB.
//!
//! Failure injection: [`FakeLvm::fail`] makes a tool fail with the given
//! stderr (`lvcreate-after` makes `lvcreate` create the LV and then fail,
//! `lvextend-<policy>` fails growing with that allocation policy only);
//! [`FakeLvm::fail_if`] fails a tool only for matching arguments.

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::storage::lvm::LvmTools;

const SCRIPT: &str = include_str!("fake.sh");
/// The tools the fake provides.
pub const TOOLS: &[&str] = &[
    "lvcreate", "lvremove", "lvextend", "lvchange", "lvrename", "lvs", "vgs", "pvs",
];

/// One fake LVM installation (tools and state) below a directory.
#[derive(Debug, Clone)]
pub struct FakeLvm {
    bin: PathBuf,
    state: PathBuf,
}

/// An LV as the fake holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FakeLv {
    pub size_mib: u64,
    pub active: bool,
    pub open: bool,
}

impl FakeLvm {
    /// Install the tools in `root/bin` with their state in `root/state`.
    pub fn install(root: &Path) -> io::Result<Self> {
        let bin = root.join("bin");
        let state = root.join("state");
        let state_s = state.to_str().filter(|s| !s.contains('\''));
        let Some(state_s) = state_s else {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "fake LVM state path must be UTF-8 without quotes",
            ));
        };
        fs::create_dir_all(&bin)?;
        fs::create_dir_all(state.join("vg"))?;
        fs::create_dir_all(state.join("fail"))?;
        let script = bin.join("lvm");
        fs::write(&script, SCRIPT.replace("@STATE@", state_s))?;
        fs::set_permissions(&script, fs::Permissions::from_mode(0o755))?;
        for t in TOOLS {
            let link = bin.join(t);
            if !link.exists() {
                std::os::unix::fs::symlink("lvm", &link)?;
            }
        }
        Ok(FakeLvm { bin, state })
    }

    /// The tools, for [`crate::LocalNodeOptions`] or [`LvmTools::in_dir`].
    pub fn bin_dir(&self) -> &Path {
        &self.bin
    }

    /// [`LvmTools`] running this fake.
    pub fn tools(&self) -> LvmTools {
        LvmTools::in_dir(&self.bin)
    }

    /// Add a volume group of `size_mib` on the PV `pv`.
    pub fn add_vg(&self, vg: &str, pv: &str, size_mib: u64) -> io::Result<()> {
        let d = self.state.join("vg").join(vg);
        fs::create_dir_all(d.join("lv"))?;
        fs::write(d.join("size"), format!("{size_mib}\n"))?;
        fs::write(d.join("pv"), format!("{pv}\n"))
    }

    /// Mark a VG read-only (`vg_attr` `r...`) or a PV not allocatable.
    pub fn set_attrs(&self, vg: &str, vg_attr: &str, pv_attr: &str) -> io::Result<()> {
        let d = self.state.join("vg").join(vg);
        fs::write(d.join("attr"), format!("{vg_attr}\n"))?;
        fs::write(d.join("pvattr"), format!("{pv_attr}\n"))
    }

    /// Put an LV in place (for adoption tests).
    pub fn add_lv(&self, vg: &str, lv: &str, lv_state: FakeLv) -> io::Result<()> {
        let d = self.state.join("vg").join(vg).join("lv");
        fs::create_dir_all(&d)?;
        fs::write(
            d.join(lv),
            format!(
                "{} {} {} 99\n",
                lv_state.size_mib,
                u8::from(lv_state.active),
                u8::from(lv_state.open)
            ),
        )
    }

    /// Every LV, by `vg/lv`.
    pub fn lvs(&self) -> BTreeMap<String, FakeLv> {
        let mut out = BTreeMap::new();
        let Ok(vgs) = fs::read_dir(self.state.join("vg")) else {
            return out;
        };
        for vg in vgs.flatten() {
            let Ok(lvs) = fs::read_dir(vg.path().join("lv")) else {
                continue;
            };
            for lv in lvs.flatten() {
                let text = fs::read_to_string(lv.path()).unwrap_or_default();
                let f: Vec<u64> = text
                    .split_whitespace()
                    .filter_map(|x| x.parse().ok())
                    .collect();
                if let [size, active, open, ..] = f.as_slice() {
                    out.insert(
                        format!(
                            "{}/{}",
                            vg.file_name().to_string_lossy(),
                            lv.file_name().to_string_lossy()
                        ),
                        FakeLv {
                            size_mib: *size,
                            active: *active == 1,
                            open: *open == 1,
                        },
                    );
                }
            }
        }
        out
    }

    /// Make `key` fail with `stderr` (a tool name, `lvcreate-after` or
    /// `lvextend-<policy>`).
    pub fn fail(&self, key: &str, stderr: &str) -> io::Result<()> {
        fs::write(self.state.join("fail").join(key), format!("  {stderr}\n"))
    }

    /// Make `tool` fail with `stderr` when its arguments contain
    /// `needle` (undo with `unfail("<tool>-if")`).
    pub fn fail_if(&self, tool: &str, needle: &str, stderr: &str) -> io::Result<()> {
        fs::write(
            self.state.join("fail").join(format!("{tool}-if")),
            format!("{needle}\n  {stderr}\n"),
        )
    }

    /// Undo [`FakeLvm::fail`].
    pub fn unfail(&self, key: &str) -> io::Result<()> {
        match fs::remove_file(self.state.join("fail").join(key)) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    /// Every call so far, one line each: `tool arg arg...`.
    pub fn log(&self) -> Vec<String> {
        fs::read_to_string(self.state.join("log"))
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    /// Forget the calls so far.
    pub fn clear_log(&self) -> io::Result<()> {
        match fs::remove_file(self.state.join("log")) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }
}
