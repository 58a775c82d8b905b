"""Rotates the instance's signing keys with the official ZITADEL Python SDK's
WebKeyService (`zitadel-client`, unchanged): creates an ES256 key, activates
it, and verifies a jwt-bearer JWT access token with an independent JOSE
library (authlib, which the SDK depends on) against the JWKS; checks that the
previous RS256 key's token still verifies while that key stays published, that
deleting the active key is refused, and then rotates to Ed25519 and repeats.
Finally deletes the ES256 key and checks its token no longer verifies.

Run by crates/server/tests/python_sdk.rs with, in the environment:
TESSERA_ISSUER (the server's external URL), TESSERA_ADMIN_PAT (an IAM_OWNER's
PAT), TESSERA_KEY_FILE (a key file of machine user TESSERA_USER_ID, whose access
tokens are JWTs). Prints `OK` at the end; any failure exits non-zero.
"""

import base64
import json
import os
import time
import urllib.error
import urllib.request

from authlib.jose import JsonWebKey, jwt
from zitadel_client import Zitadel
from zitadel_client.auth.web_token_authenticator import WebTokenAuthenticator
from zitadel_client.exceptions import ApiError
from zitadel_client.models import (
    WebKeyServiceActivateWebKeyRequest,
    WebKeyServiceCreateWebKeyRequest,
    WebKeyServiceDeleteWebKeyRequest,
    WebKeyServiceECDSA,
    WebKeyServiceECDSACurve,
)
from zitadel_client.models.web_key_service_state import WebKeyServiceState

issuer = os.environ["TESSERA_ISSUER"]
admin_pat = os.environ["TESSERA_ADMIN_PAT"]
key_file = os.environ["TESSERA_KEY_FILE"]
key_user = os.environ["TESSERA_USER_ID"]


def fetch_jwks():
    with urllib.request.urlopen(issuer + "/.well-known/openid-configuration") as r:  # noqa: S310
        discovery = json.load(r)
    with urllib.request.urlopen(discovery["jwks_uri"]) as r:  # noqa: S310
        return json.load(r)


def fresh_token():
    """A new jwt-bearer grant from the key file (a new authenticator: no cache)."""
    return WebTokenAuthenticator.from_json(issuer, key_file).get_auth_token()


def header_of(token):
    return json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))


def verify(token, jwks):
    """Verifies `token` with authlib against `jwks` (as a resource server would)."""
    claims = jwt.decode(
        token,
        JsonWebKey.import_key_set(jwks),
        claims_options={
            "iss": {"essential": True, "value": issuer},
            "sub": {"essential": True, "value": key_user},
            "exp": {"essential": True},
        },
    )
    claims.validate(now=int(time.time()))


def server_accepts(token):
    request = urllib.request.Request(issuer + "/oidc/v1/userinfo", headers={"Authorization": "Bearer " + token})
    try:
        with urllib.request.urlopen(request) as r:  # noqa: S310
            return r.status == 200
    except urllib.error.HTTPError as e:
        assert e.code == 401, e.code
        return False


def expect_api_error(status, code, call):
    try:
        call()
    except ApiError as e:
        assert e.code == status, f"expected HTTP {status}, got {e.code}: {e.response_body}"
        assert e.response_body.get("code") == code, e.response_body
        return
    raise AssertionError(f"expected HTTP {status}, the call succeeded")


def states(zitadel):
    return {k.id: k.state for k in zitadel.webkeys.list_web_keys().web_keys or []}


def rotate_to(zitadel, request, alg, kty, previous_tokens):
    """Creates a key, checks it is published but not signing, activates it,
    and checks the next token is signed by it and verifies, as do the tokens
    of the keys still published. Returns (key id, token)."""
    created = zitadel.webkeys.create_web_key(request)
    assert created.id and created.creation_date, created
    jwks = fetch_jwks()
    published = [k for k in jwks["keys"] if k["kid"] == created.id]
    assert published and published[0]["kty"] == kty and published[0]["alg"] == alg, jwks
    assert states(zitadel)[created.id] == WebKeyServiceState.STATE_INITIAL
    assert header_of(fresh_token())["kid"] != created.id, "a created key does not sign"

    activated = zitadel.webkeys.activate_web_key(WebKeyServiceActivateWebKeyRequest(id=created.id))
    assert activated.change_date, activated
    assert states(zitadel)[created.id] == WebKeyServiceState.STATE_ACTIVE
    token = fresh_token()
    header = header_of(token)
    assert header["alg"] == alg and header["kid"] == created.id, header
    jwks = fetch_jwks()
    verify(token, jwks)
    for old in previous_tokens:
        verify(old, jwks)
        assert server_accepts(old), "a token of a key that stays published still verifies"

    expect_api_error(
        400,
        "failed_precondition",
        lambda: zitadel.webkeys.delete_web_key(WebKeyServiceDeleteWebKeyRequest(id=created.id)),
    )
    assert any(k["kid"] == created.id for k in fetch_jwks()["keys"]), "the refused deletion changed nothing"
    print(f"{alg}: created, activated, token verified; deleting the active key is refused")
    return created.id, token


with Zitadel.with_access_token(issuer, admin_pat) as zitadel:
    listed = zitadel.webkeys.list_web_keys().web_keys
    assert len(listed) == 1 and listed[0].state == WebKeyServiceState.STATE_ACTIVE, listed
    assert listed[0].rsa is not None, listed
    rs_id = listed[0].id
    rs_token = fresh_token()
    assert header_of(rs_token)["alg"] == "RS256", header_of(rs_token)
    verify(rs_token, fetch_jwks())

    es_id, es_token = rotate_to(
        zitadel,
        WebKeyServiceCreateWebKeyRequest(ecdsa=WebKeyServiceECDSA(curve=WebKeyServiceECDSACurve.ECDSA_CURVE_P256)),
        "ES256",
        "EC",
        [rs_token],
    )
    assert states(zitadel)[rs_id] == WebKeyServiceState.STATE_INACTIVE

    ed_id, ed_token = rotate_to(
        zitadel,
        WebKeyServiceCreateWebKeyRequest(ed25519={}),
        "EdDSA",
        "OKP",
        [rs_token, es_token],
    )
    assert states(zitadel)[es_id] == WebKeyServiceState.STATE_INACTIVE

    # An inactive key is deleted at once: out of the JWKS, its tokens refused.
    deleted = zitadel.webkeys.delete_web_key(WebKeyServiceDeleteWebKeyRequest(id=es_id))
    assert deleted.deletion_date, deleted
    assert all(k["kid"] != es_id for k in fetch_jwks()["keys"])
    assert not server_accepts(es_token), "a deleted key's token no longer verifies"
    assert server_accepts(ed_token) and server_accepts(rs_token)
    # Deleting an unknown key succeeds, as in ZITADEL, without a deletion date.
    again = zitadel.webkeys.delete_web_key(WebKeyServiceDeleteWebKeyRequest(id=es_id))
    assert again.deletion_date is None, again
    # The v2beta service answers the same.
    beta = zitadel.beta_webkeys.list_web_keys().web_keys
    assert {k.id for k in beta} == set(states(zitadel)), beta
    print("deleting an inactive key withdraws it; an unknown key's deletion succeeds")

print("OK")
