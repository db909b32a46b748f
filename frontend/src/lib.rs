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

/// Room for the splitter (`cargo leptos build --split`) in the read-only data segment. The
/// splitter regroups the segment's constants by the module that uses them, each page's chunk
/// carrying its own, and the regrouping adds alignment padding; when the regrouped segment
/// would be longer than the linker's, it gives up and puts every constant in the main module
/// (it did, by 126 bytes: every page's text and tables in the first download). These bytes
/// keep the linker's segment longer than that: kept by the linker (`#[used]`), used by no
/// code, so the splitter puts them in no module and no browser downloads them.
#[used]
static SPLIT_ROOM: [u8; 4096] = [0x5a; 4096];
