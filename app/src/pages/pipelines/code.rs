//! The YAML view: a code editor with line numbers, syntax highlighting and problem markers at
//! their lines. A transparent textarea (the real input: typing, selection, undo, keyboard)
//! sits over a highlighted copy of the same text; the gutter and the copy scroll with it.

use super::*;
use domain::pipeline::DefinitionError;

/// One highlighted piece of a line: its class and text.
type Token = (&'static str, String);

/// A quoted string: string text and the bindings inside it.
fn string_tokens(s: &str, out: &mut Vec<Token>) {
    let mut rest = s;
    while let Some(start) = rest.find("${") {
        if start > 0 {
            out.push(("tok-string", rest[..start].to_owned()));
        }
        let end = rest[start..]
            .find('}')
            .map_or(rest.len(), |e| start + e + 1);
        out.push(("tok-binding", rest[start..end].to_owned()));
        rest = &rest[end..];
    }
    if !rest.is_empty() {
        out.push(("tok-string", rest.to_owned()));
    }
}

/// Splits the value part of a line into bindings, quoted strings, comments and plain text.
fn value_tokens(rest: &str, out: &mut Vec<Token>) {
    let mut plain = String::new();
    let mut chars = rest.char_indices().peekable();
    let flush = |plain: &mut String, out: &mut Vec<Token>| {
        if !plain.is_empty() {
            out.push(("", std::mem::take(plain)));
        }
    };
    while let Some((i, c)) = chars.next() {
        if c == '$' && rest[i..].starts_with("${") {
            flush(&mut plain, out);
            let end = rest[i..].find('}').map_or(rest.len(), |e| i + e + 1);
            out.push(("tok-binding", rest[i..end].to_owned()));
            while chars.peek().is_some_and(|(j, _)| *j < end) {
                chars.next();
            }
        } else if c == '#' && (i == 0 || rest[..i].ends_with(' ')) {
            flush(&mut plain, out);
            out.push(("tok-comment", rest[i..].to_owned()));
            return;
        } else if (c == '"' || c == '\'') && plain.trim().is_empty() {
            flush(&mut plain, out);
            let end = rest[i + 1..].find(c).map_or(rest.len(), |e| i + 1 + e + 1);
            // bindings inside a string keep their own colour
            string_tokens(&rest[i..end], out);
            while chars.peek().is_some_and(|(j, _)| *j < end) {
                chars.next();
            }
        } else {
            plain.push(c);
        }
    }
    flush(&mut plain, out);
}

/// One line's tokens: indentation and list dash, a key, then its value.
pub(super) fn line_tokens(line: &str) -> Vec<Token> {
    let mut out = Vec::new();
    let body = line.trim_start();
    let indent = &line[..line.len() - body.len()];
    if !indent.is_empty() {
        out.push(("", indent.to_owned()));
    }
    if body.starts_with('#') {
        out.push(("tok-comment", body.to_owned()));
        return out;
    }
    let mut rest = body;
    if let Some(after) = rest.strip_prefix("- ") {
        out.push(("tok-punct", "- ".to_owned()));
        rest = after;
    }
    let key_end = rest
        .find(": ")
        .or_else(|| rest.ends_with(':').then(|| rest.len() - 1))
        .filter(|&k| {
            !rest[..k].contains(['"', '\'', '{', '[', '$']) || rest.starts_with(['"', '\''])
        });
    if let Some(k) = key_end {
        out.push(("tok-key", rest[..k].to_owned()));
        out.push(("tok-punct", ":".to_owned()));
        rest = &rest[k + 1..];
    }
    value_tokens(rest, &mut out);
    out
}

/// The problems found at each line (from 1).
fn problems_by_line(problems: &[DefinitionError]) -> std::collections::BTreeMap<usize, String> {
    let mut by_line = std::collections::BTreeMap::new();
    for p in problems {
        if let Some(l) = p.line {
            by_line
                .entry(l)
                .and_modify(|m: &mut String| {
                    m.push('\n');
                    m.push_str(&p.to_string());
                })
                .or_insert_with(|| p.to_string());
        }
    }
    by_line
}

/// The YAML editor. `problems` are marked in the gutter at their lines (with the message as
/// the marker's title, and a screen-reader text).
#[component]
pub(super) fn CodeEditor(
    text: RwSignal<String>,
    #[prop(into)] problems: Signal<Vec<DefinitionError>>,
    readonly: bool,
) -> impl IntoView {
    let gutter = NodeRef::<leptos::html::Div>::new();
    let copy = NodeRef::<leptos::html::Pre>::new();
    let on_scroll = move |ev: leptos::ev::Event| {
        let area: leptos::web_sys::HtmlTextAreaElement = event_target(&ev);
        if let Some(g) = gutter.get() {
            g.set_scroll_top(area.scroll_top());
        }
        if let Some(p) = copy.get() {
            p.set_scroll_top(area.scroll_top());
            p.set_scroll_left(area.scroll_left());
        }
    };
    let numbers = move || {
        let marks = problems.with(|p| problems_by_line(p));
        let count = text.with(|t| t.split('\n').count());
        (1..=count)
            .map(|n| match marks.get(&n) {
                Some(m) => view! {
                    <div class="ln problem" title=m.clone()>
                        <span class="marker" aria-hidden="true">"●"</span>{n}
                        <span class="visually-hidden">{format!(" problem: {m}")}</span>
                    </div>
                }
                .into_any(),
                None => view! { <div class="ln">{n}</div> }.into_any(),
            })
            .collect_view()
    };
    let highlighted = move || {
        text.with(|t| {
            t.split('\n')
                .map(|line| {
                    let spans = line_tokens(line)
                        .into_iter()
                        .map(|(class, s)| view! { <span class=class>{s}</span> })
                        .collect_view();
                    view! { {spans} "\n" }
                })
                .collect_view()
        })
    };
    view! {
        <div class="code-editor">
            <div class="gutter" node_ref=gutter data-testid=ids::YAML_GUTTER>{numbers}</div>
            <div class="code-area">
                <pre class="highlight" aria-hidden="true" node_ref=copy><code>{highlighted}</code></pre>
                <textarea id="pipeline-yaml" class="code" rows="28" spellcheck="false" wrap="off"
                    readonly=readonly aria-describedby="pipeline-problems" data-testid=ids::PIPELINE_YAML
                    prop:value=move || text.get() on:input=move |ev| text.set(event_target_value(&ev))
                    on:scroll=on_scroll></textarea>
            </div>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::line_tokens;

    fn classes(line: &str) -> Vec<(&'static str, String)> {
        line_tokens(line)
            .into_iter()
            .filter(|(c, _)| !c.is_empty())
            .collect()
    }

    #[test]
    fn keys_strings_bindings_and_comments_are_told_apart() {
        assert_eq!(
            classes("    url: 'http://x/${input.TAG}' # the call"),
            [
                ("tok-key", "url".to_owned()),
                ("tok-punct", ":".to_owned()),
                ("tok-string", "'http://x/".to_owned()),
                ("tok-binding", "${input.TAG}".to_owned()),
                ("tok-string", "'".to_owned()),
                ("tok-comment", "# the call".to_owned()),
            ]
        );
        assert_eq!(
            classes("  - Deploy App,Expose"),
            [("tok-punct", "- ".to_owned())]
        );
        assert_eq!(
            classes("# all of it"),
            [("tok-comment", "# all of it".to_owned())]
        );
        let tokens = line_tokens("image: ${input.IMAGE}:${input.TAG}");
        assert_eq!(
            tokens.iter().filter(|(c, _)| *c == "tok-binding").count(),
            2
        );
        // every character is drawn once, in order, whatever the line holds
        for line in ["a: \"unclosed", "k: ${x", "- '<script>'", "é: ü # ß", ""] {
            let joined: String = line_tokens(line).into_iter().map(|(_, t)| t).collect();
            assert_eq!(joined, line);
        }
    }
}
