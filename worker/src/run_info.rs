//! What a run is about (name, workflow, trigger, metadata, tags…), as opposed to where it is in
//! its lifecycle (the core's `RunState`). Stored beside the state, echoed back unchanged, and
//! never consulted by a decision.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The workflow a run executes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkflowRef {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// How the run was started (`type` as the Retab contract names it: manual, api, schedule…).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Trigger {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
}

impl Default for Trigger {
    fn default() -> Self {
        Trigger {
            kind: "api".to_owned(),
            actor: None,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunInfo {
    pub org_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default)]
    pub workflow: WorkflowRef,
    #[serde(default)]
    pub trigger: Trigger,
    #[serde(default)]
    pub metadata: Map<String, Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_id: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    /// Contract-specific fields (Extend's files and stepRuns, the generic API's
    /// workflowDefinition…), kept verbatim for the dialect that shows them.
    #[serde(default)]
    pub attributes: Map<String, Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_run_id: Option<String>,
    /// The key that created the run (its id, never the key).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
}
