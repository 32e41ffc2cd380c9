//! CPU masks as Ganeti writes them (`cpu_mask` hvparam): a single mask is a
//! comma-separated list of CPU ids and `a-b` ranges; a multiple mask is a
//! colon-separated list of single masks (one per vCPU), where `all` means
//! "no pinning". The master only checks the syntax; the hypervisor uses the
//! parsed form to pin vCPU threads, so both share this parser.

/// One vCPU's pinning in a multiple CPU mask.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CpuPin {
    /// `all`: may run on any CPU.
    All,
    /// These physical CPUs (sorted, without duplicates; may be empty).
    Cpus(Vec<u32>),
}

/// Why a CPU mask does not parse (Ganeti's `ParseError` texts).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CpuMaskError {
    #[error("Invalid CPU ID range definition (only one hyphen allowed): {0}")]
    TooManyHyphens(String),
    #[error("Invalid CPU ID value for lower boundary of CPU ID range: {0}")]
    BadLower(String),
    #[error("Invalid CPU ID value for higher boundary of CPU ID range: {0}")]
    BadHigher(String),
    #[error("Invalid CPU ID range definition ({0} > {1}): {2}")]
    Reversed(u32, u32, String),
}

/// Python's `int()` on a CPU id: surrounding blanks and a leading '+'
/// are accepted, nothing else.
fn cpu_id(s: &str) -> Option<u32> {
    let t = s.trim();
    let t = t.strip_prefix('+').unwrap_or(t);
    if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    t.parse().ok()
}

/// Ganeti's `ParseCpuMask`: "0-2,5" -> [0, 1, 2, 5]; "" -> [].
pub fn parse_cpu_mask(mask: &str) -> Result<Vec<u32>, CpuMaskError> {
    if mask.is_empty() {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for range in mask.split(',') {
        let bounds: Vec<&str> = range.split('-').collect();
        if bounds.len() > 2 {
            return Err(CpuMaskError::TooManyHyphens(range.to_string()));
        }
        let lower = cpu_id(bounds[0]).ok_or_else(|| CpuMaskError::BadLower(bounds[0].into()))?;
        let last = bounds[bounds.len() - 1];
        let higher = cpu_id(last).ok_or_else(|| CpuMaskError::BadHigher(last.into()))?;
        if lower > higher {
            return Err(CpuMaskError::Reversed(lower, higher, range.to_string()));
        }
        out.extend(lower..=higher);
    }
    Ok(out)
}

/// Ganeti's `ParseMultiCpuMask`: "0-2,5:all:1" -> [[0,1,2,5], All, [1]];
/// "" -> [].
pub fn parse_multi_cpu_mask(mask: &str) -> Result<Vec<CpuPin>, CpuMaskError> {
    if mask.is_empty() {
        return Ok(Vec::new());
    }
    mask.split(':')
        .map(|part| {
            if part == "all" {
                Ok(CpuPin::All)
            } else {
                let mut cpus = parse_cpu_mask(part)?;
                cpus.sort_unstable();
                cpus.dedup();
                Ok(CpuPin::Cpus(cpus))
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_masks() {
        assert_eq!(parse_cpu_mask("0-2,5"), Ok(vec![0, 1, 2, 5]));
        assert_eq!(parse_cpu_mask(""), Ok(vec![]));
        assert_eq!(parse_cpu_mask(" 3 "), Ok(vec![3]));
        assert_eq!(
            parse_cpu_mask("1-2-3"),
            Err(CpuMaskError::TooManyHyphens("1-2-3".into()))
        );
        assert_eq!(parse_cpu_mask("x"), Err(CpuMaskError::BadLower("x".into())));
        assert_eq!(
            parse_cpu_mask("1-y"),
            Err(CpuMaskError::BadHigher("y".into()))
        );
        assert_eq!(parse_cpu_mask("-1"), Err(CpuMaskError::BadLower("".into())));
        assert_eq!(
            parse_cpu_mask("3-1").unwrap_err().to_string(),
            "Invalid CPU ID range definition (3 > 1): 3-1"
        );
        assert!(parse_cpu_mask("all").is_err());
        assert!(parse_cpu_mask("1,").is_err());
    }

    #[test]
    fn multi_masks() {
        assert_eq!(parse_multi_cpu_mask("all"), Ok(vec![CpuPin::All]));
        assert_eq!(
            parse_multi_cpu_mask("2,1,2:all:3-4"),
            Ok(vec![
                CpuPin::Cpus(vec![1, 2]),
                CpuPin::All,
                CpuPin::Cpus(vec![3, 4])
            ])
        );
        assert_eq!(parse_multi_cpu_mask(""), Ok(vec![]));
        assert_eq!(
            parse_multi_cpu_mask("1::2"),
            Ok(vec![
                CpuPin::Cpus(vec![1]),
                CpuPin::Cpus(vec![]),
                CpuPin::Cpus(vec![2])
            ])
        );
        assert!(parse_multi_cpu_mask("1:2-0").is_err());
        assert!(parse_multi_cpu_mask("ALL").is_err());
    }
}
