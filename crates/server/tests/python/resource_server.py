"""A resource server, written with an independent OAuth library (authlib),
introspects a token at Tessera with both client authentication methods
(RFC 7662 with client_secret_basic, and private_key_jwt per RFC 7523 §2.2
using an application key file), then revokes an access token (RFC 7009).

Run by crates/server/tests/python_sdk.rs with, in the environment:
TESSERA_ISSUER, TESSERA_APP_ID and TESSERA_APP_SECRET (a basic application),
TESSERA_APP_KEY_FILE (a private_key_jwt application's key file),
TESSERA_TOKEN (a live token of user TESSERA_USER_ID with role `reader`),
TESSERA_PROJECT_ID. Prints `OK` at the end; any failure exits non-zero.
"""

import json
import os
import urllib.request

from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc7523 import PrivateKeyJWT

issuer = os.environ["TESSERA_ISSUER"]
token = os.environ["TESSERA_TOKEN"]
user_id = os.environ["TESSERA_USER_ID"]
project = os.environ["TESSERA_PROJECT_ID"]

with urllib.request.urlopen(issuer + "/.well-known/openid-configuration") as r:  # noqa: S310
    discovery = json.load(r)
introspection = discovery["introspection_endpoint"]
revocation = discovery["revocation_endpoint"]
assert "private_key_jwt" in discovery["introspection_endpoint_auth_methods_supported"], discovery


def check_active(body, how):
    assert body["active"] is True, (how, body)
    assert body["sub"] == user_id, (how, body)
    roles = body["urn:zitadel:iam:org:project:roles"]
    assert "reader" in roles, (how, body)
    assert body[f"urn:zitadel:iam:org:project:{project}:roles"] == roles, (how, body)


# 1. client_secret_basic.
basic = OAuth2Session(
    os.environ["TESSERA_APP_ID"],
    os.environ["TESSERA_APP_SECRET"],
    token_endpoint_auth_method="client_secret_basic",
    revocation_endpoint_auth_method="client_secret_basic",
)
response = basic.introspect_token(introspection, token=token)
assert response.status_code == 200, response.text
check_active(response.json(), "client_secret_basic")
response = basic.introspect_token(introspection, token="not-a-token")
assert response.json() == {"active": False}, response.text
print("client_secret_basic: introspection works")

# 2. private_key_jwt with the application's key file.
with open(os.environ["TESSERA_APP_KEY_FILE"]) as f:
    key_file = json.load(f)
assert key_file["type"] == "application", key_file
# authlib authenticates introspection with its token endpoint auth method.
keyed = OAuth2Session(key_file["clientId"], key_file["key"], token_endpoint_auth_method="private_key_jwt")
keyed.register_client_auth_method(PrivateKeyJWT(introspection, headers={"kid": key_file["keyId"]}, alg="RS256"))
response = keyed.introspect_token(introspection, token=token)
assert response.status_code == 200, response.text
check_active(response.json(), "private_key_jwt")
print("private_key_jwt: introspection works")

# 3. The resource server revokes the token presented to it; the very next
#    introspection sees it.
response = basic.revoke_token(revocation, token=token)
assert response.status_code == 200, response.text
response = keyed.introspect_token(introspection, token=token)
assert response.json() == {"active": False}, response.text
print("revocation is seen at once")
print("OK")
