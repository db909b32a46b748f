//! Which executions a list shows, and a page of them.

use super::{ExecutionSummary, RunStatus};
use serde::{Deserialize, Serialize};

/// Which executions a list shows.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecutionFilter {
    /// One project.
    pub project: Option<i64>,
    /// One pipeline.
    pub pipeline: Option<i64>,
    /// One status.
    pub status: Option<RunStatus>,
    /// Text in the pipeline's name, the comments or the message.
    pub text: String,
    /// Executions older than this id (keyset pagination).
    pub before: Option<i64>,
}

impl ExecutionFilter {
    /// Whether an execution belongs in a list with this filter (ignoring `before`): the rule
    /// the server's list applies (`backend::live::page`), so that a row the live stream adds
    /// is one a reload would show. The text is looked for in the pipeline's name, the comments
    /// and the message, ignoring the case of ASCII letters as SQLite's `LIKE` does.
    pub fn admits(&self, e: &ExecutionSummary) -> bool {
        let text = self.text.trim();
        self.project.is_none_or(|p| p == e.project_id)
            && self.pipeline.is_none_or(|p| p == e.row.pipeline_id)
            && self.status.is_none_or(|s| s == e.row.status)
            && (text.is_empty()
                || [&e.row.pipeline_name, &e.row.comments]
                    .iter()
                    .any(|f| contains_ignoring_ascii_case(f, text))
                || e.row
                    .message
                    .as_deref()
                    .is_some_and(|m| contains_ignoring_ascii_case(m, text)))
    }
}

/// Whether `needle` occurs in `haystack`, ASCII letters matching either case.
fn contains_ignoring_ascii_case(haystack: &str, needle: &str) -> bool {
    let (h, n) = (haystack.as_bytes(), needle.as_bytes());
    n.is_empty() || h.windows(n.len()).any(|w| w.eq_ignore_ascii_case(n))
}

/// A page of executions, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecutionsPage {
    /// The executions.
    pub rows: Vec<ExecutionSummary>,
    /// The `before` of the next (older) page, if there is one.
    pub next_before: Option<i64>,
    /// The change feed's version when the page was read: the live stream resumes after it.
    pub version: i64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::executions::ExecutionRow;

    fn summary(name: &str, comments: &str, message: Option<&str>) -> ExecutionSummary {
        let row: ExecutionRow = serde_json::from_value(serde_json::json!({
            "id": 7, "pipelineId": 3, "pipelineName": name, "index": 1, "status": "RUNNING",
            "comments": comments, "message": message, "createdAt": "2026-12-03T10:00:00Z",
            "startedAt": null, "endedAt": null, "trigger": "webhook",
        }))
        .unwrap();
        ExecutionSummary {
            row,
            project_id: 1,
            project_name: "web".into(),
            started_by: "Docker webhook hub (acme/web:1.0)".into(),
            stages: vec![],
            version: 1,
            queue: None,
        }
    }

    fn text(t: &str) -> ExecutionFilter {
        ExecutionFilter {
            text: t.into(),
            ..ExecutionFilter::default()
        }
    }

    #[test]
    fn the_text_is_found_in_the_name_comments_or_message_whatever_the_ascii_case() {
        let e = summary("Deploy-Web", "nightly Build", Some("Task Wait: HTTP 503"));
        for t in ["deploy", "WEB", " nightly build ", "http 503", "wait:", ""] {
            assert!(text(t).admits(&e), "{t:?}");
        }
        for t in ["prod", "503x", "deploy web"] {
            assert!(!text(t).admits(&e), "{t:?}");
        }
    }

    #[test]
    fn the_text_filter_reads_what_the_servers_list_reads_and_nothing_more() {
        // the server's list looks in the name, the comments and the message only (not in
        // who started it), so a live row is admitted only where a reload would show it
        let e = summary("deploy", "", None);
        assert!(!text("acme").admits(&e));
        // SQLite's LIKE folds ASCII letters only; so does the filter
        let e = summary("Émile", "", None);
        assert!(text("Émile").admits(&e));
        assert!(!text("émile").admits(&e));
    }

    #[test]
    fn project_pipeline_and_status_must_all_match() {
        let e = summary("deploy", "", None);
        let f = |project, pipeline, status| ExecutionFilter {
            project,
            pipeline,
            status,
            ..ExecutionFilter::default()
        };
        assert!(f(Some(1), Some(3), Some(RunStatus::Running)).admits(&e));
        assert!(!f(Some(2), None, None).admits(&e));
        assert!(!f(None, Some(4), None).admits(&e));
        assert!(!f(None, None, Some(RunStatus::Queued)).admits(&e));
    }
}
