// mraa photo-sharing demo: a state-aware client of the two-region deployment.
//
// config.json (same origin) names both regions; the application state (active, fenced,
// failover) is read from the primary region's state API, or from the secondary's when the
// primary does not answer. active and fenced target the primary region, failover the
// secondary. Uploads and comments are possible only while active, and the state is read
// again before each of them. Data from the APIs is rendered with text nodes only.
//
// With a custom domain (config.json customDomain), the banner also names the site's name and
// the Route 53 failover name of the APIs, and shows the state read through that name (once per
// refresh). That read is informational only: it never decides the region and its failure only
// shows the name as unreachable.
//
// Users in the secondary (config.json userReplication, absent on older deployments: "import"):
// "native" is Cognito's multi-Region replication, where passwords are replicated too; "import"
// copies users without their password, so they set one with "Forgot your password?".
//
// Active-active (config.json mode "active-active"; absent or anything else: active-passive): both
// regions serve. Both state APIs are read at once; the site keeps the region it uses while that
// region answers "serving" (not drained), and otherwise takes the first region that answers
// serving. Writes go to that region. When it is drained the site moves to the other one (the
// user signs in there). Password resets go to the primary's pool with native replication (a
// replica takes none), and the sign-in panel says so when the site serves from the secondary.

const STATES = ['active', 'fenced', 'failover'];
const STATE_TIMEOUT_MS = 3000;
const API_TIMEOUT_MS = 15000;
const UPLOAD_TIMEOUT_MS = 120000;
const MAX_UPLOAD_BYTES = 20 * 1024 * 1024;
const SESSION_KEY = 'mraa.session';
const IMAGE_TYPES = ['image/jpeg', 'image/png', 'image/gif', 'image/webp'];
// Shown when Cognito gives no message of its own (UserNotFoundException: always, so that a
// pool without PreventUserExistenceErrors does not tell which usernames exist).
const COGNITO_ERRORS = {
  NotAuthorizedException: 'Incorrect username or password.',
  PasswordResetRequiredException: 'A password reset is required for this account.',
  UserNotConfirmedException: 'This account is not confirmed yet.',
  TooManyRequestsException: 'Too many attempts. Wait a moment and try again.',
  LimitExceededException: 'Too many attempts. Wait a moment and try again.',
};

const app = {
  config: null,
  state: 'loading', // one of STATES, 'loading' or 'unknown'
  stateFrom: null, // region whose state API answered
  serving: true, // the region the site targets says it serves (active-active: it is not drained)
  drained: [], // active-active: the regions the state API names as drained
  domain: null, // {siteHost, siteUrl, apiHost, stateUrl} from config.customDomain, or null
  domainSeq: 0, // the latest read through the custom domain's state URL
  region: null, // region the site targets
  session: null,
  challenge: null,
  reset: null, // {region, username} while a password reset waits for its emailed code
  photos: new Map(), // photo key -> {list, status, form}
};

const $ = (id) => document.getElementById(id);

class ApiError extends Error {
  constructor(status, message, type = '') {
    super(message);
    this.status = status;
    this.type = type;
  }
}
class SessionEnded extends Error {}
class Refusal extends Error {} // a message for the user, shown as it is

// ---- DOM helpers: text only, never HTML ---------------------------------------------

function h(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else if (name === 'class') node.className = value;
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined) node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

function say(text) {
  $('status').textContent = text;
}

let alertSeq = 0;
function warn(text) {
  // cleared first, then set a moment later, so that a repeated message is announced again
  const alert = $('alert');
  const seq = ++alertSeq;
  alert.textContent = '';
  if (text) setTimeout(() => { if (seq === alertSeq) alert.textContent = text; }, 30);
}

function describe(err) {
  if (err?.name === 'AbortError') return 'no answer in time';
  return err?.message || String(err);
}

function formatTime(value) {
  const date = /^\d+$/.test(String(value ?? '')) ? new Date(Number(value)) : new Date(value);
  return Number.isNaN(date.getTime()) ? null : date;
}

function safeUrl(value) {
  try {
    const url = new URL(String(value), document.baseURI);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url.href : null;
  } catch {
    return null;
  }
}

