// A real OpenID Connect provider (panva's oidc-provider) for gemeinwerk's
// integration tests. The Rust tests start it as a child process:
//
//   OIDC_PORT=…  OIDC_CLIENTS='[{"client_id","client_secret","redirect_uris":[…]}]'
//   OIDC_USERS='{"anna":{"preferred_username":"anna","name":…,"email":…,"groups":[…]}}'
//   node tests/oidc-provider/provider.mjs
//
// It listens on http://127.0.0.1:$OIDC_PORT (also the issuer), prints
// `ready http://127.0.0.1:$OIDC_PORT` once it accepts connections, and exits
// when its stdin closes or on SIGTERM. Errors go to stderr.
//
// Browser flow: GET /auth → 303 /interaction/<uid> (login form: inputs
// `login` and `password`, button "Anmelden", POST /interaction/<uid>/login)
// → the account id as login and any password → consent is granted
// automatically → 303 to the client's redirect_uri with code, state and iss.
// An unknown login gets the form again (status 401, "Unbekannte Kennung.").
// PKCE (S256) is required. The session cookie makes a second authorization
// in the same browser skip the form (send prompt=login to see it again).

import * as crypto from 'node:crypto';
import * as http from 'node:http';

import Provider, { errors } from 'oidc-provider';

function fail(message) {
  process.stderr.write(`oidc-provider: ${message}\n`);
  process.exit(2);
}

function jsonEnv(name) {
  const raw = process.env[name];
  if (!raw) fail(`${name} is not set`);
  try {
    return JSON.parse(raw);
  } catch (err) {
    return fail(`${name} is not JSON: ${err.message}`);
  }
}

const port = Number(process.env.OIDC_PORT);
if (!Number.isInteger(port) || port <= 0 || port > 65535) fail('OIDC_PORT must be a port number');
const clients = jsonEnv('OIDC_CLIENTS');
if (!Array.isArray(clients)) fail('OIDC_CLIENTS must be a JSON array');
const users = jsonEnv('OIDC_USERS');
if (users === null || typeof users !== 'object' || Array.isArray(users)) fail('OIDC_USERS must be a JSON object');

const issuer = `http://127.0.0.1:${port}`;

// A fresh signing key per run; the relying party is expected to fetch it
// from /jwks (announced in /.well-known/openid-configuration).
const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = {
  ...privateKey.export({ format: 'jwk' }),
  kid: crypto.randomUUID(),
  use: 'sig',
  alg: 'RS256',
};

function findUser(accountId) {
  return Object.hasOwn(users, accountId) ? users[accountId] : undefined;
}

const provider = new Provider(issuer, {
  clients: clients.map((c) => ({
    grant_types: ['authorization_code'],
    response_types: ['code'],
    // The registered method; oidc-provider also accepts client_secret_post
    // for a client registered with client_secret_basic (and vice versa).
    token_endpoint_auth_method: 'client_secret_basic',
    // Further client metadata in OIDC_CLIENTS (post_logout_redirect_uris, …)
    // is passed through.
    ...c,
  })),
  jwks: { keys: [signingKey] },
  responseTypes: ['code'],
  pkce: { required: () => true }, // S256 is the only method allowed by default
  // Only accounts in OIDC_USERS exist. The claims are filtered by the
  // granted scopes (see `claims` below).
  async findAccount(_ctx, sub) {
    const user = findUser(sub);
    if (!user) return undefined;
    return { accountId: sub, claims: async () => ({ ...user, sub }) };
  },
  // Scope → claims. `groups` is no standard claim: it comes with `profile`
  // (and with a `groups` scope for clients asking for it explicitly).
  claims: {
    openid: ['sub'],
    profile: ['name', 'given_name', 'family_name', 'preferred_username', 'groups'],
    email: ['email', 'email_verified'],
    groups: ['groups'],
  },
  // Put the scope claims into the ID token too, not only into /me
  // (userinfo): the relying party reads them from the ID token.
  conformIdTokenClaims: false,
  features: {
    devInteractions: { enabled: false }, // our own interactions below
  },
  interactions: { url: async (_ctx, interaction) => `/interaction/${interaction.uid}` },
  cookies: {
    // Cookie signing keys. No `secure` flag is set here: oidc-provider only
    // sets it on HTTPS requests, so the cookies work over plain http.
    keys: [crypto.randomBytes(32).toString('base64url')],
  },
  // The default error page loads a web font from Google; tests may run
  // offline.
  async renderError(ctx, out) {
    ctx.type = 'html';
    ctx.body = page('Fehler', Object.entries(out)
      .map(([k, v]) => `<p><strong>${esc(k)}</strong>: ${esc(v)}</p>`).join(''));
  },
});

