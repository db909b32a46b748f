//! How pages load their data: a resource whose value the server renders into the page as JSON
//! and the browser reads back while hydrating.

use leptos::prelude::*;
use leptos::server::codee::{Decoder, Encoder};
use serde::{de::DeserializeOwned, Serialize};
use std::future::Future;

/// JSON, read by the same code that reads a server function's answer
/// (`serde_json::from_slice`). Leptos's default codec reads text (`from_str`), which puts a
/// second decoder for every page's types into the browser's WebAssembly.
pub struct Json;

impl<T: Serialize> Encoder<T> for Json {
    type Error = serde_json::Error;
    type Encoded = String;

    fn encode(val: &T) -> Result<String, serde_json::Error> {
        serde_json::to_string(val)
    }
}

impl<T: DeserializeOwned> Decoder<T> for Json {
    type Error = serde_json::Error;
    type Encoded = str;

    fn decode(val: &str) -> Result<T, serde_json::Error> {
        from_json(val)
    }
}

/// JSON text as `T`, read by the same code as a page's data ([`Json`]): every JSON the
/// browser reads (live events, a task's input) goes through here.
pub fn from_json<T: DeserializeOwned>(text: &str) -> serde_json::Result<T> {
    serde_json::from_slice(text.as_bytes())
}

/// A page's data: what [`load`] returns.
pub type Loaded<T> = Resource<T, Json>;

/// A resource (not blocking the response) that runs `fetcher` with `source`'s value, again
/// whenever it changes.
#[track_caller]
pub fn load<S, T, Fut>(
    source: impl Fn() -> S + Send + Sync + 'static,
    fetcher: impl Fn(S) -> Fut + Send + Sync + 'static,
) -> Loaded<T>
where
    S: PartialEq + Clone + Send + Sync + 'static,
    T: Serialize + DeserializeOwned + Send + Sync + 'static,
    Fut: Future<Output = T> + Send + 'static,
{
    Resource::new_with_options(source, fetcher, false)
}
