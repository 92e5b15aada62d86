/**
 * Headless Chromium for the browser tests, through playwright-core and Debian's chromium
 * (/usr/bin/chromium; CI installs it when missing). `chromiumMissing` says why a test must
 * skip, or is undefined when the browser is there. Kept small and generic: launch(),
 * newPage(), close().
 */
import { existsSync } from "node:fs";
import { type Browser, chromium, type Page } from "playwright-core";

/** Where Debian installs chromium; RELAY_CHROMIUM overrides it. */
export const CHROMIUM_PATH = process.env.RELAY_CHROMIUM ?? "/usr/bin/chromium";

/** Why the browser tests cannot run here, or undefined when they can. */
export const chromiumMissing: string | undefined = existsSync(CHROMIUM_PATH)
  ? undefined
  : `no chromium at ${CHROMIUM_PATH} (apt-get install chromium, or set RELAY_CHROMIUM)`;

let browser: Browser | undefined;

/** Starts the shared headless browser (once). */
export async function launch(): Promise<Browser> {
  browser ??= await chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    // Containers and CI runners often forbid the user namespaces Chromium's sandbox needs.
    args: ["--no-sandbox"],
  });
  return browser;
}

/**
 * A fresh page of the shared browser; `consoleErrors` collects its console errors and
 * uncaught exceptions, for tests that require none.
 */
export async function newPage(): Promise<{ page: Page; consoleErrors: string[] }> {
  const page = await (await launch()).newPage();
  const consoleErrors: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error") consoleErrors.push(message.text());
  });
  page.on("pageerror", (error) => consoleErrors.push(String(error)));
  return { page, consoleErrors };
}

/** Closes the shared browser, if it was started. */
export async function close(): Promise<void> {
  await browser?.close();
  browser = undefined;
}
