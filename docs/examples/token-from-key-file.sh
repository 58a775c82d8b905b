#!/usr/bin/env bash
# Exchanges a key file (from UserService.AddKey; ZITADEL's format) for an access
# token with the JWT Profile grant (RFC 7523), using only bash, jq, openssl and
# curl. Prints the token endpoint's JSON response.
#
#   ISSUER=http://localhost:8080 ./token-from-key-file.sh key.json [scope]
#
# ISSUER is Tessera's external URL (`external_url`), which is also the audience
# the assertion must name. The default scope lets the token call the API.
set -euo pipefail
key_file=${1:?usage: ISSUER=<url> $0 <key file> [scope]}
scope=${2:-"openid urn:zitadel:iam:org:project:id:zitadel:aud"}
: "${ISSUER:?set ISSUER to the external URL of the server}"

b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }

user_id=$(jq -r .userId "$key_file")
key_id=$(jq -r .keyId "$key_file")
now=$(date +%s)
header=$(printf '{"alg":"RS256","typ":"JWT","kid":"%s"}' "$key_id" | b64url)
claims=$(printf '{"iss":"%s","sub":"%s","aud":"%s","iat":%d,"exp":%d}' \
  "$user_id" "$user_id" "$ISSUER" "$now" $((now + 300)) | b64url)
signature=$(printf '%s.%s' "$header" "$claims" | openssl dgst -sha256 -sign <(jq -r .key "$key_file") | b64url)

curl -sS --fail-with-body "$ISSUER/oauth/v2/token" \
  --data-urlencode "grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer" \
  --data-urlencode "assertion=$header.$claims.$signature" \
  --data-urlencode "scope=$scope"