// ---- network ------------------------------------------------------------------------

async function fetchWithTimeout(url, options, ms, read) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), ms);
  try {
    const response = await fetch(url, { cache: 'no-store', credentials: 'omit', ...options, signal: controller.signal });
    return read ? await read(response) : response;
  } finally {
    clearTimeout(timer);
  }
}

async function loadConfig() {
  const response = await fetch('config.json', { cache: 'no-store' });
  if (!response.ok) throw new Error(`config.json: HTTP ${response.status}`);
  const config = await response.json();
  for (const key of ['primaryRegion', 'secondaryRegion']) {
    if (!config?.[key]) throw new Error(`config.json has no ${key}`);
    for (const field of ['stateUrl', 'apiUrl', 'userPoolId', 'userPoolClientId']) {
      if (!config.regions?.[config[key]]?.[field]) throw new Error(`config.json has no regions.${config[key]}.${field}`);
    }
  }
  return config;
}

/** customDomain of config.json as {siteHost, siteUrl, apiHost, stateUrl}; null when absent or unusable. */
function customDomainOf(config) {
  const custom = config?.customDomain;
  if (!custom || typeof custom !== 'object') return null;
  const absolute = (value) => { // an absolute http(s) URL, never one relative to this page
    try {
      const url = new URL(String(value ?? ''));
      return (url.protocol === 'https:' || url.protocol === 'http:') && url.host ? url : null;
    } catch {
      return null;
    }
  };
  const site = absolute(custom.siteUrl);
  const api = absolute(custom.apiUrl);
  const state = absolute(custom.stateUrl);
  const domain = {
    siteHost: site?.host ?? null,
    siteUrl: site?.href ?? null,
    apiHost: api?.host ?? null,
    stateUrl: state?.href ?? null,
  };
  return domain.siteHost || domain.apiHost ? domain : null;
}

/** GET of a state URL: {state (one of STATES), serving, drained}, or throws. */
async function fetchState(url) {
  const body = await fetchWithTimeout(url, { method: 'GET' }, STATE_TIMEOUT_MS, async (r) => {
    if (!r.ok) throw new Error(`HTTP ${r.status}`);
    return r.json();
  });
  if (!STATES.includes(body?.state)) throw new Error(`unexpected state ${JSON.stringify(body?.state ?? null)}`);
  const drained = Array.isArray(body.drained) ? body.drained.filter((r) => typeof r === 'string') : [];
  return { state: body.state, serving: body.serving === true, drained };
}

function activeActive() {
  return app.config?.mode === 'active-active';
}

/** The application state: active-active reads both regions, active-passive the primary first. */
function readState() {
  return activeActive() ? readServingRegion() : readPrimaryFirst();
}

/** The application state, from the primary's state API, else from the secondary's. */
async function readPrimaryFirst() {
  const { primaryRegion, secondaryRegion, regions } = app.config;
  const failures = [];
  for (const region of [primaryRegion, secondaryRegion]) {
    try {
      return { ...(await fetchState(regions[region].stateUrl)), from: region, failures };
    } catch (err) {
      failures.push(`${region}: ${describe(err)}`);
    }
  }
  return { state: 'unknown', from: null, failures };
}

/**
 * Active-active: both state APIs at once. The region in use while it serves; else the first
 * region to answer serving (the nearer one, as Route 53 latency records would choose); else what
 * any region answered, not serving.
 */
async function readServingRegion() {
  const failures = [];
  const reads = new Map([app.config.primaryRegion, app.config.secondaryRegion].map((region) => [region,
    fetchState(app.config.regions[region].stateUrl).then((answer) => ({ ...answer, from: region }), (err) => {
      failures.push(`${region}: ${describe(err)}`);
      return null;
    })]));
  const firstServing = new Promise((resolve) => {
    let left = reads.size;
    for (const read of reads.values()) {
      read.then((answer) => {
        left -= 1;
        if (answer?.serving || left === 0) resolve(answer?.serving ? answer : null);
      });
    }
  });
  let chosen = app.region ? await reads.get(app.region) : null;
  if (!chosen?.serving) chosen = (await firstServing) ?? chosen;
  if (!chosen) {
    const answers = (await Promise.all(reads.values())).filter(Boolean);
    chosen = answers[0] ?? null;
  }
  return chosen ? { ...chosen, failures } : { state: 'unknown', from: null, serving: false, drained: [], failures };
}

