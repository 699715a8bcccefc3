//! `updates::version::compare` against PHP's own `version_compare` (the function WordPress uses
//! to decide that an update exists): every pair of a few hundred versions, answered by the PHP
//! interpreter in one run.

use keymanager::updates::version::compare;
use std::cmp::Ordering;
use std::io::Write;
use std::process::{Command, Stdio};

fn versions() -> Vec<String> {
    let mut v: Vec<String> = [
        "1",
        "1.0",
        "1.0.0",
        "1.0.0.1",
        "1.0.1",
        "1.1",
        "1.9",
        "1.10",
        "1.10.0",
        "2",
        "2.0",
        "10.0",
        "0.9",
        "0",
        "1.0.0-dev",
        "1.0.0-alpha",
        "1.0.0-alpha1",
        "1.0.0-a1",
        "1.0.0-beta",
        "1.0.0-beta2",
        "1.0.0-beta10",
        "1.0.0-b1",
        "1.0.0-RC1",
        "1.0.0-rc1",
        "1.0.0rc2",
        "1.0.0-pl1",
        "1.0.0-p1",
        "1.0.0-patch",
        "1.0.0+build",
        "1.0.0_1",
        "1.0-foo",
        "1.0.0.0.0",
        "01.02",
        "1.2",
        "1.2.3-beta.1",
        "1.2.3-beta.2",
        "1.2.3.beta",
        "1..2",
        "1.0.",
        "1a",
        "1b",
        "1dev",
        "2.0.0-x",
        "3.0RC",
        "3.0pl",
        "3.0#",
        "99999999999999999999",
        "1.0-",
        "-1",
        "a",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    v.push(String::new());
    v
}

#[test]
fn matches_the_php_interpreter_on_every_pair() {
    let vs = versions();
    let script = r#"<?php
$vs = json_decode(stream_get_contents(STDIN), true);
$out = [];
foreach ($vs as $a) { $row = []; foreach ($vs as $b) { $row[] = version_compare($a, $b); } $out[] = $row; }
echo json_encode($out);
"#;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("vc.php");
    std::fs::write(&file, script).unwrap();
    let mut php = Command::new("php")
        .arg(&file)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("php (php-cli) is installed by scripts/setup.sh --test");
    php.stdin.take().unwrap().write_all(serde_json::to_string(&vs).unwrap().as_bytes()).unwrap();
    let out = php.wait_with_output().unwrap();
    assert!(out.status.success());
    let table: Vec<Vec<i32>> = serde_json::from_slice(&out.stdout).unwrap();
    let mut checked = 0;
    for (i, a) in vs.iter().enumerate() {
        for (j, b) in vs.iter().enumerate() {
            let want = match table[i][j] {
                -1 => Ordering::Less,
                0 => Ordering::Equal,
                _ => Ordering::Greater,
            };
            assert_eq!(compare(a, b), want, "version_compare({a:?}, {b:?})");
            checked += 1;
        }
    }
    assert_eq!(checked, vs.len() * vs.len());
}
