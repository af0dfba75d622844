// The demo site (layers/frontend/site) in headless Chromium against the in-memory stub.
// Run: bash layers/tests/browser/run.sh   (or: cd layers/tests/browser && node --test)
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, beforeEach, describe, test } from 'node:test';

import { launch, newPage } from './browser.mjs';
import { landscape } from './png.mjs';
import { API_DOMAIN, DOMAIN, startStub } from './stub.mjs';

const PRIMARY = 'us-east-1';
const SECONDARY = 'ap-northeast-1';
const PASSWORD = 'Correct-Horse-42!';
const TEMPORARY = 'Temporary-Pass-1!';
const NEW_PASSWORD = 'Brand-New-Pass-7?';
const IMPORT_NOTE = 'The application runs in the secondary region. Passwords are not copied between regions: to sign in '
  + 'here, set a new password with “Forgot your password?”. A code is emailed to your verified address.';
const REPLICATED_NOTE = 'Your account and password are replicated: sign in as usual. Password changes and resets wait until '
  + 'the primary region is back. If you use an authenticator app (TOTP) for MFA, sign-in here is not possible until then.';
const SEED_PHOTO = 'photos/11111111-2222-4333-8444-555555555555.png';

let stub;
let browser;
const pages = [];

before(async () => {
  stub = await startStub();
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await stub?.stop();
});

beforeEach(() => {
  stub.reset();
  stub.addUser(PRIMARY, 'alice', PASSWORD);
  // imported into the secondary pool by the user-import function (layers/frontend/user_import.py):
  // CONFIRMED, with her verified email and a random password nobody knows
  stub.addUser(SECONDARY, 'alice', `Unknown-${randomUUID()}`);
  // created by an administrator in the primary (mraa deploy --admin-email): a temporary password
  stub.addUser(PRIMARY, 'dave', TEMPORARY, { status: 'FORCE_CHANGE_PASSWORD' });
  stub.addPhoto(SEED_PHOTO, landscape(0), { lastModified: new Date(Date.now() - 3_600_000) });
  stub.addComment(SEED_PHOTO, 'What a view!', 'bob@example.com', Date.now() - 1_800_000);
});

/** Opens the site in a fresh context with the given state; waits for the banner. */
async function open(state, { timeout = 10_000 } = {}) {
  stub.state = state;
  const page = await newPage(browser);
  page.setDefaultTimeout(10_000);
  pages.push(page);
  await stub.routeCustomDomain(page); // api.<DOMAIN>, only ever reached when config.json names it
  await page.goto(stub.url);
  await page.locator('#banner-state', { hasText: new RegExp(`^(${state}|unknown)$`) }).waitFor({ timeout });
  return page;
}

// The sign-in and reset panels both ask for "Username or email": the sign-in one is meant.
const signInUsername = (page) => page.locator('#signin-form').getByLabel('Username or email');