function cognitoEndpoint(region) {
  const custom = app.config.cognitoEndpoint;
  return custom ? custom.replaceAll('{region}', region) : `https://cognito-idp.${region}.amazonaws.com/`;
}

async function cognito(region, action, body) {
  const response = await fetchWithTimeout(cognitoEndpoint(region), {
    method: 'POST',
    headers: {
      'Content-Type': 'application/x-amz-json-1.1',
      'X-Amz-Target': `AWSCognitoIdentityProviderService.${action}`,
    },
    body: JSON.stringify(body),
  }, API_TIMEOUT_MS);
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    const type = String(data.__type || data.code || '').split('#').pop();
    const message = type === 'UserNotFoundException' ? 'Incorrect username or password.'
      : data.message || data.Message || COGNITO_ERRORS[type] || `HTTP ${response.status}`;
    throw new ApiError(response.status, message, type);
  }
  return data;
}

async function api(method, path, body) {
  const session = app.session;
  if (!session) throw new SessionEnded('Please sign in.');
  const base = app.config.regions[session.region].apiUrl.replace(/\/?$/, '/');
  const headers = { Authorization: session.idToken };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const response = await fetchWithTimeout(base + path, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body),
  }, API_TIMEOUT_MS);
  const data = await response.json().catch(() => null);
  if (response.status === 401) {
    endSession('Your session has expired. Please sign in again.');
    throw new SessionEnded('Your session has expired. Please sign in again.');
  }
  if (!response.ok) throw new ApiError(response.status, data?.message || `HTTP ${response.status}`);
  return data;
}

// ---- custom domain (informational) -------------------------------------------------

/** Names the custom domain and the failover API name in the banner (nothing without one). */
function renderCustomDomain() {
  const domain = app.domain;
  const line = $('banner-domain');
  if (!domain) {
    line.replaceChildren();
    line.hidden = true;
    return;
  }
  const parts = [];
  if (domain.siteHost) {
    parts.push(h('span', {}, 'Custom domain: ',
      h('a', { id: 'banner-domain-site', href: domain.siteUrl }, domain.siteHost)));
  }
  if (domain.apiHost) {
    const routing = activeActive() ? 'Route 53 latency' : 'Route 53 failover';
    parts.push(h('span', {}, 'API: ', h('strong', { id: 'banner-domain-api' }, domain.apiHost), ` (${routing})`));
  }
  if (domain.stateUrl) {
    parts.push(h('span', {}, `State via ${new URL(domain.stateUrl).host}: `,
      h('strong', { id: 'banner-domain-state' }, 'checking…')));
  }
  line.replaceChildren(...parts.flatMap((part, i) => (i ? [h('span', { 'aria-hidden': 'true' }, ' · '), part] : [part])));
  line.hidden = false;
}

/** Reads the state through the custom domain's failover name; never throws, never waits the caller. */
function readCustomDomainState() {
  if (!app.domain?.stateUrl) return;
  const seq = ++app.domainSeq;
  const show = (text, status) => {
    const out = $('banner-domain-state');
    if (seq !== app.domainSeq || !out) return;
    out.textContent = text;
    out.dataset.status = status;
  };
  show('checking…', 'checking');
  fetchState(app.domain.stateUrl)
    .then(({ state }) => show(state, 'answered'), (err) => show(`unreachable (${describe(err)})`, 'unreachable'))
    .catch(() => {});
}

// ---- state --------------------------------------------------------------------------

/** How users reach the secondary's pool: 'native' (Cognito replication) or 'import'. */
function userReplication() {
  return app.config.userReplication === 'native' ? 'native' : 'import';
}

/** Signed in against the secondary, whose users were imported without their password. */
function importedPasswords() {
  return app.region !== app.config.primaryRegion && userReplication() === 'import';
}

