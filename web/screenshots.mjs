// Screenshots of the pages for the README (run by hand, not a test):
//   cargo build -p hypnos && node web/screenshots.mjs
// Starts target/debug/hypnos on a fresh database with a server name, opens the log-in and
// sign-up pages in Debian's Chromium, light and dark, wide and on a 360 px phone, and writes
// docs/screenshots/{login,signup}-{light,dark}-{wide,phone}.png, plus the log-in page as the app
// opens it for a provider this server lacks, and a weak passphrase refused at sign-up.
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import nacl from 'tweetnacl';
import { chromium } from 'playwright-core';

import { toBase64 } from './src/appcrypto.js';
import { startServer } from './test/support.mjs';

const OUT = fileURLToPath(new URL('../docs/screenshots/', import.meta.url));
const VIEWPORTS = { wide: { width: 1280, height: 800 }, phone: { width: 360, height: 800 } };
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--hide-scrollbars'];

mkdirSync(OUT, { recursive: true });
const hypnos = await startServer(['--server-name', 'Acme API sync']);
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: FLAGS });
try {
  const query = new URLSearchParams({
    loginKey: encodeURIComponent(toBase64(nacl.box.keyPair().publicKey)),
    source_origin: 'desktop_app',
  });
  const shots = [];
  for (const scheme of ['light', 'dark']) {
    for (const [size, viewport] of Object.entries(VIEWPORTS)) {
      shots.push({ name: `login-${scheme}-${size}`, scheme, viewport, path: `?${query}` });
      shots.push({ name: `signup-${scheme}-${size}`, scheme, viewport, path: `signup.html?${query}`, fill: true });
    }
  }
  shots.push({ name: 'login-provider-light-wide', scheme: 'light', viewport: VIEWPORTS.wide, path: `?${query}&provider=google` });
  shots.push({ name: 'signup-weak-dark-phone', scheme: 'dark', viewport: VIEWPORTS.phone, path: `signup.html?${query}`, weak: true });
  for (const shot of shots) {
    const page = await browser.newPage({ viewport: shot.viewport, colorScheme: shot.scheme });
    await page.goto(`${hypnos.api}/app/auth-app/${shot.path}`);
    await page.waitForSelector('form');
    if (shot.weak) {
      // A passphrase refused: the message at its field.
      await page.fill('#email', 'ada@example.com');
      await page.fill('#passphrase', 'ada1815');
      await page.fill('#passphrase-again', 'ada1815');
      await page.click('#submit');
      await page.waitForSelector('#passphrase-error:not([hidden])');
    }
    if (shot.fill) {
      // The meter as a user sees it while typing.
      await page.fill('#email', 'ada@example.com');
      await page.fill('#first-name', 'Ada');
      await page.fill('#last-name', 'Lovelace');
      await page.fill('#passphrase', 'analytical engine');
      await page.waitForFunction(() => document.getElementById('strength').dataset.score !== '');
      await page.locator('#passphrase').blur();
    }
    await page.screenshot({ path: `${OUT}${shot.name}.png`, fullPage: true });
    await page.close();
    console.log(`docs/screenshots/${shot.name}.png`);
  }
} finally {
  await browser.close();
  hypnos.stop();
}
