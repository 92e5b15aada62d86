/**
 * examples/browser/ in headless Chromium: the page subscribes through the relay's WebSocket
 * port with nats.js, a line publisher sends N lines to port 7001's role (the relay's publisher
 * port), and the page shows exactly those N lines, in order, as text.
 */
import { afterAll, expect, setDefaultTimeout, test } from "bun:test";
import { servePage } from "../../examples/browser/serve.ts";
import { relayPerTest } from "../support/harness.ts";
import { browserMissing, close, newPage } from "./launch.ts";

setDefaultTimeout(60_000);
const start = relayPerTest();
afterAll(() => close());

const LINES = 50;

test.skipIf(browserMissing !== undefined)(
  `the example page shows exactly the lines a line publisher sent${browserMissing ? ` (skipped: ${browserMissing})` : ""}`,
  async () => {
    const r = start({ wsPort: 0, subPort: undefined, subject: "relay" });
    const pages = servePage(0);
    try {
      const { page, errors } = await newPage();
      const url = `http://127.0.0.1:${pages.port}/?ws=ws://127.0.0.1:${r.relay.wsPort}&subject=relay`;
      await page.goto(url);
      await page.locator("#status", { hasText: "subscribed" }).waitFor();
      const sent = Array.from({ length: LINES }, (_, i) => `line ${i} <b>not bold</b> & more`);
      const publisher = await Bun.connect({
        hostname: "127.0.0.1",
        port: r.relay.pubPort,
        socket: { data() {} },
      });
      publisher.write(`${sent.join("\n")}\n`);
      await page
        .locator("#messages li")
        .nth(LINES - 1)
        .waitFor();
      const shown = await page.locator("#messages li").allTextContents();
      expect(shown).toEqual(sent);
      // Text, never markup: no <b> element was made from a payload.
      expect(await page.locator("#messages b").count()).toBe(0);
      expect(errors).toEqual([]);
      publisher.end();
      await page.close();
    } finally {
      await pages.stop(true);
    }
  },
);
