//! Editing a definition the way the visual designer does: stages and tasks added, renamed,
//! moved and removed, each keeping `stageOrder` and `taskOrder` true; and what a task's
//! bindings may read where it stands.

use super::{valid_name, PipelineDef, Stage, Task, TaskType};
use serde_json::Map;

impl TaskType {
    /// The outputs a task of this type gives (read as `${Stage.Task.output.NAME}`).
    pub fn output_names(self) -> &'static [&'static str] {
        match self {
            TaskType::Kubernetes => &["result", "name", "kind", "namespace", "objects"],
            TaskType::Rest | TaskType::Poll => &["status", "body", "headers"],
            TaskType::Condition => &["result"],
            TaskType::UserOperation => &["approved", "respondedBy", "comment"],
            TaskType::Registry => &["digest", "tag", "repository", "mediaType"],
            TaskType::Pipeline => &["status", "executionId", "executionIndex"],
            TaskType::Unsupported => &[],
        }
    }
}

/// `base 1`, `base 2`, … : the first that `taken` does not hold.
fn unique(base: &str, taken: impl Fn(&str) -> bool) -> String {
    (1..)
        .map(|n| format!("{base} {n}"))
        .find(|n| !taken(n))
        .unwrap_or_else(|| base.to_owned())
}

/// Why a new name cannot be used, or nothing.
fn check_new_name(name: &str, taken: bool) -> Result<(), String> {
    if !valid_name(name) {
        return Err(
            "A name has 1 to 64 characters, without '.', ',', '$', '{', '}' or spaces at either end."
                .to_owned(),
        );
    }
    if taken {
        return Err(format!("'{name}' is taken: names are unique here."));
    }
    Ok(())
}

impl PipelineDef {
    /// The stage called `name`.
    pub fn stage_mut(&mut self, name: &str) -> Option<&mut Stage> {
        self.stages.iter_mut().find(|s| s.name == name)
    }

    /// The task `task` of stage `stage`.
    pub fn task_mut(&mut self, stage: &str, task: &str) -> Option<&mut Task> {
        self.stage_mut(stage)?
            .tasks
            .iter_mut()
            .find(|t| t.name == task)
    }

    /// Adds an empty stage at the end; returns its name.
    pub fn add_stage(&mut self) -> String {
        let name = unique("Stage", |n| self.stages.iter().any(|s| s.name == n));
        self.stages.push(Stage {
            name: name.clone(),
            task_order: Vec::new(),
            tasks: Vec::new(),
            kept: Map::new(),
        });
        name
    }

    /// Renames a stage (bindings that name it are left as written: the checker lists them).
    pub fn rename_stage(&mut self, from: &str, to: &str) -> Result<(), String> {
        let to = to.trim();
        if from == to {
            return Ok(());
        }
        check_new_name(to, self.stages.iter().any(|s| s.name == to))?;
        let stage = self.stage_mut(from).ok_or("No such stage.")?;
        stage.name = to.to_owned();
        Ok(())
    }

    /// Moves a stage one place earlier (`-1`) or later (`1`).
    pub fn move_stage(&mut self, name: &str, delta: isize) {
        let Some(i) = self.stages.iter().position(|s| s.name == name) else {
            return;
        };
        let j = i as isize + delta;
        if (0..self.stages.len() as isize).contains(&j) {
            self.stages.swap(i, j as usize);
        }
    }

    /// Removes a stage and its tasks.
    pub fn remove_stage(&mut self, name: &str) {
        self.stages.retain(|s| s.name != name);
    }

