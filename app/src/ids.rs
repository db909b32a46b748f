//! `data-testid` values, defined once: the components use these constants and the Playwright
//! page objects use the same strings.

pub const SETUP_FORM: &str = "setup-form";
pub const SIGN_IN_FORM: &str = "sign-in-form";
pub const FORM_ERROR: &str = "form-error";
pub const USER_MENU_BUTTON: &str = "user-menu-button";
pub const USER_MENU: &str = "user-menu";
pub const SIGN_OUT: &str = "sign-out";
pub const PROJECT_SELECTOR: &str = "project-selector";
pub const NAV: &str = "main-nav";
pub const EMPTY_STATE: &str = "empty-state";
pub const NEW_PROJECT_FORM: &str = "new-project-form";
pub const PROJECT_LIST: &str = "project-list";
pub const PROJECT_SETTINGS_FORM: &str = "project-settings-form";
pub const READ_ONLY_NOTICE: &str = "read-only-notice";
pub const MEMBER_LIST: &str = "member-list";
pub const ADD_MEMBER_FORM: &str = "add-member-form";
pub const DELETE_PROJECT: &str = "delete-project";
pub const USER_LIST: &str = "user-list";
pub const NEW_USER_FORM: &str = "new-user-form";
pub const NOT_FOUND: &str = "not-found";
pub const NEW_VARIABLE_FORM: &str = "new-variable-form";
pub const VARIABLE_LIST: &str = "variable-list";
pub const TOKEN_DIALOG: &str = "token-dialog";
pub const TOKEN_VALUE: &str = "token-value";
pub const TOKEN_VARIABLE_FORM: &str = "token-variable-form";
pub const TOKEN_LIST: &str = "token-list";
pub const GENERATE_TOKEN: &str = "generate-token";
pub const NEW_ENDPOINT: &str = "new-endpoint";
pub const ENDPOINT_LIST: &str = "endpoint-list";
pub const ENDPOINT_EDITOR: &str = "endpoint-editor";
pub const PLAIN_HTTP_WARNING: &str = "plain-http-warning";
pub const CERTIFICATE_DIALOG: &str = "certificate-dialog";
pub const CERTIFICATE_FINGERPRINT: &str = "certificate-fingerprint";