// A native replica takes no password change or reset (the primary is the only writer) and no TOTP
// MFA (docs.aws.amazon.com/cognito/latest/developerguide/user-pool-multi-region.html): no reset is
// offered there. Everywhere else it is: an imported user has a random password nobody knows
// (layers/frontend/user_import.py) and sets one that way.
function renderPasswordHelp() {
  const replica = app.region !== app.config.primaryRegion && userReplication() === 'native';
  $('signin-failover-note').hidden = !importedPasswords();
  // Active-active: the primary's pool is in service, so a reset goes there (resetRegion()).
  $('signin-replicated-note').hidden = !replica || activeActive();
  $('forgot-password').hidden = replica && !activeActive();
  const primaryNote = $('signin-primary-note');
  primaryNote.hidden = !replica || !activeActive();
  primaryNote.textContent = primaryNote.hidden ? '' : `You are served from ${regionLabel(app.region)}. `
    + `Your account and password are replicated here. A password reset is made in the primary region ${app.config.primaryRegion}; `
    + 'the new password reaches this region shortly after.';
}

/** The pool a password reset goes to: the primary's in active-active with native replication. */
function resetRegion() {
  return activeActive() && userReplication() === 'native' ? app.config.primaryRegion : app.region;
}

function regionLabel(region) {
  if (!region) return '—';
  const role = region === app.config.primaryRegion ? 'primary' : 'secondary';
  return `${region} (${role})`;
}

function writable() {
  if (activeActive()) return app.state === 'active' && app.serving && app.session?.region === app.region;
  return app.state === 'active' && app.region === app.config.primaryRegion
    && app.session?.region === app.config.primaryRegion;
}

function readOnlyReason() {
  if (activeActive() && app.state === 'active' && !app.serving) {
    return 'No region answers that it serves: read-only until one does.';
  }
  switch (app.state) {
    case 'fenced': return 'Read-only mode: photo uploads and comments are disabled. Photos and comments can still be viewed.';
    case 'failover': return `Served from the secondary region ${app.region} after a failover: read-only, photo uploads and comments are disabled.`;
    case 'unknown': return 'The application state could not be read from either region: read-only until it can.';
    default: return 'Uploads and comments are enabled.';
  }
}

/** Shows a state read by readState(); returns true when the target region changed. */
function applyState(read) {
  const { state, from, failures } = read;
  const before = app.region;
  app.state = state;
  app.stateFrom = from;
  app.drained = read.drained ?? [];
  if (activeActive()) {
    app.serving = Boolean(read.serving);
    if (read.serving) app.region = from;
    else if (!before) app.region = app.config.primaryRegion;
    // no region serving: stay where we are (read-only) rather than switch regions
  } else if (state === 'failover') app.region = app.config.secondaryRegion;
  else if (state !== 'unknown' || !before) app.region = app.config.primaryRegion;
  // unknown after a known state: stay where we are (read-only) rather than switch regions

  const banner = $('banner');
  banner.dataset.state = state;
  $('banner-region').textContent = regionLabel(app.region);
  $('banner-state').textContent = state;
  $('banner-message').textContent = readOnlyReason();
  const note = $('banner-note');
  if (activeActive() && from) {
    note.textContent = app.drained.length
      ? `Drained: ${app.drained.join(', ')}. The site uses ${app.region}.` : '';
  } else if (from && from !== app.config.primaryRegion) {
    note.textContent = `The primary region's state service did not answer; the state was read from ${from}.`;
  } else if (!from) {
    note.textContent = `State services unreachable (${failures.join('; ')}).`;
  } else {
    note.textContent = '';
  }
  note.hidden = !note.textContent;
  document.title = `Photo sharing (${state}, ${app.region}) · Multi-Region Application Architecture demo`;
  $('signin-region').textContent = `You sign in to the user pool of ${regionLabel(app.region)}.`;
  renderPasswordHelp();
  renderWritable();
  return before !== null && before !== app.region;
}

function renderWritable() {
  const canWrite = writable();
  $('upload-fieldset').disabled = !canWrite;
  const note = $('read-only-note');
  note.hidden = canWrite;
  note.textContent = canWrite ? '' : readOnlyReason();
  for (const { form } of app.photos.values()) form.hidden = !canWrite;
}

