/**
 * Headless Chromium for the browser tests, through playwright-core (a devDependency) and
 * Debian's /usr/bin/chromium (CI installs it when missing). Generic on purpose: launch(),
 * newPage() that records console errors and page errors, close().
 */
import { existsSync } from "node:fs";
import { type Browser, chromium, type Page } from "playwright-core";

/** Debian's Chromium; env CHROMIUM overrides it. */
export const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";

/** Why the browser tests cannot run here (for `test.skipIf` and its message); undefined: they can. */
export const browserMissing: string | undefined = existsSync(CHROMIUM)
  ? undefined
  : `no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM)`;

let browser: Browser | undefined;

/** Starts (once) headless Chromium; `--no-sandbox` as containers and CI need. */
export async function launch(): Promise<Browser> {
  browser ??= await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
  return browser;
}

/** A page in a fresh context, and the console errors and uncaught page errors it has logged. */
export async function newPage(): Promise<{ page: Page; errors: string[] }> {
  const context = await (await launch()).newContext({ ignoreHTTPSErrors: true });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(message.text());
  });
  page.on("pageerror", (error) => errors.push(error.message));
  return { page, errors };
}

/** Closes the browser (call from afterAll). */
export async function close(): Promise<void> {
  await browser?.close();
  browser = undefined;
}
