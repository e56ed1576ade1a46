use std::io::Write as _;
use std::process::ExitCode;

use clap::Parser;
use stormbench::cli::Cli;
use stormbench::commands;
use stormbench::error::Exit;

fn main() -> ExitCode {
    // a panic is a bug: one clear line, no backtrace; the run it happens in is failed
    std::panic::set_hook(Box::new(|info| {
        let msg = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into());
        let at = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        // a closed stderr must not turn this into a second panic
        let _ = writeln!(
            std::io::stderr(),
            "Error: internal error: {msg}{at}; this is a bug in stormbench, please report it"
        );
    }));
    let cli = Cli::parse();
    match std::panic::catch_unwind(|| commands::run(cli)) {
        Ok(Ok(exit)) => exit.into(),
        Ok(Err(e)) => {
            let _ = writeln!(std::io::stderr(), "Error: {e}");
            e.exit().into()
        }
        Err(_) => Exit::Failure.into(),
    }
}
