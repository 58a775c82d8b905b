//! Project role claims, shaped as ZITADEL shapes them:
//! `urn:zitadel:iam:org:project:roles` (the roles on the primary project) and
//! `urn:zitadel:iam:org:project:{projectId}:roles` (one claim per project),
//! each `{roleKey: {orgId: orgName}}` — the organization in which the
//! authorization was granted. Tessera has no organization domains, so the value
//! is the organization's name where ZITADEL puts its primary domain.

use serde_json::{Map, Value, json};
use tessera_domain::ProjectId;
use tessera_domain::repo::RoleGrant;

/// The roles of the primary project (the requested project, or the
/// introspecting application's project).
pub const PROJECT_ROLES: &str = "urn:zitadel:iam:org:project:roles";

/// The claim holding the roles on `project`.
#[must_use]
pub fn project_roles_claim(project: ProjectId) -> String {
    format!("urn:zitadel:iam:org:project:{project}:roles")
}

/// `{roleKey: {orgId: orgName}}` for the grants on `project`, limited to
/// `only` when it is not empty; `None` when nothing is left.
#[must_use]
pub fn roles_value(grants: &[RoleGrant], project: ProjectId, only: &[String]) -> Option<Value> {
    let mut roles = Map::new();
    for g in grants.iter().filter(|g| g.project_id == project) {
        let key = g.role_key.as_str();
        if !only.is_empty() && !only.iter().any(|o| o == key) {
            continue;
        }
        let orgs = roles.entry(key.to_owned()).or_insert_with(|| json!({}));
        if let Value::Object(orgs) = orgs {
            orgs.insert(g.org_id.to_string(), json!(g.org_name.as_str()));
        }
    }
    (!roles.is_empty()).then_some(Value::Object(roles))
}

/// Adds the role claims for `projects` to `claims`: one per-project claim
/// each, and [`PROJECT_ROLES`] for the first of them.
pub fn insert_role_claims(
    claims: &mut Map<String, Value>,
    grants: &[RoleGrant],
    projects: &[ProjectId],
    only: &[String],
) {
    for (i, project) in projects.iter().enumerate() {
        if let Some(value) = roles_value(grants, *project, only) {
            if i == 0 {
                claims.insert(PROJECT_ROLES.to_owned(), value.clone());
            }
            claims.insert(project_roles_claim(*project), value);
        }
    }
}

#[cfg(test)]
mod tests {
    use tessera_domain::OrgId;
    use tessera_domain::names::OrgName;
    use tessera_domain::project::RoleKey;

    use super::*;

    fn grant(project: ProjectId, role: &str, org: OrgId, name: &str) -> RoleGrant {
        RoleGrant {
            project_id: project,
            role_key: RoleKey::parse(role).unwrap(),
            org_id: org,
            org_name: OrgName::parse(name).unwrap(),
        }
    }

    #[test]
    fn roles_are_keyed_by_role_then_granting_organization() {
        let (p, q, o1, o2) = (ProjectId::new(), ProjectId::new(), OrgId::new(), OrgId::new());
        let grants = [grant(p, "reader", o1, "Acme"), grant(p, "reader", o2, "Beta"), grant(q, "admin", o1, "Acme")];
        let mut claims = Map::new();
        insert_role_claims(&mut claims, &grants, &[p], &[]);
        assert_eq!(claims[PROJECT_ROLES], json!({"reader": {o1.to_string(): "Acme", o2.to_string(): "Beta"}}));
        assert_eq!(claims[&project_roles_claim(p)], claims[PROJECT_ROLES]);
        assert!(!claims.contains_key(&project_roles_claim(q)), "only the projects asked for");
    }

    #[test]
    fn a_role_filter_limits_the_claims_and_empty_claims_are_left_out() {
        let (p, o) = (ProjectId::new(), OrgId::new());
        let grants = [grant(p, "reader", o, "Acme"), grant(p, "writer", o, "Acme")];
        assert_eq!(roles_value(&grants, p, &["writer".to_owned()]), Some(json!({"writer": {o.to_string(): "Acme"}})));
        assert_eq!(roles_value(&grants, p, &["admin".to_owned()]), None);
        assert_eq!(roles_value(&grants, ProjectId::new(), &[]), None);
    }
}
