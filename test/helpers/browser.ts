import { chromium, type Browser } from 'playwright';

/**
 * Launches Debian's Chromium (never a downloaded browser). CHROMIUM_PATH
 * points elsewhere when needed. The flags keep it from reaching for the
 * network, which this machine does not have.
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-dev-shm-usage',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
    ],
  });
}
