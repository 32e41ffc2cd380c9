//! Secret OS parameters (`osparams_secret`) of submitted opcodes.
//!
//! Why they get a module: Ganeti keeps them out of its job files, and so
//! do we. When a job is submitted its opcodes' secrets are taken out
//! ([`OpSecrets::of`]) and held in memory only (`Master::secrets`, by job
//! id and opcode index) until the opcode runs; the stored opcode has a
//! marker in their place ([`redact`]). An OP_INSTANCE_MULTI_ALLOC carries
//! secrets for each instance it will create: they are held the same way,
//! by position, and put back ([`restore_nested`]) into the create opcodes
//! the multi-allocation submits, which take them out again as jobs of
//! their own. A master restart loses them; such a job then runs without
//! them.

use std::fmt;

use ganeti_types::Dict;
use serde_json::Value;

/// What a secret OS parameter's value becomes in a stored job.
pub(crate) const REDACTED: &str = "<redacted>";

/// The opcode key holding secret OS parameters.
const SECRET_KEY: &str = "osparams_secret";
/// The opcode key of OP_INSTANCE_MULTI_ALLOC's nested create opcodes.
const NESTED_KEY: &str = "instances";

/// The secrets of one opcode. Its `Debug` shows parameter names only.
#[derive(Clone, Default, PartialEq)]
pub struct OpSecrets {
    /// The opcode's own `osparams_secret`.
    pub own: Dict,
    /// Those of the opcodes nested in `instances`, by position (empty
    /// dicts for instances without any).
    pub nested: Vec<Dict>,
}

impl fmt::Debug for OpSecrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names = |d: &Dict| d.keys().cloned().collect::<Vec<_>>();
        f.debug_struct("OpSecrets")
            .field("own", &names(&self.own))
            .field("nested", &self.nested.iter().map(names).collect::<Vec<_>>())
            .finish()
    }
}

/// An opcode's secret dict, without values that are only a marker (an
/// opcode made from another job's stored opcode has nothing to pass on).
fn secret_dict(op: &Dict) -> Dict {
    op.get(SECRET_KEY)
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter(|(_, v)| v.as_str() != Some(REDACTED))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        })
        .unwrap_or_default()
}

fn nested_mut(op: &mut Dict) -> impl Iterator<Item = &mut Dict> {
    op.get_mut(NESTED_KEY)
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
        .filter_map(Value::as_object_mut)
}

impl OpSecrets {
    /// The secrets an opcode (validated, defaults filled) carries.
    pub(crate) fn of(op: &Dict) -> Self {
        let nested = op
            .get(NESTED_KEY)
            .and_then(Value::as_array)
            .map(|list| {
                list.iter()
                    .map(|v| v.as_object().map(secret_dict).unwrap_or_default())
                    .collect()
            })
            .unwrap_or_default();
        OpSecrets {
            own: secret_dict(op),
            nested,
        }
    }

    /// Whether there is no secret at all.
    pub fn is_empty(&self) -> bool {
        self.own.is_empty() && self.nested.iter().all(Dict::is_empty)
    }
}

/// Drop marker values from the opcode's secret dicts (its own and the
/// nested ones), so that checks never see a marker as a value.
pub(crate) fn drop_markers(op: &mut Dict) {
    fn strip(op: &mut Dict) {
        if let Some(Value::Object(m)) = op.get_mut(SECRET_KEY) {
            m.retain(|_, v| v.as_str() != Some(REDACTED));
        }
    }
    strip(op);
    nested_mut(op).for_each(strip);
}

/// The opcode as it may be stored: every secret value (its own and the
/// nested opcodes') replaced by the marker.
pub(crate) fn redact(mut op: Dict) -> Dict {
    fn mask(op: &mut Dict) {
        if let Some(Value::Object(m)) = op.get_mut(SECRET_KEY) {
            for v in m.values_mut() {
                *v = Value::String(REDACTED.into());
            }
        }
    }
    mask(&mut op);
    nested_mut(&mut op).for_each(mask);
    op
}

/// Put held secrets back into the nested opcodes of a stored
/// OP_INSTANCE_MULTI_ALLOC (in memory, just before they become jobs);
/// a nested opcode whose secrets were lost gets none.
pub(crate) fn restore_nested(op: &mut Dict, nested: &[Dict]) {
    for (i, inst) in nested_mut(op).enumerate() {
        inst.remove(SECRET_KEY);
        if let Some(secret) = nested.get(i).filter(|d| !d.is_empty()) {
            inst.insert(SECRET_KEY.into(), Value::Object(secret.clone()));
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn dict(v: Value) -> Dict {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn secret_parameters_are_redacted_before_persisting() {
        let op = dict(json!({"OP_ID": "OP_INSTANCE_CREATE",
            "osparams_secret": {"root_pw": "hunter2"}, "osparams": {"a": "b"}}));
        let r = redact(op);
        let text = serde_json::to_string(&r).unwrap();
        assert!(!text.contains("hunter2"), "{text}");
        assert_eq!(r["osparams"], json!({"a": "b"}));
        assert_eq!(r["osparams_secret"], json!({"root_pw": "<redacted>"}));
    }

    #[test]
    fn nested_secrets_are_held_by_position_and_redacted() {
        let op = dict(json!({"OP_ID": "OP_INSTANCE_MULTI_ALLOC", "instances": [
            {"instance_name": "a", "osparams_secret": {"pw": "s1"}},
            {"instance_name": "b"},
            {"instance_name": "c", "osparams_secret": {"pw": "s3", "old": REDACTED}},
        ]}));
        let held = OpSecrets::of(&op);
        assert!(held.own.is_empty());
        assert_eq!(
            held.nested,
            vec![
                dict(json!({"pw": "s1"})),
                Dict::new(),
                dict(json!({"pw": "s3"}))
            ]
        );
        assert!(!held.is_empty());
        let stored = redact(op);
        let text = serde_json::to_string(&stored).unwrap();
        assert!(!text.contains("s1") && !text.contains("s3"), "{text}");
        // Debug never shows a value
        let dbg = format!("{held:?}");
        assert!(dbg.contains("pw") && !dbg.contains("s1"), "{dbg}");

        // put back into the stored opcode: values where held, none where lost
        let mut again = stored.clone();
        restore_nested(&mut again, &held.nested[..1]);
        let insts = again["instances"].as_array().unwrap();
        assert_eq!(insts[0]["osparams_secret"], json!({"pw": "s1"}));
        assert!(insts[1].get("osparams_secret").is_none());
        assert!(insts[2].get("osparams_secret").is_none());
    }

    #[test]
    fn markers_are_no_secrets() {
        let mut op = dict(json!({"osparams_secret": {"pw": REDACTED, "k": "v"},
            "instances": [{"osparams_secret": {"x": REDACTED}}]}));
        assert_eq!(OpSecrets::of(&op).own, dict(json!({"k": "v"})));
        assert!(OpSecrets::of(&op).nested[0].is_empty());
        drop_markers(&mut op);
        assert_eq!(op["osparams_secret"], json!({"k": "v"}));
        assert_eq!(op["instances"][0]["osparams_secret"], json!({}));
        assert!(OpSecrets::default().is_empty());
    }
}
