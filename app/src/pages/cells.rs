//! On a phone the tables reflow into one cell a line, their heads hidden; each cell then shows
//! its column's name, drawn by CSS from `data-label`. The labels are copied from each table's
//! head in the browser, for the cells there now and for those that arrive later (live lists,
//! pages), so no table has to repeat its head in every cell.

#[cfg(feature = "hydrate")]
use leptos::prelude::*;

/// The elements of `list` that are a `T` (`Element`, `HtmlElement`, …), in document order.
#[cfg(feature = "hydrate")]
pub(crate) fn elements<T: leptos::wasm_bindgen::JsCast>(
    list: &web_sys::NodeList,
) -> impl Iterator<Item = T> + '_ {
    use leptos::wasm_bindgen::JsCast;
    (0..list.length()).filter_map(|i| list.item(i).and_then(|n| n.dyn_into::<T>().ok()))
}

/// Labels every cell of every `.table` that has none yet, from its column's head.
#[cfg(feature = "hydrate")]
fn label_cells() {
    let Ok(tables) = document().query_selector_all("table.table") else {
        return;
    };
    for table in elements::<web_sys::Element>(&tables) {
        let heads: Vec<String> = match table.query_selector_all("thead th") {
            Ok(ths) => (0..ths.length())
                .filter_map(|j| ths.item(j))
                .map(|th| th.text_content().unwrap_or_default().trim().to_owned())
                .collect(),
            Err(_) => continue,
        };
        let Ok(rows) = table.query_selector_all("tbody tr") else {
            continue;
        };
        for row in elements::<web_sys::Element>(&rows) {
            let cells = row.children();
            for c in 0..cells.length() {
                let Some(cell) = cells.item(c) else { continue };
                let head = heads
                    .get(c as usize)
                    .map(String::as_str)
                    .unwrap_or_default();
                if cell.tag_name() == "TD" && !head.is_empty() && !cell.has_attribute("data-label")
                {
                    let _ = cell.set_attribute("data-label", head);
                }
            }
        }
    }
}

/// Labels the cells now, and again whenever the page's content changes.
pub(crate) fn label_table_cells() {
    #[cfg(feature = "hydrate")]
    {
        use leptos::wasm_bindgen::closure::Closure;
        use leptos::wasm_bindgen::JsCast;
        label_cells();
        let changed = Closure::<dyn FnMut()>::new(label_cells);
        let Ok(observer) = web_sys::MutationObserver::new(changed.as_ref().unchecked_ref()) else {
            return;
        };
        let init = web_sys::MutationObserverInit::new();
        init.set_child_list(true);
        init.set_subtree(true);
        if let Some(body) = document().body() {
            let _ = observer.observe_with_options(&body, &init);
        }
        // it lives as long as the page
        changed.forget();
    }
}
