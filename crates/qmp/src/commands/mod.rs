//! Typed QMP commands. Each struct serializes to the command's `arguments`
//! (QMP names are hyphenated, hence the serde renames) and names its reply
//! type; commands without arguments are unit structs. Where QEMU's schema
//! is large or we only pass data through (`blockdev-add`, migration
//! parameters, `query-pci`), a `serde_json::Value` is used instead of
//! mirroring the schema.

macro_rules! command {
    ($ty:ty, $name:literal, $reply:ty) => {
        impl $crate::Command for $ty {
            const NAME: &'static str = $name;
            type Reply = $reply;
        }
    };
}

mod block;
mod devices;
mod migration;
mod vm;

pub use block::*;
pub use devices::*;
pub use migration::*;
pub use vm::*;

#[cfg(test)]
mod tests;
