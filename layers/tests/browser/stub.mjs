// In-memory stand-in for everything the demo site talks to, on loopback (node:http only).
//
// Two servers, so that the site and its APIs are different origins, as in a deployment
// (CloudFront vs API Gateway, Cognito, S3) and CORS is exercised:
//   site  http://127.0.0.1:<a>/  the files of layers/frontend/site plus a generated config.json,
//                                with the CloudFront Content-Security-Policy (adapted to loopback)
//   api   http://127.0.0.1:<b>/  per region:  /<region>/prod/state/<appId>        (routing layer)
//                                             /<region>/prod/photos, /comments/.. (application layer)
//                                             /cognito/<region>/                  (Cognito user pool)
//                                             /s3/<region>/<key>                  (presigned S3 URLs)
// Behaviour mirrors templates/*.yaml and layers/*: uploads and comments only while active, in the
// primary (the photos and comments functions), 401 for a missing, foreign or expired token (the
// Cognito authorizer).
//
// Active-active (`mode = 'active-active'`, written to config.json as the deployment does): every
// region not in `drained` takes uploads and comments, and a drained one answers 409 "region <r> is
// drained: use <other>" (layers/application); each state API answers "serving" unless its region
// is drained (templates/routing.yaml). `stateDelayMs[region]` delays a region's state answers, so
// that one answers first. With native user replication a password set in the primary reaches the
// secondary's copy of the user `replicaLagMs` later (Cognito replicates asynchronously).
//
// Custom domain (mraa deploy --domain): with `customDomain = true`, config.json names
// https://app.example.com and the Route 53 failover name https://api.app.example.com (base
// paths /app and /routing), and the CSP allows connect-src to it, as templates/edge.yaml does.
// The failover name cannot be served on loopback: routeCustomDomain(page) intercepts it in
// the browser and answers as the state API of `domainRegion` would (`domainMode` up | down | hang).
//
// Users in the secondary: with configOverrides.userReplication 'native' the secondary pool acts as
// Cognito's replica and refuses password resets; otherwise (import) a reset works in both pools.
// ForgotPassword "emails" its code to `outbox`, as Cognito does, only for a CONFIRMED user with a
// verified email.
import { createServer } from 'node:http';
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export const SITE_DIR = fileURLToPath(new URL('../../frontend/site/', import.meta.url));
const TYPES = { jpg: 'image/jpeg', jpeg: 'image/jpeg', png: 'image/png', gif: 'image/gif', webp: 'image/webp' };
const FILE_TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml', '.json': 'application/json', '.png': 'image/png', '.ico': 'image/x-icon',
};
const PASSWORD_POLICY = /^(?=.*[a-z])(?=.*[A-Z])(?=.*\d)(?=.*[^A-Za-z0-9]).{12,}$/;

const b64url = (value) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

function send(res, status, body, headers = {}) {
  const isBuffer = Buffer.isBuffer(body);
  const payload = body === undefined ? '' : isBuffer ? body : JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': isBuffer ? 'application/octet-stream' : 'application/json',
    'Cache-Control': 'no-store',
    ...headers,
  });
  res.end(payload);
}

async function readBody(req) {
  const parts = [];
  for await (const part of req) parts.push(part);
  return Buffer.concat(parts);
}

function parseJson(buffer) {
  try {
    return JSON.parse(buffer.toString('utf8') || 'null');
  } catch {
    return undefined;
  }
}

export const DOMAIN = 'app.example.com';
export const API_DOMAIN = `api.${DOMAIN}`;

export class Stub {
  constructor({ appId = 'demo', primary = 'us-east-1', secondary = 'ap-northeast-1', siteDir = SITE_DIR } = {}) {
    Object.assign(this, { appId, primary, secondary, siteDir });
    this.reset();
  }

