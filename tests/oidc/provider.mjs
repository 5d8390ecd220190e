// A real OpenID Connect provider for the test suite: Node's certified `oidc-provider`, on loopback only.
//
// Started by tests/oidc/provider.py. It listens on 127.0.0.1 on a free port, prints one JSON line
// ({"issuer": ...}) once it serves, and exits when its standard input closes (the test process ended).
// Accounts come from the JSON file named by OIDC_ACCOUNTS_FILE, read again on every lookup so a test can
// move a user between groups between two logins: {"alice": {"groups": ["hr-staff"], "name": "Alice"}}.
// Any other username the development login page accepts is a member of no group.
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

import Provider from 'oidc-provider';

const clientId = process.env.OIDC_CLIENT_ID ?? 'faro';
const clientSecret = process.env.OIDC_CLIENT_SECRET ?? 'faro-test-secret';
const accountsFile = process.env.OIDC_ACCOUNTS_FILE;

function readAccounts() {
  return accountsFile ? JSON.parse(readFileSync(accountsFile, 'utf8')) : {};
}

async function findAccount(ctx, id) {
  return {
    accountId: id,
    async claims() {
      const account = readAccounts()[id] ?? {};
      return {
        sub: id,
        preferred_username: account.preferred_username ?? id,
        name: account.name ?? id,
        email: account.email ?? `${id}@lumen.example`,
        email_verified: true,
        groups: account.groups ?? [],
      };
    },
  };
}

// Faro's callback and post-logout pages on any loopback port (the live test server picks its port), and
// on Django's test client host.
function loopbackPath(path) {
  return (value) => {
    try {
      const url = new URL(value);
      const host = ['127.0.0.1', 'localhost', 'testserver'].includes(url.hostname);
      return url.protocol === 'http:' && host && url.pathname === path && !url.hash;
    } catch {
      return false;
    }
  };
}

const page = (title, body) => `<!doctype html><html><head><meta charset="utf-8"><title>${title}</title></head>
<body><h1>${title}</h1>${body}</body></html>`;

const signingKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });

const configuration = {
  clients: [
    {
      client_id: clientId,
      client_secret: clientSecret,
      client_name: 'Faro',
      grant_types: ['authorization_code'],
      response_types: ['code'],
      redirect_uris: ['http://127.0.0.1/oidc/callback/'],
      post_logout_redirect_uris: ['http://127.0.0.1/login/'],
      token_endpoint_auth_method: 'client_secret_basic',
    },
  ],
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'preferred_username'],
    groups: ['groups'],
  },
  // Like Entra ID, put the scope's claims (groups included) in the ID token as well as in userinfo.
  conformIdTokenClaims: false,
  cookies: { keys: [randomUUID()] },
  findAccount,
  jwks: { keys: [{ ...signingKey, kid: 'faro-test', alg: 'RS256', use: 'sig' }] },
  features: {
    devInteractions: { enabled: true },
    rpInitiatedLogout: {
      enabled: true,
      async logoutSource(ctx, form) {
        ctx.body = page('Sign out', `${form}<button type="submit" form="op.logoutForm" name="logout" value="yes">Yes, sign me out</button>`);
      },
      async postLogoutSuccessSource(ctx) {
        ctx.body = page('Signed out', '<p>You are signed out.</p>');
      },
    },
  },
  // Faro is a first-party client: no consent screen, as an organisation's provider is usually set up.
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) {
      return ctx.oidc.provider.Grant.find(grantId);
    }
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope('openid email profile groups');
    await grant.save();
    return grant;
  },
  async renderError(ctx, out) {
    ctx.type = 'html';
    ctx.body = page('Error', `<pre>${JSON.stringify(out).replace(/</g, '&lt;')}</pre>`);
  },
};

const server = createServer();
server.listen(0, '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const provider = new Provider(issuer, configuration);
  provider.Client.prototype.redirectUriAllowed = loopbackPath('/oidc/callback/');
  provider.Client.prototype.postLogoutRedirectUriAllowed = loopbackPath('/login/');
  server.on('request', provider.callback());
  process.stdout.write(`${JSON.stringify({ issuer })}\n`);
});

process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
process.on('SIGTERM', () => process.exit(0));