/** Reads the state again before a write; true when the write may go ahead. */
async function recheckBeforeWrite(what) {
  const moved = applyState(await readState());
  if (moved) {
    regionChanged();
    return false;
  }
  if (app.state !== 'active') {
    warn(`${what} is not possible: the application is ${app.state} (read-only).`);
    return false;
  }
  if (!writable()) {
    warn(`${what} is not possible in ${app.region}.`);
    return false;
  }
  return true;
}

function regionChanged() {
  if (app.session && app.session.region !== app.region) {
    const drained = activeActive() && app.drained.includes(app.session.region);
    endSession(drained
      ? `${app.session.region} is drained: the site now uses ${regionLabel(app.region)}. Please sign in again.`
      : `The application now runs in ${regionLabel(app.region)}. Please sign in again.`);
  }
}

// ---- session ------------------------------------------------------------------------

function tokenClaims(token) {
  try {
    const part = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    const bytes = Uint8Array.from(atob(part.padEnd(Math.ceil(part.length / 4) * 4, '=')), (c) => c.charCodeAt(0));
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return {};
  }
}

function storedSession() {
  try {
    return JSON.parse(sessionStorage.getItem(SESSION_KEY) || 'null');
  } catch {
    return null;
  }
}

function startSession(region, result) {
  const claims = tokenClaims(result.IdToken);
  const expiresAt = claims.exp ? claims.exp * 1000 : Date.now() + (result.ExpiresIn || 3600) * 1000;
  app.session = {
    region,
    userPoolId: app.config.regions[region].userPoolId,
    username: claims.email || claims['cognito:username'] || 'user',
    idToken: result.IdToken,
    accessToken: result.AccessToken,
    expiresAt,
  };
  sessionStorage.setItem(SESSION_KEY, JSON.stringify(app.session));
  app.challenge = null;
  showApp();
  $('photos-heading').focus();
}

function endSession(message) {
  app.session = null;
  app.challenge = null;
  app.reset = null;
  sessionStorage.removeItem(SESSION_KEY);
  showSignIn();
  if (message) {
    warn(message);
    $('signin-heading').focus();
  }
}

async function signOut() {
  const session = app.session;
  endSession();
  say('Signed out.');
  if (session?.accessToken) {
    cognito(session.region, 'GlobalSignOut', { AccessToken: session.accessToken }).catch(() => {});
  }
}

function handleAuthResult(out, username, region) {
  if (out.AuthenticationResult?.IdToken) {
    startSession(region, out.AuthenticationResult);
    return;
  }
  const user = out.ChallengeParameters?.USER_ID_FOR_SRP || username;
  app.challenge = { name: out.ChallengeName, session: out.Session, username: user, region };
  if (out.ChallengeName === 'NEW_PASSWORD_REQUIRED') {
    showResetCode(null);
    showPanel('new-password-panel');
    say('Choose a new password to finish signing in.');
    $('new-password').focus();
  } else if (out.ChallengeName === 'SOFTWARE_TOKEN_MFA') {
    showPanel('mfa-panel');
    say('Enter the code from your authenticator app.');
    $('mfa-code').focus();
  } else {
    app.challenge = null;
    throw new Error(`this sign-in step (${out.ChallengeName || 'unknown'}) is not supported here`);
  }
}

function initiateAuth(region, username, password) {
  return cognito(region, 'InitiateAuth', {
    AuthFlow: 'USER_PASSWORD_AUTH',
    ClientId: app.config.regions[region].userPoolClientId,
    AuthParameters: { USERNAME: username, PASSWORD: password },
  });
}

/** The new-password panel asks for the emailed code during a reset (`sent` says where it went). */
function showResetCode(sent) {
  $('reset-code-field').hidden = !sent;
  $('reset-code').disabled = !sent; // not required while hidden
  $('new-password-note').hidden = Boolean(sent);
  $('reset-sent').hidden = !sent;
  $('reset-sent').textContent = sent || '';
}

/** ForgotPassword: Cognito emails a code to the user's verified address. */
async function requestReset(username) {
  const region = resetRegion();
  let out;
  try {
    out = await cognito(region, 'ForgotPassword', { ClientId: app.config.regions[region].userPoolClientId, Username: username });
  } catch (err) {
    throw new Refusal(`No code was sent: ${describe(err)}`);
  }
  app.reset = { region, username };
  const to = out.CodeDeliveryDetails?.Destination;
  showResetCode(`A code was emailed to ${to || 'the verified address of your account'}. Enter it with a new password.`);
  showPanel('new-password-panel');
  say('Check your email for the code.');
  $('reset-code').focus();
}

