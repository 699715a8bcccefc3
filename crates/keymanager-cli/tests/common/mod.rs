//! The one test environment of the CLI's integration tests: a throw-away data folder, the
//! `keymanager` binary run in it (with the sandbox as Envato when there is one), and everything
//! it printed kept for leak checks. Each test file includes it with `mod common;`.
#![allow(dead_code)]

pub mod server;
pub mod shop;

use std::cell::RefCell;
use std::ffi::OsStr;
use std::io::Write;
use std::process::{Command, Output, Stdio};

pub struct Env {
    pub dir: tempfile::TempDir,
    /// The Envato sandbox's address, when the test runs one.
    pub base: Option<String>,
    /// KEYMANAGER_LOG for each run (trace logs make the leak checks search more).
    pub log: &'static str,
    /// Everything the runs printed (stdout and stderr), in order.
    pub printed: RefCell<Vec<u8>>,
    /// More environment for every run.
    pub vars: Vec<(&'static str, String)>,
}

impl Env {
    /// No Envato at all: commands that would call it fail as they would offline.
    pub fn new() -> Env {
        Env {
            dir: tempfile::tempdir().unwrap(),
            base: None,
            log: "warn",
            printed: RefCell::default(),
            vars: Vec::new(),
        }
    }

    /// Envato is the sandbox at `base`.
    pub fn with_sandbox(base: &str) -> Env {
        let mut env = Env::new();
        env.base = Some(base.to_string());
        env
    }

    /// Runs print trace logs too.
    pub fn traced(mut self) -> Env {
        self.log = "trace";
        self
    }

    /// Every run gets `name=value`.
    pub fn with_var(mut self, name: &'static str, value: impl Into<String>) -> Env {
        self.vars.push((name, value.into()));
        self
    }

    pub fn cmd<I: AsRef<OsStr>>(&self, args: &[I]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_keymanager"));
        c.args(args).env("KEYMANAGER_DATA_DIR", self.dir.path()).env("KEYMANAGER_LOG", self.log);
        c.envs(self.vars.iter().map(|(k, v)| (k, v)));
        match &self.base {
            Some(base) => c.env("KEYMANAGER_ENVATO_API_BASE", base),
            None => c.env_remove("KEYMANAGER_ENVATO_API_BASE"),
        };
        c.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
        c
    }

    /// Runs with `stdin` as standard input; records what it printed.
    pub fn run<I: AsRef<OsStr>>(&self, args: &[I], stdin: &str) -> Output {
        let mut child = self.cmd(args).spawn().unwrap();
        child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
        let out = child.wait_with_output().unwrap();
        self.printed.borrow_mut().extend_from_slice(&out.stdout);
        self.printed.borrow_mut().extend_from_slice(&out.stderr);
        out
    }

    /// (exit code, stdout, stderr).
    pub fn out(&self, args: &[&str]) -> (i32, String, String) {
        let o = self.run(args, "");
        (o.status.code().unwrap(), text(&o.stdout), text(&o.stderr))
    }

    /// Stdout of a run that must succeed.
    pub fn ok(&self, args: &[&str]) -> String {
        let o = self.run(args, "");
        assert!(o.status.success(), "{args:?} failed: {}", text(&o.stderr));
        text(&o.stdout)
    }

    pub fn json(&self, args: &[&str]) -> serde_json::Value {
        serde_json::from_str(&self.ok(args)).unwrap()
    }

    /// Saves the sandbox's seller token (validated against the sandbox).
    pub fn set_token(&self) {
        let o = self.run(&["token", "set"], envato_sandbox::data::SELLER_TOKEN);
        assert!(o.status.success(), "{}", text(&o.stderr));
    }

    pub fn licenses(&self) -> Vec<serde_json::Value> {
        self.json(&["licenses", "list", "--json"]).as_array().unwrap().clone()
    }

    /// Whether `needle` is in anything the runs printed.
    pub fn printed_contains(&self, needle: &str) -> bool {
        contains(&self.printed.borrow(), needle.as_bytes())
    }
}

impl Drop for Env {
    /// The keychain is the real one: leave no token behind.
    fn drop(&mut self) {
        if self.base.is_some() {
            let _ = self.run(&["token", "remove"], "");
        }
    }
}

pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).to_string()
}

pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}
