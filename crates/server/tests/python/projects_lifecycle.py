"""Drives projects, roles, API applications (secrets and keys) and
authorizations against Tessera with the official ZITADEL Python SDK
(`zitadel-client`), unchanged: the v2 services and the v2beta project and
authorization services.

Run by crates/server/tests/python_sdk.rs with TESSERA_URL and TESSERA_ADMIN_PAT
(an IAM_OWNER token) in the environment. Every secret the script obtains (client
secrets, private keys) is printed on a line `TOKEN <secret>` so the Rust side
can scan the server's logs for it. Any failed assertion exits non-zero.
"""

import base64
import json
import os
import uuid

from zitadel_client import Zitadel
from zitadel_client.exceptions import ApiError
from zitadel_client.models import (
    ApplicationServiceAPIAuthMethodType,
    ApplicationServiceApplicationSearchFilter,
    ApplicationServiceCreateAPIApplicationRequest,
    ApplicationServiceCreateApplicationKeyRequest,
    ApplicationServiceCreateApplicationRequest,
    ApplicationServiceDeleteApplicationKeyRequest,
    ApplicationServiceGenerateClientSecretRequest,
    ApplicationServiceGetApplicationKeyRequest,
    ApplicationServiceGetApplicationRequest,
    ApplicationServiceListApplicationKeysRequest,
    ApplicationServiceListApplicationsRequest,
    ApplicationServiceProjectIDFilter,
    AuthorizationServiceAuthorizationsSearchFilter,
    AuthorizationServiceCreateAuthorizationRequest,
    AuthorizationServiceDeactivateAuthorizationRequest,
    AuthorizationServiceDeleteAuthorizationRequest,
    AuthorizationServiceIDFilter,
    AuthorizationServiceListAuthorizationsRequest,
    AuthorizationServiceUpdateAuthorizationRequest,
    BetaAppServiceAPIAuthMethodType,
    BetaAppServiceCreateAPIApplicationRequest,
    BetaAppServiceCreateApplicationRequest,
    BetaAppServiceDeleteApplicationRequest,
    BetaAppServiceGetApplicationRequest,
    BetaAuthorizationServiceListAuthorizationsRequest,
    BetaProjectServiceGetProjectRequest,
    ProjectServiceAddProjectRoleRequest,
    ProjectServiceCreateProjectRequest,
    ProjectServiceDeleteProjectRequest,
    ProjectServiceGetProjectRequest,
    ProjectServiceListProjectRolesRequest,
    ProjectServiceListProjectsRequest,
    ProjectServiceProjectNameFilter,
    ProjectServiceProjectSearchFilter,
    ProjectServiceTextFilterMethod,
    ProjectServiceUpdateProjectRequest,
    UserServiceListUsersRequest,
)
from zitadel_client.models.authorization_service_state import AuthorizationServiceState
from zitadel_client.models.project_service_project_state import ProjectServiceProjectState


def issued(secret):
    """Reports a secret to the Rust test, which scans the server logs for it."""
    assert secret, "the server returned no secret"
    print("TOKEN " + secret, flush=True)


