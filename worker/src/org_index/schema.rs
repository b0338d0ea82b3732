//! The OrgIndex SQLite schema, created by `/init` and brought up to date by the first request
//! of each instance (every statement is idempotent).

pub const STATEMENTS: &[&str] = &[
    // One row: the organisation.
    "CREATE TABLE IF NOT EXISTS org (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        org_id TEXT NOT NULL,
        name TEXT NOT NULL,
        created_at INTEGER NOT NULL
    )",
    // API keys, hashed (hex SHA-256); the UNIQUE hash is the auth lookup's index.
    "CREATE TABLE IF NOT EXISTS keys (
        key_id TEXT PRIMARY KEY,
        hash TEXT NOT NULL UNIQUE,
        role TEXT NOT NULL,
        label TEXT,
        created_at INTEGER NOT NULL,
        revoked_at INTEGER
    )",
    // One row per run: indexed columns + the summary verbatim. `tags` is the sorted distinct
    // tag list as JSON (to skip rewriting tag rows that did not change); `name_lc` is the
    // lowercased name that `q` searches.
    "CREATE TABLE IF NOT EXISTS runs (
        id TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        status TEXT NOT NULL,
        name TEXT,
        name_lc TEXT,
        batch_id TEXT,
        tags TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        seq INTEGER NOT NULL,
        summary TEXT NOT NULL
    )",
    "CREATE INDEX IF NOT EXISTS runs_by_created ON runs (created_at, id)",
    "CREATE INDEX IF NOT EXISTS runs_by_status ON runs (status, created_at, id)",
    "CREATE INDEX IF NOT EXISTS runs_by_kind ON runs (kind, created_at, id)",
    // The dashboard's usual pair of filters: without it SQLite walks one of the two
    // single-column indexes and filters on the other (thousands of rows for a rare status).
    "CREATE INDEX IF NOT EXISTS runs_by_status_kind ON runs (status, kind, created_at, id)",
    "CREATE INDEX IF NOT EXISTS runs_by_batch ON runs (batch_id, created_at, id)",
    "CREATE TABLE IF NOT EXISTS run_tags (
        tag TEXT NOT NULL,
        run_id TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (tag, run_id)
    )",
    "CREATE INDEX IF NOT EXISTS run_tags_by_created ON run_tags (tag, created_at, run_id)",
    "CREATE INDEX IF NOT EXISTS run_tags_by_run ON run_tags (run_id)",
    // Exact per-status counts, maintained with every upsert.
    "CREATE TABLE IF NOT EXISTS status_counts (
        status TEXT PRIMARY KEY,
        n INTEGER NOT NULL
    )",
    "INSERT OR IGNORE INTO status_counts (status, n) VALUES
        ('pending', 0), ('queued', 0), ('running', 0), ('waiting', 0), ('cancelling', 0),
        ('completed', 0), ('failed', 0), ('rejected', 0), ('cancelled', 0)",
    // The org-wide change log the watchers resume from (last RETAINED_CHANGES kept).
    "CREATE TABLE IF NOT EXISTS changes (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        run_id TEXT NOT NULL,
        summary TEXT NOT NULL
    )",
    // Bulk cancel dry runs: the selection frozen at dry-run time (kept until the job has copied
    // it, or until it expires), and the jobs started from them (idempotency keys are unique).
    "CREATE TABLE IF NOT EXISTS bulk_dry_runs (
        dry_run_id TEXT PRIMARY KEY,
        spec TEXT NOT NULL,
        count INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        created_by TEXT,
        job_id TEXT
    )",
    "CREATE INDEX IF NOT EXISTS bulk_dry_runs_by_expiry ON bulk_dry_runs (expires_at)",
    // Appended in scan order (rowid), so freezing 100,000 ids never reorders a b-tree.
    "CREATE TABLE IF NOT EXISTS bulk_selection (
        seq INTEGER PRIMARY KEY,
        dry_run_id TEXT NOT NULL,
        run_id TEXT NOT NULL
    )",
    "CREATE INDEX IF NOT EXISTS bulk_selection_by_dry_run ON bulk_selection (dry_run_id, seq)",
    "CREATE TABLE IF NOT EXISTS bulk_jobs (
        job_id TEXT PRIMARY KEY,
        dry_run_id TEXT NOT NULL,
        idempotency_key TEXT UNIQUE,
        count INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        created_by TEXT
    )",
    "CREATE INDEX IF NOT EXISTS bulk_jobs_by_created ON bulk_jobs (created_at, job_id)",
];

#[cfg(test)]
mod tests {
    use super::*;
    use runbrake_core::StatusKind;

    #[test]
    fn counts_are_seeded_for_every_status() {
        let seed = STATEMENTS
            .iter()
            .find(|s| s.contains("INSERT OR IGNORE INTO status_counts"))
            .expect("seed");
        for s in StatusKind::ALL {
            assert!(
                seed.contains(&format!("'{}'", s.as_str())),
                "{}",
                s.as_str()
            );
        }
    }
}
