//! An in-memory table of child items that follows a run's events: what JavaScript users (and
//! the benchmarks) keep beside the [`crate::RunState`], as the Worker keeps a SQL table.

use std::collections::BTreeMap;

use crate::event::{Event, EventRecord};
use crate::state::{ChildCounts, ChildStatus};

/// Child id → status.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChildTable {
    items: BTreeMap<String, ChildStatus>,
}

/// The table and the event disagree: the table missed events or belongs to another run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChildTableError {
    /// `child_changed` for an id the table does not hold, or whose status is not `from`.
    Mismatch { id: String },
    /// `children_added` with an id already held.
    Duplicate { id: String },
    /// A bulk event's count differs from the table's bucket.
    CountMismatch {
        bucket: ChildStatus,
        expected: u64,
        found: u64,
    },
}

impl core::fmt::Display for ChildTableError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            ChildTableError::Mismatch { id } => write!(f, "child {id} is not in the event's state"),
            ChildTableError::Duplicate { id } => write!(f, "child {id} already exists"),
            ChildTableError::CountMismatch {
                bucket,
                expected,
                found,
            } => write!(f, "{bucket:?}: event says {expected}, table has {found}"),
        }
    }
}

impl std::error::Error for ChildTableError {}

impl ChildTable {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn get(&self, id: &str) -> Option<ChildStatus> {
        self.items.get(id).copied()
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, ChildStatus)> {
        self.items.iter().map(|(k, v)| (k.as_str(), *v))
    }

    /// Counts per bucket, to compare with [`crate::RunState::children`].
    pub fn counts(&self) -> ChildCounts {
        let mut c = ChildCounts::default();
        for s in self.items.values() {
            *c.slot(*s) += 1;
        }
        c
    }

    /// Applies one event (events that do not touch children are ignored). On error the
    /// table is unchanged.
    pub fn apply(&mut self, record: &EventRecord) -> Result<(), ChildTableError> {
        match &record.event {
            Event::ChildrenAdded { items } => {
                if let Some(dup) = items.iter().find(|i| self.items.contains_key(&i.id)) {
                    return Err(ChildTableError::Duplicate { id: dup.id.clone() });
                }
                for i in items {
                    self.items.insert(i.id.clone(), i.status);
                }
                Ok(())
            }
            Event::ChildChanged { id, from, to } => match self.items.get_mut(id) {
                Some(s) if *s == *from => {
                    *s = *to;
                    Ok(())
                }
                Some(_) | None => Err(ChildTableError::Mismatch { id: id.clone() }),
            },
            Event::ChildrenCancelled { from, count } => {
                self.bulk(*from, ChildStatus::Cancelled, *count)
            }
            Event::ChildrenCancelling { count } => {
                self.bulk(ChildStatus::Running, ChildStatus::Cancelling, *count)
            }
            Event::Created { .. }
            | Event::Enqueued
            | Event::Claimed { .. }
            | Event::LeaseExtended { .. }
            | Event::LeaseExpired { .. }
            | Event::WaitStarted { .. }
            | Event::Resumed { .. }
            | Event::Completed { .. }
            | Event::Failed { .. }
            | Event::Rejected { .. }
            | Event::CancelRequested { .. }
            | Event::Cancelled { .. }
            | Event::LateCompletion { .. }
            | Event::LateFailure { .. }
            | Event::CancelRecorded { .. }
            | Event::SubRunAttached { .. } => Ok(()),
        }
    }

    /// `UPDATE … SET status = to WHERE status = from`, checking the count first.
    fn bulk(
        &mut self,
        from: ChildStatus,
        to: ChildStatus,
        count: u64,
    ) -> Result<(), ChildTableError> {
        let found = self.items.values().filter(|s| **s == from).count() as u64;
        if found != count {
            return Err(ChildTableError::CountMismatch {
                bucket: from,
                expected: count,
                found,
            });
        }
        for s in self.items.values_mut() {
            if *s == from {
                *s = to;
            }
        }
        Ok(())
    }
}
