// openid-client (panva), unchanged, does the JWT Profile grant (RFC 7523) from a
// ZITADEL key file against Tessera and validates the ID token as a relying party
// configured from that key file: its client id is the key file's `userId`.
// Driven by crates/server/tests/openid_client.rs; prints the ID token's
// `sub`, `aud` and `azp` as one JSON line, never a token.
//
// env: TESSERA_ISSUER (the issuer URL), TESSERA_KEY_FILE (path to the key file).
import { createPrivateKey, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as client from 'openid-client';

const issuer = process.env.TESSERA_ISSUER;
const keyFile = JSON.parse(readFileSync(process.env.TESSERA_KEY_FILE, 'utf8'));

const b64 = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');
const now = Math.floor(Date.now() / 1000);
const header = { alg: 'RS256', typ: 'JWT', kid: keyFile.keyId };
const claims = { iss: keyFile.userId, sub: keyFile.userId, aud: issuer, iat: now, exp: now + 300 };
const input = `${b64(header)}.${b64(claims)}`;
const signature = sign('sha256', Buffer.from(input), createPrivateKey(keyFile.key)).toString('base64url');
const assertion = `${input}.${signature}`;

// The issuer is plain http on localhost in tests.
const config = await client.discovery(new URL(issuer), keyFile.userId, undefined, client.None(), {
  execute: [client.allowInsecureRequests],
});
const tokens = await client.genericGrantRequest(config, 'urn:ietf:params:oauth:grant-type:jwt-bearer', {
  assertion,
  scope: 'openid profile urn:zitadel:iam:org:project:id:zitadel:aud',
});
const idToken = tokens.claims();
if (idToken === undefined) throw new Error('no ID token');
console.log(JSON.stringify({ sub: idToken.sub, aud: idToken.aud, azp: idToken.azp }));