    /// Adds a task of `kind` to `stage`: in a group of its own at the end, or beside
    /// `parallel_with` (they run at the same time). Returns its name.
    pub fn add_task(
        &mut self,
        stage: &str,
        kind: TaskType,
        parallel_with: Option<&str>,
    ) -> Option<String> {
        let s = self.stage_mut(stage)?;
        let name = unique(kind.label(), |n| s.tasks.iter().any(|t| t.name == n));
        let mut task = Task::new(&name, kind);
        task.input = starting_input(kind);
        s.tasks.push(task);
        match parallel_with.and_then(|p| s.task_order.iter().position(|g| g.iter().any(|t| t == p)))
        {
            Some(g) => s.task_order[g].push(name.clone()),
            None => s.task_order.push(vec![name.clone()]),
        }
        Some(name)
    }

    /// Renames a task, in `taskOrder` too.
    pub fn rename_task(&mut self, stage: &str, from: &str, to: &str) -> Result<(), String> {
        let to = to.trim();
        if from == to {
            return Ok(());
        }
        let s = self.stage_mut(stage).ok_or("No such stage.")?;
        check_new_name(to, s.tasks.iter().any(|t| t.name == to))?;
        let t = s
            .tasks
            .iter_mut()
            .find(|t| t.name == from)
            .ok_or("No such task.")?;
        t.name = to.to_owned();
        for name in s.task_order.iter_mut().flatten() {
            if name == from {
                *name = to.to_owned();
            }
        }
        Ok(())
    }

    /// Moves a task one step earlier (`-1`) or later (`1`): out of a parallel group into a
    /// group of its own beside it, or past the neighbouring group.
    pub fn move_task(&mut self, stage: &str, task: &str, delta: isize) {
        let Some(s) = self.stage_mut(stage) else {
            return;
        };
        let Some(g) = s
            .task_order
            .iter()
            .position(|grp| grp.iter().any(|t| t == task))
        else {
            return;
        };
        if s.task_order[g].len() > 1 {
            s.task_order[g].retain(|t| t != task);
            let at = if delta < 0 { g } else { g + 1 };
            s.task_order.insert(at, vec![task.to_owned()]);
            return;
        }
        let j = g as isize + delta;
        if (0..s.task_order.len() as isize).contains(&j) {
            s.task_order.swap(g, j as usize);
        }
    }

    /// Removes a task (and its group when it was alone there).
    pub fn remove_task(&mut self, stage: &str, task: &str) {
        if let Some(s) = self.stage_mut(stage) {
            s.tasks.retain(|t| t.name != task);
            for g in &mut s.task_order {
                g.retain(|t| t != task);
            }
            s.task_order.retain(|g| !g.is_empty());
        }
    }

    /// The bindings a task at (`stage`, `task`) may use, besides `${var.…}`: the inputs, the
    /// execution's own values, and the outputs of tasks in earlier groups.
    pub fn bindings_in_scope(&self, stage: &str, task: &str) -> Vec<String> {
        let mut out: Vec<String> = self
            .input
            .iter()
            .map(|(n, _)| format!("${{input.{n}}}"))
            .collect();
        for b in ["executionId", "executionIndex", "name", "requestBy"] {
            out.push(format!("${{{b}}}"));
        }
        for s in &self.stages {
            let here = s.name == stage;
            let current = s
                .task_order
                .iter()
                .position(|g| g.iter().any(|t| t == task));
            for (gi, group) in s.task_order.iter().enumerate() {
                if here && current.is_none_or(|c| gi >= c) {
                    break;
                }
                for name in group {
                    let Some(t) = s.task(name) else { continue };
                    for o in t.kind.output_names() {
                        out.push(format!("${{{}.{}.output.{o}}}", s.name, t.name));
                    }
                }
            }
            if here {
                break;
            }
        }
        out
    }
}

