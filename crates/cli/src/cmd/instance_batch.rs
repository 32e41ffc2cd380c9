//! `gnt-instance batch-create`: create instances from a JSON file of
//! OP_INSTANCE_CREATE parameter dicts, through one OP_INSTANCE_MULTI_ALLOC.
//!
//! As Ganeti's `BatchCreate`: the file must be a list of dicts, each dict
//! is checked against the create opcode's parameters here (unknown fields,
//! then the parameter types) so a typo is reported before anything is
//! submitted, and each is sent as the opcode serialisation Ganeti sends
//! (the given fields plus `OP_ID`, no defaults filled in). The master
//! answers with one create job per instance; they are followed like
//! `gnt-instance add` follows its job, and the summary line and exit code
//! say whether all of them succeeded.

use serde_json::{json, Map, Value};

use super::super::{io_error_text, jstr};
use crate::context::Ctx;
use crate::errors::{CliError, GanetiErr};
use crate::jobs::{opcode, JobExecutor};
use crate::optparse::Opts;

const CREATE: &str = "OP_INSTANCE_CREATE";

/// Check one instance definition and turn it into the nested opcode dict.
fn instance_opcode(idx: usize, def: &Map<String, Value>) -> Result<Value, CliError> {
    let mut unknown: Vec<&str> = def
        .keys()
        .map(String::as_str)
        .filter(|k| ganeti_opschema::param_def(CREATE, k).is_none())
        .collect();
    if !unknown.is_empty() {
        unknown.sort_unstable();
        return Err(GanetiErr::inval(format!(
            "Unknown fields in definition {idx}: {}",
            unknown.join(", ")
        ))
        .into());
    }
    let mut op = Map::new();
    op.insert(ganeti_opschema::OP_ID_KEY.into(), json!(CREATE));
    op.extend(def.clone());
    ganeti_opschema::validate_and_fill(&op).map_err(|e| GanetiErr::inval(e.to_string()))?;
    Ok(Value::Object(op))
}

/// The nested create opcodes of a parsed definition file, or the message
/// Ganeti prints for a file of the wrong shape.
pub fn build_instances(data: &Value) -> Result<Result<Vec<Value>, String>, CliError> {
    let Some(defs) = data.as_array().filter(|l| l.iter().all(Value::is_object)) else {
        return Ok(Err(
            "The instance definition file is not List of Dictionary".into(),
        ));
    };
    defs.iter()
        .filter_map(Value::as_object)
        .enumerate()
        .map(|(i, d)| instance_opcode(i, d))
        .collect::<Result<Vec<_>, _>>()
        .map(Ok)
}

/// The file's JSON, or the message Ganeti prints when it cannot be read.
fn read_definitions(path: &str) -> Result<Value, String> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        format!(
            "[Errno {}] {}: '{path}'",
            e.raw_os_error().unwrap_or(0),
            io_error_text(&e)
        )
    })?;
    serde_json::from_str(&text).map_err(|e| e.to_string())
}

pub fn batch_create(ctx: &mut Ctx<'_>, opts: &Opts, args: Vec<String>) -> Result<i32, CliError> {
    let data = match read_definitions(&args[0]) {
        Ok(d) => d,
        Err(msg) => {
            ctx.errln(&format!("Can't parse the instance definition file: {msg}"))?;
            return Ok(1);
        }
    };
    let instances = match build_instances(&data)? {
        Ok(list) => list,
        Err(msg) => {
            ctx.errln(&msg)?;
            return Ok(1);
        }
    };
    let op = opcode(
        "OP_INSTANCE_MULTI_ALLOC",
        vec![
            ("iallocator", jstr(opts, "iallocator")),
            ("instances", Value::Array(instances)),
        ],
    );
    let result = ctx.submit_or_send(op, opts)?;
    let mut jex = JobExecutor::new(true);
    jex.add_result_jobs(&result);
    let failed = jex.get_results(ctx)?.iter().filter(|(ok, _)| !ok).count();
    if failed == 0 {
        ctx.outln("All instances created successfully.")?;
        Ok(0)
    } else {
        ctx.outln(&format!("There were {failed} errors during the creation."))?;
        Ok(1)
    }
}

#[cfg(test)]
mod tests {
    use ganeti_luxi::Method;
    use serde_json::{json, Value};

    use crate::cmd::fakemaster::{master, JobPlan};
    use crate::cmd::testutil::{run_cmd, submitted_ops};

    fn def(name: &str) -> Value {
        json!({"instance_name": name, "mode": "create", "disk_template": "diskless",
               "disks": [], "nics": [], "os_type": "noop", "pnode": "node1"})
    }

    /// Write `content` to a new file in `dir` (one file per call).
    fn file_with(dir: &tempfile::TempDir, content: &str) -> String {
        let n = std::fs::read_dir(dir.path()).unwrap().count();
        let p = dir.path().join(format!("instances{n}.json"));
        std::fs::write(&p, content).unwrap();
        p.display().to_string()
    }

    fn alloc_result(ids: &[u64]) -> Value {
        json!({"jobs": ids.iter().map(|i| json!([true, i])).collect::<Vec<_>>(),
               "allocatable": ["a.example.com", "b.example.com"], "failed": []})
    }