  /** Back to an empty, active deployment (users, photos, comments, tokens, log). */
  reset() {
    this.state = 'active';
    this.stateMode = { [this.primary]: 'up', [this.secondary]: 'up' }; // up | error | hang | unknown-app
    this.users = { [this.primary]: new Map(), [this.secondary]: new Map() };
    this.photos = new Map(); // key -> {body, contentType, lastModified}; shared = replicated
    this.pendingUploads = new Map();
    this.comments = [];
    this.tokens = new Map(); // token -> {region, username, email, kind}
    this.sessions = new Map();
    this.outbox = []; // {region, to, username, code}: the emails ForgotPassword sent
    this.requests = [];
    this.customDomain = false; // true: config.json has customDomain (for DOMAIN)
    this.domainRegion = this.primary; // the region api.<DOMAIN> currently resolves to
    this.domainMode = 'up'; // up | down (connection refused) | hang
    this.domainAnswer = null; // {status, body}: answer this instead of the state API's
    this.configOverrides = {}; // merged into config.json last
    this.mode = 'active-passive';
    this.drained = new Set(); // active-active: drained regions (the state item's `drained` set)
    this.stateDelayMs = {}; // region -> ms before its state API answers
    this.replicaLagMs = 500;
    for (const timer of this.timers ?? []) clearTimeout(timer);
    this.timers = [];
  }

  activeActive() {
    return this.mode === 'active-active';
  }

  other(region) {
    return region === this.primary ? this.secondary : this.primary;
  }

  /** Why a write in `region` is refused (409), as layers/application does; null when accepted. */
  writeRefusal(region, what) {
    const disabled = `${what} are disabled while the application is ${this.state}`;
    if (this.activeActive()) {
      if (this.state !== 'active') return disabled;
      return this.drained.has(region) ? `region ${region} is drained: use ${this.other(region)}` : null;
    }
    // comments.py checks the region first, photos.py the state
    if (what === 'comments' && region !== this.primary) return `comments go to the primary region ${this.primary}`;
    if (this.state !== 'active') return disabled;
    return region === this.primary ? null : `${what} go to the primary region ${this.primary}`;
  }

  /** Cognito's replica takes a password set in the primary's pool, `replicaLagMs` later. */
  replicatePassword(region, user) {
    if (region !== this.primary || this.config().userReplication !== 'native') return;
    const password = user.password;
    this.timers.push(setTimeout(() => {
      const copy = this.users[this.secondary].get(user.username.toLowerCase());
      if (copy) Object.assign(copy, { password, status: user.status });
    }, this.replicaLagMs));
  }

  addUser(region, username, password, { email = `${username}@example.com`, emailVerified = true, status = 'CONFIRMED', refused = false } = {}) {
    this.users[region].set(username.toLowerCase(), { username, password, email, emailVerified, status, refused });
  }

  addPhoto(key, body, { contentType = 'image/png', lastModified = new Date(), region = this.primary } = {}) {
    this.photos.set(key, { body, contentType, lastModified, region }); // region: the bucket written to
  }

  addComment(photoId, text, author = 'alice@example.com', createdAt = Date.now()) {
    this.comments.push({ commentId: randomUUID(), photoId, author, text, createdAt: String(createdAt) });
  }

  expireTokens() {
    this.tokens.clear();
  }

  /** Requests made to the API server, optionally filtered: {kind, region, method}. */
  calls(filter = {}) {
    return this.requests.filter((r) => Object.entries(filter).every(([k, v]) => r[k] === v));
  }

  config() {
    const regions = {};
    for (const region of [this.primary, this.secondary]) {
      regions[region] = {
        stateUrl: `${this.apiOrigin}/${region}/prod/state/${this.appId}`,
        apiUrl: `${this.apiOrigin}/${region}/prod/`,
        userPoolId: `${region}_StubPool`,
        userPoolClientId: `client-${region}`,
      };
    }
    const config = {
      appId: this.appId, primaryRegion: this.primary, secondaryRegion: this.secondary, regions,
      cognitoEndpoint: `${this.apiOrigin}/cognito/{region}/`, mode: this.mode,
    };
    if (this.customDomain) {
      config.customDomain = {
        siteUrl: `https://${DOMAIN}`,
        apiUrl: `https://${API_DOMAIN}/app/`,
        stateUrl: `https://${API_DOMAIN}/routing/state/${this.appId}`,
      };
    }
    return { ...config, ...this.configOverrides };
  }