/// What a new task of `kind` starts with: the choices its form shows first.
fn starting_input(kind: TaskType) -> Map<String, serde_json::Value> {
    let mut m = Map::new();
    let text = |s: &str| serde_json::Value::String(s.to_owned());
    match kind {
        TaskType::Kubernetes => {
            m.insert("action".into(), text("CREATE"));
        }
        TaskType::Rest | TaskType::Poll => {
            m.insert("method".into(), text("GET"));
            m.insert("url".into(), text(""));
        }
        _ => {}
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    fn empty() -> PipelineDef {
        PipelineDef::new("seed", "web")
    }

    #[test]
    fn stages_and_tasks_are_added_renamed_moved_and_removed_keeping_the_orders_true() {
        let mut d = empty();
        let s1 = d.add_stage();
        let s2 = d.add_stage();
        let empty = super::super::parse(&super::super::to_yaml(&d));
        assert!(
            empty.is_ok(),
            "empty stages are written as a valid definition: {empty:#?}"
        );
        assert_eq!((s1.as_str(), s2.as_str()), ("Stage 1", "Stage 2"));
        d.rename_stage("Stage 1", "Development").unwrap();
        assert!(d.rename_stage("Stage 2", "Development").is_err(), "unique");
        assert!(d.rename_stage("Stage 2", "a.b").is_err(), "no dots");
        let k = d
            .add_task("Development", TaskType::Kubernetes, None)
            .unwrap();
        let r = d.add_task("Development", TaskType::Rest, Some(&k)).unwrap();
        let c = d
            .add_task("Development", TaskType::Condition, None)
            .unwrap();
        assert_eq!(
            d.stages[0].task_order,
            vec![vec![k.clone(), r.clone()], vec![c.clone()]]
        );
        d.rename_task("Development", &k, "Deploy App").unwrap();
        assert_eq!(d.stages[0].task_order[0][0], "Deploy App");
        d.move_task("Development", &c, -1);
        assert_eq!(
            d.stages[0].task_order[0],
            vec![c.clone()],
            "past the parallel group"
        );
        d.move_task("Development", &r, -1);
        assert_eq!(
            d.stages[0].task_order.len(),
            3,
            "out of its group into its own"
        );
        d.remove_task("Development", "Deploy App");
        assert_eq!(
            d.stages[0].task_order,
            vec![vec![c.clone()], vec![r.clone()]]
        );
        d.move_stage("Stage 2", -1);
        assert_eq!(d.stages[0].name, "Stage 2");
        d.remove_stage("Stage 2");
        assert_eq!(d.stages.len(), 1);
        // what the designer built is a definition the parser accepts as written back
        d.input.push(("DOCKER_IMAGE".into(), String::new()));
        if let Some(t) = d.task_mut("Development", &c) {
            t.input
                .insert("condition".into(), "${input.DOCKER_IMAGE} != \"\"".into());
        }
        if let Some(t) = d.task_mut("Development", &r) {
            t.input
                .insert("url".into(), "https://example.com/${executionId}".into());
        }
        let back = super::super::parse(&super::super::to_yaml(&d));
        assert!(back.is_ok(), "{back:#?}");
    }

    #[test]
    fn bindings_in_scope_are_inputs_and_earlier_groups_outputs() {
        let mut d = empty();
        d.input.push(("TAG".into(), String::new()));
        d.add_stage();
        let a = d.add_task("Stage 1", TaskType::Rest, None).unwrap();
        let b = d
            .add_task("Stage 1", TaskType::Condition, Some(&a))
            .unwrap();
        let c = d.add_task("Stage 1", TaskType::Kubernetes, None).unwrap();
        let at_b = d.bindings_in_scope("Stage 1", &b);
        assert!(
            at_b.contains(&"${input.TAG}".to_owned()) && at_b.contains(&"${requestBy}".to_owned())
        );
        assert!(
            !at_b.iter().any(|x| x.contains("output")),
            "a parallel task has not run: {at_b:?}"
        );
        let at_c = d.bindings_in_scope("Stage 1", &c);
        assert!(
            at_c.contains(&"${Stage 1.REST 1.output.status}".to_owned()),
            "{at_c:?}"
        );
        assert!(
            !at_c.iter().any(|x| x.contains("Kubernetes 1")),
            "not itself"
        );
    }
}
