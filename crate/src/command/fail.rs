//! `fail`: the executor reports failure. Same rules as [`super::complete`]: a failure during
//! `cancelling` finishes the cancel (logged as `late_failure`); after the end it is logged
//! once and changes nothing.

use serde::{Deserialize, Serialize};

use super::Decided;
use super::complete::{Report, decide_report};
use crate::state::RunState;
use crate::time::Millis;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "js", derive(tsify::Tsify))]
pub struct FailArgs {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lease_id: Option<String>,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
}

pub(crate) fn decide_fail(state: &RunState, args: &FailArgs, now: Millis) -> Decided {
    decide_report(
        state,
        args.lease_id.as_deref(),
        Report::Fail {
            message: args.message.clone(),
            code: args.code.clone(),
        },
        now,
    )
}
