// openid-client (panva), unchanged, does an RFC 8693 token exchange against
// Tessera with an external token of a federated credential, as a relying
// party whose client id is the machine user's id, and validates the ID token.
// Driven by crates/server/tests/federation.rs; prints `issued_token_type` and
// the ID token's `sub`, `aud` and `azp` as one JSON line, never a token.
//
// env: TESSERA_ISSUER (the issuer URL), TESSERA_CLIENT_ID (the machine user's
// id), TESSERA_SUBJECT_TOKEN (the external token).
import * as client from 'openid-client';

const issuer = process.env.TESSERA_ISSUER;
// The issuer is plain http on localhost in tests.
const config = await client.discovery(new URL(issuer), process.env.TESSERA_CLIENT_ID, undefined, client.None(), {
  execute: [client.allowInsecureRequests],
});
const tokens = await client.genericGrantRequest(config, 'urn:ietf:params:oauth:grant-type:token-exchange', {
  subject_token: process.env.TESSERA_SUBJECT_TOKEN,
  subject_token_type: 'urn:ietf:params:oauth:token-type:jwt',
  scope: 'openid urn:zitadel:iam:org:project:id:zitadel:aud',
});
const idToken = tokens.claims();
if (idToken === undefined) throw new Error('no ID token');
console.log(JSON.stringify({ issued_token_type: tokens.issued_token_type, sub: idToken.sub, aud: idToken.aud, azp: idToken.azp }));
