//! Classification of transaction errors into the classes the reports count.

use tokio_postgres::error::SqlState;

/// Error classes counted per transaction kind. `Other` errors are also counted by SQLSTATE.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ErrorClass {
    /// SQLSTATE 40001: could not serialize access.
    Serialization,
    /// SQLSTATE 40P01: deadlock detected.
    Deadlock,
    /// SQLSTATE 23505: unique violation.
    UniqueViolation,
    /// SQLSTATE 57014: statement timeout or query canceled.
    StatementTimeout,
    /// The connection was lost, refused or could not be established (class 08, 57P0x,
    /// closed sockets, I/O errors).
    ConnectionLost,
    /// Any other SQLSTATE (counted by code as well).
    Other,
}

impl ErrorClass {
    /// All classes, in report order.
    pub(crate) const ALL: [ErrorClass; 6] = [
        ErrorClass::Serialization,
        ErrorClass::Deadlock,
        ErrorClass::UniqueViolation,
        ErrorClass::StatementTimeout,
        ErrorClass::ConnectionLost,
        ErrorClass::Other,
    ];

    /// Stable snake_case name used in reports.
    pub(crate) fn as_str(&self) -> &'static str {
        match self {
            ErrorClass::Serialization => "serialization",
            ErrorClass::Deadlock => "deadlock",
            ErrorClass::UniqueViolation => "unique_violation",
            ErrorClass::StatementTimeout => "statement_timeout",
            ErrorClass::ConnectionLost => "connection_lost",
            ErrorClass::Other => "other",
        }
    }

    /// The class of a report's name for it.
    pub(crate) fn from_name(name: &str) -> Option<ErrorClass> {
        ErrorClass::ALL.into_iter().find(|c| c.as_str() == name)
    }

    /// Position in [`ErrorClass::ALL`].
    pub(crate) fn index(&self) -> usize {
        *self as usize
    }

    /// Whether the engine retries a transaction that failed with this class.
    pub(crate) fn retryable(&self) -> bool {
        matches!(self, ErrorClass::Serialization | ErrorClass::Deadlock)
    }
}

/// Failed transactions counted by [`ErrorClass`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ErrorCounts([u64; ErrorClass::ALL.len()]);

impl ErrorCounts {
    /// Counts one failure of `class`.
    #[inline]
    pub(crate) fn count(&mut self, class: ErrorClass) {
        self.0[class.index()] += 1;
    }

    /// Counts `n` failures of `class` (a report's counts read back).
    pub(crate) fn count_n(&mut self, class: ErrorClass, n: u64) {
        self.0[class.index()] += n;
    }

    /// Adds `other`'s counts.
    pub(crate) fn add(&mut self, other: &ErrorCounts) {
        for (a, b) in self.0.iter_mut().zip(other.0) {
            *a += b;
        }
    }

    /// Failures of all classes.
    pub(crate) fn total(&self) -> u64 {
        self.0.iter().sum()
    }

    /// `(class, count)` for the classes that occurred, in report order.
    pub(crate) fn nonzero(&self) -> impl Iterator<Item = (ErrorClass, u64)> + '_ {
        ErrorClass::ALL
            .iter()
            .map(|c| (*c, self[*c]))
            .filter(|(_, n)| *n > 0)
    }
}

impl std::ops::Index<ErrorClass> for ErrorCounts {
    type Output = u64;

    fn index(&self, class: ErrorClass) -> &u64 {
        &self.0[class.index()]
    }
}

/// Classifies by SQLSTATE code alone.
pub(crate) fn classify_code(code: &SqlState) -> ErrorClass {
    let c = code.code();
    if *code == SqlState::T_R_SERIALIZATION_FAILURE {
        ErrorClass::Serialization
    } else if *code == SqlState::T_R_DEADLOCK_DETECTED {
        ErrorClass::Deadlock
    } else if *code == SqlState::UNIQUE_VIOLATION {
        ErrorClass::UniqueViolation
    } else if *code == SqlState::QUERY_CANCELED {
        ErrorClass::StatementTimeout
    } else if c.starts_with("08") || c.starts_with("57P") {
        // connection exceptions, admin/crash shutdown, cannot connect now
        ErrorClass::ConnectionLost
    } else {
        ErrorClass::Other
    }
}

/// Classifies a driver error: by SQLSTATE when the server sent one, otherwise a closed
/// connection or I/O failure is `ConnectionLost`.
pub fn classify(e: &tokio_postgres::Error) -> ErrorClass {
    match e.code() {
        Some(code) => classify_code(code),
        None if e.is_closed() => ErrorClass::ConnectionLost,
        None => {
            if is_io(e) {
                ErrorClass::ConnectionLost
            } else {
                ErrorClass::Other
            }
        }
    }
}

/// Whether the error's source chain holds an I/O error (socket reset, refused, EOF).
fn is_io(e: &tokio_postgres::Error) -> bool {
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        if s.is::<std::io::Error>() {
            return true;
        }
        src = s.source();
    }
    // tokio-postgres reports an unexpected EOF without a source
    e.to_string().contains("connection closed")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_map_to_classes() {
        assert_eq!(
            classify_code(&SqlState::T_R_SERIALIZATION_FAILURE),
            ErrorClass::Serialization
        );
        assert_eq!(
            classify_code(&SqlState::T_R_DEADLOCK_DETECTED),
            ErrorClass::Deadlock
        );
        assert_eq!(
            classify_code(&SqlState::UNIQUE_VIOLATION),
            ErrorClass::UniqueViolation
        );
        assert_eq!(
            classify_code(&SqlState::QUERY_CANCELED),
            ErrorClass::StatementTimeout
        );
        assert_eq!(
            classify_code(&SqlState::ADMIN_SHUTDOWN),
            ErrorClass::ConnectionLost
        );
        assert_eq!(
            classify_code(&SqlState::CONNECTION_FAILURE),
            ErrorClass::ConnectionLost
        );
        assert_eq!(classify_code(&SqlState::UNDEFINED_TABLE), ErrorClass::Other);
    }

    #[test]
    fn only_serialization_and_deadlock_retry() {
        let retry: Vec<_> = ErrorClass::ALL.iter().filter(|c| c.retryable()).collect();
        assert_eq!(retry, [&ErrorClass::Serialization, &ErrorClass::Deadlock]);
        for (i, c) in ErrorClass::ALL.iter().enumerate() {
            assert_eq!(c.index(), i);
        }
    }
}
