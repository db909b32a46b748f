//! The form controls of a task's property form: each shows the checker's problems at its
//! field, and a text field offers the binding picker (what is in scope where the task stands).

use super::*;

/// Where a text field's value lives, and the task it belongs to.
#[derive(Clone)]
pub(super) struct At {
    pub(super) stage: String,
    pub(super) task: String,
    pub(super) key: String,
}

impl At {
    pub(super) fn new(stage: &str, task: &str, key: &str) -> Self {
        At {
            stage: stage.to_owned(),
            task: task.to_owned(),
            key: key.to_owned(),
        }
    }

    fn id(&self) -> String {
        format!("field-{}-{}-{}", self.stage, self.task, self.key)
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect()
    }
}

/// `value` with `insert` put in place of the UTF-16 range `start..end` (a browser's selection).
pub(super) fn splice(value: &str, start: u32, end: u32, insert: &str) -> String {
    let byte = |units: u32| {
        let mut seen = 0u32;
        for (i, c) in value.char_indices() {
            if seen >= units {
                return i;
            }
            seen += c.len_utf16() as u32;
        }
        value.len()
    };
    let (a, b) = (byte(start), byte(end.max(start)));
    format!("{}{insert}{}", &value[..a], &value[b..])
}

/// The problems the checker reports at a field.
#[component]
pub(super) fn FieldProblems(design: Design, path: String) -> impl IntoView {
    move || {
        design
            .problems_at(&path)
            .into_iter()
            .map(|p| view! { <p class="field-error" role="alert">{p}</p> })
            .collect_view()
    }
}

/// The binding picker: a button that lists what the task may bind, and inserts the one chosen.
#[component]
pub(super) fn BindingPicker(
    design: Design,
    stage: String,
    task: String,
    label: String,
    #[prop(into)] on_pick: Callback<String>,
) -> impl IntoView {
    let open = RwSignal::new(false);
    let options = Signal::derive(move || {
        let mut all = design.model.with(|d| d.bindings_in_scope(&stage, &task));
        all.extend(design.picks.with(|p| {
            p.variables
                .iter()
                .map(|v| format!("${{var.{v}}}"))
                .collect::<Vec<_>>()
        }));
        all
    });
    view! {
        <div class="binding-picker">
            <button type="button" class="link-button" aria-expanded=move || open.get().to_string()
                aria-label=format!("Insert a binding into {label}") on:click=move |_| open.update(|o| *o = !*o)>
                "Insert binding"
            </button>
            <Show when=move || open.get()>
                <ul class="binding-list" aria-label="Bindings in scope" data-testid=ids::BINDING_LIST
                    on:keydown=move |ev| if ev.key() == "Escape" { open.set(false) }>
                    {move || options.get().into_iter().map(|b| {
                        let pick = b.clone();
                        view! {
                            <li><button type="button" class="binding-option" on:click=move |_| {
                                open.set(false);
                                on_pick.run(pick.clone());
                            }><code>{b}</code></button></li>
                        }
                    }).collect_view()}
                </ul>
            </Show>
        </div>
    }
}

/// A text field (one line, or several) of a task's input, with the binding picker.
#[component]
pub(super) fn TextField(
    design: Design,
    at: At,
    label: &'static str,
    #[prop(optional)] multiline: bool,
    #[prop(optional)] hint: &'static str,
) -> impl IntoView {
    let id = at.id();
    let path = field_path(&at.stage, &at.task, &at.key);
    let value = {
        let at = at.clone();
        move || design.text_of(&at.stage, &at.task, &at.key)
    };
    let write = {
        let at = at.clone();
        move |v: String| design.set(&at.stage, &at.task, &at.key, Value::String(v))
    };
    let input_ref = NodeRef::<leptos::html::Input>::new();
    let area_ref = NodeRef::<leptos::html::Textarea>::new();
    let on_pick = {
        let (write, value) = (write.clone(), value.clone());
        move |binding: String| {
            let current = value();
            let range = input_ref
                .get_untracked()
                .map(|e| (e.selection_start(), e.selection_end()))
                .or_else(|| {
                    area_ref
                        .get_untracked()
                        .map(|e| (e.selection_start(), e.selection_end()))
                });
            let next = match range {
                Some((Ok(Some(a)), Ok(Some(b)))) => splice(&current, a, b, &binding),
                _ => format!("{current}{binding}"),
            };
            write(next);
            if let Some(e) = input_ref.get_untracked() {
                let _ = e.focus();
            } else if let Some(e) = area_ref.get_untracked() {
                let _ = e.focus();
            }
        }
    };
    let hint_id = format!("{id}-hint");
    let control = if multiline {
        let (write, value) = (write.clone(), value.clone());
        view! {
            <textarea id=id.clone() node_ref=area_ref class="code" rows="10" spellcheck="false" readonly=!design.can_use
                aria-describedby=(!hint.is_empty()).then(|| hint_id.clone())
                prop:value=value on:input=move |ev| write(event_target_value(&ev))></textarea>
        }
        .into_any()
    } else {
        view! {
            <input id=id.clone() node_ref=input_ref readonly=!design.can_use
                aria-describedby=(!hint.is_empty()).then(|| hint_id.clone())
                prop:value=value on:input=move |ev| write(event_target_value(&ev))/>
        }
        .into_any()
    };
    view! {
        <div class="field">
            <label for=id>{label}</label>
            {control}
            {(!hint.is_empty()).then(|| view! { <p class="hint" id=hint_id>{hint}</p> })}
            {design.can_use.then(|| view! {
                <BindingPicker design stage=at.stage.clone() task=at.task.clone() label=label.to_owned() on_pick/>
            })}
            <FieldProblems design path/>
        </div>
    }
}

