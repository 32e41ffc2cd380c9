//! Golden tests against the recorded behaviour of Ganeti 3.0.2's tools
//! (`ganeti-fixtures`, `cli`): help texts, command listings, and every
//! error that the client produces without a master.

use crate::cmd::testutil::{fixture, run_cmd};
use crate::commands::GroupDef;
use crate::context::testing::FakeEnv;

/// Bash `printf %q` words back to argv.
fn unquote_words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = line.trim_end_matches('\n').chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                    in_word = true;
                }
            }
            '\'' => {
                in_word = true;
                for n in chars.by_ref() {
                    if n == '\'' {
                        break;
                    }
                    cur.push(n);
                }
            }
            ' ' => {
                if in_word {
                    out.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            c => {
                cur.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        out.push(cur);
    }
    out
}

/// A recorded case: argv, stdout, stderr, exit code.
pub(crate) fn case(name: &str) -> Option<(Vec<String>, String, String, i32)> {
    let cmd = fixture(&format!("{name}.cmd"))?;
    let out = fixture(&format!("{name}.out"))?;
    let err = fixture(&format!("{name}.err"))?;
    let rc = fixture(&format!("{name}.rc"))?.trim().parse().ok()?;
    Some((unquote_words(&cmd), out, err, rc))
}

/// Our extra help lines (options Ganeti does not have) removed.
fn strip_extra_options(help: &str) -> String {
    let mut out = Vec::new();
    let mut skipping = false;
    for line in help.lines() {
        if line.starts_with("--root=DIR") || line.starts_with("--master-ip=ADDRESS") {
            skipping = true;
            continue;
        }
        if skipping && line.starts_with(' ') {
            continue;
        }
        skipping = false;
        out.push(line);
    }
    out.join("\n") + "\n"
}

/// Collapse whitespace and sort the items of parenthesized comma lists
/// (set-ordered texts in Ganeti vary from run to run).
fn normalize_sets(text: &str) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut out = String::new();
    let mut rest = flat.as_str();
    while let Some(start) = rest.find('(') {
        out.push_str(&rest[..=start]);
        rest = &rest[start + 1..];
        if let Some(end) = rest.find(')') {
            let inner = &rest[..end];
            if inner.contains(", ") {
                let (prefix, list) = match inner.strip_prefix("choose from ") {
                    Some(l) => ("choose from ", l),
                    None => ("", inner),
                };
                let mut items: Vec<&str> = list.split(", ").collect();
                items.sort_unstable();
                out.push_str(prefix);
                out.push_str(&items.join(", "));
            } else {
                out.push_str(inner);
            }
            rest = &rest[end..];
        }
    }
    out.push_str(rest);
    out
}

fn env_without_master() -> FakeEnv {
    FakeEnv::new(|m, a| panic!("unexpected call to the master: {m:?} {a}"))
}

#[test]
fn help_texts_match_reference() {
    let Some(varying) = fixture("help/varying.txt") else {
        return;
    };
    let varying: Vec<&str> = varying.lines().collect();
    let mut checked = 0;
    for (_, group) in crate::groups() {
        for cmd in group.commands {
            let key = format!("{}__{}", group.binary, cmd.name);
            let Some(expected) = fixture(&format!("help/{key}.txt")) else {
                continue;
            };
            let env = env_without_master();
            let (rc, out, err) = run_cmd(&env, &[group.binary, cmd.name, "--help"]);
            assert_eq!(rc, 0, "{key}");
            assert_eq!(err, "", "{key}");
            let ours = strip_extra_options(&out);
            if varying.contains(&key.as_str()) {
                assert_eq!(normalize_sets(&ours), normalize_sets(&expected), "{key}");
            } else {
                assert_eq!(ours, expected, "{key}");
            }
            checked += 1;
        }
    }
    assert!(checked > 90, "only {checked} help texts compared");
}