/** ConfirmForgotPassword with the code and the new password, then a sign-in with it. */
async function finishReset(form, password) {
  const { region, username } = app.reset;
  try {
    await cognito(region, 'ConfirmForgotPassword', {
      ClientId: app.config.regions[region].userPoolClientId,
      Username: username,
      ConfirmationCode: $('reset-code').value.trim(),
      Password: password,
    });
  } catch (err) {
    throw new Refusal(`The password was not reset: ${describe(err)}`);
  }
  form.reset();
  app.reset = null;
  say('Password changed. Signing in…');
  try {
    // in the region the site serves from; after a reset in the primary, its replica there has
    // the new password only once Cognito has replicated it (asynchronously)
    handleAuthResult(await initiateAuth(app.region, username, password), username, app.region);
  } catch (err) {
    endSession();
    $('username').value = username;
    if (region !== app.region && err.type === 'NotAuthorizedException') {
      throw new Refusal(`Your password was changed in the primary region ${region}. It reaches ${app.region} `
        + 'within moments: sign in again shortly.');
    }
    throw new Refusal(`Your password was changed, but the sign-in failed: ${describe(err)}`);
  }
}

async function respond(responses) {
  const { name, session, username, region } = app.challenge;
  const out = await cognito(region, 'RespondToAuthChallenge', {
    ChallengeName: name,
    ClientId: app.config.regions[region].userPoolClientId,
    Session: session,
    ChallengeResponses: { USERNAME: username, ...responses },
  });
  handleAuthResult(out, username, region);
}

// ---- views --------------------------------------------------------------------------

function showPanel(id) {
  for (const panel of ['signin-panel', 'forgot-panel', 'new-password-panel', 'mfa-panel', 'app-panel']) {
    $(panel).hidden = panel !== id;
  }
  $('user-bar').hidden = id !== 'app-panel';
}

function showSignIn() {
  showPanel('signin-panel');
  showResetCode(null);
  $('password').value = '';
  app.photos.clear();
  $('photo-list').replaceChildren();
}

function showApp() {
  showPanel('app-panel');
  $('user-name').textContent = app.session.username;
  renderWritable();
  loadPhotos().catch(report);
}

function renderPhoto(photo, index, total) {
  const key = String(photo.key ?? '');
  const when = formatTime(photo.lastModified);
  const n = index + 1;
  const img = h('img', {
    alt: `Photo ${n} of ${total}${when ? `, uploaded ${when.toLocaleString()}` : ''}`,
    loading: 'lazy', decoding: 'async',
  });
  const src = safeUrl(photo.url);
  if (src) img.src = src;
  const list = h('ol', { class: 'comment-list' });
  const status = h('p', { class: 'note comments-status' }, 'Loading comments…');
  const fieldId = `comment-${n}`;
  const text = h('textarea', { id: fieldId, name: 'text', rows: 2, maxlength: 2000, required: true });
  const button = h('button', { type: 'submit' }, 'Post comment');
  const form = h('form', { class: 'comment-form', hidden: !writable() },
    h('label', { for: fieldId }, `Add a comment on photo ${n}`), text, button);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    busy(button, () => postComment(key, text));
  });
  app.photos.set(key, { list, status, form });
  return h('li', { class: 'photo', 'data-key': key },
    h('figure', {}, img, h('figcaption', {}, h('span', { class: 'photo-key' }, key),
      when ? h('time', { datetime: when.toISOString() }, when.toLocaleString()) : null)),
    h('section', { class: 'comments', 'aria-label': `Comments on photo ${n}` },
      h('h3', {}, 'Comments'), status, list, form));
}

function renderComment(comment) {
  const when = formatTime(comment.createdAt);
  return h('li', { class: 'comment' },
    h('p', { class: 'comment-text' }, String(comment.text ?? '')),
    h('p', { class: 'comment-meta' },
      h('span', { class: 'comment-author' }, String(comment.author || 'anonymous')),
      when ? [' · ', h('time', { datetime: when.toISOString() }, when.toLocaleString())] : null));
}

