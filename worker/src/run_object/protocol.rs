//! The Worker ↔ RunObject protocol: one JSON request per operation, one JSON reply. Both
//! sides live in this crate, so the types are shared rather than restated.

use runbrake_core::{
    CancelArgs, ChildStatus, Command, CommandError, CreateArgs, Millis, Reply, RunState,
};
use serde::{Deserialize, Serialize};

use crate::run_info::RunInfo;

#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Op {
    Create {
        info: Box<RunInfo>,
        args: CreateArgs,
        /// Display names of child items, by id (kept in the children table only).
        #[serde(default)]
        child_names: Vec<(String, String)>,
        /// A cancel applied in the same write as the creation: a sub-run attached to a parent
        /// whose cancel was already accepted (`attach_sub_run`'s reply) never starts.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cancel: Option<Box<CancelArgs>>,
    },
    Command {
        command: Command,
    },
    Get,
    Events {
        after_seq: u64,
        limit: u32,
    },
    Children {
        status: Option<ChildStatus>,
        after: Option<String>,
        limit: u32,
    },
}

/// A run as the object holds it, plus the clock reading the reply was made at (so durations
/// of live runs are computed at the same instant as the decision).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Snapshot {
    pub state: RunState,
    pub info: RunInfo,
    pub now: Millis,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct OpReply {
    pub run: Snapshot,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply: Option<Reply>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub events: Option<Vec<runbrake_core::EventRecord>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub children: Option<Vec<super::store::ChildRow>>,
}

/// Why an operation did nothing. `NotFound` is how a foreign or unknown run looks: the object
/// addressed by `(org, run id)` simply holds no run.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "error", rename_all = "snake_case")]
pub enum OpError {
    NotFound,
    Refused {
        detail: serde_json::Value,
        code: String,
        message: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        run: Option<Box<Snapshot>>,
    },
    /// A child id the run already holds (the core only counts children; the table knows ids).
    ChildExists {
        id: String,
    },
    Internal {
        message: String,
    },
}

impl OpError {
    pub fn refused(err: &CommandError, run: Option<Snapshot>) -> Self {
        OpError::Refused {
            detail: serde_json::to_value(err).unwrap_or(serde_json::Value::Null),
            code: err.code().to_owned(),
            message: err.to_string(),
            run: run.map(Box::new),
        }
    }

    pub fn status(&self) -> u16 {
        match self {
            OpError::NotFound => 404,
            OpError::Refused { .. } | OpError::ChildExists { .. } => 409,
            OpError::Internal { .. } => 500,
        }
    }
}

pub type OpResult = Result<OpReply, OpError>;