  /** Answers https://api.<DOMAIN>/ in this page (Route 53 failover name): call before page.goto. */
  async routeCustomDomain(page) {
    await page.route(`https://${API_DOMAIN}/**`, async (route) => {
      const request = route.request();
      const url = new URL(request.url());
      const region = this.domainRegion;
      this.requests.push({ kind: 'domain', method: request.method(), path: url.pathname, region, at: Date.now() });
      if (this.domainMode === 'hang') return; // never answers (the site must time out)
      if (this.domainMode === 'down') return route.abort('connectionrefused').catch(() => {});
      const cors = { 'Access-Control-Allow-Origin': '*', 'Cache-Control': 'no-store' };
      const parts = url.pathname.split('/').filter(Boolean);
      let answer = { status: 403, body: { message: 'Forbidden' } }; // no base path mapping
      if (parts[0] === 'routing' && parts[1] === 'state' && parts.length === 3) {
        answer = this.domainAnswer ?? this.stateAnswer(region, parts[2]);
      } else if (parts[0] === 'app') {
        answer = { status: 401, body: { message: 'Unauthorized' } }; // not used by the site
      }
      if (!answer) return; // hang
      return route.fulfill({ status: answer.status, headers: cors, contentType: 'application/json', body: JSON.stringify(answer.body) })
        .catch(() => {});
    });
  }

