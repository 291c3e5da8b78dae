// Self test of provider.mjs: starts it as the Rust tests do and drives the
// authorization code flow with PKCE the way a browser would (a small cookie
// jar, redirects followed by hand, the login form submitted).
//
//   node tests/oidc-provider/selftest.mjs   → prints "selftest ok", exit 0
//   SELFTEST_VERBOSE=1 also shows the browser's requests.

import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as net from 'node:net';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

const CLIENT = {
  client_id: 'gemeinwerk-test',
  client_secret: 'geheim:mit/sonderzeichen+&=',
  redirect_uris: ['http://127.0.0.1:9/auth/oidc/callback'],
};
const USERS = {
  anna: {
    preferred_username: 'anna',
    name: 'Anna Muster',
    email: 'anna@kassel.de',
    groups: ['kassel-owners'],
  },
};

async function freePort() {
  const srv = net.createServer().listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const { port } = srv.address();
  srv.close();
  await once(srv, 'close');
  return port;
}

async function startProvider(port) {
  const child = spawn(process.execPath, [fileURLToPath(new URL('provider.mjs', import.meta.url))], {
    env: {
      ...process.env,
      OIDC_PORT: String(port),
      OIDC_CLIENTS: JSON.stringify([CLIENT]),
      OIDC_USERS: JSON.stringify(USERS),
    },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.setEncoding('utf8');
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('provider not ready after 20 s')), 20000);
    child.on('exit', (code) => reject(new Error(`provider exited early (${code})`)));
    child.stdout.on('data', (chunk) => {
      out += chunk;
      if (out.includes('\n')) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  assert.equal(out, `ready http://127.0.0.1:${port}\n`);
  return child;
}

// Cookies by name and path; enough for one host over http.
class Jar {
  #cookies = new Map();

  store(url, response) {
    for (const line of response.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';').map((s) => s.trim());
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      let path = '/';
      let expired = false;
      for (const attr of attrs) {
        const [k, v = ''] = attr.split('=');
        if (/^path$/i.test(k)) path = v;
        if (/^max-age$/i.test(k) && Number(v) <= 0) expired = true;
        if (/^expires$/i.test(k) && Date.parse(v) <= Date.now()) expired = true;
      }
      const key = `${name}\0${path}`;
      if (expired) this.#cookies.delete(key);
      else this.#cookies.set(key, { name, value, path });
    }
  }

  header(url) {
    const { pathname } = new URL(url);
    return [...this.#cookies.values()]
      .filter((c) => pathname === c.path || pathname.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`))
      .map((c) => `${c.name}=${c.value}`)
      .join('; ');
  }
}

async function request(jar, url, init = {}) {
  const headers = new Headers(init.headers);
  const cookie = jar.header(url);
  if (cookie) headers.set('cookie', cookie);
  const res = await fetch(url, { ...init, headers, redirect: 'manual' });
  jar.store(url, res);
  if (process.env.SELFTEST_VERBOSE) {
    const { pathname } = new URL(url);
    console.error(`${init.method ?? 'GET'} ${pathname} → ${res.status} ${res.headers.get('location') ?? ''}`);
  }
  return res;
}

// Follows redirects until the client's redirect_uri (returned as a URL, not
// fetched) or a page that is no redirect (returned as the response).
async function follow(jar, url, init) {
  let res = await request(jar, url, init);
  for (let hops = 0; hops < 10; hops += 1) {
    if (res.status < 300 || res.status >= 400) return { res };
    const next = new URL(res.headers.get('location'), url);
    if (next.href.startsWith(CLIENT.redirect_uris[0])) return { callback: next };
    url = next.href;
    res = await request(jar, url);
  }
  throw new Error('too many redirects');
}

function b64json(part) {
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
}

async function verifyIdToken(idToken, jwksUri) {
  const [h, p, s] = idToken.split('.');
  const header = b64json(h);
  assert.equal(header.alg, 'RS256');
  const { keys } = await (await fetch(jwksUri)).json();
  const jwk = keys.find((k) => k.kid === header.kid);
  assert.ok(jwk, 'signing key in JWKS');
  assert.equal(jwk.d, undefined, 'JWKS must not hold the private key');
  const key = crypto.createPublicKey({ key: jwk, format: 'jwk' });
  assert.ok(crypto.verify('RSA-SHA256', Buffer.from(`${h}.${p}`), key, Buffer.from(s, 'base64url')), 'ID token signature');
  return b64json(p);
}

function authUrl(meta, { pkce = true } = {}) {
  const verifier = crypto.randomBytes(32).toString('base64url');
  const state = crypto.randomBytes(16).toString('base64url');
  const nonce = crypto.randomBytes(16).toString('base64url');
  const url = new URL(meta.authorization_endpoint);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: CLIENT.client_id,
    redirect_uri: CLIENT.redirect_uris[0],
    scope: 'openid profile email',
    state,
    nonce,
    ...(pkce ? {
      code_challenge: crypto.createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
    } : {}),
  }).toString();
  return { url: url.href, verifier, state, nonce };
}

function loginForm(html, pageUrl) {
  const action = html.match(/<form method="post" action="([^"]+)">/)?.[1];
  assert.ok(action, 'login form');
  assert.match(html, /<input [^>]*name="login"/);
  assert.match(html, /<input [^>]*name="password"/);
  assert.match(html, /<button type="submit">Anmelden<\/button>/);
  const url = new URL(action.replace(/&#(\d+);/g, (_, n) => String.fromCharCode(n)), pageUrl);
  assert.match(url.pathname, /^\/interaction\/[^/]+\/login$/);
  return url.href;
}

function submit(jar, url, fields) {
  return follow(jar, url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields).toString(),
  });
}

function basicAuth() {
  // RFC 6749 2.3.1: client id and secret are form-urlencoded before base64.
  const enc = (s) => encodeURIComponent(s).replace(/%20/g, '+');
  return `Basic ${Buffer.from(`${enc(CLIENT.client_id)}:${enc(CLIENT.client_secret)}`).toString('base64')}`;
}

async function token(meta, form, { basic }) {
  const headers = { 'content-type': 'application/x-www-form-urlencoded' };
  const body = new URLSearchParams({ grant_type: 'authorization_code', redirect_uri: CLIENT.redirect_uris[0], ...form });
  if (basic) headers.authorization = basicAuth();
  else {
    body.set('client_id', CLIENT.client_id);
    body.set('client_secret', CLIENT.client_secret);
  }
  const res = await fetch(meta.token_endpoint, { method: 'POST', headers, body: body.toString() });
  return { status: res.status, json: await res.json() };
}

function checkCallback(callback, expected, issuer) {
  assert.equal(callback.searchParams.get('error'), null, `authorization error: ${callback.search}`);
  assert.equal(callback.searchParams.get('state'), expected.state);
  const iss = callback.searchParams.get('iss');
  if (iss !== null) assert.equal(iss, issuer);
  const code = callback.searchParams.get('code');
  assert.ok(code, 'code in callback');
  return code;
}

async function checkTokens(meta, tokens, expected) {
  const claims = await verifyIdToken(tokens.id_token, meta.jwks_uri);
  assert.equal(claims.iss, meta.issuer);
  assert.ok(claims.aud === CLIENT.client_id || claims.aud?.includes?.(CLIENT.client_id), 'aud');
  assert.equal(claims.nonce, expected.nonce);
  assert.equal(claims.sub, 'anna');
  assert.equal(claims.preferred_username, 'anna');
  assert.equal(claims.name, 'Anna Muster');
  assert.equal(claims.email, 'anna@kassel.de');
  assert.deepEqual(claims.groups, ['kassel-owners']);
}

async function main() {
  const port = await freePort();
  const child = await startProvider(port);
  try {
    const issuer = `http://127.0.0.1:${port}`;
    const meta = await (await fetch(`${issuer}/.well-known/openid-configuration`)).json();
    assert.equal(meta.issuer, issuer);
    assert.ok(meta.code_challenge_methods_supported.includes('S256'));
    const jar = new Jar();

    // 1. Login form; an unknown login is refused there.
    const first = authUrl(meta);
    const { res: formRes } = await follow(jar, first.url);
    assert.equal(formRes.status, 200);
    const formUrl = loginForm(await formRes.text(), formRes.url || first.url);
    const refused = await submit(jar, formUrl, { login: 'mallory', password: 'x' });
    assert.ok(refused.res, 'unknown login must not redirect');
    assert.equal(refused.res.status, 401);
    const refusedHtml = await refused.res.text();
    assert.match(refusedHtml, /Unbekannte Kennung/);
    loginForm(refusedHtml, formUrl);

    // 2. A known login with any password; consent is automatic.
    const done = await submit(jar, formUrl, { login: 'anna', password: 'beliebig' });
    assert.ok(done.callback, `expected redirect to the client, got ${done.res?.status} ${await done.res?.text()}`);
    const code = checkCallback(done.callback, first, issuer);

    // 3. Code exchange with client_secret_basic and PKCE.
    // A wrong code_verifier is refused. oidc-provider checks PKCE before
    // it marks the code as used, so the right verifier still works after.
    const wrongVerifier = await token(meta, { code, code_verifier: crypto.randomBytes(32).toString('base64url') }, { basic: true });
    assert.equal(wrongVerifier.json.error, 'invalid_grant');
    const t1 = await token(meta, { code, code_verifier: first.verifier }, { basic: true });
    assert.equal(t1.status, 200, JSON.stringify(t1.json));
    await checkTokens(meta, t1.json, first);

    // 4. Userinfo has the claims too.
    const me = await (await fetch(meta.userinfo_endpoint, { headers: { authorization: `Bearer ${t1.json.access_token}` } })).json();
    assert.deepEqual(me.groups, ['kassel-owners']);

    // 5. The same code twice: invalid_grant (and the tokens issued for it
    // are revoked, so this comes after the userinfo check).
    const again = await token(meta, { code, code_verifier: first.verifier }, { basic: true });
    assert.equal(again.status, 400);
    assert.equal(again.json.error, 'invalid_grant');

    // 6. Second flow in the same "browser": the session cookie skips the
    // login form; code exchange with client_secret_post.
    const second = authUrl(meta);
    const sso = await follow(jar, second.url);
    assert.ok(sso.callback, 'second authorization goes straight back to the client');
    const code2 = checkCallback(sso.callback, second, issuer);
    const t2 = await token(meta, { code: code2, code_verifier: second.verifier }, { basic: false });
    assert.equal(t2.status, 200, JSON.stringify(t2.json));
    await checkTokens(meta, t2.json, second);

    // 7. Without PKCE the request is refused (back to the client with an error).
    const noPkce = await follow(new Jar(), authUrl(meta, { pkce: false }).url);
    assert.equal(noPkce.callback?.searchParams.get('error'), 'invalid_request');

    // 8. Closing stdin ends the provider.
    const exited = once(child, 'exit');
    child.stdin.end();
    const timeout = setTimeout(() => { throw new Error('provider did not exit on stdin close'); }, 5000);
    const [exitCode] = await exited;
    clearTimeout(timeout);
    assert.equal(exitCode, 0);
  } finally {
    if (child.exitCode === null) child.kill('SIGTERM');
  }
  console.log('selftest ok');
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
