"""Drives the Personal Access Token life cycle against Tessera with the official
ZITADEL Python SDK (`zitadel-client`), unchanged and without monkey-patching.

Run by crates/server/tests/python_sdk.rs with TESSERA_URL (the server) and
TESSERA_ADMIN_PAT (an IAM_OWNER token) in the environment. Every token the
script obtains is printed on a line `TOKEN <token>` so the Rust side can scan
the server's logs for it. Any failed assertion or unexpected error exits
non-zero.
"""

import datetime
import os
import sys
import uuid

from zitadel_client import Zitadel
from zitadel_client.exceptions import ApiError
from zitadel_client.models import (
    UserServiceAddPersonalAccessTokenRequest,
    UserServiceCreateUserRequest,
    UserServiceDeleteUserRequest,
    UserServiceGetUserByIDRequest,
    UserServiceIDFilter,
    UserServiceListPersonalAccessTokensRequest,
    UserServiceListUsersRequest,
    UserServiceMachine,
    UserServicePersonalAccessTokensSearchFilter,
    UserServiceRemovePersonalAccessTokenRequest,
)
from zitadel_client.models.user_service_user_state import UserServiceUserState


def issued(token):
    """Reports a token to the Rust test, which scans the server logs for it."""
    assert token, "the server returned no token"
    print("TOKEN " + token, flush=True)


def expect_api_error(status, call):
    """Runs `call` and checks it fails with HTTP `status` and a Connect error body."""
    try:
        call()
    except ApiError as e:
        assert e.code == status, f"expected HTTP {status}, got {e.code}: {e.response_body}"
        body = e.response_body
        assert isinstance(body, dict) and body.get("code") and body.get("message"), body
        return body
    raise AssertionError(f"expected HTTP {status}, the call succeeded")


def pats_of(zitadel, user_id):
    return zitadel.users.list_personal_access_tokens(
        UserServiceListPersonalAccessTokensRequest(
            filters=[UserServicePersonalAccessTokensSearchFilter(user_id_filter=UserServiceIDFilter(id=user_id))]
        )
    ).result or []


def main():
    url = os.environ["TESSERA_URL"]
    admin_pat = os.environ["TESSERA_ADMIN_PAT"]
    username = "sdk-bot-" + uuid.uuid4().hex[:8]

    with Zitadel.with_access_token(url, admin_pat) as zitadel:
        # The admin's own organization, from the users it can see.
        users = zitadel.users.list_users(UserServiceListUsersRequest())
        assert users.result, "the admin sees no users"
        org_id = users.result[0].details.resource_owner
        assert org_id

        # Create a machine user.
        created = zitadel.users.create_user(
            UserServiceCreateUserRequest(
                organization_id=org_id,
                username=username,
                machine=UserServiceMachine(name="SDK bot", description="created by the Python SDK test"),
            )
        )
        user_id = created.id
        assert user_id and created.creation_date is not None, created

        # Add a PAT with an expiration (the SDK sends `+00:00` offsets)...
        expires = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=30)).replace(microsecond=0)
        pat = zitadel.users.add_personal_access_token(
            UserServiceAddPersonalAccessTokenRequest(user_id=user_id, expiration_date=expires)
        )
        issued(pat.token)
        assert pat.token_id and pat.creation_date is not None, pat

        # ...and one with a naive datetime (the SDK sends no offset; taken as UTC).
        naive = datetime.datetime(2099, 1, 1, 12, 0, 0)
        second = zitadel.users.add_personal_access_token(
            UserServiceAddPersonalAccessTokenRequest(user_id=user_id, expiration_date=naive)
        )
        issued(second.token)

        # A date in the past is refused.
        past = datetime.datetime(2001, 1, 1, tzinfo=datetime.timezone.utc)
        body = expect_api_error(
            400,
            lambda: zitadel.users.add_personal_access_token(
                UserServiceAddPersonalAccessTokenRequest(user_id=user_id, expiration_date=past)
            ),
        )
        assert body["code"] == "invalid_argument", body

        # List the user's PATs: both, with their expirations, never the token.
        listed = {p.id: p for p in pats_of(zitadel, user_id)}
        assert set(listed) == {pat.token_id, second.token_id}, listed
        assert listed[pat.token_id].expiration_date == expires, listed[pat.token_id]
        assert listed[second.token_id].expiration_date == naive.replace(tzinfo=datetime.timezone.utc)
        assert all(p.user_id == user_id and p.organization_id == org_id for p in listed.values())

        # Get the user.
        got = zitadel.users.get_user_by_id(UserServiceGetUserByIDRequest(user_id=user_id))
        assert got.user.user_id == user_id
        assert got.user.username == username
        assert got.user.state == UserServiceUserState.USER_STATE_ACTIVE
        assert got.user.machine.name == "SDK bot"
        assert got.user.machine.description == "created by the Python SDK test"
        assert got.user.details.resource_owner == org_id

        # A base URL with a trailing slash works too (the SDK then asks for `//zitadel…`).
        with Zitadel.with_access_token(url + "/", admin_pat) as slashed:
            again = slashed.users.get_user_by_id(UserServiceGetUserByIDRequest(user_id=user_id))
            assert again.user.user_id == user_id

        # The new PAT authenticates the SDK as the bot: it may read itself but
        # not create users.
        with Zitadel.with_access_token(url, pat.token) as bot:
            me = bot.users.get_user_by_id(UserServiceGetUserByIDRequest(user_id=user_id))
            assert me.user.username == username
            body = expect_api_error(
                403,
                lambda: bot.users.create_user(
                    UserServiceCreateUserRequest(
                        organization_id=org_id, username=username + "-2", machine=UserServiceMachine(name="no")
                    )
                ),
            )
            assert body["code"] == "permission_denied", body

        # Remove the first PAT: it stops working at once, the other stays.
        removed = zitadel.users.remove_personal_access_token(
            UserServiceRemovePersonalAccessTokenRequest(user_id=user_id, token_id=pat.token_id)
        )
        assert removed.deletion_date is not None, removed
        with Zitadel.with_access_token(url, pat.token) as bot:
            body = expect_api_error(
                401, lambda: bot.users.get_user_by_id(UserServiceGetUserByIDRequest(user_id=user_id))
            )
            assert body["code"] == "unauthenticated", body
        assert [p.id for p in pats_of(zitadel, user_id)] == [second.token_id]

        # Delete the user: it is gone, and so is every credential it had.
        deleted = zitadel.users.delete_user(UserServiceDeleteUserRequest(user_id=user_id))
        assert deleted.details is not None, deleted
        expect_api_error(404, lambda: zitadel.users.get_user_by_id(UserServiceGetUserByIDRequest(user_id=user_id)))
        with Zitadel.with_access_token(url, second.token) as bot:
            expect_api_error(401, lambda: bot.users.list_users(UserServiceListUsersRequest()))
        assert pats_of(zitadel, user_id) == []

    print("OK", flush=True)


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # noqa: BLE001 - any failure must fail the Rust test with its reason
        print(f"FAILED: {type(e).__name__}: {e}", file=sys.stderr, flush=True)
        raise
