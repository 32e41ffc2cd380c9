//! How an operator reaches an instance's console, by Ganeti's rules: the
//! serial console over ssh to the primary node (socat on the serial
//! socket) when `serial_console` is on, else VNC when it listens on a
//! proper display, else SPICE, else a message.

use ganeti_types::hvparams::kvm::KvmParams;

use super::cmdline::VNC_BASE_PORT;
use super::files::InstanceFiles;
use crate::info::{ConsoleHost, ConsoleInfo};
use crate::spec::InstanceSpec;

/// The user the serial console's ssh session logs in as.
const SSH_CONSOLE_USER: &str = "root";
/// socat's terminal options: raw, no echo, Ctrl-] ends the session.
const SOCAT_TERMINAL: &str = "STDIO,raw,echo=0,escape=0x1d";

pub(super) fn console(
    inst: &InstanceSpec,
    host: &ConsoleHost,
    files: &InstanceFiles,
) -> ConsoleInfo {
    let params = match KvmParams::from_dict(&inst.hvparams) {
        Ok(p) => p,
        Err(e) => {
            return ConsoleInfo::Message {
                instance: inst.name.clone(),
                message: format!("Invalid kvm parameters: {e}"),
            }
        }
    };
    if params.serial_console {
        return ConsoleInfo::Ssh {
            instance: inst.name.clone(),
            host: host.node_name.clone(),
            port: host.ssh_port,
            user: SSH_CONSOLE_USER.to_string(),
            command: vec![
                "socat".to_string(),
                SOCAT_TERMINAL.to_string(),
                format!("UNIX-CONNECT:{}", files.serial.display()),
            ],
        };
    }
    match inst.network_port {
        Some(port) if !params.vnc_bind_address.is_empty() && port > VNC_BASE_PORT => {
            return ConsoleInfo::Vnc {
                instance: inst.name.clone(),
                host: params.vnc_bind_address.clone(),
                port,
                display: port - VNC_BASE_PORT,
            }
        }
        _ => {}
    }
    if !params.spice_bind.is_empty() {
        return ConsoleInfo::Spice {
            instance: inst.name.clone(),
            host: params.spice_bind.clone(),
            port: inst.network_port.unwrap_or(0),
        };
    }
    ConsoleInfo::Message {
        instance: inst.name.clone(),
        message: format!("No serial shell for instance {}", inst.name),
    }
}
