//! A network with an IPv4 address pool.
//!
//! Ganeti stores two bitmaps per network as strings of `0`/`1`, one
//! character per address: `reservations` (addresses taken by instances)
//! and `ext_reservations` (network, broadcast, gateway and operator
//! reservations). We keep the same encoding so the exported config stays
//! compatible, and do the address arithmetic here, free of I/O.

use std::net::Ipv4Addr;

use serde::{Deserialize, Serialize};

/// Ganeti's `Network` config object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Network {
    pub uuid: String,
    pub name: String,
    pub network: String,
    #[serde(default)]
    pub gateway: Option<String>,
    #[serde(default)]
    pub network6: Option<String>,
    #[serde(default)]
    pub gateway6: Option<String>,
    #[serde(default)]
    pub mac_prefix: Option<String>,
    pub reservations: String,
    pub ext_reservations: String,
    #[serde(default)]
    pub tags: Vec<String>,
    pub serial_no: u64,
    pub ctime: f64,
    pub mtime: f64,
}

/// Errors of address-pool operations, worded as Ganeti words them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NetworkError {
    #[error("Invalid network '{0}'")]
    BadNetwork(String),
    #[error("Network {0} is too big (more than 65536 addresses); Ganeti pools only manage /16 or smaller")]
    TooBig(String),
    #[error("IP address '{0}' is not a valid IPv4 address")]
    BadAddress(String),
    #[error("IP address '{ip}' does not belong to network '{net}'")]
    NotInNetwork { ip: String, net: String },
    #[error("IP address '{0}' already in use or reserved")]
    InUse(String),
    #[error("IP address '{0}' is not reserved")]
    NotReserved(String),
    #[error("Address pool of network '{0}' is full")]
    Full(String),
}

/// A parsed IPv4 network and its two reservation bitmaps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressPool {
    base: u32,
    prefix: u8,
    size: u32,
    reserved: Vec<bool>,
    external: Vec<bool>,
}

impl AddressPool {
    /// Parse `a.b.c.d/nn`.
    pub fn parse_network(net: &str) -> Result<(u32, u8), NetworkError> {
        let bad = || NetworkError::BadNetwork(net.to_string());
        let (addr, len) = net.split_once('/').ok_or_else(bad)?;
        let addr: Ipv4Addr = addr.parse().map_err(|_| bad())?;
        let prefix: u8 = len.parse().map_err(|_| bad())?;
        if prefix > 32 {
            return Err(bad());
        }
        let mask = if prefix == 0 {
            0
        } else {
            u32::MAX << (32 - prefix)
        };
        let base = u32::from(addr);
        if base & !mask != 0 {
            return Err(bad());
        }
        Ok((base, prefix))
    }

    /// A fresh pool for a new network: network address, broadcast (for
    /// prefixes up to /30) and gateway are externally reserved.
    pub fn new(net: &str, gateway: Option<&str>) -> Result<Self, NetworkError> {
        let (base, prefix) = Self::parse_network(net)?;
        if prefix < 16 {
            return Err(NetworkError::TooBig(net.to_string()));
        }
        let size = 1u32 << (32 - prefix);
        let mut pool = AddressPool {
            base,
            prefix,
            size,
            reserved: vec![false; size as usize],
            external: vec![false; size as usize],
        };
        if size > 2 {
            pool.external[0] = true;
            pool.external[size as usize - 1] = true;
        }
        if let Some(gw) = gateway {
            let idx = pool.index_of(gw)?;
            pool.external[idx] = true;
        }
        Ok(pool)
    }

    /// Load the pool of a configured network.
    pub fn from_network(n: &Network) -> Result<Self, NetworkError> {
        let (base, prefix) = Self::parse_network(&n.network)?;
        let size = 1u32 << (32 - prefix);
        let bits = |s: &str| -> Vec<bool> {
            let mut v: Vec<bool> = s.chars().map(|c| c == '1').collect();
            v.resize(size as usize, false);
            v
        };
        Ok(AddressPool {
            base,
            prefix,
            size,
            reserved: bits(&n.reservations),
            external: bits(&n.ext_reservations),
        })
    }

    /// Store the bitmaps back into a network object.
    pub fn store(&self, n: &mut Network) {
        let enc = |v: &[bool]| v.iter().map(|b| if *b { '1' } else { '0' }).collect();
        n.reservations = enc(&self.reserved);
        n.ext_reservations = enc(&self.external);
    }

    fn net_string(&self) -> String {
        format!("{}/{}", Ipv4Addr::from(self.base), self.prefix)
    }

    fn index_of(&self, ip: &str) -> Result<usize, NetworkError> {
        let addr: Ipv4Addr = ip
            .parse()
            .map_err(|_| NetworkError::BadAddress(ip.to_string()))?;
        let a = u32::from(addr);
        if a < self.base || a - self.base >= self.size {
            return Err(NetworkError::NotInNetwork {
                ip: ip.to_string(),
                net: self.net_string(),
            });
        }
        Ok((a - self.base) as usize)
    }

    /// Whether an address belongs to the network.
    pub fn contains(&self, ip: &str) -> bool {
        self.index_of(ip).is_ok()
    }

