"""Authenticates with the official ZITADEL Python SDK (`zitadel-client`),
unchanged, using a key file from `AddKey` (JWT Profile, RFC 7523) and a client
secret from `AddSecret` (client credentials), and calls the management API with
each. Then verifies a JWT access token against the server's JWKS with an
independent JOSE library (authlib, which the SDK depends on).

Run by crates/server/tests/python_sdk.rs with, in the environment:
TESSERA_ISSUER (the server's external URL), TESSERA_KEY_FILE (a key file of
machine user TESSERA_USER_ID, whose access tokens are JWTs), TESSERA_CLIENT_ID
and TESSERA_CLIENT_SECRET (a secret of machine user TESSERA_SECRET_USER_ID).
Prints `OK` at the end; any failure exits non-zero.
"""

import json
import os
import time
import urllib.request

from authlib.jose import JsonWebKey, jwt
from zitadel_client import Zitadel
from zitadel_client.auth.web_token_authenticator import WebTokenAuthenticator
from zitadel_client.models import UserServiceGetUserByIDRequest, UserServiceListUsersRequest

issuer = os.environ["TESSERA_ISSUER"]
key_file = os.environ["TESSERA_KEY_FILE"]
key_user = os.environ["TESSERA_USER_ID"]
client_id = os.environ["TESSERA_CLIENT_ID"]
client_secret = os.environ["TESSERA_CLIENT_SECRET"]
secret_user = os.environ["TESSERA_SECRET_USER_ID"]

# 1. The key file, unchanged: the SDK signs an assertion, exchanges it at the
#    token endpoint it found by discovery, and calls the API with the token.
with Zitadel.with_private_key(issuer, key_file) as zitadel:
    me = zitadel.users.get_user_by_id(UserServiceGetUserByIDRequest(user_id=key_user))
    assert me.user.user_id == key_user, me
    assert me.user.machine is not None, me
    listed = zitadel.users.list_users(UserServiceListUsersRequest())
    assert any(u.user_id == key_user for u in listed.result), listed
print("key file: API calls work")

# 2. The client secret: client credentials with client_secret_basic.
with Zitadel.with_client_credentials(issuer, client_id, client_secret) as zitadel:
    me = zitadel.users.get_user_by_id(UserServiceGetUserByIDRequest(user_id=secret_user))
    assert me.user.user_id == secret_user, me
    assert me.user.machine.has_secret is True, me
print("client secret: API calls work")

# 3. The key user's access tokens are JWTs: verify one with authlib against the
#    JWKS the discovery document points to.
authenticator = WebTokenAuthenticator.from_json(issuer, key_file)
access_token = authenticator.get_auth_token()
with urllib.request.urlopen(issuer + "/.well-known/openid-configuration") as r:  # noqa: S310
    discovery = json.load(r)
with urllib.request.urlopen(discovery["jwks_uri"]) as r:  # noqa: S310
    jwks = JsonWebKey.import_key_set(json.load(r))
claims = jwt.decode(
    access_token,
    jwks,
    claims_options={
        "iss": {"essential": True, "value": issuer},
        "sub": {"essential": True, "value": key_user},
        "exp": {"essential": True},
    },
)
claims.validate(now=int(time.time()))
header = json.loads(__import__("base64").urlsafe_b64decode(access_token.split(".")[0] + "=="))
assert header["alg"] == "RS256" and header.get("kid"), header
assert "openid" in claims["scope"].split(), claims
print("JWT access token verified against JWKS")
print("OK")