def main():
    url = os.environ["TESSERA_URL"]
    admin_pat = os.environ["TESSERA_ADMIN_PAT"]
    name = "sdk-" + uuid.uuid4().hex[:8]

    with Zitadel.with_access_token(url, admin_pat) as z:
        me = z.users.list_users(UserServiceListUsersRequest()).result[0]
        org_id, user_id = me.details.resource_owner, me.user_id

        # Projects and roles.
        created = z.projects.create_project(
            ProjectServiceCreateProjectRequest(organization_id=org_id, name=name, project_role_assertion=True)
        )
        project_id = created.project_id
        assert project_id and created.creation_date is not None, created
        project = z.projects.get_project(ProjectServiceGetProjectRequest(project_id=project_id)).project
        assert project.name == name and project.project_role_assertion is True, project
        assert project.state == ProjectServiceProjectState.PROJECT_STATE_ACTIVE, project
        listed = z.projects.list_projects(
            ProjectServiceListProjectsRequest(
                filters=[
                    ProjectServiceProjectSearchFilter(
                        project_name_filter=ProjectServiceProjectNameFilter(
                            project_name=name, method=ProjectServiceTextFilterMethod.TEXT_FILTER_METHOD_EQUALS
                        )
                    )
                ]
            )
        )
        assert [p.project_id for p in listed.projects] == [project_id], listed
        z.projects.update_project(ProjectServiceUpdateProjectRequest(project_id=project_id, authorization_required=True))
        beta = z.beta_projects.get_project(BetaProjectServiceGetProjectRequest(id=project_id)).project
        assert beta.id == project_id and beta.authorization_required is True, beta
        z.projects.add_project_role(
            ProjectServiceAddProjectRoleRequest(project_id=project_id, role_key="reader", display_name="Reader")
        )
        roles = z.projects.list_project_roles(ProjectServiceListProjectRolesRequest(project_id=project_id))
        assert [r.key for r in roles.project_roles] == ["reader"], roles

        # API applications: a secret once; a key file once.
        basic = z.applications.create_application(
            ApplicationServiceCreateApplicationRequest(
                project_id=project_id,
                name="api",
                api_configuration=ApplicationServiceCreateAPIApplicationRequest(
                    auth_method_type=ApplicationServiceAPIAuthMethodType.API_AUTH_METHOD_TYPE_BASIC
                ),
            )
        )
        issued(basic.api_configuration.client_secret)
        assert basic.api_configuration.client_secret.startswith("tsr_cs_")
        assert basic.api_configuration.client_id, basic
        regenerated = z.applications.generate_client_secret(
            ApplicationServiceGenerateClientSecretRequest(application_id=basic.application_id, project_id=project_id)
        )
        issued(regenerated.client_secret)
        jwt = z.applications.create_application(
            ApplicationServiceCreateApplicationRequest(
                project_id=project_id,
                name="jwt",
                api_configuration=ApplicationServiceCreateAPIApplicationRequest(
                    auth_method_type=ApplicationServiceAPIAuthMethodType.API_AUTH_METHOD_TYPE_PRIVATE_KEY_JWT
                ),
            )
        )
        app = z.applications.get_application(
            ApplicationServiceGetApplicationRequest(application_id=jwt.application_id)
        ).application
        assert app.api_configuration.client_id == jwt.api_configuration.client_id, app
        apps = z.applications.list_applications(
            ApplicationServiceListApplicationsRequest(
                filters=[
                    ApplicationServiceApplicationSearchFilter(
                        project_id_filter=ApplicationServiceProjectIDFilter(project_id=project_id)
                    )
                ]
            )
        )
        assert apps.pagination.total_result == "2", apps
        key = z.applications.create_application_key(
            ApplicationServiceCreateApplicationKeyRequest(application_id=jwt.application_id, project_id=project_id)
        )
        details = key.key_details
        raw = details if isinstance(details, (bytes, bytearray)) else base64.b64decode(details)
        key_file = json.loads(raw)
        issued(key_file["key"].splitlines()[1])
        assert key_file["type"] == "application" and key_file["keyId"] == key.key_id, key_file.keys()
        assert key_file["appId"] == jwt.application_id and key_file["clientId"] == app.api_configuration.client_id
        got = z.applications.get_application_key(ApplicationServiceGetApplicationKeyRequest(key_id=key.key_id))
        assert got.key_id == key.key_id and got.expiration_date is not None, got
        keys = z.applications.list_application_keys(ApplicationServiceListApplicationKeysRequest())
        assert key.key_id in [k.key_id for k in keys.keys], keys
        z.applications.delete_application_key(
            ApplicationServiceDeleteApplicationKeyRequest(
                key_id=key.key_id, application_id=jwt.application_id, project_id=project_id
            )
        )
        try:
            z.applications.get_application_key(ApplicationServiceGetApplicationKeyRequest(key_id=key.key_id))
            raise AssertionError("a deleted key is still there")
        except ApiError as e:
            assert e.code == 404, e.code

        # The v2beta application service.
        beta_app = z.beta_apps.create_application(
            BetaAppServiceCreateApplicationRequest(
                project_id=project_id,
                name="beta",
                api_request=BetaAppServiceCreateAPIApplicationRequest(
                    auth_method_type=BetaAppServiceAPIAuthMethodType.API_AUTH_METHOD_TYPE_BASIC
                ),
            )
        )
        issued(beta_app.api_response.client_secret)
        got_beta = z.beta_apps.get_application(BetaAppServiceGetApplicationRequest(id=beta_app.app_id)).app
        assert got_beta.id == beta_app.app_id and got_beta.api_config.client_id == beta_app.api_response.client_id
        z.beta_apps.delete_application(BetaAppServiceDeleteApplicationRequest(project_id=project_id, id=beta_app.app_id))

        # Authorizations, in v2 and v2beta shape.
        grant = z.authorizations.create_authorization(
            AuthorizationServiceCreateAuthorizationRequest(user_id=user_id, project_id=project_id, role_keys=["reader"])
        )
        found = z.authorizations.list_authorizations(
            AuthorizationServiceListAuthorizationsRequest(
                filters=[AuthorizationServiceAuthorizationsSearchFilter(project_id=AuthorizationServiceIDFilter(id=project_id))]
            )
        ).authorizations
        assert [a.id for a in found] == [grant.id], found
        assert found[0].roles[0].key == "reader" and found[0].project.name == name, found[0]
        assert found[0].state == AuthorizationServiceState.STATE_ACTIVE, found[0]
        flat = z.beta_authorizations.list_authorizations(BetaAuthorizationServiceListAuthorizationsRequest())
        assert any(a.id == grant.id and a.roles == ["reader"] for a in flat.authorizations), flat
        z.authorizations.update_authorization(AuthorizationServiceUpdateAuthorizationRequest(id=grant.id, role_keys=[]))
        z.authorizations.deactivate_authorization(AuthorizationServiceDeactivateAuthorizationRequest(id=grant.id))
        z.authorizations.delete_authorization(AuthorizationServiceDeleteAuthorizationRequest(id=grant.id))

        # Deleting the project takes the rest with it.
        z.projects.delete_project(ProjectServiceDeleteProjectRequest(project_id=project_id))
        try:
            z.applications.get_application(ApplicationServiceGetApplicationRequest(application_id=basic.application_id))
            raise AssertionError("an application outlived its project")
        except ApiError as e:
            assert e.code == 404, e.code
    print("OK", flush=True)


if __name__ == "__main__":
    main()