    /// Whether an address is taken (by an instance or externally).
    pub fn is_reserved(&self, ip: &str) -> Result<bool, NetworkError> {
        let i = self.index_of(ip)?;
        Ok(self.reserved[i] || self.external[i])
    }

    /// Reserve an address, for an instance (`external == false`) or the operator.
    pub fn reserve(&mut self, ip: &str, external: bool) -> Result<(), NetworkError> {
        let i = self.index_of(ip)?;
        if self.reserved[i] || self.external[i] {
            return Err(NetworkError::InUse(ip.to_string()));
        }
        if external {
            self.external[i] = true;
        } else {
            self.reserved[i] = true;
        }
        Ok(())
    }

    /// Release an address.
    pub fn release(&mut self, ip: &str, external: bool) -> Result<(), NetworkError> {
        let i = self.index_of(ip)?;
        let slot = if external {
            &mut self.external[i]
        } else {
            &mut self.reserved[i]
        };
        if !*slot {
            return Err(NetworkError::NotReserved(ip.to_string()));
        }
        *slot = false;
        Ok(())
    }

    /// The first free address (Ganeti's `GenerateFree`).
    pub fn first_free(&self) -> Result<String, NetworkError> {
        (0..self.size as usize)
            .find(|&i| !self.reserved[i] && !self.external[i])
            .map(|i| Ipv4Addr::from(self.base + i as u32).to_string())
            .ok_or_else(|| NetworkError::Full(self.net_string()))
    }

    /// Number of free addresses.
    pub fn free_count(&self) -> usize {
        (0..self.size as usize)
            .filter(|&i| !self.reserved[i] && !self.external[i])
            .count()
    }

    /// Number of reserved addresses (both kinds).
    pub fn reserved_count(&self) -> usize {
        self.size as usize - self.free_count()
    }

    /// The Ganeti "map" string: `X` external, `1`... (Ganeti uses `X` for
    /// reserved and `.` for free in `gnt-network info`).
    pub fn map_string(&self) -> String {
        (0..self.size as usize)
            .map(|i| {
                if self.reserved[i] || self.external[i] {
                    'X'
                } else {
                    '.'
                }
            })
            .collect()
    }

    /// Externally reserved addresses, as strings.
    pub fn external_list(&self) -> Vec<String> {
        self.list(&self.external)
    }

    /// Addresses reserved by instances, as strings.
    pub fn reserved_list(&self) -> Vec<String> {
        self.list(&self.reserved)
    }

    fn list(&self, v: &[bool]) -> Vec<String> {
        v.iter()
            .enumerate()
            .filter(|(_, b)| **b)
            .map(|(i, _)| Ipv4Addr::from(self.base + i as u32).to_string())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_pool_reserves_network_broadcast_gateway() {
        let p = AddressPool::new("10.0.0.0/29", Some("10.0.0.1")).unwrap();
        assert_eq!(p.external_list(), vec!["10.0.0.0", "10.0.0.1", "10.0.0.7"]);
        assert_eq!(p.free_count(), 5);
        assert_eq!(p.first_free().unwrap(), "10.0.0.2");
        assert_eq!(p.map_string(), "XX.....X");
    }

    #[test]
    fn reserve_release_and_errors() {
        let mut p = AddressPool::new("192.168.1.0/30", None).unwrap();
        p.reserve("192.168.1.1", false).unwrap();
        assert_eq!(
            p.reserve("192.168.1.1", true),
            Err(NetworkError::InUse("192.168.1.1".into()))
        );
        assert!(matches!(
            p.reserve("192.168.2.1", false),
            Err(NetworkError::NotInNetwork { .. })
        ));
        assert!(matches!(
            p.reserve("nonsense", false),
            Err(NetworkError::BadAddress(_))
        ));
        p.release("192.168.1.1", false).unwrap();
        assert!(p.release("192.168.1.1", false).is_err());
        p.reserve("192.168.1.1", false).unwrap();
        p.reserve("192.168.1.2", false).unwrap();
        assert!(matches!(p.first_free(), Err(NetworkError::Full(_))));
    }

    #[test]
    fn bad_networks_refused() {
        for n in ["10.0.0.1/24", "10.0.0.0", "10.0.0.0/33", "x/24"] {
            assert!(AddressPool::new(n, None).is_err(), "{n}");
        }
        assert!(matches!(
            AddressPool::new("10.0.0.0/8", None),
            Err(NetworkError::TooBig(_))
        ));
    }

    #[test]
    fn store_and_load_round_trip() {
        let mut p = AddressPool::new("10.1.0.0/28", None).unwrap();
        p.reserve("10.1.0.5", false).unwrap();
        let mut n = Network {
            uuid: "u".into(),
            name: "n".into(),
            network: "10.1.0.0/28".into(),
            gateway: None,
            network6: None,
            gateway6: None,
            mac_prefix: None,
            reservations: String::new(),
            ext_reservations: String::new(),
            tags: vec![],
            serial_no: 1,
            ctime: 0.0,
            mtime: 0.0,
        };
        p.store(&mut n);
        assert_eq!(AddressPool::from_network(&n).unwrap(), p);
    }
}
