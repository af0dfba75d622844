// PNG screenshots of the demo site in the active, fenced and failover states, taken against
// the same stub as the browser tests. Usage: node screenshots.mjs [output directory]
// (scripts/screenshots.sh writes them to docs/screenshots/).
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';

import { launch, newPage } from './browser.mjs';
import { landscape } from './png.mjs';
import { startStub } from './stub.mjs';

const out = resolve(process.argv[2] || new URL('../../../docs/screenshots/', import.meta.url).pathname);
const PASSWORD = 'Correct-Horse-42!';
const HOUR = 3_600_000;

function seed(stub) {
  stub.reset();
  for (const region of [stub.primary, stub.secondary]) stub.addUser(region, 'alice', PASSWORD);
  const now = Date.now();
  const photos = [
    ['photos/3f9a1c2e-5b7d-4e8f-9a0b-1c2d3e4f5a6b.png', 0, 30 * HOUR, [['bob@example.com', 'What a view!'], ['carol@example.com', 'Where was this taken?']]],
    ['photos/8c7b6a59-4d3e-4f2a-8b1c-0d9e8f7a6b5c.png', 1, 5 * HOUR, [['alice@example.com', 'Sunset from the ridge, last night.']]],
    ['photos/1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d.png', 2, 1 * HOUR, []],
  ];
  for (const [key, hue, age, comments] of photos) {
    stub.addPhoto(key, landscape(hue), { lastModified: new Date(now - age) });
    comments.forEach(([author, text], i) => stub.addComment(key, text, author, now - age + (i + 1) * 600_000));
  }
}

const stub = await startStub();
const browser = await launch();
try {
  await mkdir(out, { recursive: true });
  for (const state of ['active', 'fenced', 'failover']) {
    seed(stub);
    stub.state = state;
    const page = await newPage(browser, { width: 1200, height: 900 });
    await page.goto(stub.url);
    await page.locator('#banner-state', { hasText: state }).waitFor();
    await page.locator('#signin-form').getByLabel('Username or email').fill('alice');
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#photo-list > li').nth(2).waitFor();
    await page.locator('.comment-text', { hasText: 'What a view!' }).waitFor();
    await page.evaluate(async () => {
      await Promise.all([...document.images].map((img) => img.decode().catch(() => {})));
      document.activeElement?.blur();
    });
    const file = resolve(out, `${state}.png`);
    await page.screenshot({ path: file, fullPage: true });
    if (page.problems.length) throw new Error(page.problems.join('\n'));
    await page.context().close();
    console.log(`wrote ${file}`);
  }
} finally {
  await browser.close();
  await stub.stop();
}
