//! Standard output and error as a reader may leave them: `stormbench ... | head` closes the
//! pipe early. What cannot be printed is dropped (the reader chose to stop reading) and the
//! command goes on to write its files and exit with its own code, where `println!` would
//! panic and turn a finished run into an internal error.

use std::fmt;
use std::io::Write as _;

/// Writes `args` to standard output; a closed or failing stdout is ignored.
pub(crate) fn stdout(args: fmt::Arguments<'_>) {
    let _ = std::io::stdout().lock().write_fmt(args);
}

/// Writes `args` to standard error; a closed or failing stderr is ignored.
pub(crate) fn stderr(args: fmt::Arguments<'_>) {
    let _ = std::io::stderr().lock().write_fmt(args);
}

/// `print!` that survives a closed stdout.
macro_rules! out {
    ($($arg:tt)*) => { $crate::out::stdout(format_args!($($arg)*)) };
}

/// `println!` that survives a closed stdout.
macro_rules! outln {
    () => { $crate::out::stdout(format_args!("\n")) };
    ($($arg:tt)*) => { $crate::out::stdout(format_args!("{}\n", format_args!($($arg)*))) };
}

/// `eprintln!` that survives a closed stderr.
macro_rules! errln {
    ($($arg:tt)*) => { $crate::out::stderr(format_args!("{}\n", format_args!($($arg)*))) };
}