async function signIn(page, username = 'alice', password = PASSWORD) {
  await signInUsername(page).fill(username);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/** Fills the "Choose a new password" panel and submits it. */
async function setNewPassword(page, password, confirm = password) {
  await page.getByLabel('New password', { exact: true }).fill(password);
  await page.getByLabel('Confirm new password').fill(confirm);
  await page.getByRole('button', { name: 'Set password and sign in' }).click();
}

/** "Forgot your password?" from the sign-in panel, up to the panel that asks for the emailed code. */
async function requestCode(page, username = 'alice') {
  await signInUsername(page).fill(username);
  await page.getByRole('button', { name: 'Forgot your password?' }).click();
  await page.getByRole('button', { name: 'Email me a code' }).click();
  await page.getByLabel('Code from the email').waitFor();
}

/** The whole reset, with the code the stub emailed; signs in. */
async function resetPassword(page, username = 'alice', password = NEW_PASSWORD) {
  await requestCode(page, username);
  await page.getByLabel('Code from the email').fill(stub.outbox.at(-1).code);
  await setNewPassword(page, password);
}

async function signedIn(page) {
  await page.locator('#app-panel').waitFor();
  await page.locator('#photo-list > li').first().waitFor();
}

const text = (page, selector) => page.locator(selector).innerText();
const alertText = async (page, pattern) => {
  await page.locator('#alert', { hasText: pattern }).waitFor();
  return text(page, '#alert');
};

function noProblems(page) {
  assert.deepEqual(page.problems, [], 'no CSP violation or script error');
}

function indexOf(predicate, from = 0) {
  const i = stub.requests.findIndex((r, n) => n >= from && predicate(r));
  return i;
}

async function closeAll() {
  while (pages.length) await pages.pop().context().close();
}

describe('demo site', { timeout: 120_000 }, () => {
  beforeEach(closeAll);
  after(closeAll);

  test('active: primary region, upload and comment work and are shown', async () => {
    const page = await open('active');
    assert.equal(await text(page, '#banner-region'), `${PRIMARY} (primary)`);
    assert.equal(await text(page, '#banner-message'), 'Uploads and comments are enabled.');
    assert.equal(await page.locator('#banner-note').isVisible(), false);

    await signIn(page);
    await signedIn(page);
    assert.equal(await text(page, '#user-name'), 'alice@example.com');
    await page.locator('.comment-text', { hasText: 'What a view!' }).waitFor();
    assert.equal(await page.getByRole('button', { name: 'Upload' }).isEnabled(), true);

    // upload: the state is read again, then POST /photos, then PUT to the presigned URL
    const signInAt = indexOf((r) => r.target === 'InitiateAuth');
    await page.getByLabel('Photo (JPEG, PNG, GIF or WebP)').setInputFiles({ name: 'sunset.png', mimeType: 'image/png', buffer: landscape(1) });
    await page.getByRole('button', { name: 'Upload' }).click();
    await page.locator('#photo-list > li').nth(1).waitFor();
    await page.locator('#status', { hasText: 'Photo uploaded.' }).waitFor();
    const post = indexOf((r) => r.kind === 'photos' && r.method === 'POST');
    assert.ok(post > 0 && stub.requests[post].region === PRIMARY, 'POST /photos in the primary');
    const recheck = stub.requests.findLastIndex((r, n) => n < post && r.kind === 'state');
    assert.ok(recheck > signInAt, 'state read again before the upload');
    assert.ok(indexOf((r) => r.kind === 's3' && r.method === 'PUT', post) > post, 'file PUT to the presigned URL');
    assert.equal(stub.photos.size, 2);
    const newest = [...stub.photos.entries()].sort((a, b) => b[1].lastModified - a[1].lastModified)[0];
    assert.match(newest[0], /^photos\/[0-9a-f-]{36}\.png$/, 'server-generated key');
    assert.equal(newest[1].contentType, 'image/png');
    assert.equal(await page.locator('#photo-list > li').first().getAttribute('data-key'), newest[0]);
    const loaded = await page.locator('#photo-list > li img').first().evaluate(async (img) => {
      await img.decode().catch(() => {});
      return img.naturalWidth;
    });
    assert.equal(loaded, 320, 'the uploaded photo is displayed');

    // comment on the new photo; markup in the text stays text
    const comment = 'Lovely <b>sunset</b> & "golden" hour <img src=x onerror=alert(1)>';
    const before = stub.requests.length;
    await page.getByLabel('Add a comment on photo 1').fill(comment);
    await page.locator('#photo-list > li').first().getByRole('button', { name: 'Post comment' }).click();
    await page.locator('#photo-list > li').first().locator('.comment-text').first().waitFor();
    assert.equal(await page.locator('#photo-list > li').first().locator('.comment-text').first().textContent(), comment);
    assert.equal(await page.locator('#photo-list b, #photo-list .comment img').count(), 0, 'no markup rendered');
    assert.equal(await page.getByLabel('Add a comment on photo 1').inputValue(), '');
    const postComment = indexOf((r) => r.kind === 'comments' && r.method === 'POST', before);
    assert.ok(postComment > 0);
    assert.equal(stub.requests[postComment].path, `/${PRIMARY}/prod/comments/${encodeURIComponent(newest[0])}`);
    assert.ok(stub.requests.slice(before, postComment).some((r) => r.kind === 'state'), 'state read again before the comment');
    assert.deepEqual(stub.comments.at(-1), {
      ...stub.comments.at(-1), photoId: newest[0], text: comment, author: 'alice@example.com', region: PRIMARY,
    });
    noProblems(page);
  });

  test('fenced: read-only message, upload and comments disabled, everything still viewable', async () => {
    const page = await open('fenced');
    assert.equal(await text(page, '#banner-region'), `${PRIMARY} (primary)`);
    assert.match(await text(page, '#banner-message'), /^Read-only mode: photo uploads and comments are disabled\./);
    await signIn(page);
    await signedIn(page);
    await page.locator('.comment-text', { hasText: 'What a view!' }).waitFor();
    assert.equal(await page.locator('#upload-fieldset').evaluate((el) => el.disabled), true);
    assert.equal(await page.getByRole('button', { name: 'Upload' }).isDisabled(), true);
    assert.equal(await page.getByLabel('Photo (JPEG, PNG, GIF or WebP)').isDisabled(), true);
    assert.equal(await page.locator('.comment-form').first().isVisible(), false);
    assert.equal(await page.getByRole('button', { name: 'Post comment' }).count(), 0, 'no visible comment button');
    assert.match(await text(page, '#read-only-note'), /Read-only mode/);
    assert.equal(stub.calls({ kind: 'photos', method: 'GET', region: PRIMARY }).length, 1);
    assert.equal(stub.requests.filter((r) => r.method === 'POST' && r.kind !== 'cognito').length, 0);
    noProblems(page);
  });

  test('failover, user import: passwords are not copied, "Forgot your password?" emails a code, then sign-in', async () => {
    const page = await open('failover');
    assert.equal(await text(page, '#banner-region'), `${SECONDARY} (secondary)`);
    assert.match(await text(page, '#banner-message'), new RegExp(`^Served from the secondary region ${SECONDARY} after a failover: read-only`));
    assert.equal(await text(page, '#signin-failover-note'), IMPORT_NOTE);
    assert.equal(await page.locator('#signin-replicated-note').isVisible(), false);

    // the primary's password does not work here, and the site says why
    await signIn(page);
    assert.equal(await alertText(page, /Sign-in failed/),
      'Sign-in failed: Incorrect username or password. Passwords are not copied between regions: set a new one with “Forgot your password?”.');

    await page.getByRole('button', { name: 'Forgot your password?' }).click();
    await page.getByRole('heading', { name: 'Reset your password' }).waitFor();
    assert.equal(await page.locator('#forgot-form').getByLabel('Username or email').inputValue(), 'alice', 'taken from the sign-in');
    assert.equal(await page.evaluate(() => document.activeElement.id), 'forgot-username');
    await page.getByRole('button', { name: 'Email me a code' }).click();
    await page.getByRole('heading', { name: 'Choose a new password' }).waitFor();
    assert.equal(await text(page, '#reset-sent'), 'A code was emailed to a***@e***. Enter it with a new password.');
    assert.equal(await page.locator('#new-password-note').isVisible(), false);
    assert.equal(await page.evaluate(() => document.activeElement.id), 'reset-code');
    assert.deepEqual(stub.outbox.map(({ region, to }) => [region, to]), [[SECONDARY, 'alice@example.com']]);

    // a wrong code, two passwords that differ, a password the policy refuses: each is said
    await page.getByLabel('Code from the email').fill('000000');
    await setNewPassword(page, NEW_PASSWORD);
    assert.equal(await alertText(page, /code/), 'The password was not reset: Invalid verification code provided, please try again.');
    await page.getByLabel('Code from the email').fill(stub.outbox[0].code);
    await setNewPassword(page, NEW_PASSWORD, 'Brand-New-Pass-8?');
    assert.equal(await alertText(page, /differ/), 'The two passwords differ.');
    await setNewPassword(page, 'abcdefghijklmnop');
    assert.match(await alertText(page, /policy/), /^The password was not reset: Password does not conform to policy/);
    await setNewPassword(page, NEW_PASSWORD);
    await signedIn(page);
    await page.locator('.comment-text', { hasText: 'What a view!' }).waitFor();
    assert.equal(stub.users[SECONDARY].get('alice').password, NEW_PASSWORD);

    const cognitoCalls = stub.calls({ kind: 'cognito', method: 'POST' });
    assert.deepEqual(cognitoCalls.map((c) => c.target), ['InitiateAuth', 'ForgotPassword', 'ConfirmForgotPassword',
      'ConfirmForgotPassword', 'ConfirmForgotPassword', 'InitiateAuth']);
    assert.ok(cognitoCalls.every((c) => c.region === SECONDARY && c.clientId === `client-${SECONDARY}`));
    assert.ok(cognitoCalls.every((c) => c.contentType === 'application/x-amz-json-1.1'));
    const apiCalls = stub.requests.filter((r) => r.kind === 'photos' || r.kind === 'comments' || r.kind === 's3');
    assert.ok(apiCalls.length >= 2);
    assert.ok(apiCalls.every((r) => r.region === SECONDARY), 'every API call goes to the secondary');
    assert.match(await page.locator('#photo-list img').first().getAttribute('src'), new RegExp(`/s3/${SECONDARY}/`));
    assert.equal(await page.getByRole('button', { name: 'Upload' }).isDisabled(), true);
    assert.equal(await page.getByRole('button', { name: 'Post comment' }).count(), 0);
    assert.match(await text(page, '#read-only-note'), /secondary region/);
    noProblems(page);
  });

  test('failover, native replication: passwords are replicated, no reset is offered in the secondary', async () => {
    stub.configOverrides = { userReplication: 'native' };
    stub.addUser(SECONDARY, 'alice', PASSWORD); // the replica shares the primary's users and passwords
    const page = await open('failover');
    assert.equal(await text(page, '#signin-replicated-note'), REPLICATED_NOTE);
    assert.equal(await page.locator('#signin-failover-note').isVisible(), false);
    assert.equal(await page.getByRole('button', { name: 'Forgot your password?' }).count(), 0, 'no reset button');
    await signIn(page, 'alice', 'wrong-password');
    assert.equal(await alertText(page, /Sign-in failed/), 'Sign-in failed: Incorrect username or password.');
    await signIn(page);
    await signedIn(page);
    assert.deepEqual(stub.calls({ kind: 'cognito' }).map((c) => `${c.target} ${c.region}`),
      [`InitiateAuth ${SECONDARY}`, `InitiateAuth ${SECONDARY}`]);
    noProblems(page);
  });

  test('"Forgot your password?" in the primary, whatever the user replication', async () => {
    for (const userReplication of [undefined, 'import', 'native']) {
      stub.configOverrides = userReplication ? { userReplication } : {};
      const page = await open('active');
      assert.equal(await page.locator('#signin-failover-note').isVisible(), false, userReplication);
      assert.equal(await page.locator('#signin-replicated-note').isVisible(), false, userReplication);
      const password = `Reset-${userReplication}-Pass-1!`;
      await resetPassword(page, 'alice', password);
      await signedIn(page);
      assert.equal(stub.users[PRIMARY].get('alice').password, password);
      noProblems(page);
      await closeAll();
    }
    assert.deepEqual(stub.outbox.map((m) => m.region), [PRIMARY, PRIMARY, PRIMARY]);
    assert.ok(stub.calls({ kind: 'cognito' }).every((c) => c.region === PRIMARY));
  });

  test('a reset Cognito refuses shows its reason; cancelling a reset goes back to sign-in', async () => {
    // imported earlier in FORCE_CHANGE_PASSWORD, not yet repaired by the user import
    stub.addUser(SECONDARY, 'bob', `Unknown-${randomUUID()}`, { status: 'FORCE_CHANGE_PASSWORD' });
    const page = await open('failover');
    await page.getByRole('button', { name: 'Forgot your password?' }).click();
    await page.locator('#forgot-form').getByLabel('Username or email').fill('bob');
    await page.getByRole('button', { name: 'Email me a code' }).click();
    assert.equal(await alertText(page, /No code/), 'No code was sent: User password cannot be reset in the current state.');
    assert.equal(await page.locator('#forgot-panel').isVisible(), true);
    await page.getByRole('button', { name: 'Cancel' }).click();
    await page.locator('#status', { hasText: 'Password reset cancelled.' }).waitFor();
    assert.equal(await page.locator('#signin-panel').isVisible(), true);
    noProblems(page);

    // cancelled once the code was sent: a later new-password challenge asks for no code
    await closeAll();
    const primary = await open('active');
    await requestCode(primary);
    await primary.getByRole('button', { name: 'Cancel' }).click();
    await primary.locator('#status', { hasText: 'Password reset cancelled.' }).waitFor();
    await signIn(primary, 'dave', TEMPORARY);
    await primary.getByRole('heading', { name: 'Choose a new password' }).waitFor();
    assert.equal(await primary.locator('#reset-code-field').isVisible(), false);
    assert.equal(await primary.locator('#new-password-note').isVisible(), true);
    await setNewPassword(primary, NEW_PASSWORD);
    await signedIn(primary);
    noProblems(primary);
  });

  test('active: a user an administrator created chooses a new password at the first sign-in', async () => {
    const page = await open('active');
    await signIn(page, 'dave', TEMPORARY);
    await page.getByRole('heading', { name: 'Choose a new password' }).waitFor();
    assert.equal(await page.locator('#reset-code-field').isVisible(), false, 'no code asked');
    // a password the pool's policy refuses: the Cognito message is shown
    await setNewPassword(page, 'abcdefghijklmnop');
    assert.match(await alertText(page, /not accepted/), /^The new password was not accepted: Password does not conform to policy/);
    await setNewPassword(page, NEW_PASSWORD);
    await signedIn(page);
    assert.deepEqual(stub.calls({ kind: 'cognito', method: 'POST' }).map((c) => c.target),
      ['InitiateAuth', 'RespondToAuthChallenge', 'RespondToAuthChallenge']);
    noProblems(page);
  });

  test('primary state API failing: the state is read from the secondary', async () => {
    stub.stateMode[PRIMARY] = 'error';
    const page = await open('active');
    assert.equal(await text(page, '#banner-region'), `${PRIMARY} (primary)`, 'active still targets the primary');
    assert.match(await text(page, '#banner-note'), new RegExp(`state was read from ${SECONDARY}`));
    const stateCalls = stub.calls({ kind: 'state', method: 'GET' });
    assert.deepEqual(stateCalls.map((r) => r.region), [PRIMARY, SECONDARY]);
    await signIn(page);
    await signedIn(page);
    assert.equal(await page.getByRole('button', { name: 'Upload' }).isEnabled(), true);
    noProblems(page);
  });

  test('primary state API not answering: falls back to the secondary after about 3 s', async () => {
    stub.stateMode[PRIMARY] = 'hang';
    const started = Date.now();
    const page = await open('failover', { timeout: 15_000 });
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= 2_500 && elapsed < 10_000, `fell back after ${elapsed} ms`);
    assert.equal(await text(page, '#banner-region'), `${SECONDARY} (secondary)`);
    assert.match(await text(page, '#banner-note'), new RegExp(`state was read from ${SECONDARY}`));
    noProblems(page);
  });

  test('no state API answering: read-only against the primary, both failures named', async () => {
    stub.stateMode[PRIMARY] = 'error';
    stub.stateMode[SECONDARY] = 'unknown-app';
    const page = await open('unknown');
    assert.equal(await text(page, '#banner-region'), `${PRIMARY} (primary)`);
    assert.match(await text(page, '#banner-note'), new RegExp(`${PRIMARY}: HTTP 500; ${SECONDARY}: HTTP 404`));
    await signIn(page);
    await signedIn(page);
    assert.equal(await page.getByRole('button', { name: 'Upload' }).isDisabled(), true);
    noProblems(page);
  });

  test('state unreadable later on: the page stays in its region, read-only', async () => {
    const page = await open('failover');
    await resetPassword(page);
    await signedIn(page);
    stub.stateMode[PRIMARY] = 'error';
    stub.stateMode[SECONDARY] = 'error';
    await page.getByRole('button', { name: 'Refresh' }).click();
    await page.locator('#banner-state', { hasText: 'unknown' }).waitFor();
    assert.equal(await text(page, '#banner-region'), `${SECONDARY} (secondary)`);
    assert.equal(await page.locator('#app-panel').isVisible(), true, 'still signed in');
    assert.equal(await page.getByRole('button', { name: 'Upload' }).isDisabled(), true);
    noProblems(page);
  });

  test('sign-in: wrong password message, keyboard sign-in, session kept on reload, sign-out', async () => {
    const page = await open('active');
    await signIn(page, 'alice', 'wrong-password');
    assert.equal(await alertText(page, /Sign-in failed/), 'Sign-in failed: Incorrect username or password.');
    assert.equal(await page.locator('#signin-panel').isVisible(), true);
    assert.equal(await page.getByLabel('Password', { exact: true }).inputValue(), '', 'password field cleared');
    assert.equal(await page.evaluate(() => document.activeElement.id), 'password', 'focus back on the password');
    assert.equal(await page.evaluate(() => sessionStorage.getItem('mraa.session')), null);

    // keyboard only: Tab from the username to the password, Enter submits
    await signInUsername(page).fill('');
    await signInUsername(page).focus();
    await page.keyboard.type('alice@example.com'); // the e-mail alias works too
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement.id), 'password');
    await page.keyboard.type(PASSWORD);
    await page.keyboard.press('Enter');
    await signedIn(page);
    assert.equal(await page.evaluate(() => document.activeElement.id), 'photos-heading', 'focus moves to the photos');
    assert.equal(await text(page, '#alert'), '');
    const saved = JSON.parse(await page.evaluate(() => sessionStorage.getItem('mraa.session')));
    assert.equal(saved.region, PRIMARY);
    assert.equal(saved.userPoolId, `${PRIMARY}_StubPool`);
    assert.ok(saved.idToken && saved.expiresAt > Date.now());

    // a reload keeps the session (sessionStorage), no new sign-in
    const initiates = stub.calls({ target: 'InitiateAuth' }).length;
    await page.reload();
    await signedIn(page);
    assert.equal(stub.calls({ target: 'InitiateAuth' }).length, initiates);

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.locator('#signin-panel').waitFor();
    assert.equal(await page.evaluate(() => sessionStorage.getItem('mraa.session')), null);
    assert.equal(await page.locator('#photo-list > li').count(), 0);
    await page.locator('#status', { hasText: 'Signed out.' }).waitFor();
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(stub.calls({ target: 'GlobalSignOut' }).length, 1, 'tokens revoked');
    noProblems(page);
  });

  test('a new-password challenge that timed out sends the user back to sign in', async () => {
    const page = await open('active');
    await signIn(page, 'dave', TEMPORARY);
    await page.getByRole('heading', { name: 'Choose a new password' }).waitFor();
    stub.sessions.clear(); // Cognito's AuthSessionValidity (3 minutes) has passed
    await setNewPassword(page, NEW_PASSWORD);
    assert.equal(await alertText(page, /not accepted/),
      'The new password was not accepted: Invalid session for the user, session is expired. Please sign in again.');
    assert.equal(await page.locator('#signin-panel').isVisible(), true);
    assert.equal(await page.getByLabel('New password', { exact: true }).inputValue(), '', 'nothing kept');
    noProblems(page);
  });

  test('sign-in refused by the secondary pre-authentication trigger shows its reason', async () => {
    stub.addUser(SECONDARY, 'mallory', 'Whatever-Pass-1!', { refused: true });
    const page = await open('failover');
    await signIn(page, 'mallory', 'Whatever-Pass-1!');
    assert.match(await alertText(page, /Sign-in failed/), /This user is not registered in the primary region\./);
    noProblems(page);
  });

  test('state re-checked before a write: fenced after loading blocks upload and comment', async () => {
    const page = await open('active');
    await signIn(page);
    await signedIn(page);
    await page.getByLabel('Add a comment on photo 1').fill('too late');

    stub.state = 'fenced'; // changed by an operator while the page is open
    await page.getByLabel('Photo (JPEG, PNG, GIF or WebP)').setInputFiles({ name: 'late.png', mimeType: 'image/png', buffer: landscape(2) });
    await page.getByRole('button', { name: 'Upload' }).click();
    assert.equal(await alertText(page, /not possible/), 'Uploading is not possible: the application is fenced (read-only).');
    await page.locator('#banner-state', { hasText: 'fenced' }).waitFor();
    assert.equal(await page.getByRole('button', { name: 'Upload' }).isDisabled(), true);
    assert.equal(await page.locator('.comment-form').first().isVisible(), false, 'comment forms gone');

    // the comment form of a page that has not noticed yet: its write is refused as well
    stub.state = 'active';
    await page.getByRole('button', { name: 'Refresh' }).click();
    await page.locator('#banner-state', { hasText: 'active' }).waitFor();
    await page.getByLabel('Add a comment on photo 1').fill('too late');
    stub.state = 'fenced';
    await page.getByRole('button', { name: 'Post comment' }).click();
    assert.equal(await alertText(page, /not possible/), 'Commenting is not possible: the application is fenced (read-only).');
    assert.equal(stub.calls({ kind: 'photos', method: 'POST' }).length, 0);
    assert.equal(stub.calls({ kind: 'comments', method: 'POST' }).length, 0);
    noProblems(page);
  });

  test('failover while signed in to the primary: the write is refused, sign in again in the secondary', async () => {
    const page = await open('active');
    await signIn(page);
    await signedIn(page);
    stub.state = 'failover';
    await page.getByLabel('Photo (JPEG, PNG, GIF or WebP)').setInputFiles({ name: 'late.png', mimeType: 'image/png', buffer: landscape(2) });
    await page.getByRole('button', { name: 'Upload' }).click();
    assert.equal(await alertText(page, /Please sign in again/), `The application now runs in ${SECONDARY} (secondary). Please sign in again.`);
    assert.equal(await page.locator('#signin-panel').isVisible(), true);
    assert.equal(await text(page, '#banner-region'), `${SECONDARY} (secondary)`);
    assert.equal(await page.evaluate(() => sessionStorage.getItem('mraa.session')), null);
    assert.equal(stub.calls({ kind: 'photos', method: 'POST' }).length, 0);

    // back to active: a page still pointing at the secondary must not upload there
    await resetPassword(page);
    await signedIn(page);
    stub.state = 'active';
    await page.getByRole('button', { name: 'Refresh' }).click();
    assert.equal(await alertText(page, /Please sign in again/), `The application now runs in ${PRIMARY} (primary). Please sign in again.`);
    assert.equal(stub.requests.filter((r) => r.method === 'POST' && r.kind !== 'cognito').length, 0);
    noProblems(page);
  });

  test('expired token: the API answers 401 and the site asks to sign in again', async () => {
    const page = await open('active');
    await signIn(page);
    await signedIn(page);
    stub.expireTokens();
    await page.getByRole('button', { name: 'Refresh' }).click();
    assert.equal(await alertText(page, /expired/), 'Your session has expired. Please sign in again.');
    assert.equal(await page.locator('#signin-panel').isVisible(), true);
    assert.equal(await page.evaluate(() => sessionStorage.getItem('mraa.session')), null);
    noProblems(page);
  });

  test('a stored session past its expiry is not used', async () => {
    const page = await open('active');
    await signIn(page);
    await signedIn(page);
    await page.evaluate(() => {
      const s = JSON.parse(sessionStorage.getItem('mraa.session'));
      sessionStorage.setItem('mraa.session', JSON.stringify({ ...s, expiresAt: Date.now() - 1000 }));
    });
    const gets = stub.calls({ kind: 'photos' }).length;
    await page.reload();
    assert.equal(await alertText(page, /expired/), 'Your session has expired. Please sign in again.');
    assert.equal(stub.calls({ kind: 'photos' }).length, gets, 'no API call with the stale token');
    noProblems(page);
  });

  test('custom domain: the banner names the site and its failover API name, and the state read there', async () => {
    stub.customDomain = true;
    const page = await open('active');
    await page.locator('#banner-domain-state', { hasText: /^active$/ }).waitFor();
    assert.equal(await page.locator('#banner-domain').isVisible(), true);
    assert.equal(await text(page, '#banner-domain'),
      `Custom domain: ${DOMAIN} · API: ${API_DOMAIN} (Route 53 failover) · State via ${API_DOMAIN}: active`);
    assert.equal(await page.locator('#banner-domain-site').getAttribute('href'), `https://${DOMAIN}/`);
    // GET /state/{appId} does not say which region answered: the site does not claim one
    assert.doesNotMatch(await text(page, '#banner-domain'), new RegExp(`${PRIMARY}|${SECONDARY}|primary|secondary`));
    assert.deepEqual(stub.calls({ kind: 'domain' }).map((r) => `${r.method} ${r.path}`), ['GET /routing/state/demo']);
    // the regional logic is unchanged: the region comes from the regional state APIs
    assert.equal(await text(page, '#banner-region'), `${PRIMARY} (primary)`);
    assert.deepEqual(stub.calls({ kind: 'state', method: 'GET' }).map((r) => r.region), [PRIMARY]);

    await signIn(page);
    await signedIn(page);
    assert.ok(stub.calls({ kind: 'cognito' }).every((r) => r.region === PRIMARY), 'sign-in in the primary pool');
    assert.ok(stub.calls({ kind: 'photos' }).length >= 1 && stub.calls({ kind: 'photos' }).every((r) => r.region === PRIMARY));

    // read again once per refresh; the failover name now resolves to the secondary
    stub.state = 'fenced';
    stub.domainRegion = SECONDARY;
    await page.getByRole('button', { name: 'Refresh' }).click();
    await page.locator('#banner-state', { hasText: 'fenced' }).waitFor();
    await page.locator('#banner-domain-state', { hasText: /^fenced$/ }).waitFor();
    assert.equal(stub.calls({ kind: 'domain' }).length, 2);
    assert.deepEqual(stub.calls({ kind: 'domain' }).map((r) => r.path), ['/routing/state/demo', '/routing/state/demo'],
      'only the state, never the application API, through the failover name');
    noProblems(page);
  });

  test('no custom domain: nothing about one appears and nothing is asked of it', async () => {
    for (const customDomain of [undefined, null, 'app.example.com', {}, { siteUrl: 'javascript:alert(1)', apiUrl: 'not a url' }]) {
      stub.configOverrides = customDomain === undefined ? {} : { customDomain };
      const page = await open('active');
      await page.locator('#status', { hasText: 'Please sign in.' }).waitFor();
      assert.equal(await page.locator('#banner-domain').isVisible(), false, JSON.stringify(customDomain));
      assert.equal(await page.locator('#banner-domain').evaluate((el) => el.childNodes.length), 0);
      assert.deepEqual(await page.locator('#banner > p:not([hidden])').evaluateAll((ps) => ps.map((p) => p.id || p.className)),
        ['banner-facts', 'banner-message'], 'the banner as without a custom domain');
      assert.doesNotMatch(await page.locator('body').innerText(), /custom domain|Route 53|app\.example\.com/i);
      assert.equal(stub.calls({ kind: 'domain' }).length, 0);
      noProblems(page);
      await closeAll();
    }
  });

  test('custom domain unreachable: shown as such, the regional behaviour goes on', async () => {
    stub.customDomain = true;
    stub.domainMode = 'down';
    const page = await open('active');
    await page.locator('#banner-domain-state', { hasText: /^unreachable \(/ }).waitFor();
    assert.match(await text(page, '#banner-domain'), new RegExp(`^Custom domain: ${DOMAIN} · API: ${API_DOMAIN} \\(Route 53 failover\\) · State via ${API_DOMAIN}: unreachable \\(.+\\)$`));
    assert.equal(await text(page, '#banner-region'), `${PRIMARY} (primary)`);
    assert.equal(await text(page, '#banner-message'), 'Uploads and comments are enabled.');
    assert.equal(await page.locator('#banner-note').isVisible(), false);
    assert.equal(await text(page, '#alert'), '', 'no alert for an informational read');
    await signIn(page);
    await signedIn(page);
    assert.equal(await page.getByRole('button', { name: 'Upload' }).isEnabled(), true);
    await page.getByRole('button', { name: 'Refresh' }).click();
    await page.locator('#status', { hasText: /photo/ }).waitFor();
    await page.locator('#banner-domain-state', { hasText: /^unreachable \(/ }).waitFor();
    assert.equal(stub.calls({ kind: 'domain' }).length, 2);
    noProblems(page);

    // the primary's state store failing: the failover name (still on the primary) answers 500,
    // the site reads the state from the secondary as before
    await closeAll();
    stub.domainMode = 'up';
    stub.stateMode[PRIMARY] = 'error';
    const second = await open('active');
    await second.locator('#banner-domain-state', { hasText: /^unreachable \(HTTP 500\)$/ }).waitFor();
    assert.match(await text(second, '#banner-note'), new RegExp(`state was read from ${SECONDARY}`));
    assert.equal(await text(second, '#banner-region'), `${PRIMARY} (primary)`);
    noProblems(second);
  });

  test('custom domain not answering: the regional state is shown at once, the name times out', async () => {
    stub.customDomain = true;
    stub.domainMode = 'hang';
    const started = Date.now();
    const page = await open('active');
    assert.ok(Date.now() - started < 2_500, 'the regional state did not wait for the custom domain');
    assert.equal(await text(page, '#banner-domain-state'), 'checking…');
    await signInUsername(page).fill('alice'); // the page is usable meanwhile
    await page.locator('#banner-domain-state', { hasText: 'unreachable (no answer in time)' }).waitFor();
    assert.ok(Date.now() - started >= 2_500);
    assert.equal(await text(page, '#banner-region'), `${PRIMARY} (primary)`);
    noProblems(page);
  });

  test('custom domain values and answers are shown as text only', async () => {
    stub.customDomain = true;
    stub.domainAnswer = { status: 200, body: { appId: 'demo', state: '<img src=x onerror=alert(1)>' } };
    stub.configOverrides = {
      customDomain: {
        siteUrl: 'javascript:alert(1)', // not a link target: the site name is left out
        apiUrl: `https://${API_DOMAIN}/app/`,
        stateUrl: `https://${API_DOMAIN}/routing/state/demo`,
      },
    };
    const page = await open('active');
    await page.locator('#banner-domain-state', { hasText: /^unreachable/ }).waitFor();
    assert.equal(await text(page, '#banner-domain'),
      `API: ${API_DOMAIN} (Route 53 failover) · State via ${API_DOMAIN}: unreachable (unexpected state "<img src=x onerror=alert(1)>")`);
    assert.equal(await page.locator('#banner-domain a, #banner-domain img').count(), 0);
    assert.equal(await text(page, '#banner-region'), `${PRIMARY} (primary)`);
    noProblems(page);
  });

  test('accessibility: labelled controls, live regions, keyboard focus is visible', async () => {
    const page = await open('active');
    await signIn(page);
    await signedIn(page);
    const report = await page.evaluate(() => {
      const visible = (el) => el.getClientRects().length > 0;
      const controls = [...document.querySelectorAll('input, textarea, select')].filter(visible);
      return {
        lang: document.documentElement.lang,
        unlabelled: controls.filter((c) => c.labels.length === 0 && !c.getAttribute('aria-label')).map((c) => c.id || c.name),
        controls: controls.length,
        status: [document.getElementById('status').getAttribute('role'), document.getElementById('status').getAttribute('aria-live')],
        alert: document.getElementById('alert').getAttribute('role'),
        clickable: [...document.querySelectorAll('[onclick], div[tabindex], span[tabindex]')].length,
        imagesWithoutAlt: [...document.querySelectorAll('img')].filter((i) => !i.hasAttribute('alt')).length,
        inlineHandlers: document.documentElement.outerHTML.match(/\son[a-z]+=/g)?.length ?? 0,
      };
    });
    assert.equal(report.lang, 'en');
    assert.deepEqual(report.unlabelled, []);
    assert.ok(report.controls >= 2);
    assert.deepEqual(report.status, ['status', 'polite']);
    assert.equal(report.alert, 'alert');
    assert.equal(report.clickable, 0);
    assert.equal(report.imagesWithoutAlt, 0);
    assert.equal(report.inlineHandlers, 0);

    // Tab reaches the buttons; the focused one has a visible outline
    const seen = [];
    await page.locator('body').focus();
    for (let i = 0; i < 12; i += 1) {
      await page.keyboard.press('Tab');
      const focused = await page.evaluate(() => {
        const el = document.activeElement;
        const style = getComputedStyle(el);
        return { tag: el.tagName, text: el.textContent.trim(), outline: style.outlineStyle, width: parseFloat(style.outlineWidth) };
      });
      seen.push(focused);
    }
    const names = seen.filter((f) => f.tag === 'BUTTON').map((f) => f.text);
    for (const name of ['Refresh', 'Sign out', 'Upload', 'Post comment']) assert.ok(names.includes(name), `${name} reachable by Tab (${names})`);
    for (const f of seen.filter((s) => s.tag === 'BUTTON' || s.tag === 'INPUT' || s.tag === 'TEXTAREA')) {
      assert.ok(f.outline !== 'none' && f.width >= 2, `visible focus on ${f.tag} ${f.text}`);
    }
    noProblems(page);
  });
});

