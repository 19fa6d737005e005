/**
 * Headless Chromium for the tests that look at a page (the drawing page, Grafana's dashboards):
 * Debian's /usr/bin/chromium, or the browser CHROMIUM_PATH names, driven by playwright-core.
 */
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** The flags headless Chromium needs as root in a closed network (playwright adds a fresh profile). */
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export const launchChromium = (): Promise<Browser> => chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
