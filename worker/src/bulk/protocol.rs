//! The internal requests of a bulk cancel, between the Worker, the organisation index (which
//! freezes the selection) and the job's own object. All three live in this crate, so the types
//! are shared rather than restated.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A dry run lives this long; starting a job after that asks for a new dry run.
pub const DRY_RUN_TTL_MS: u64 = 60 * 60 * 1000;
/// Ids one selection page carries (the job copies the frozen selection page by page).
pub const SELECTION_PAGE: u32 = 5_000;

/// What the caller asked for, frozen with the selection and carried by the job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Spec {
    /// The selection as the caller gave it (normalised), echoed by the dry run and the job.
    pub selection: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grace_ms: Option<u64>,
}

/// Where the frozen ids come from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Source {
    /// Exactly these runs (validated and deduplicated by the Worker; unknown ones are frozen
    /// too and end as `not_found` items).
    Ids { ids: Vec<String> },
    /// The runs the index's list filters select (`GET /runs` query parameters).
    Query { pairs: Vec<(String, String)> },
}

/// Worker → OrgIndex `POST /bulk/dry-runs`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FreezeRequest {
    pub dry_run_id: String,
    pub now: u64,
    pub expires_at: u64,
    #[serde(default)]
    pub created_by: Option<String>,
    pub sample_size: u32,
    pub spec: Spec,
    pub source: Source,
}

/// One run of a dry run's sample, as the index knows it (`status: null`: not indexed, e.g. an
/// id given by hand that does not exist).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SampleItem {
    pub id: String,
    pub status: Option<String>,
    #[serde(default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub created_at: Option<u64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FreezeReply {
    pub dry_run_id: String,
    pub count: u64,
    pub sample: Vec<SampleItem>,
    pub created_at: u64,
    pub expires_at: u64,
    pub spec: Spec,
}

/// Worker → OrgIndex `POST /bulk/jobs`: record a job for a dry run (idempotent by key, and by
/// dry run when no key is given).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RecordJob {
    pub dry_run_id: String,
    /// Used if this creates the job.
    pub job_id: String,
    #[serde(default)]
    pub idempotency_key: Option<String>,
    pub now: u64,
    #[serde(default)]
    pub created_by: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RecordedJob {
    pub job_id: String,
    /// False: the key (or the dry run) had started this job before.
    pub created: bool,
    pub dry_run_id: String,
    pub count: u64,
    pub spec: Spec,
    pub created_at: u64,
}

/// OrgIndex → BulkJob: one page of a frozen selection (`next`: the cursor of the next page).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SelectionPage {
    pub ids: Vec<String>,
    pub next: Option<u64>,
}

/// A row of `GET /bulk/jobs` (newest first).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JobRow {
    pub job_id: String,
    pub dry_run_id: String,
    pub idempotency_key: Option<String>,
    pub count: u64,
    pub created_at: u64,
    pub created_by: Option<String>,
}

/// Worker → BulkJob `POST /start`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StartJob {
    pub job_id: String,
    pub org_id: String,
    pub dry_run_id: String,
    pub total: u64,
    pub spec: Spec,
    pub concurrency: u32,
    pub rate_per_s: u32,
    #[serde(default)]
    pub idempotency_key: Option<String>,
    #[serde(default)]
    pub created_by: Option<String>,
    pub now: u64,
}
