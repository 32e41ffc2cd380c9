//! Configuration objects with the field names of Ganeti's `config.data`.
//!
//! Parameter dictionaries (hvparams, beparams, ...) stay as JSON objects:
//! they are open-ended per hypervisor and are validated against the
//! per-kind tables in [`crate::params`], not by the type system.

mod cluster;
mod disk;
mod group;
mod instance;
mod network;
mod nic;
mod node;

pub use cluster::Cluster;
pub use disk::{Disk, DiskTemplate};
pub use group::NodeGroup;
pub use instance::{AdminState, Instance};
pub use network::{AddressPool, Network, NetworkError};
pub use nic::Nic;
pub use node::Node;
