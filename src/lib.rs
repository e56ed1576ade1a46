//! stormbench: a PostgreSQL load tester.
pub mod db;
