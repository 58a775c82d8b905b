"""A resource server that serves only callers whose bearer token Tessera says
is active for its project (RFC 7662 introspection, client_secret_basic).
Standard library only. docs/resource-server.md explains it:

    ISSUER=http://localhost:8080 CLIENT_ID=… CLIENT_SECRET=… RS_PORT=8090 python3 resource_server.py
"""

import base64, json, os, urllib.parse, urllib.request
from http.server import BaseHTTPRequestHandler, HTTPServer

ISSUER = os.environ.get("ISSUER", "http://localhost:8080")
BASIC = base64.b64encode(f"{os.environ['CLIENT_ID']}:{os.environ['CLIENT_SECRET']}".encode()).decode()


def introspect(token):
    body = urllib.parse.urlencode({"token": token}).encode()
    request = urllib.request.Request(f"{ISSUER}/oauth/v2/introspect", body, {"Authorization": f"Basic {BASIC}"})
    with urllib.request.urlopen(request) as response:
        return json.load(response)


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        auth = self.headers.get("Authorization", "")
        claims = introspect(auth[len("Bearer "):]) if auth.startswith("Bearer ") else {"active": False}
        status, body = (200, {"hello": claims["username"]}) if claims["active"] else (401, {"error": "invalid_token"})
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(json.dumps(body).encode())


HTTPServer(("127.0.0.1", int(os.environ.get("RS_PORT", "8090"))), Handler).serve_forever()