  async start() {
    this.siteServer = createServer((req, res) => this.site(req, res).catch((err) => send(res, 500, { message: String(err) })));
    this.apiServer = createServer((req, res) => this.api(req, res).catch((err) => send(res, 500, { message: String(err) })));
    const listen = (server) => new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server.address().port)));
    this.siteOrigin = `http://127.0.0.1:${await listen(this.siteServer)}`;
    this.apiOrigin = `http://127.0.0.1:${await listen(this.apiServer)}`;
    this.url = `${this.siteOrigin}/`;
    return this;
  }

  async stop() {
    for (const server of [this.siteServer, this.apiServer]) {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  }

  // ---- the site ------------------------------------------------------------------------

  async site(req, res) {
    const url = new URL(req.url, this.siteOrigin);
    const headers = {
      'Content-Security-Policy': `default-src 'self'; connect-src 'self'${this.customDomain ? ` https://${API_DOMAIN}` : ''} ${this.apiOrigin}; img-src 'self' data: ${this.apiOrigin}`,
      'X-Content-Type-Options': 'nosniff',
      'X-Frame-Options': 'DENY',
      'Referrer-Policy': 'strict-origin-when-cross-origin',
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, { message: 'method not allowed' }, headers);
    if (url.pathname === '/config.json') return send(res, 200, this.config(), headers);
    const relative = url.pathname === '/' ? 'index.html' : decodeURIComponent(url.pathname.slice(1));
    const path = normalize(join(this.siteDir, relative));
    if (!path.startsWith(this.siteDir.endsWith(sep) ? this.siteDir : this.siteDir + sep)) return send(res, 403, { message: 'forbidden' }, headers);
    let body;
    try {
      body = await readFile(path);
    } catch {
      return send(res, 404, { message: 'not found' }, headers);
    }
    return send(res, 200, body, { ...headers, 'Content-Type': FILE_TYPES[extname(path)] || 'application/octet-stream' });
  }

  // ---- the APIs ------------------------------------------------------------------------

  async api(req, res) {
    const url = new URL(req.url, this.apiOrigin);
    const parts = url.pathname.split('/').filter(Boolean);
    const body = await readBody(req);
    const entry = { method: req.method, path: url.pathname, at: Date.now() };
    this.requests.push(entry);

    if (parts[0] === 'cognito') return this.cognito(req, res, Object.assign(entry, { kind: 'cognito', region: parts[1] }), body);
    if (parts[0] === 's3') return this.s3(req, res, Object.assign(entry, { kind: 's3', region: parts[1] }), parts.slice(2).map(decodeURIComponent).join('/'), body);
    const [region, stage, resource, ...rest] = parts;
    Object.assign(entry, { region });
    if (!this.users[region] || stage !== 'prod') return send(res, 404, { message: 'Missing Authentication Token' });
    if (resource === 'state') return this.stateApi(req, res, Object.assign(entry, { kind: 'state' }), rest);
    Object.assign(entry, { kind: resource });
    const cors = { 'Access-Control-Allow-Origin': '*' };
    if (req.method === 'OPTIONS') {
      return send(res, 204, undefined, {
        ...cors, 'Access-Control-Allow-Headers': 'Authorization,Content-Type', 'Access-Control-Allow-Methods': 'GET,POST,OPTIONS',
      });
    }
    const who = this.tokens.get(req.headers.authorization || '');
    if (!who || who.kind !== 'id' || who.region !== region) {
      return send(res, 401, { message: req.headers.authorization ? 'The incoming token has expired' : 'Unauthorized' }, cors);
    }
    entry.user = who.username;
    if (resource === 'photos' && rest.length === 0) return this.photosApi(req, res, region, body, cors);
    if (resource === 'comments' && rest.length === 1) return this.commentsApi(req, res, region, decodeURIComponent(rest[0]), body, who, cors);
    return send(res, 403, { message: 'Missing Authentication Token' }, cors);
  }

  async stateApi(req, res, entry, rest) {
    const cors = { 'Access-Control-Allow-Origin': '*' };
    if (req.method === 'OPTIONS') {
      return send(res, 204, undefined, { ...cors, 'Access-Control-Allow-Methods': 'GET,OPTIONS', 'Access-Control-Allow-Headers': 'Content-Type' });
    }
    const delay = this.stateDelayMs[entry.region];
    if (delay) await new Promise((resolve) => { setTimeout(resolve, delay); });
    const answer = this.stateAnswer(entry.region, rest[0]);
    if (!answer) return undefined; // never answers (the site must time out)
    return send(res, answer.status, answer.body, cors);
  }

  /** GET /state/{appId} of a region's state API (templates/routing.yaml): {status, body}, or null to hang. */
  stateAnswer(region, appId) {
    const mode = this.stateMode[region];
    if (mode === 'hang') return null;
    if (mode === 'error') return { status: 500, body: { message: 'state store unavailable' } };
    const common = { region, mode: this.mode };
    if (mode === 'unknown-app' || appId !== this.appId) {
      return { status: 404, body: { appId, state: null, message: 'unknown appId', ...common, drained: [], serving: false } };
    }
    const serving = this.activeActive() ? !this.drained.has(region) : region !== this.primary || this.state !== 'failover';
    return { status: 200, body: { appId: this.appId, state: this.state, ...common, drained: [...this.drained], serving } };
  }

  photosApi(req, res, region, raw, cors) {
    if (req.method === 'GET') {
      const photos = [...this.photos.entries()]
        .sort((a, b) => b[1].lastModified - a[1].lastModified)
        .map(([key, p]) => ({
          key, size: p.body.length, lastModified: p.lastModified.toISOString(),
          url: `${this.apiOrigin}/s3/${region}/${key.split('/').map(encodeURIComponent).join('/')}?X-Amz-Expires=900&X-Amz-Signature=stub`,
        }));
      return send(res, 200, { photos }, cors);
    }
    if (req.method !== 'POST') return send(res, 405, { message: `method ${req.method} not allowed` }, cors);
    const body = parseJson(raw);
    if (!body || typeof body !== 'object' || Array.isArray(body)) return send(res, 400, { message: 'body must be a JSON object' }, cors);
    const m = /\.([A-Za-z0-9]+)$/.exec(String(body.filename || ''));
    let ext = m && TYPES[m[1].toLowerCase()] ? m[1].toLowerCase() : null;
    ext ??= Object.keys(TYPES).find((e) => TYPES[e] === String(body.contentType || '').toLowerCase()) ?? null;
    if (!ext) return send(res, 400, { message: 'not a jpg, png, gif or webp image' }, cors);
    const refusal = this.writeRefusal(region, 'uploads');
    if (refusal) return send(res, 409, { message: refusal }, cors);
    const key = `photos/${randomUUID()}.${ext}`;
    this.pendingUploads.set(key, { contentType: TYPES[ext], region }); // the URL of this region's bucket
    return send(res, 201, {
      key, contentType: TYPES[ext], expiresIn: 900,
      uploadUrl: `${this.apiOrigin}/s3/${region}/${key}?X-Amz-Expires=900&X-Amz-SignedHeaders=content-type%3Bhost&X-Amz-Signature=stub`,
    }, cors);
  }

  commentsApi(req, res, region, photoId, raw, who, cors) {
    if (req.method === 'GET') {
      const items = this.comments.filter((c) => c.photoId === photoId)
        .map(({ commentId, author, text, createdAt }) => ({ commentId, photoId, author, text, createdAt }));
      return send(res, 200, items, cors);
    }
    if (req.method !== 'POST') return send(res, 405, { message: 'method not allowed' }, cors);
    const body = parseJson(raw);
    if (typeof body?.text !== 'string' || body.text.length < 1 || body.text.length > 2000) {
      return send(res, 400, { message: 'Invalid request body' }, cors);
    }
    const refusal = this.writeRefusal(region, 'comments');
    if (refusal) return send(res, 409, { message: refusal }, cors);
    const comment = { commentId: randomUUID(), photoId, author: who.email || who.username, text: body.text, createdAt: String(Date.now()) };
    this.comments.push({ ...comment, region });
    return send(res, 201, { commentId: comment.commentId, photoId, createdAt: comment.createdAt }, cors);
  }

  s3(req, res, entry, key, body) {
    const cors = { 'Access-Control-Allow-Origin': '*', 'Access-Control-Expose-Headers': 'ETag' };
    if (req.method === 'OPTIONS') {
      return send(res, 200, undefined, {
        ...cors, 'Access-Control-Allow-Methods': 'GET, PUT, HEAD', 'Access-Control-Allow-Headers': req.headers['access-control-request-headers'] || '*',
      });
    }
    if (req.method === 'PUT') {
      const expected = this.pendingUploads.get(key);
      if (!expected || entry.region !== expected.region) return send(res, 403, { message: 'SignatureDoesNotMatch' }, cors);
      if (req.headers['content-type'] !== expected.contentType) return send(res, 403, { message: 'SignatureDoesNotMatch (content-type)' }, cors);
      this.pendingUploads.delete(key);
      this.addPhoto(key, body, { contentType: expected.contentType, region: entry.region });
      return send(res, 200, undefined, { ...cors, ETag: '"stub"' });
    }
    const photo = this.photos.get(key);
    if (!photo) return send(res, 404, { message: 'NoSuchKey' }, cors);
    return send(res, 200, photo.body, { ...cors, 'Content-Type': photo.contentType });
  }

  // ---- Cognito user pools ----------------------------------------------------------------

  /** The secondary pool as a replica of Cognito's multi-Region replication (no user writes). */
  isReplica(region) {
    return region === this.secondary && this.config().userReplication === 'native';
  }

  issueTokens(region, user) {
    const now = Math.floor(Date.now() / 1000);
    const pool = `${region}_StubPool`;
    const claims = {
      sub: randomUUID(), 'cognito:username': user.username, email: user.email, token_use: 'id',
      iss: `https://cognito-idp.${region}.amazonaws.com/${pool}`, aud: `client-${region}`, iat: now, exp: now + 3600,
    };
    const idToken = `${b64url({ alg: 'RS256', kid: 'stub' })}.${b64url(claims)}.${b64url(randomUUID())}`;
    const accessToken = `${b64url({ alg: 'RS256', kid: 'stub' })}.${b64url({ ...claims, token_use: 'access' })}.${b64url(randomUUID())}`;
    this.tokens.set(idToken, { region, username: user.username, email: user.email, kind: 'id' });
    this.tokens.set(accessToken, { region, username: user.username, email: user.email, kind: 'access' });
    return { AuthenticationResult: { IdToken: idToken, AccessToken: accessToken, RefreshToken: b64url(randomUUID()), ExpiresIn: 3600, TokenType: 'Bearer' }, ChallengeParameters: {} };
  }

  cognito(req, res, entry, raw) {
    const cors = { 'Access-Control-Allow-Origin': '*' };
    if (req.method === 'OPTIONS') {
      return send(res, 200, undefined, {
        ...cors, 'Access-Control-Allow-Methods': 'POST', 'Access-Control-Allow-Headers': 'content-type,x-amz-target,x-amz-user-agent',
      });
    }
    const fail = (type, message) => send(res, 400, { __type: type, message }, { ...cors, 'Content-Type': 'application/x-amz-json-1.1' });
    const ok = (body) => send(res, 200, body, { ...cors, 'Content-Type': 'application/x-amz-json-1.1' });
    const target = String(req.headers['x-amz-target'] || '');
    entry.target = target.replace('AWSCognitoIdentityProviderService.', '');
    entry.contentType = req.headers['content-type'];
    const users = this.users[entry.region];
    if (!users || !target.startsWith('AWSCognitoIdentityProviderService.')) return fail('UnknownOperationException', 'unknown operation');
    if (req.headers['content-type'] !== 'application/x-amz-json-1.1') return fail('SerializationException', 'bad content type');
    const body = parseJson(raw) || {};
    entry.clientId = body.ClientId;
    const clientOk = body.ClientId === `client-${entry.region}`;
    const find = (name) => users.get(String(name || '').toLowerCase())
      || [...users.values()].find((u) => u.email.toLowerCase() === String(name || '').toLowerCase());

    switch (entry.target) {
      case 'InitiateAuth': {
        if (!clientOk) return fail('ResourceNotFoundException', 'User pool client does not exist.');
        if (body.AuthFlow !== 'USER_PASSWORD_AUTH') return fail('InvalidParameterException', 'unsupported auth flow');
        const user = find(body.AuthParameters?.USERNAME);
        if (user?.refused) {
          return fail('UserLambdaValidationException', 'PreAuthentication failed with error This user is not registered in the primary region.');
        }
        if (!user || user.password !== body.AuthParameters?.PASSWORD) return fail('NotAuthorizedException', 'Incorrect username or password.');
        if (user.status === 'FORCE_CHANGE_PASSWORD') {
          const session = randomUUID();
          this.sessions.set(session, { region: entry.region, username: user.username });
          return ok({
            ChallengeName: 'NEW_PASSWORD_REQUIRED', Session: session,
            ChallengeParameters: { USER_ID_FOR_SRP: user.username, requiredAttributes: '[]', userAttributes: JSON.stringify({ email: user.email }) },
          });
        }
        return ok(this.issueTokens(entry.region, user));
      }
      case 'RespondToAuthChallenge': {
        if (!clientOk) return fail('ResourceNotFoundException', 'User pool client does not exist.');
        const session = this.sessions.get(body.Session);
        if (!session || session.region !== entry.region || body.ChallengeName !== 'NEW_PASSWORD_REQUIRED') {
          return fail('NotAuthorizedException', 'Invalid session for the user, session is expired.');
        }
        const user = find(session.username);
        if (body.ChallengeResponses?.USERNAME !== user.username) return fail('NotAuthorizedException', 'Incorrect username or password.');
        if (!PASSWORD_POLICY.test(String(body.ChallengeResponses?.NEW_PASSWORD || ''))) {
          return fail('InvalidPasswordException', 'Password does not conform to policy: Password not long enough');
        }
        this.sessions.delete(body.Session);
        Object.assign(user, { password: body.ChallengeResponses.NEW_PASSWORD, status: 'CONFIRMED' });
        this.replicatePassword(entry.region, user);
        return ok(this.issueTokens(entry.region, user));
      }
      case 'ForgotPassword': {
        if (!clientOk) return fail('ResourceNotFoundException', 'User pool client does not exist.');
        if (this.isReplica(entry.region)) return fail('OperationNotEnabledException', 'Password resets are not supported in a secondary replica.');
        const user = find(body.Username);
        const mask = (email) => email.replace(/^(.)[^@]*@(.).*$/, '$1***@$2***');
        const details = (email) => ({ CodeDeliveryDetails: { Destination: mask(email), DeliveryMedium: 'EMAIL', AttributeName: 'email' } });
        if (!user) return ok(details(`${body.Username}@example.com`)); // PreventUserExistenceErrors: ENABLED
        if (user.status !== 'CONFIRMED') return fail('NotAuthorizedException', 'User password cannot be reset in the current state.');
        if (!user.emailVerified) {
          return fail('InvalidParameterException', 'Cannot reset password for the user as there is no registered/verified email or phone_number');
        }
        user.resetCode = String(100000 + Math.floor(Math.random() * 900000));
        this.outbox.push({ region: entry.region, to: user.email, username: user.username, code: user.resetCode });
        return ok(details(user.email));
      }
      case 'ConfirmForgotPassword': {
        if (!clientOk) return fail('ResourceNotFoundException', 'User pool client does not exist.');
        if (this.isReplica(entry.region)) return fail('OperationNotEnabledException', 'Password resets are not supported in a secondary replica.');
        const user = find(body.Username);
        if (!user?.resetCode || body.ConfirmationCode !== user.resetCode) {
          return fail('CodeMismatchException', 'Invalid verification code provided, please try again.');
        }
        if (!PASSWORD_POLICY.test(String(body.Password || ''))) {
          return fail('InvalidPasswordException', 'Password does not conform to policy: Password must have symbol characters');
        }
        Object.assign(user, { password: body.Password, status: 'CONFIRMED', resetCode: null });
        this.replicatePassword(entry.region, user);
        return ok({});
      }
      case 'GlobalSignOut': {
        const who = this.tokens.get(body.AccessToken);
        if (!who || who.kind !== 'access') return fail('NotAuthorizedException', 'Access Token has been revoked');
        for (const [token, owner] of this.tokens) if (owner.username === who.username && owner.region === who.region) this.tokens.delete(token);
        return ok({});
      }
      default:
        return fail('UnknownOperationException', `unsupported: ${entry.target}`);
    }
  }
}

export async function startStub(options) {
  return new Stub(options).start();
}
