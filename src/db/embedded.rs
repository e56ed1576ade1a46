//! Embedded throwaway PostgreSQL cluster.
