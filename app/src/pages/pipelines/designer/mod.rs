//! The visual designer, the pipeline page's default view: stages as columns, tasks as cards
//! (a parallel group stacked in one frame), and the selected task's property form. It edits
//! the same definition as the YAML view: every change is written back to the YAML text at
//! once (`to_yaml`), so the checker's problems, Save and the YAML view always agree with it.
//!
//! Everything is a button or a form control, so it works by keyboard; after a change that
//! redraws the board, focus returns to the control that made it (`focus`).

use super::*;
use domain::pipeline::{DefinitionError, TaskType};
use domain::views::DesignerPicks;
use serde_json::Value;

mod board;
mod fields;
mod forms;

pub(super) use board::Board;
pub(super) use forms::Properties;

/// The designer's state: the model it edits, the YAML it writes, what is selected, the
/// problems the checker finds and what the pickers offer.
#[derive(Clone, Copy)]
pub(super) struct Design {
    pub(super) model: RwSignal<PipelineDef>,
    pub(super) text: RwSignal<String>,
    /// (stage, task) of the task whose form is open; `None`: the pipeline's own settings.
    pub(super) selected: RwSignal<Option<(String, String)>>,
    pub(super) problems: Signal<Vec<DefinitionError>>,
    pub(super) picks: RwSignal<DesignerPicks>,
    /// The `data-focus` key of the control to focus after the board is redrawn.
    pub(super) focus: RwSignal<Option<String>>,
    pub(super) can_use: bool,
}

/// Aria's names for inputs whose Wharf name a form writes: the Aria one is dropped so the two
/// cannot disagree.
const ALIASES: [(&str, &[&str]); 5] = [
    ("method", &["action"]),
    ("body", &["payload"]),
    ("attempts", &["pollCount"]),
    ("interval", &["pollIntervalSeconds"]),
    (
        "expiry",
        &["expirationInDays", "expiration", "expirationUnit"],
    ),
];

impl Design {
    /// Applies `f` to the model and writes the YAML; `focus` names the control to focus next.
    pub(super) fn edit(self, focus: Option<String>, f: impl FnOnce(&mut PipelineDef)) {
        self.edit_with(focus, f);
    }

    /// [`Design::edit`], returning what `f` returns (a new stage's name, a rename's refusal);
    /// `None` once the page is gone.
    pub(super) fn edit_with<T>(
        self,
        focus: Option<String>,
        f: impl FnOnce(&mut PipelineDef) -> T,
    ) -> Option<T> {
        let out = self.model.try_update(f);
        self.text
            .set(pipeline::to_yaml(&self.model.get_untracked()));
        if focus.is_some() {
            self.focus.set(focus);
        }
        out
    }

    /// What `f` reads of task `task` of stage `stage`, tracked; `None` when there is none.
    pub(super) fn task<T>(
        self,
        stage: &str,
        task: &str,
        f: impl FnOnce(&domain::pipeline::Task) -> T,
    ) -> Option<T> {
        self.model.with(|d| {
            d.stages
                .iter()
                .find(|s| s.name == stage)
                .and_then(|s| s.task(task))
                .map(f)
        })
    }

    /// A task's setting as its runner reads it (Wharf's name).
    pub(super) fn setting(self, stage: &str, task: &str, key: &str) -> Value {
        self.task(stage, task, |t| t.settings().get(key).cloned())
            .flatten()
            .unwrap_or(Value::Null)
    }

    /// A task's setting as text.
    pub(super) fn text_of(self, stage: &str, task: &str, key: &str) -> String {
        match self.setting(stage, task, key) {
            Value::String(s) => s,
            Value::Null => String::new(),
            other => other.to_string(),
        }
    }

    /// Sets a task's input `key` (Wharf's name); `Null` or empty text removes it.
    pub(super) fn set(self, stage: &str, task: &str, key: &str, value: Value) {
        let (stage, task, key) = (stage.to_owned(), task.to_owned(), key.to_owned());
        self.edit(None, move |d| {
            let Some(t) = d.task_mut(&stage, &task) else {
                return;
            };
            if key == "endpoint" && t.endpoints.contains_key(pipeline::KUBERNETES_ENDPOINT_KEY) {
                t.endpoints
                    .insert(pipeline::KUBERNETES_ENDPOINT_KEY.to_owned(), value);
                return;
            }
            for (wharf, aria) in ALIASES {
                if wharf == key {
                    aria.iter().for_each(|a| {
                        t.input.remove(*a);
                    });
                }
            }
            let empty = value.is_null() || value.as_str() == Some("");
            if empty {
                t.input.remove(&key);
            } else {
                t.input.insert(key, value);
            }
        });
    }

    /// The checker's problems at exactly `path`.
    pub(super) fn problems_at(self, path: &str) -> Vec<String> {
        self.problems.with(|ps| {
            ps.iter()
                .filter(|p| p.path == path)
                .map(|p| p.message.clone())
                .collect()
        })
    }

    /// How many problems are at `path` or inside it.
    pub(super) fn problems_in(self, path: &str) -> usize {
        let inside = format!("{path}.");
        self.problems.with(|ps| {
            ps.iter()
                .filter(|p| p.path == path || p.path.starts_with(&inside))
                .count()
        })
    }
}

/// The path the checker reports a task's field at.
pub(super) fn field_path(stage: &str, task: &str, key: &str) -> String {
    format!("stages.{stage}.tasks.{task}.input.{key}")
}

/// After a redraw, focuses the control whose `data-focus` is the requested key.
pub(super) fn keep_focus(design: Design) {
    Effect::new(move |_| {
        let Some(key) = design.focus.get() else {
            return;
        };
        // the board has been redrawn by now: effects run after the view updates
        #[cfg(feature = "hydrate")]
        {
            use leptos::wasm_bindgen::JsCast;
            let selector = format!("[data-focus=\"{}\"]", key.replace('"', "\\\""));
            if let Some(el) = document()
                .query_selector(&selector)
                .ok()
                .flatten()
                .and_then(|e| e.dyn_into::<leptos::web_sys::HtmlElement>().ok())
            {
                let _ = el.focus();
            }
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = key;
    });
}

/// The designer: the board and the property panel.
#[component]
pub(super) fn Designer(design: Design) -> impl IntoView {
    keep_focus(design);
    view! {
        <div class="designer" data-testid=ids::DESIGNER>
            <Board design/>
            <aside class="designer-panel" aria-label="Properties" data-testid=ids::DESIGNER_PANEL>
                <Properties design/>
            </aside>
        </div>
    }
}