/// The reference listing without the commands this release lacks.
fn expected_listing(reference: &str, group: &GroupDef) -> String {
    let mut out = String::new();
    let mut keep = true;
    for line in reference.lines() {
        if let Some(rest) = line.strip_prefix(' ') {
            if !rest.starts_with(' ') {
                let name = rest.split_whitespace().next().unwrap_or("");
                keep = group.commands.iter().any(|c| c.name == name);
            }
            if keep {
                out.push_str(line);
                out.push('\n');
            }
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

#[test]
fn command_listings_match_reference() {
    for (_, group) in crate::groups() {
        let Some(reference) = fixture(&format!("help/{}.txt", group.binary)) else {
            continue;
        };
        let env = env_without_master();
        let (rc, out, _) = run_cmd(&env, &[group.binary, "--help"]);
        assert_eq!(rc, 0);
        assert_eq!(out, expected_listing(&reference, group), "{}", group.binary);
        // bare, -h and unknown commands: the listing with exit code 1
        for argv in [
            vec![group.binary],
            vec![group.binary, "-h"],
            vec![group.binary, "frobnicate"],
        ] {
            let (rc, out2, err) = run_cmd(&env, &argv);
            assert_eq!(
                (rc, out2.as_str(), err.as_str()),
                (1, out.as_str(), ""),
                "{argv:?}"
            );
        }
    }
}

#[test]
fn client_side_errors_match_reference() {
    let cases = [
        "err_add_bad_template_name",
        "err_bad_disk_size_s",
        "err_bad_units",
        "err_flag_missing_value",
        "err_unknown_flag",
        "err_unknown_short_flag",
        "err_cluster_modify_bad",
        "err_add_no_name",
        "err_missing_argument",
        "err_missing_argument_rename",
        "err_too_many_args_getmaster",
        "err_info_no_args",
        "err_modify_nothing",
        "err_beparam_bad_value",
        "err_beparam_no_value",
        "err_beparam_unknown_key",
        "err_modify_beparam_bad_value",
        "err_modify_beparam_no_value",
        "err_bad_disk_size",
        "err_disk_size_diskless",
        "err_add_no_template",
        "err_no_disk_for_file",
        "err_grow_disk_bad_size",
        "instance_list_filter_bad",
        "usage_gnt-instance_version",
    ];
    for name in cases {
        let Some((argv, out, err, rc)) = case(name) else {
            return;
        };
        let env = env_without_master();
        let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
        let (our_rc, our_out, our_err) = run_cmd(&env, &argv);
        assert_eq!(our_rc, rc, "{name}: {our_err}");
        assert_eq!(
            our_out,
            out.replace(
                "(ganeti 3.0.2-3)",
                &format!("(ganeti-rs {})", ganeti_types::SOFTWARE_VERSION)
            ),
            "{name}"
        );
        if name == "err_add_bad_template_name" {
            assert_eq!(normalize_sets(&our_err), normalize_sets(&err), "{name}");
        } else {
            assert_eq!(our_err, err, "{name}");
        }
    }
}

#[test]
fn alias_help_is_the_command_help() {
    let Some((argv, out, _, rc)) = case("usage_alias_start") else {
        return;
    };
    let env = env_without_master();
    let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
    let (our_rc, our_out, _) = run_cmd(&env, &argv);
    assert_eq!(our_rc, rc);
    assert_eq!(strip_extra_options(&our_out), out);
}

#[test]
fn printf_q_unquoting() {
    assert_eq!(
        unquote_words("gnt-instance list -F status\\ ==\\ \\\"running\\\" x"),
        vec!["gnt-instance", "list", "-F", "status == \"running\"", "x"]
    );
    assert_eq!(unquote_words("a 'b c'"), vec!["a", "b c"]);
}

#[test]
fn set_normalization() {
    assert_eq!(normalize_sets("x (b, a)\n  y"), "x (a, b) y");
    assert_ne!(normalize_sets("(a, b)"), normalize_sets("(a, c)"));
}
