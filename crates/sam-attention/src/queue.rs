//! The "needs you" queue: every open permission request across all workspaces, oldest first.

use serde::Serialize;

use crate::input::OpenRequest;

/// Open permission requests across all workspaces, oldest first (ties by session id, then
/// request number, so the order never depends on arrival order). At most one entry per
/// session and request number.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NeedsYouQueue {
    entries: Vec<OpenRequest>,
}

/// One queue entry as the app's queue view shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct QueueItem {
    /// The request.
    pub request: OpenRequest,
    /// How long it has waited, in milliseconds (0 when the clock is behind its time).
    #[cfg_attr(feature = "specta", specta(type = f64))]
    pub age_ms: u64,
}

impl NeedsYouQueue {
    /// An empty queue.
    pub fn new() -> Self {
        Self::default()
    }

    /// The queue rebuilt from the requests the store holds as open (at start-up, since
    /// requests outlive the app). Duplicates (same session and request) are kept once, the
    /// earliest asked.
    pub fn from_open(open: impl IntoIterator<Item = OpenRequest>) -> Self {
        let mut entries: Vec<OpenRequest> = open.into_iter().collect();
        entries.sort_by(|a, b| order_key(a).cmp(&order_key(b)));
        let mut seen = std::collections::BTreeSet::new();
        entries.retain(|entry| seen.insert((entry.session_id.clone(), entry.request)));
        Self { entries }
    }

    /// Adds a request; `false` (and nothing changes) when it is already queued.
    pub fn insert(&mut self, request: OpenRequest) -> bool {
        if self.get(&request.session_id, request.request).is_some() {
            return false;
        }
        let at = self
            .entries
            .partition_point(|entry| order_key(entry) <= order_key(&request));
        self.entries.insert(at, request);
        true
    }

    /// Removes a request, wherever it was answered; `None` when it was not queued.
    pub fn remove(&mut self, session_id: &str, request: u32) -> Option<OpenRequest> {
        let at = self
            .entries
            .iter()
            .position(|entry| entry.session_id == session_id && entry.request == request)?;
        Some(self.entries.remove(at))
    }

    /// Removes every request `drop` selects, returning them oldest first.
    pub(crate) fn remove_where(
        &mut self,
        mut drop: impl FnMut(&OpenRequest) -> bool,
    ) -> Vec<OpenRequest> {
        let (dropped, kept) = std::mem::take(&mut self.entries)
            .into_iter()
            .partition(|entry| drop(entry));
        self.entries = kept;
        dropped
    }

    /// The request, if queued.
    pub fn get(&self, session_id: &str, request: u32) -> Option<&OpenRequest> {
        self.entries
            .iter()
            .find(|entry| entry.session_id == session_id && entry.request == request)
    }

    /// The requests, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = &OpenRequest> {
        self.entries.iter()
    }

    /// How many requests wait (the badge count).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether nothing waits.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The requests with their ages at `now_ms`, oldest first.
    pub fn items(&self, now_ms: u64) -> Vec<QueueItem> {
        self.entries
            .iter()
            .map(|request| QueueItem {
                request: request.clone(),
                age_ms: now_ms.saturating_sub(request.requested_at_ms),
            })
            .collect()
    }
}

fn order_key(request: &OpenRequest) -> (u64, &str, u32) {
    (
        request.requested_at_ms,
        request.session_id.as_str(),
        request.request,
    )
}
