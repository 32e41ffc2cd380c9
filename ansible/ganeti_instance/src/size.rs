//! Disk sizes as operators write them: MiB as a bare number, or with a
//! unit as Ganeti's CLI accepts them (`512M`, `10G`, `1T`, `1.5G`).

/// A size in MiB from a number (MiB) or a string with an optional unit.
pub fn parse_mib(v: &serde_json::Value) -> Result<u64, String> {
    match v {
        serde_json::Value::Number(n) => n
            .as_u64()
            .filter(|n| *n > 0)
            .ok_or_else(|| format!("invalid size {n}: a positive number of MiB is needed")),
        serde_json::Value::String(s) => parse_str(s),
        other => Err(format!(
            "invalid size {other}: a number or a string like 10G is needed"
        )),
    }
}

fn parse_str(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let value: f64 = num.parse().map_err(|_| {
        format!("invalid size '{s}': expected a number with an optional unit (M, G, T)")
    })?;
    let factor = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "m" | "mb" | "mib" => 1.0,
        "g" | "gb" | "gib" => 1024.0,
        "t" | "tb" | "tib" => 1024.0 * 1024.0,
        other => {
            return Err(format!(
                "invalid size '{s}': unknown unit '{other}' (M, G or T)"
            ))
        }
    };
    let mib = (value * factor).ceil();
    if !(1.0..1e15).contains(&mib) {
        return Err(format!("invalid size '{s}': must be at least 1 MiB"));
    }
    Ok(mib as u64)
}

#[cfg(test)]
mod tests {
    use super::parse_mib;
    use serde_json::json;

    #[test]
    fn sizes() {
        assert_eq!(parse_mib(&json!(512)), Ok(512));
        assert_eq!(parse_mib(&json!("512")), Ok(512));
        assert_eq!(parse_mib(&json!("512M")), Ok(512));
        assert_eq!(parse_mib(&json!("10G")), Ok(10240));
        assert_eq!(parse_mib(&json!("1.5g")), Ok(1536));
        assert_eq!(parse_mib(&json!("1T")), Ok(1 << 20));
        for bad in [
            json!("10X"),
            json!("G"),
            json!(0),
            json!(-1),
            json!("0"),
            json!(true),
            json!(""),
        ] {
            assert!(parse_mib(&bad).is_err(), "{bad}");
        }
    }
}
