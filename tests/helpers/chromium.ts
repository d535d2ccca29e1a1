import { chromium, type Browser } from 'playwright-core';

// Debian's Chromium, never a downloaded browser, with the flags this machine needs: without the background
// networking ones, Chromium keeps trying hosts the closed network refuses.
const FLAGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync',
];

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: '/usr/bin/chromium', args: FLAGS });
}