// Errors to stderr: stack traces for our own bugs, one line for the errors
// returned to clients (a refused code is expected in some tests).
provider.on('server_error', (_ctx, err) => {
  process.stderr.write(`oidc-provider: server_error: ${err.stack}\n`);
});
for (const event of ['authorization.error', 'grant.error', 'userinfo.error', 'end_session.error']) {
  provider.on(event, (_ctx, err) => {
    process.stderr.write(`oidc-provider: ${event}: ${err.message} (${err.error_description})\n`);
  });
}

function esc(value) {
  return String(value).replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

function page(title, body) {
  return `<!DOCTYPE html>
<html lang="de">
<head><meta charset="utf-8"><title>${esc(title)}</title></head>
<body>
<main>
<h1>${esc(title)}</h1>
${body}
</main>
</body>
</html>
`;
}

function loginPage(uid, { login = '', error } = {}) {
  return page('Anmeldung beim Test-Identitätsanbieter', `${error ? `<p role="alert">${esc(error)}</p>\n` : ''}\
<form method="post" action="/interaction/${esc(uid)}/login">
<p><label for="login">Kennung</label> <input id="login" name="login" autocomplete="username" required value="${esc(login)}"></p>
<p><label for="password">Passwort</label> <input id="password" name="password" type="password" autocomplete="current-password"></p>
<p><button type="submit">Anmelden</button></p>
</form>`);
}

function send(res, status, html) {
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
  });
  res.end(html);
}

async function readForm(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

// Grants everything the client asked for (all our clients are first-party
// test clients), as the consent route of oidc-provider's examples does
// after the user confirms.
async function grantConsent(req, res, details) {
  const { prompt, params, session, grantId } = details;
  const grant = grantId
    ? await provider.Grant.find(grantId)
    : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
  const missing = prompt.details;
  if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
  if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
  if (missing.missingResourceScopes) {
    for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes)) {
      grant.addResourceScope(indicator, scopes.join(' '));
    }
  }
  const savedId = await grant.save();
  const consent = grantId ? {} : { grantId: savedId };
  await provider.interactionFinished(req, res, { consent }, { mergeWithLastSubmission: true });
}

// GET  /interaction/<uid>        login form, or automatic consent
// POST /interaction/<uid>/login  checks the login (any password)
async function interaction(req, res, path) {
  const [, uid, action] = path.split('/').slice(1); // ['interaction', uid, action?]
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) throw new errors.SessionNotFound('interaction session id cookie not found');
  const promptName = details.prompt.name;

  if (req.method === 'GET' && action === undefined) {
    if (promptName === 'login') return send(res, 200, loginPage(uid));
    if (promptName === 'consent') return grantConsent(req, res, details);
  } else if (req.method === 'POST' && action === 'login' && promptName === 'login') {
    const form = await readForm(req);
    const login = form.get('login') ?? '';
    if (!findUser(login)) {
      return send(res, 401, loginPage(uid, { login, error: 'Unbekannte Kennung.' }));
    }
    return provider.interactionFinished(req, res, { login: { accountId: login } }, {
      mergeWithLastSubmission: false,
    });
  }
  return send(res, 404, page('Nicht gefunden', '<p>Unbekannter Interaktionsschritt.</p>'));
}

const callback = provider.callback();
const server = http.createServer(async (req, res) => {
  const path = new URL(req.url, issuer).pathname;
  if (!path.startsWith('/interaction/')) return callback(req, res);
  try {
    await interaction(req, res, path);
  } catch (err) {
    const status = err.statusCode ?? err.status ?? 500;
    if (status >= 500) process.stderr.write(`oidc-provider: interaction: ${err.stack}\n`);
    if (!res.headersSent) {
      send(res, status, page('Fehler', `<p>${esc(err.error_description ?? err.message)}</p>`));
    } else {
      res.end();
    }
  }
});

server.on('error', (err) => fail(`cannot listen on ${issuer}: ${err.message}`));
server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`ready ${issuer}\n`);
});

// The Rust test holds our stdin; when it drops the handle (or dies), stdin
// closes and we go.
process.stdin.on('end', () => process.exit(0));
process.stdin.on('close', () => process.exit(0));
process.stdin.on('error', () => process.exit(0));
process.stdin.resume();
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
