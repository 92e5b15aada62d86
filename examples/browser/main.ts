/// <reference lib="dom" />
/**
 * The example page's script: subscribes to one subject through the relay's WebSocket port
 * (`--ws-port`) with nats.js `wsconnect`, and appends each message as a list item. Messages
 * are shown as text (textContent), never as HTML: a payload is whatever a publisher sent.
 *
 * The query string chooses the server and subject: `?ws=ws://127.0.0.1:8080&subject=relay`
 * (defaults: the page's own host on port 8080, and the relay's default --subject `relay`).
 * `#status` reads `subscribed` once the relay has the subscription, `closed` at the end.
 */
import { wsconnect } from "@nats-io/nats-core";

const params = new URLSearchParams(location.search);
const server = params.get("ws") ?? `ws://${location.hostname || "127.0.0.1"}:8080`;
const subject = params.get("subject") ?? "relay";

function element(id: string): HTMLElement {
  const found = document.getElementById(id);
  if (found === null) throw new Error(`the page has no #${id}`);
  return found;
}

const status = element("status");
const list = element("messages");
element("subject").textContent = subject;
element("server").textContent = server;

async function run(): Promise<void> {
  const nc = await wsconnect({ servers: server });
  const sub = nc.subscribe(subject);
  await nc.flush(); // the relay has the subscription: what is published from now on arrives
  status.textContent = "subscribed";
  for await (const msg of sub) {
    const item = document.createElement("li");
    item.textContent = msg.string();
    list.append(item);
  }
  status.textContent = "closed";
}

run().catch((error: unknown) => {
  status.textContent = `error: ${String(error)}`;
});
