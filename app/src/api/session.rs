//! Signing in and out, the first administrator, the session and its selected project.

use super::*;
#[cfg(feature = "ssr")]
use backend::access::{accounts, projects};

/// The session key of the project picked in the header's selector.
#[cfg(feature = "ssr")]
const PROJECT_KEY: &str = "wharf.project_id";

/// What the shell needs to draw itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionInfo {
    /// The signed-in user.
    pub user: CurrentUser,
    /// The projects they can see.
    pub projects: Vec<ProjectSummary>,
    /// The project picked in the header's selector, if it is still visible to them.
    pub current_project: Option<i64>,
    /// The user menu's badge: the first letters of their name's first two words, upper case
    /// (worked out here: upper-casing any script takes Unicode's tables, which the browser's
    /// WebAssembly then need not carry).
    pub initials: String,
}

/// The first letters of `name`'s first two words, upper case.
pub fn initials(name: &str) -> String {
    name.split_whitespace()
        .filter_map(|w| w.chars().next())
        .take(2)
        .collect::<String>()
        .to_uppercase()
}

/// Where to go after signing in: only paths on this site, never another host.
pub fn safe_next(next: Option<&str>) -> String {
    next.and_then(domain::names::LocalPath::parse)
        .map_or_else(|| "/".to_owned(), |p| p.as_str().to_owned())
}

/// The signed-in user, their projects and the selected one.
#[server]
pub async fn get_session_info() -> Result<SessionInfo, AppError> {
    let (actor, user) = actor()?;
    let backend = backend()?;
    let projects = projects::list_for(&backend, actor).await?;
    let session = session().await?;
    let picked: Option<i64> = session.get(PROJECT_KEY).await.map_err(session_error)?;
    let current_project = picked
        .filter(|id| projects.iter().any(|p| p.id == *id))
        .or_else(|| projects.first().map(|p| p.id));
    Ok(SessionInfo {
        initials: initials(&user.display_name),
        user,
        projects,
        current_project,
    })
}

/// Creates the first administrator and signs them in.
#[server]
pub async fn create_admin(
    email: String,
    display_name: String,
    password: String,
    password_confirm: String,
) -> Result<(), AppError> {
    if password != password_confirm {
        crate::ssr::set_status(422);
        return Err(AppError::invalid(
            "password_confirm",
            "The two passwords differ.",
        ));
    }
    let backend = backend()?;
    let user = accounts::create_first_admin(&backend, &email, &display_name, &password).await?;
    start_session(user.id).await?;
    leptos_axum::redirect("/");
    Ok(())
}

#[cfg(feature = "ssr")]
async fn start_session(user_id: i64) -> Result<(), AppError> {
    let session = session().await?;
    // a new id at every sign-in, so a session id planted before sign-in is worth nothing after
    session.cycle_id().await.map_err(session_error)?;
    session
        .insert(backend::platform::sessions::USER_ID_KEY, user_id)
        .await
        .map_err(session_error)
}

/// Signs in with e-mail address and password.
#[server]
pub async fn sign_in(
    email: String,
    password: String,
    next: Option<String>,
) -> Result<(), AppError> {
    let backend = backend()?;
    let address = crate::ssr::client_address();
    let user = accounts::sign_in(&backend, &email, &password, &address).await?;
    start_session(user.id).await?;
    leptos_axum::redirect(&safe_next(next.as_deref()));
    Ok(())
}

/// Ends the session.
#[server]
pub async fn sign_out() -> Result<(), AppError> {
    let session = session().await?;
    session.flush().await.map_err(session_error)?;
    leptos_axum::redirect("/login");
    Ok(())
}

/// Picks the project the header's selector shows.
#[server]
pub async fn select_project(project_id: i64) -> Result<(), AppError> {
    let (actor, _) = actor()?;
    let backend = backend()?;
    projects::role_in(&backend.db, actor, project_id).await?;
    let session = session().await?;
    session
        .insert(PROJECT_KEY, project_id)
        .await
        .map_err(session_error)
}

#[cfg(test)]
mod tests {
    use super::{initials, safe_next};

    #[test]
    fn initials_are_the_first_two_words_first_letters_in_upper_case_in_any_script() {
        assert_eq!(initials("Ada Lovelace King"), "AL");
        assert_eq!(initials("  émile   zola "), "ÉZ");
        assert_eq!(initials("ßtefan"), "SS");
        assert_eq!(initials("ölçek"), "Ö");
        assert_eq!(initials(""), "");
    }

    #[test]
    fn next_only_leads_to_paths_on_this_site() {
        assert_eq!(safe_next(Some("/projects/3")), "/projects/3");
        assert_eq!(safe_next(Some("//evil.example/x")), "/");
        assert_eq!(safe_next(Some("https://evil.example")), "/");
        assert_eq!(safe_next(Some("/\\evil.example")), "/");
        assert_eq!(safe_next(Some("/\t/evil.example")), "/");
        assert_eq!(safe_next(Some("/%2f/evil.example")), "/");
        assert_eq!(safe_next(None), "/");
    }
}
