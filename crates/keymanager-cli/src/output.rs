//! Output: every command answers through `Out`, as text or (with `--json`) as the core's JSON,
//! and every failure ends as an exit code with `error[CODE]: message` on stderr.

use keymanager::{Error, ErrorCode};
use serde::Serialize;
use std::io::{self, Write};
use std::process::ExitCode;

/// Failures of a command: a core error, stdout closing under us (`| head`), or a printed "no".
pub enum Failure {
    Core(Error),
    Io(io::Error),
    /// The answer was printed and is "no" (not a valid sale, not a valid key): exit 3.
    No,
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure::Core(e)
    }
}

impl From<io::Error> for Failure {
    fn from(e: io::Error) -> Self {
        Failure::Io(e)
    }
}

pub type CmdResult = Result<(), Failure>;

impl Failure {
    /// Exit 0 / 1 (error) / 3 (a printed "no"); 2 is clap's usage error.
    pub fn exit(result: CmdResult) -> ExitCode {
        match result {
            Ok(()) => ExitCode::SUCCESS,
            Err(Failure::Io(e)) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
            Err(Failure::No) => ExitCode::from(3),
            Err(Failure::Io(e)) => {
                eprintln!("error[{}]: cannot write output: {e}", ErrorCode::Internal);
                ExitCode::from(1)
            }
            Err(Failure::Core(e)) => {
                eprintln!("error[{}]: {}", e.code, e.message);
                ExitCode::from(1)
            }
        }
    }
}

pub struct Out {
    pub w: io::BufWriter<io::StdoutLock<'static>>,
    pub json: bool,
}

impl Out {
    pub fn new(json: bool) -> Out {
        Out { w: io::BufWriter::new(io::stdout().lock()), json }
    }

    /// The one "JSON or text" switch: `value` as JSON with `--json`, else what `text` writes.
    pub fn emit<T: Serialize + ?Sized>(
        &mut self,
        value: &T,
        text: impl FnOnce(&mut dyn Write) -> io::Result<()>,
    ) -> CmdResult {
        if self.json {
            write_json(&mut self.w, value)
        } else {
            text(&mut self.w).map_err(Failure::Io)
        }
    }

    /// JSON whatever the flag (a failure's report under `--json`).
    pub fn json<T: Serialize + ?Sized>(&mut self, value: &T) -> CmdResult {
        write_json(&mut self.w, value)
    }

    pub fn flush(&mut self) -> CmdResult {
        self.w.flush().map_err(Failure::Io)
    }
}

fn write_json<T: Serialize + ?Sized>(w: &mut impl Write, value: &T) -> CmdResult {
    serde_json::to_writer_pretty(&mut *w, value).map_err(|e| Failure::Io(e.into()))?;
    writeln!(w)?;
    Ok(())
}

pub fn clip(s: &str, n: usize) -> String {
    keymanager::text::truncate_chars(s, n)
}
