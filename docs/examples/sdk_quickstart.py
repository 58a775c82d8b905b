"""Calls Tessera's API with the official ZITADEL Python SDK, authenticated by a
key file (JWT Profile) — unchanged ZITADEL code.

    pip install zitadel-client
    ISSUER=http://localhost:8080 python3 sdk_quickstart.py key.json
"""

import json
import os
import sys

from zitadel_client import Zitadel
from zitadel_client.models import UserServiceGetUserByIDRequest

issuer = os.environ["ISSUER"]
key_file = sys.argv[1]
with open(key_file) as f:
    user_id = json.load(f)["userId"]

with Zitadel.with_private_key(issuer, key_file) as zitadel:
    me = zitadel.users.get_user_by_id(UserServiceGetUserByIDRequest(user_id=user_id))
    print(f"authenticated as {me.user.username} ({me.user.user_id})")
