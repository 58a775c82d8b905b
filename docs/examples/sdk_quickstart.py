"""Calls Tessera's API with the official ZITADEL Python SDK, authenticated by a
key file (JWT Profile) — unchanged ZITADEL code. Runs from any directory:

    pip install zitadel-client
    ISSUER=http://localhost:8080 python3 sdk_quickstart.py /path/to/ci-deployer.key.json

The key file is the first argument, else the KEY_FILE environment variable;
ISSUER defaults to http://localhost:8080 (the server's external_url).
"""

import json
import os
import sys

from zitadel_client import Zitadel
from zitadel_client.models import UserServiceGetUserByIDRequest

issuer = os.environ.get("ISSUER", "http://localhost:8080")
key_file = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("KEY_FILE", "")
if not os.path.isfile(key_file):
    sys.exit(
        f"sdk_quickstart.py: no key file at {key_file!r}; pass its path (docs/service-accounts.md, step 2, writes it)"
    )
with open(key_file) as f:
    user_id = json.load(f)["userId"]

with Zitadel.with_private_key(issuer, key_file) as zitadel:
    me = zitadel.users.get_user_by_id(UserServiceGetUserByIDRequest(user_id=user_id))
    print(f"authenticated as {me.user.username} ({me.user.user_id})")
