// The OpenID provider of development and the tests: oidc-provider (an OpenID
// Certified implementation), with a clinic's people as its users. It stands
// where a clinic's Keycloak, Entra ID or Okta stands in production: Confide
// signs in with it over the same protocols (authorization code with PKCE for
// the console, the device flow for `confide login`), and its access tokens
// are RFC 9068 JWTs for the gateway, carrying a `groups` claim as those
// providers do.
//
//   node provider.mjs <config.json>
//
// config: {issuer, port, audience, access_token_seconds, jwks: {keys: [private JWK]},
//          cookie_keys: [...], clients: [oidc-provider client metadata],
//          accounts: [{username, password, sub, name, email, groups: [...]}]}
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import Provider from 'oidc-provider';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const byUsername = new Map(config.accounts.map((a) => [a.username, a]));
const bySub = new Map(config.accounts.map((a) => [a.sub, a]));
const SCOPE = 'openid profile offline_access';

function claimsOf(account) {
  return { sub: account.sub, name: account.name, email: account.email, groups: account.groups };
}

const provider = new Provider(config.issuer, {
  clients: config.clients,
  jwks: config.jwks,
  cookies: { keys: config.cookie_keys },
  claims: { openid: ['sub'], profile: ['name', 'email', 'groups'] },
  scopes: ['openid', 'profile', 'offline_access'],
  pkce: { methods: ['S256'], required: () => true },
  ttl: {
    AccessToken: config.access_token_seconds,
    AuthorizationCode: 60,
    DeviceCode: 600,
    IdToken: 3600,
    Interaction: 600,
    Grant: 14 * 24 * 3600,
    RefreshToken: 14 * 24 * 3600,
    Session: 12 * 3600,
  },
  features: {
    devInteractions: { enabled: false },
    deviceFlow: { enabled: true },
    revocation: { enabled: true },
    rpInitiatedLogout: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => config.audience,
      useGrantedResource: () => true,
      getResourceServerInfo: (ctx, resource) => {
        if (resource !== config.audience) throw new Provider.errors.InvalidTarget();
        return { scope: 'openid profile', audience: config.audience, accessTokenTTL: config.access_token_seconds,
                 accessTokenFormat: 'jwt', jwt: { sign: { alg: 'RS256' } } };
      },
    },
  },
  async findAccount(ctx, sub) {
    const account = bySub.get(sub);
    return account && { accountId: sub, claims: async () => claimsOf(account) };
  },
  // the gateway reads who the person is from the access token, as from any provider's
  async extraTokenClaims(ctx, token) {
    const account = bySub.get(token.accountId);
    return account && { name: account.name, groups: account.groups };
  },
  // first-party clients: the clinic's own console and command line ask no consent
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId,
                                                accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope(SCOPE);
    grant.addResourceScope(config.audience, 'openid profile');
    await grant.save();
    return grant;
  },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  // the clinic's own clients keep a session going with a refresh token
  issueRefreshToken: async (ctx, client) => client.grantTypeAllowed('refresh_token'),
});
provider.proxy = true;
provider.on('server_error', (ctx, err) => console.error(`server error on ${ctx.path}:`, err));

const escape = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(uid, error) {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sign in to Confide</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><main><h1>Sign in</h1>
${error ? `<p role="alert">${escape(error)}</p>` : ''}
<form method="post" action="/interaction/${escape(uid)}/login">
<label for="username">Username</label> <input id="username" name="username" autocomplete="username" required autofocus>
<label for="password">Password</label> <input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Sign in</button></form></main></body></html>`;
}

async function body(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > 16384) throw new Error('body too large');
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

function same(a, b) {
  const x = Buffer.from(String(a));
  const y = Buffer.from(String(b));
  return x.length === y.length && timingSafeEqual(x, y);
}

async function interaction(req, res, uid, action) {
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) throw new Error('not this interaction');
  if (details.prompt.name !== 'login') {  // (a grant is made for first-party clients: nothing to consent to)
    return provider.interactionFinished(req, res, { consent: {} }, { mergeWithLastSubmission: true });
  }
  res.setHeader('Content-Type', 'text/html; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store');
  // (no form-action: a browser applies it to the redirects after the form too, and those end at the client)
  res.setHeader('Content-Security-Policy', "default-src 'none'; frame-ancestors 'none'");
  if (action !== 'login' || req.method !== 'POST') return res.end(page(uid));
  const form = await body(req);
  const account = byUsername.get(form.get('username') || '');
  if (!account || !same(account.password, form.get('password') || '')) {
    res.statusCode = 401;
    return res.end(page(uid, 'The username or password is not right.'));
  }
  return provider.interactionFinished(req, res, { login: { accountId: account.sub } },
                                      { mergeWithLastSubmission: false });
}

const callback = provider.callback();
const server = createServer(async (req, res) => {
  const found = /^\/interaction\/([A-Za-z0-9_-]+)(?:\/(login))?$/.exec(new URL(req.url, config.issuer).pathname);
  if (!found) return callback(req, res);
  try {
    return await interaction(req, res, found[1], found[2]);
  } catch (err) {
    res.statusCode = 400;
    res.setHeader('Content-Type', 'text/plain; charset=utf-8');
    return res.end(`this sign-in has expired or is not valid: start again (${err.message})`);
  }
});
server.listen(config.port, '127.0.0.1', () => {
  console.log(`OpenID provider ${config.issuer} listening on 127.0.0.1:${config.port}`);
});
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => server.close(() => process.exit(0)));
