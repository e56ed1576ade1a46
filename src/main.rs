use std::process::ExitCode;

use clap::Parser;
use stormbench::app;
use stormbench::cli::Cli;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match app::run(cli) {
        Ok(exit) => exit.into(),
        Err(e) => {
            eprintln!("Error: {e}");
            e.exit().into()
        }
    }
}
