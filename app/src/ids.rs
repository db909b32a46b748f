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
/// The note that an edited endpoint's stored secret was discarded.
pub const SECRET_DISCARDED: &str = "secret-discarded";
pub const CERTIFICATE_DIALOG: &str = "certificate-dialog";
pub const CERTIFICATE_FINGERPRINT: &str = "certificate-fingerprint";
pub const NEW_PIPELINE: &str = "new-pipeline";
pub const PIPELINE_LIST: &str = "pipeline-list";
pub const RUN_DIALOG: &str = "run-dialog";
pub const RUN_RESULT: &str = "run-result";
pub const EXPORT_DIALOG: &str = "export-dialog";
pub const IMPORT_DIALOG: &str = "import-dialog";
pub const PIPELINE_YAML: &str = "pipeline-yaml";
pub const PIPELINE_VALID: &str = "pipeline-valid";
pub const PIPELINE_PROBLEMS: &str = "pipeline-problems";
pub const PIPELINE_DIAGRAM: &str = "pipeline-diagram";
pub const PIPELINE_INPUTS: &str = "pipeline-inputs";
/// What must change before a pipeline may be enabled.
pub const PIPELINE_ATTENTION: &str = "pipeline-attention";
/// The visual designer, its board of stages and its property panel.
pub const DESIGNER: &str = "designer";
pub const DESIGNER_BOARD: &str = "designer-board";
pub const DESIGNER_PANEL: &str = "designer-panel";
/// A type picker (Add task, Add parallel task).
pub const ADD_TASK_FORM: &str = "add-task-form";
/// The selected task's typed fields.
pub const TASK_FORM: &str = "task-form";
/// The binding picker's list.
pub const BINDING_LIST: &str = "binding-list";
/// The YAML editor's line-number gutter.
pub const YAML_GUTTER: &str = "yaml-gutter";
pub const SAVE_PIPELINE: &str = "save-pipeline";
pub const INJECT_DOCKER: &str = "inject-docker";
pub const USER_OPERATION_LIST: &str = "user-operation-list";
pub const NEW_WEBHOOK: &str = "new-webhook";
pub const WEBHOOK_LIST: &str = "webhook-list";
pub const WEBHOOK_EDITOR: &str = "webhook-editor";
pub const WEBHOOK_SYNC: &str = "webhook-sync";
pub const LISTENER_URL: &str = "listener-url";
pub const ACTIVITY_LIST: &str = "activity-list";
pub const ACTIVITY_DETAIL: &str = "activity-detail";
pub const ACTIVITY_PAYLOAD: &str = "activity-payload";
pub const EXECUTION_LIST: &str = "execution-list";
pub const EXECUTION_FILTERS: &str = "execution-filters";
pub const EXECUTION_DETAIL: &str = "execution-detail";
pub const STAGE_TASKS: &str = "stage-tasks";
pub const TASK_PANEL: &str = "task-panel";
pub const TASK_LOG: &str = "task-log";
pub const LIVE_STATE: &str = "live-state";
/// Why a queued execution has not started.
pub const QUEUE_REASON: &str = "queue-reason";
pub const HOME_COUNTS: &str = "home-counts";
pub const HOME_FAILING: &str = "home-failing";
pub const HOME_ACTIVITY: &str = "home-activity";
pub const PIPELINE_EXECUTIONS: &str = "pipeline-executions";
pub const TASK_INPUT: &str = "task-input";
