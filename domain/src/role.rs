//! Project roles and what each may do. The one authorisation rule set: the UI hides what this
//! refuses, and the services refuse it whichever way the request arrived.

use serde::{Deserialize, Serialize};

/// A person's role in one project, as in Aria Automation Pipelines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(
    feature = "db",
    derive(sea_orm::EnumIter, sea_orm::DeriveActiveEnum),
    sea_orm(rs_type = "String", db_type = "Text", rename_all = "snake_case")
)]
pub enum ProjectRole {
    /// Reads everything in the project, changes nothing.
    Viewer,
    /// Reads, and uses the project's objects: runs pipelines, uses endpoints and variables.
    Member,
    /// Everything a member does, and manages the project: its name, members and objects.
    Administrator,
}

/// What a request wants to do to a project.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProjectAction {
    /// See the project and its objects.
    View,
    /// Run and use what is in the project.
    Use,
    /// Change the project itself: rename, delete, members, restricted objects.
    Manage,
}

impl ProjectRole {
    /// Every role, least privileged first.
    pub const ALL: [ProjectRole; 3] = [
        ProjectRole::Viewer,
        ProjectRole::Member,
        ProjectRole::Administrator,
    ];

    /// Whether this role may perform `action`.
    pub fn allows(self, action: ProjectAction) -> bool {
        match action {
            ProjectAction::View => true,
            ProjectAction::Use => self >= ProjectRole::Member,
            ProjectAction::Manage => self == ProjectRole::Administrator,
        }
    }

    /// The stable string form stored in the database and sent on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            ProjectRole::Viewer => "viewer",
            ProjectRole::Member => "member",
            ProjectRole::Administrator => "administrator",
        }
    }

    /// The label people read.
    pub fn label(self) -> &'static str {
        match self {
            ProjectRole::Viewer => "Viewer",
            ProjectRole::Member => "Member",
            ProjectRole::Administrator => "Administrator",
        }
    }

    /// Parses the stable string form.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// The role a person acts with in a project: system administrators act as project
    /// administrators everywhere; everyone else has their membership, or nothing.
    pub fn effective(membership: Option<ProjectRole>, is_system_admin: bool) -> Option<Self> {
        if is_system_admin {
            Some(ProjectRole::Administrator)
        } else {
            membership
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn viewers_only_view() {
        let r = ProjectRole::Viewer;
        assert!(r.allows(ProjectAction::View));
        assert!(!r.allows(ProjectAction::Use));
        assert!(!r.allows(ProjectAction::Manage));
    }

    #[test]
    fn members_use_but_do_not_manage() {
        let r = ProjectRole::Member;
        assert!(r.allows(ProjectAction::View));
        assert!(r.allows(ProjectAction::Use));
        assert!(!r.allows(ProjectAction::Manage));
    }

    #[test]
    fn administrators_do_everything() {
        let r = ProjectRole::Administrator;
        assert!(
            r.allows(ProjectAction::View)
                && r.allows(ProjectAction::Use)
                && r.allows(ProjectAction::Manage)
        );
    }

    #[test]
    fn system_administrators_administer_every_project_and_others_need_a_membership() {
        assert_eq!(
            ProjectRole::effective(None, true),
            Some(ProjectRole::Administrator)
        );
        assert_eq!(
            ProjectRole::effective(Some(ProjectRole::Viewer), true),
            Some(ProjectRole::Administrator)
        );
        assert_eq!(ProjectRole::effective(None, false), None);
        assert_eq!(
            ProjectRole::effective(Some(ProjectRole::Viewer), false),
            Some(ProjectRole::Viewer)
        );
    }

    #[test]
    fn role_strings_round_trip_and_unknown_ones_are_refused() {
        for r in ProjectRole::ALL {
            assert_eq!(ProjectRole::parse(r.as_str()), Some(r));
        }
        assert_eq!(ProjectRole::parse("owner"), None);
        assert_eq!(ProjectRole::parse("Administrator"), None);
    }
}
