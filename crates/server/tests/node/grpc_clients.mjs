// ZITADEL's own Node clients, unchanged, against Tessera's binary transports on
// its one port: @zitadel/node (nice-grpc over @grpc/grpc-js: gRPC over HTTP/2
// cleartext with prior knowledge) and @zitadel/client (connect-es: gRPC,
// gRPC-web, and the Connect protocol with its default binary codec).
// Driven by crates/server/tests/grpc_clients.rs; runs the one case named by
// TESSERA_CASE and prints one JSON line, never a token or a key.
//
// env: TESSERA_ISSUER (http://127.0.0.1:PORT, plain HTTP), TESSERA_PAT (an
// admin service user's PAT), TESSERA_KEY_FILE (a ZITADEL key file of a machine
// user), TESSERA_USER_ID (the machine user to read and give a PAT), TESSERA_CASE:
//   node-v2beta-pat        @zitadel/node createUserClient (zitadel.user.v2beta)
//                          + createAccessTokenInterceptor: GetUserByID, ListUsers
//   node-v2-pat            @zitadel/node's generated zitadel.user.v2 definition
//                          (the package has no factory for it) on nice-grpc:
//                          GetUserByID, ListUsers, AddPersonalAccessToken
//   node-service-account   as node-v2beta-pat, authenticated by
//                          createServiceAccountInterceptor from the key file
//   client-grpc            @zitadel/client createServerTransport (gRPC, HTTP/2)
//   client-grpc-web        @zitadel/client createClientTransport (gRPC-web over fetch)
//   client-connect-binary  connect-node createConnectTransport, HTTP/1.1, binary
//   client-connect-binary-h2  the same over HTTP/2 (h2c)
//                          each client-*: zitadel.user.v2.UserService GetUserByID,
//                          ListUsers, AddPersonalAccessToken
//   unknown-method         zitadel.user.v2beta.UserService/AddHumanUser over gRPC,
//                          which Tessera does not serve: expects unimplemented (12)
// On an RPC error: {"case", "error": {"code", "name", "message"}} and exit 1.
import { readFileSync } from 'node:fs';
import { Code, ConnectError } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-node';
// connect-node's Connect transport gets the bearer interceptor @zitadel/client's own transports add.
import { NewAuthorizationBearerInterceptor } from '@zitadel/client';
import { createServerTransport } from '@zitadel/client/node';
import { createUserServiceClient } from '@zitadel/client/v2';
import { createClientTransport } from '@zitadel/client/web';
import { createAccessTokenInterceptor, createServiceAccountInterceptor, createUserClient } from '@zitadel/node/dist/api/index.js';
import { ServiceAccount } from '@zitadel/node/dist/credentials/index.js';
import { UserServiceDefinition as UserServiceV2 } from '@zitadel/node/dist/api/generated/zitadel/user/v2/user_service.js';
import { userStateToJSON as userStateV2 } from '@zitadel/node/dist/api/generated/zitadel/user/v2/user.js';
import { userStateToJSON as userStateV2beta } from '@zitadel/node/dist/api/generated/zitadel/user/v2beta/user.js';
import { UserStateSchema } from '@zitadel/proto/zitadel/user/v2/user_pb.js';
import { ClientError, createChannel, createClientFactory } from 'nice-grpc';

const caseName = process.env.TESSERA_CASE;
const issuer = process.env.TESSERA_ISSUER;
const pat = process.env.TESSERA_PAT;
const userId = process.env.TESSERA_USER_ID;

// gRPC status codes, spelled as Connect spells them.
const CODE_NAMES = [
  'ok', 'canceled', 'unknown', 'invalid_argument', 'deadline_exceeded', 'not_found', 'already_exists',
  'permission_denied', 'resource_exhausted', 'failed_precondition', 'aborted', 'out_of_range',
  'unimplemented', 'internal', 'unavailable', 'data_loss', 'unauthenticated',
];

function rpcError(err) {
  if (err instanceof ClientError) return { code: err.code, name: CODE_NAMES[err.code], message: err.details };
  if (err instanceof ConnectError) return { code: err.code, name: CODE_NAMES[err.code], message: err.rawMessage };
  // Not an RPC answer (e.g. the service-account token request failed): no code.
  return { code: null, name: null, message: String(err?.message ?? err) };
}

