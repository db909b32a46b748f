//! Each page as a lazily loaded route. The browser's first download holds the router, the
//! shell and what every page shares; a page's own code sits in a WASM chunk of its own that
//! the router fetches when the page is shown (`cargo leptos build --split` cuts the chunks, and
//! a server-rendered page names its chunks as `modulepreload` links, so they arrive with the
//! main module). The server renders every page as before.

use leptos::prelude::*;
use leptos_router::{lazy_route, LazyRoute};

/// `route!(Name, page)`: a route whose view is `page` (a component without properties),
/// loaded on demand.
macro_rules! route {
    ($name:ident, $page:path) => {
        #[doc = concat!("The route showing [`", stringify!($page), "`], loaded on demand.")]
        pub struct $name;

        #[lazy_route]
        impl LazyRoute for $name {
            fn data() -> Self {
                $name
            }

            fn view(_this: Self) -> AnyView {
                $page().into_any()
            }
        }
    };
}

route!(Setup, crate::pages::auth::SetupPage);
route!(SignIn, crate::pages::auth::SignInPage);
route!(Home, crate::pages::home::HomePage);
route!(Executions, crate::pages::executions::ExecutionsPage);
route!(Execution, crate::pages::executions::ExecutionDetailPage);
route!(
    UserOperations,
    crate::pages::user_operations::UserOperationsPage
);
route!(Pipelines, crate::pages::pipelines::PipelinesPage);
route!(PipelineEditor, crate::pages::pipelines::PipelineEditorPage);
route!(DockerTriggers, crate::pages::triggers::DockerTriggersPage);
route!(Endpoints, crate::pages::endpoints::EndpointsPage);
route!(Variables, crate::pages::variables::VariablesPage);
route!(Projects, crate::pages::projects::ProjectsPage);
route!(Project, crate::pages::projects::ProjectPage);
route!(Users, crate::pages::users::UsersPage);
route!(Tokens, crate::pages::tokens::TokensPage);