async function loadPhotos() {
  say(`Loading photos from ${app.region}…`);
  const data = await api('GET', 'photos');
  const photos = Array.isArray(data?.photos) ? data.photos : [];
  app.photos.clear();
  $('photo-list').replaceChildren(...photos.map((p, i) => renderPhoto(p, i, photos.length)));
  $('photo-empty').hidden = photos.length > 0;
  say(`${photos.length} ${photos.length === 1 ? 'photo' : 'photos'} from ${app.region}.`);
  await Promise.all(photos.map((p) => loadComments(String(p.key ?? '')).catch(() => {})));
}

async function loadComments(key) {
  const view = app.photos.get(key);
  if (!view) return;
  try {
    const data = await api('GET', `comments/${encodeURIComponent(key)}`);
    const comments = (Array.isArray(data) ? data : data?.comments || [])
      .slice().sort((a, b) => (formatTime(a.createdAt) ?? 0) - (formatTime(b.createdAt) ?? 0));
    view.list.replaceChildren(...comments.map(renderComment));
    view.status.textContent = comments.length ? '' : 'No comments yet.';
    view.status.hidden = comments.length > 0;
  } catch (err) {
    view.status.hidden = false;
    view.status.textContent = `Comments could not be loaded: ${describe(err)}`;
    throw err;
  }
}

// ---- writes -------------------------------------------------------------------------

async function upload(file) {
  if (!file) {
    warn('Choose a photo first.');
    return;
  }
  if (!IMAGE_TYPES.includes(file.type) && !/\.(jpe?g|png|gif|webp)$/i.test(file.name)) {
    warn('Only JPEG, PNG, GIF or WebP images can be uploaded.');
    return;
  }
  if (file.size > MAX_UPLOAD_BYTES) {
    warn('That photo is larger than 20 MB.');
    return;
  }
  if (!(await recheckBeforeWrite('Uploading'))) return;
  say('Uploading…');
  const ticket = await api('POST', 'photos', { filename: file.name, contentType: file.type });
  const url = safeUrl(ticket?.uploadUrl);
  if (!url) throw new Error('no upload URL was returned');
  const put = await fetchWithTimeout(url, {
    method: 'PUT', headers: { 'Content-Type': ticket.contentType || file.type }, body: file,
  }, UPLOAD_TIMEOUT_MS);
  if (!put.ok) throw new Error(`the photo store answered HTTP ${put.status}`);
  $('upload-form').reset();
  say('Photo uploaded.');
  await loadPhotos();
  say('Photo uploaded.');
}

async function postComment(key, field) {
  const text = field.value.trim();
  if (!text) {
    warn('Write a comment first.');
    field.focus();
    return;
  }
  if (!(await recheckBeforeWrite('Commenting'))) return;
  await api('POST', `comments/${encodeURIComponent(key)}`, { text });
  field.value = '';
  say('Comment posted.');
  await loadComments(key);
}

function report(err) {
  if (err instanceof SessionEnded) return; // already said
  if (err instanceof Refusal) {
    warn(err.message);
    return;
  }
  if (err instanceof ApiError && err.status === 409) {
    warn(err.message);
    readState().then((s) => { if (applyState(s)) regionChanged(); }).catch(() => {});
    return;
  }
  warn(`Something went wrong: ${describe(err)}`);
}

async function busy(button, action) {
  warn('');
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  try {
    await action();
  } catch (err) {
    report(err);
  } finally {
    button.disabled = false;
    button.removeAttribute('aria-busy');
    renderWritable();
    // disabling the focused button dropped the focus: give it back unless it was moved on purpose
    if ((document.activeElement === document.body || !document.activeElement) && button.offsetParent) button.focus();
  }
}

async function refresh() {
  say('Reading the application state…');
  readCustomDomainState();
  const moved = applyState(await readState());
  if (moved) regionChanged();
  if (app.session) await loadPhotos();
  else say(`State: ${app.state}.`);
}

// ---- start --------------------------------------------------------------------------