function finish(line, status) {
  // Writes to a pipe or file are synchronous on Linux, so exit cannot cut the line;
  // exiting also drops the HTTP/2 sessions the clients keep open.
  process.stdout.write(`${JSON.stringify(line)}\n`);
  process.exit(status);
}

// @zitadel/node (ts-proto): `human`/`machine` are optional fields, state a number.
function nodeUser(user, stateName) {
  return {
    userId: user?.userId,
    username: user?.username,
    state: user ? stateName(user.state) : undefined,
    type: user?.machine ? 'machine' : user?.human ? 'human' : undefined,
  };
}

// @zitadel/client (protobuf-es): `type` is a oneof {case, value}.
function clientUser(user) {
  return {
    userId: user?.userId,
    username: user?.username,
    state: user ? UserStateSchema.values.find((v) => v.number === user.state)?.name : undefined,
    type: user?.type?.case,
  };
}

const listed = (res) => ({ count: res.result.length, totalResult: String(res.details?.totalResult ?? '') });
const added = (res) => ({ tokenIdPresent: Boolean(res.tokenId), tokenPresent: Boolean(res.token) });

async function nodeV2beta(interceptor) {
  const users = createUserClient(issuer, interceptor);
  const got = await users.getUserByID({ userId });
  const list = await users.listUsers({});
  return { getUserByID: nodeUser(got.user, userStateV2beta), listUsers: listed(list) };
}

async function nodeV2() {
  const factory = createClientFactory().use(createAccessTokenInterceptor(pat));
  const users = factory.create(UserServiceV2, createChannel(issuer));
  const got = await users.getUserByID({ userId });
  const list = await users.listUsers({});
  const pat2 = await users.addPersonalAccessToken({ userId });
  return { getUserByID: nodeUser(got.user, userStateV2), listUsers: listed(list), addPersonalAccessToken: added(pat2) };
}

async function clientV2(transport) {
  const users = createUserServiceClient(transport);
  const got = await users.getUserByID({ userId });
  const list = await users.listUsers({});
  const pat2 = await users.addPersonalAccessToken({ userId });
  return { getUserByID: clientUser(got.user), listUsers: listed(list), addPersonalAccessToken: added(pat2) };
}

const cases = {
  'node-v2beta-pat': () => nodeV2beta(createAccessTokenInterceptor(pat)),
  'node-v2-pat': () => nodeV2(),
  'node-service-account': () => {
    const account = ServiceAccount.fromJsonString(readFileSync(process.env.TESSERA_KEY_FILE, 'utf8'));
    // apiAccess adds the `urn:zitadel:iam:org:project:id:zitadel:aud` scope, as the package's docs do for API calls.
    return nodeV2beta(createServiceAccountInterceptor(issuer, account, { apiAccess: true }));
  },
  'client-grpc': () => clientV2(createServerTransport(pat, { baseUrl: issuer })),
  'client-grpc-web': () => clientV2(createClientTransport(pat, { baseUrl: issuer })),
  'client-connect-binary': () =>
    clientV2(createConnectTransport({ baseUrl: issuer, httpVersion: '1.1', interceptors: [NewAuthorizationBearerInterceptor(pat)] })),
  'client-connect-binary-h2': () =>
    clientV2(createConnectTransport({ baseUrl: issuer, httpVersion: '2', interceptors: [NewAuthorizationBearerInterceptor(pat)] })),
  'unknown-method': async () => {
    const users = createUserClient(issuer, createAccessTokenInterceptor(pat));
    const method = '/zitadel.user.v2beta.UserService/AddHumanUser';
    try {
      await users.addHumanUser({ username: 'grpc-unknown-method' });
    } catch (err) {
      const error = rpcError(err);
      finish({ case: caseName, method, error }, error.code === 12 ? 0 : 1);
    }
    finish({ case: caseName, method, error: null }, 1);
  },
};

const run = cases[caseName];
if (run === undefined) finish({ case: caseName ?? null, error: { code: null, name: null, message: 'unknown TESSERA_CASE' } }, 2);
try {
  finish({ case: caseName, ...(await run()) }, 0);
} catch (err) {
  finish({ case: caseName, error: rpcError(err) }, 1);
}
