//! The browser entry point: hydrates the page the server rendered.

use wasm_bindgen::prelude::wasm_bindgen;

/// Called by the generated JavaScript once the main wasm module is loaded. Every page is a lazy
/// route whose code arrives in a chunk of its own, so hydration waits for the page's chunk
/// before it walks the page; only then is the page marked interactive.
#[wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    wasm_bindgen_futures::spawn_local(async {
        let document = leptos::prelude::document();
        let Some(body) = document.body() else {
            return;
        };
        leptos::mount::hydrate_from_async(body, app::App)
            .await
            .forget();
        // a marker that the page is interactive: end-to-end tests wait for it
        if let Some(root) = document.document_element() {
            let _ = root.set_attribute("data-hydrated", "true");
        }
    });
}