function challengeFailed(form, err, what) {
  if (err instanceof ApiError && err.type === 'NotAuthorizedException') {
    // the challenge session is over (it lasts a few minutes): start again
    form.reset();
    endSession();
    throw new Refusal(`${what}: ${describe(err)} Please sign in again.`);
  }
  throw new Refusal(`${what}: ${describe(err)}`);
}

function wire() {
  $('signin-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const button = event.submitter || event.target.querySelector('button[type=submit]');
    busy(button, async () => {
      const username = $('username').value.trim();
      const password = $('password').value;
      const region = app.region;
      try {
        const out = await initiateAuth(region, username, password);
        $('password').value = '';
        handleAuthResult(out, username, region);
      } catch (err) {
        $('password').value = '';
        $('password').focus();
        const hint = err.type === 'NotAuthorizedException' && importedPasswords()
          ? ' Passwords are not copied between regions: set a new one with “Forgot your password?”.' : '';
        throw new Refusal(`Sign-in failed: ${describe(err)}${hint}`);
      }
    });
  });
  $('new-password-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const button = event.submitter || event.target.querySelector('button[type=submit]');
    busy(button, async () => {
      const password = $('new-password').value;
      if (password !== $('confirm-password').value) {
        warn('The two passwords differ.');
        $('confirm-password').focus();
        return;
      }
      if (app.reset) {
        await finishReset(event.target, password);
        return;
      }
      try {
        await respond({ NEW_PASSWORD: password });
        event.target.reset();
      } catch (err) {
        challengeFailed(event.target, err, 'The new password was not accepted');
      }
    });
  });
  $('forgot-password').addEventListener('click', () => {
    warn('');
    $('forgot-username').value = $('username').value.trim();
    showPanel('forgot-panel');
    say('Enter your username or email to get a code.');
    $('forgot-username').focus();
  });
  $('forgot-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const button = event.submitter || event.target.querySelector('button[type=submit]');
    busy(button, () => requestReset($('forgot-username').value.trim()));
  });
  $('mfa-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const button = event.submitter || event.target.querySelector('button[type=submit]');
    busy(button, async () => {
      try {
        await respond({ SOFTWARE_TOKEN_MFA_CODE: $('mfa-code').value.trim() });
        event.target.reset();
      } catch (err) {
        challengeFailed(event.target, err, 'The code was not accepted');
      }
    });
  });
  for (const cancel of document.querySelectorAll('.cancel-challenge')) {
    cancel.addEventListener('click', () => {
      const what = app.reset || cancel.form.id === 'forgot-form' ? 'Password reset' : 'Sign-in';
      cancel.form.reset();
      endSession();
      say(`${what} cancelled.`);
      $('username').focus();
    });
  }
  $('upload-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const button = event.submitter || event.target.querySelector('button[type=submit]');
    busy(button, () => upload($('photo-file').files[0]));
  });
  $('sign-out').addEventListener('click', () => signOut());
  $('refresh').addEventListener('click', (event) => busy(event.currentTarget, refresh));
}

async function start() {
  wire();
  try {
    app.config = await loadConfig();
  } catch (err) {
    $('banner').dataset.state = 'unknown';
    $('banner-message').textContent = 'The site configuration could not be loaded.';
    warn(`Cannot start: ${describe(err)}`);
    return;
  }
  try {
    app.domain = customDomainOf(app.config);
    renderCustomDomain();
    readCustomDomainState();
  } catch {
    app.domain = null; // informational only: the regional behaviour goes on without it
  }
  const saved = storedSession();
  // active-active: keep a stored session's region while it serves
  if (activeActive() && app.config.regions[saved?.region]) app.region = saved.region;
  applyState(await readState());
  if (saved && saved.region === app.region && saved.userPoolId === app.config.regions[app.region].userPoolId
      && saved.expiresAt > Date.now() + 30000 && saved.idToken) {
    app.session = saved;
    showApp();
    return;
  }
  endSession(saved ? (saved.region !== app.region
    ? `The application now runs in ${regionLabel(app.region)}. Please sign in again.`
    : 'Your session has expired. Please sign in again.') : '');
  say(`State: ${app.state}. Please sign in.`);
}

start();