    #[test]
    fn creates_through_one_multi_alloc_and_follows_the_jobs() {
        let dir = tempfile::tempdir().unwrap();
        let path = file_with(
            &dir,
            &json!([def("a.example.com"), def("b.example.com")]).to_string(),
        );
        let env = master(
            10,
            vec![
                JobPlan::ok(alloc_result(&[11, 12])),
                JobPlan::ok(json!(["node1-uuid"])),
                JobPlan::ok(json!(["node1-uuid"])),
            ],
            |m, _| (m == Method::QueryJobs).then(|| Ok(json!([]))),
        );
        let (rc, out, err) = run_cmd(&env, &["gnt-instance", "batch-create", &path]);
        assert_eq!((rc, err.as_str()), (0, ""));
        assert_eq!(
            out,
            "Submitted jobs 11, 12\nWaiting for job 11 ...\nWaiting for job 12 ...\nAll instances created successfully.\n"
        );
        let ops = submitted_ops(&env);
        assert_eq!(ops.len(), 1, "the children are submitted by the master");
        let mut first = def("a.example.com");
        first["OP_ID"] = json!("OP_INSTANCE_CREATE");
        assert_eq!(ops[0]["OP_ID"], json!("OP_INSTANCE_MULTI_ALLOC"));
        assert_eq!(ops[0]["iallocator"], Value::Null);
        assert_eq!(ops[0]["instances"][0], first, "sent as given, plus OP_ID");
    }

    #[test]
    fn a_failed_child_job_is_counted() {
        let dir = tempfile::tempdir().unwrap();
        let path = file_with(
            &dir,
            &json!([def("a.example.com"), def("b.example.com")]).to_string(),
        );
        let env = master(
            10,
            vec![
                JobPlan::ok(alloc_result(&[11, 12])),
                JobPlan::ok(json!(["node1-uuid"])),
                JobPlan::err(json!([
                    "OpPrereqError",
                    [
                        "Instance 'b.example.com' is already in the cluster",
                        "already_exists"
                    ]
                ])),
            ],
            |_, _| None,
        );
        let (rc, out, err) = run_cmd(&env, &["gnt-instance", "batch-create", "-I", "hail", &path]);
        assert_eq!(rc, 1, "{out}{err}");
        assert!(
            out.ends_with("There were 1 errors during the creation.\n"),
            "{out}"
        );
        assert!(err.starts_with("Job 12 has failed: "), "{err}");
        assert_eq!(submitted_ops(&env)[0]["iallocator"], json!("hail"));
    }

    #[test]
    fn bad_definition_files_submit_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nosuch.json").display().to_string();
        let cases = [
            (
                missing.clone(),
                format!("Can't parse the instance definition file: [Errno 2] No such file or directory: '{missing}'\n"),
            ),
            (
                file_with(&dir, "[{\"instance_name\": "),
                "Can't parse the instance definition file: EOF while parsing a value at line 1 column 19\n".to_string(),
            ),
            (
                file_with(&dir, "{\"instance_name\": \"a\"}"),
                "The instance definition file is not List of Dictionary\n".to_string(),
            ),
            (
                file_with(&dir, "[1, 2]"),
                "The instance definition file is not List of Dictionary\n".to_string(),
            ),
        ];
        for (path, expected) in cases {
            let env = master(10, vec![], |_, _| None);
            let (rc, out, err) = run_cmd(&env, &["gnt-instance", "batch-create", &path]);
            assert_eq!((rc, out.as_str(), err.as_str()), (1, "", expected.as_str()));
            assert!(submitted_ops(&env).is_empty());
        }
        let mut unknown = def("a.example.com");
        unknown["frob"] = json!(1);
        unknown["OP_ID"] = json!("OP_INSTANCE_CREATE");
        let mut bad_type = def("a.example.com");
        bad_type["disks"] = json!("big");
        for (content, detail) in [
            (
                json!([def("a.example.com"), unknown]),
                "Unknown fields in definition 1: OP_ID, frob",
            ),
            (
                json!([bad_type]),
                "Parameter 'OP_INSTANCE_CREATE.disks' fails validation",
            ),
        ] {
            let env = master(10, vec![], |_, _| None);
            let path = file_with(&dir, &content.to_string());
            let (rc, _, err) = run_cmd(&env, &["gnt-instance", "batch-create", &path]);
            assert_eq!(
                (rc, err),
                (1, format!("Failure: prerequisites not met for this operation:\nerror type: wrong_input, error details:\n{detail}\n"))
            );
            assert!(submitted_ops(&env).is_empty());
        }
    }

    #[test]
    fn submit_only_prints_the_job_id() {
        let dir = tempfile::tempdir().unwrap();
        let path = file_with(&dir, &json!([def("a.example.com")]).to_string());
        let env = master(10, vec![], |_, _| None);
        let (rc, out, err) = run_cmd(&env, &["gnt-instance", "batch-create", "--submit", &path]);
        assert_eq!((rc, out.as_str(), err.as_str()), (0, "", "JobID: 10\n"));
        assert_eq!(
            submitted_ops(&env)[0]["OP_ID"],
            json!("OP_INSTANCE_MULTI_ALLOC")
        );
    }
}