/** Waits until `condition()` holds, polling every 50 ms for at most `ms`. */
async function until(condition, ms = 5_000) {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => { setTimeout(resolve, 50); });
  }
}

describe('demo site, active-active', { timeout: 120_000 }, () => {
  beforeEach(async () => {
    await closeAll();
    stub.mode = 'active-active';
    stub.configOverrides = { userReplication: 'native' };
    stub.addUser(SECONDARY, 'alice', PASSWORD); // the replica shares the primary's users and passwords
  });
  after(closeAll);

  test('the region whose state API answers first, serving, serves the site and takes its writes', async () => {
    stub.stateDelayMs = { [PRIMARY]: 800 }; // the secondary is nearer: it answers first
    const page = await open('active');
    assert.equal(await text(page, '#banner-region'), `${SECONDARY} (secondary)`);
    assert.equal(await text(page, '#banner-message'), 'Uploads and comments are enabled.');
    assert.equal(await page.locator('#banner-note').isVisible(), false);
    await signIn(page);
    await signedIn(page);
    assert.deepEqual(stub.calls({ kind: 'cognito' }).map((c) => `${c.target} ${c.region}`), [`InitiateAuth ${SECONDARY}`]);

    await page.getByLabel('Photo (JPEG, PNG, GIF or WebP)').setInputFiles({ name: 'tokyo.png', mimeType: 'image/png', buffer: landscape(1) });
    await page.getByRole('button', { name: 'Upload' }).click();
    await page.locator('#photo-list > li').nth(1).waitFor();
    await page.locator('#status', { hasText: 'Photo uploaded.' }).waitFor();
    assert.deepEqual(stub.calls({ kind: 'photos', method: 'POST' }).map((r) => r.region), [SECONDARY]);
    assert.deepEqual(stub.calls({ kind: 's3', method: 'PUT' }).map((r) => r.region), [SECONDARY]);
    const uploaded = [...stub.photos.entries()].filter(([key]) => key !== SEED_PHOTO);
    assert.deepEqual(uploaded.map(([, p]) => p.region), [SECONDARY], 'into the secondary bucket');

    await page.getByLabel('Add a comment on photo 1').fill('From Tokyo');
    await page.locator('#photo-list > li').first().getByRole('button', { name: 'Post comment' }).click();
    await page.locator('.comment-text', { hasText: 'From Tokyo' }).waitFor();
    assert.equal(stub.comments.at(-1).region, SECONDARY);
    const api = stub.requests.filter((r) => ['photos', 'comments', 's3'].includes(r.kind));
    assert.ok(api.every((r) => r.region === SECONDARY), 'every API call goes to the region the site uses');
    noProblems(page);
  });

  test('its region drained: the site moves to the other region and writes there; returned, it stays', async () => {
    stub.stateDelayMs = { [SECONDARY]: 800 }; // the primary answers first
    const page = await open('active');
    assert.equal(await text(page, '#banner-region'), `${PRIMARY} (primary)`);
    await signIn(page);
    await signedIn(page);

    await page.getByLabel('Add a comment on photo 1').fill('too late');
    stub.drained.add(PRIMARY); // mraa drain us-east-1, while the page is open
    await page.getByRole('button', { name: 'Post comment' }).click();
    assert.equal(await alertText(page, /drained/),
      `${PRIMARY} is drained: the site now uses ${SECONDARY} (secondary). Please sign in again.`);
    assert.equal(await page.locator('#signin-panel').isVisible(), true);
    assert.equal(await text(page, '#banner-region'), `${SECONDARY} (secondary)`);
    assert.equal(await text(page, '#banner-note'), `Drained: ${PRIMARY}. The site uses ${SECONDARY}.`);
    assert.equal(stub.calls({ kind: 'comments', method: 'POST' }).length, 0, 'nothing written in the drained region');

    await signIn(page);
    await signedIn(page);
    await page.getByLabel('Add a comment on photo 1').fill('from the other side');
    await page.getByRole('button', { name: 'Post comment' }).click();
    await page.locator('.comment-text', { hasText: 'from the other side' }).waitFor();
    assert.deepEqual(stub.calls({ kind: 'comments', method: 'POST' }).map((r) => r.region), [SECONDARY]);

    // mraa return us-east-1: the site keeps the region it uses while that one serves
    stub.drained.clear();
    await page.getByRole('button', { name: 'Refresh' }).click();
    await page.locator('#banner-note').waitFor({ state: 'hidden' });
    assert.equal(await text(page, '#banner-region'), `${SECONDARY} (secondary)`);
    assert.equal(await page.locator('#app-panel').isVisible(), true, 'still signed in');
    noProblems(page);
  });

  test('a drained region is not used even when it answers first; a failing one is skipped', async () => {
    stub.drained.add(SECONDARY);
    stub.stateDelayMs = { [PRIMARY]: 600 }; // the secondary answers first, not serving
    const page = await open('active');
    assert.equal(await text(page, '#banner-region'), `${PRIMARY} (primary)`);
    assert.equal(await text(page, '#banner-note'), `Drained: ${SECONDARY}. The site uses ${PRIMARY}.`);
    await signIn(page);
    await signedIn(page);
    assert.equal(await page.getByRole('button', { name: 'Upload' }).isEnabled(), true);
    noProblems(page);

    await closeAll();
    stub.drained.clear();
    stub.stateDelayMs = {};
    stub.stateMode[PRIMARY] = 'error';
    const second = await open('active');
    assert.equal(await text(second, '#banner-region'), `${SECONDARY} (secondary)`);
    assert.equal(await text(second, '#banner-message'), 'Uploads and comments are enabled.');
    noProblems(second);
  });

  test('from the secondary, a password reset goes to the primary and the site says so', async () => {
    stub.stateDelayMs = { [PRIMARY]: 800 };
    stub.replicaLagMs = 1_500;
    const page = await open('active');
    assert.equal(await text(page, '#banner-region'), `${SECONDARY} (secondary)`);
    assert.equal(await text(page, '#signin-primary-note'), `You are served from ${SECONDARY} (secondary). Your account and `
      + `password are replicated here. A password reset is made in the primary region ${PRIMARY}; the new password `
      + 'reaches this region shortly after.');
    assert.equal(await page.locator('#signin-replicated-note').isVisible(), false);

    await resetPassword(page);
    assert.deepEqual(stub.outbox.map(({ region }) => region), [PRIMARY], 'the code comes from the primary pool');
    assert.equal(await alertText(page, /changed/), `Your password was changed in the primary region ${PRIMARY}. `
      + `It reaches ${SECONDARY} within moments: sign in again shortly.`);
    assert.equal(await signInUsername(page).inputValue(), 'alice');
    await until(() => stub.users[SECONDARY].get('alice').password === NEW_PASSWORD);
    await signIn(page, 'alice', NEW_PASSWORD);
    await signedIn(page);
    assert.deepEqual(stub.calls({ kind: 'cognito' }).map((c) => `${c.target} ${c.region}`), [
      `ForgotPassword ${PRIMARY}`, `ConfirmForgotPassword ${PRIMARY}`, `InitiateAuth ${SECONDARY}`, `InitiateAuth ${SECONDARY}`]);
    noProblems(page);
  });

  test('custom domain: the banner names the latency name of the APIs', async () => {
    stub.customDomain = true;
    const page = await open('active');
    await page.locator('#banner-domain-state', { hasText: /^active$/ }).waitFor();
    assert.equal(await text(page, '#banner-domain'),
      `Custom domain: ${DOMAIN} · API: ${API_DOMAIN} (Route 53 latency) · State via ${API_DOMAIN}: active`);
    noProblems(page);
  });
});