/// A whole-number field of a task's input.
#[component]
pub(super) fn NumberField(design: Design, at: At, label: &'static str, max: u64) -> impl IntoView {
    let id = at.id();
    let path = field_path(&at.stage, &at.task, &at.key);
    let value = {
        let at = at.clone();
        move || design.text_of(&at.stage, &at.task, &at.key)
    };
    let write = move |v: String| {
        let value = match v.trim().parse::<u64>() {
            Ok(n) => Value::Number(n.into()),
            Err(_) if v.trim().is_empty() => Value::Null,
            Err(_) => Value::String(v),
        };
        design.set(&at.stage, &at.task, &at.key, value);
    };
    view! {
        <div class="field">
            <label for=id.clone()>{label}</label>
            <input id=id type="number" min="1" max=max.to_string() readonly=!design.can_use
                prop:value=value on:input=move |ev| write(event_target_value(&ev))/>
            <FieldProblems design path/>
        </div>
    }
}

/// A yes/no setting of a task's input.
#[component]
pub(super) fn CheckField(design: Design, at: At, label: &'static str) -> impl IntoView {
    let id = at.id();
    let checked = {
        let at = at.clone();
        move || {
            design
                .setting(&at.stage, &at.task, &at.key)
                .as_bool()
                .unwrap_or(false)
        }
    };
    view! {
        <div class="field check">
            <input id=id.clone() type="checkbox" disabled=!design.can_use prop:checked=checked
                on:change=move |ev| {
                    let on = event_target_checked(&ev);
                    design.set(&at.stage, &at.task, &at.key, if on { Value::Bool(true) } else { Value::Null });
                }/>
            <label for=id>{label}</label>
        </div>
    }
}

/// A choice among `options` for a task's input (an empty first option when `none` is given).
#[component]
pub(super) fn SelectField(
    design: Design,
    at: At,
    label: &'static str,
    #[prop(into)] options: Signal<Vec<String>>,
    #[prop(optional)] none: &'static str,
) -> impl IntoView {
    let id = at.id();
    let path = field_path(&at.stage, &at.task, &at.key);
    let current = {
        let at = at.clone();
        Signal::derive(move || design.text_of(&at.stage, &at.task, &at.key))
    };
    let listed = move || {
        let mut all = options.get();
        let c = current.get();
        if !c.is_empty() && !all.contains(&c) {
            all.insert(0, c);
        }
        all
    };
    view! {
        <div class="field">
            <label for=id.clone()>{label}</label>
            <select id=id disabled=!design.can_use prop:value=current on:change=move |ev| {
                design.set(&at.stage, &at.task, &at.key, Value::String(event_target_value(&ev)));
            }>
                {(!none.is_empty()).then(|| view! { <option value="">{none}</option> })}
                {move || {
                    let c = current.get();
                    listed().into_iter().map(|o| {
                        let selected = o == c;
                        view! { <option value=o.clone() selected=selected>{o.clone()}</option> }
                    }).collect_view()
                }}
            </select>
            <FieldProblems design path/>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::splice;

    #[test]
    fn a_binding_replaces_the_selection_counted_in_utf16() {
        assert_eq!(
            splice("image: IMAGE", 7, 12, "${input.DOCKER_IMAGE}"),
            "image: ${input.DOCKER_IMAGE}"
        );
        assert_eq!(splice("ab", 9, 9, "X"), "abX", "past the end appends");
        assert_eq!(
            splice("é😀x", 3, 3, "|"),
            "é😀|x",
            "an emoji is two UTF-16 units"
        );
        assert_eq!(
            splice("abc", 2, 1, "-"),
            "ab-c",
            "a reversed range inserts at its start"
        );
    }
}
