/// <reference lib="dom" />
/**
 * The status page's script (bundled by Bun.build, src/metrics/status-assets.ts). It listens
 * to /status/events (server-sent events, relative URL so it works behind --metrics-tls) and
 * draws: the rates, connections by kind, slow consumers and stalls, and a canvas chart of
 * messages in and out per second over the samples kept (five minutes). With --status-tail it
 * shows a form to tail a subject through /status/tail.
 *
 * Everything from the relay, payloads above all, goes into the DOM through `textContent`,
 * never as HTML; the page's Content-Security-Policy forbids inline scripts besides.
 */
import type { StatusSample } from "../status-feed.ts";

/** A sample as the server sends it (a type only: Bun.build drops the import). */
type Sample = StatusSample;

interface TailEvent {
  subject: string;
  size: number;
  skipped: number;
  encoding: "text" | "hex";
  payload: string;
}

/** Samples drawn: five minutes at one a second, as the server keeps. */
const CHART_SAMPLES = 300;
/** Tail lines kept on the page. */
const TAIL_LINES = 50;

const samples: Sample[] = [];
const number = new Intl.NumberFormat("en-US");

function element<T extends HTMLElement = HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (found === null) throw new Error(`status page: no #${id}`);
  return found as T;
}

function setText(id: string, value: string | number): void {
  element(id).textContent = typeof value === "number" ? number.format(value) : value;
}

/** A table body's rows, each cell's text set through textContent. */
function fillRows(id: string, rows: (string | number)[][]): void {
  const body = element(id);
  body.replaceChildren(
    ...rows.map((cells) => {
      const row = document.createElement("tr");
      for (const cell of cells) {
        const td = document.createElement("td");
        td.textContent = typeof cell === "number" ? number.format(cell) : cell;
        row.append(td);
      }
      return row;
    }),
  );
}

function show(sample: Sample): void {
  setText("in-rate", sample.inPerSecond);
  setText("out-rate", sample.outPerSecond);
  const kinds = Object.entries(sample.connections).sort(([a], [b]) => a.localeCompare(b));
  setText(
    "conn-total",
    kinds.reduce((sum, [, count]) => sum + count, 0),
  );
  fillRows("kinds", kinds);
  setText("pending", sample.pendingBytes);
  setText("held", sample.publishersHeld ? "held" : "running");
  element("held").classList.toggle("bad", sample.publishersHeld);
  setText("slow-consumers", sample.slowConsumers);
  setText("write-timeouts", sample.writeTimeouts);
  setText("stall-timeouts", sample.stallTimeouts);
  setText("dropped", sample.droppedMessages);
  setText("pauses", sample.publisherPauses);
  fillRows(
    "stalled",
    sample.stalled.map((s) => [
      s.cid,
      s.peer,
      s.pendingBytes,
      s.holdingMs > 0 ? `${(s.holdingMs / 1000).toFixed(1)} s` : "-",
    ]),
  );
}

/** The chart: in and out per second, the newest sample at the right edge. */
function draw(): void {
  const canvas = element<HTMLCanvasElement>("chart");
  const context = canvas.getContext("2d");
  if (context === null) return;
  const { width, height } = canvas;
  const pad = 28;
  context.clearRect(0, 0, width, height);
  const peak = Math.max(1, ...samples.map((s) => Math.max(s.inPerSecond, s.outPerSecond)));
  context.fillStyle = "#8a96a3";
  context.font = "11px system-ui, sans-serif";
  context.fillText(`${number.format(peak)}/s`, 4, 12);
  context.fillText("0", 4, height - 4);
  context.fillText(`${Math.round(CHART_SAMPLES / 60)} min`, width - 40, height - 4);
  const step = (width - pad) / (CHART_SAMPLES - 1);
  const line = (pick: (s: Sample) => number, color: string) => {
    context.strokeStyle = color;
    context.lineWidth = 2;
    context.beginPath();
    samples.forEach((sample, i) => {
      const x = pad + (CHART_SAMPLES - samples.length + i) * step;
      const y = height - 16 - (pick(sample) / peak) * (height - 32);
      if (i === 0) context.moveTo(x, y);
      else context.lineTo(x, y);
    });
    context.stroke();
  };
  line((s) => s.inPerSecond, "#4ea1ff");
  line((s) => s.outPerSecond, "#ffa34e");
}

function add(sample: Sample): void {
  samples.push(sample);
  if (samples.length > CHART_SAMPLES) samples.shift();
}

function linkState(up: boolean): void {
  const link = element("link");
  link.textContent = up ? "live" : "reconnecting…";
  link.classList.toggle("up", up);
  link.classList.toggle("down", !up);
}

const events = new EventSource("/status/events");
events.addEventListener("open", () => linkState(true));
events.addEventListener("error", () => linkState(false));
events.addEventListener("hello", (event) => {
  const hello = JSON.parse((event as MessageEvent<string>).data) as {
    serverId: string;
    tail: boolean;
    tailPerSecond: number;
  };
  setText("server-id", hello.serverId);
  element("tail").hidden = !hello.tail;
  if (hello.tail) setText("tail-state", `at most ${hello.tailPerSecond} messages a second`);
});
events.addEventListener("history", (event) => {
  samples.length = 0;
  for (const sample of JSON.parse((event as MessageEvent<string>).data) as Sample[]) add(sample);
  const last = samples[samples.length - 1];
  if (last !== undefined) show(last);
  draw();
});
events.addEventListener("sample", (event) => {
  const sample = JSON.parse((event as MessageEvent<string>).data) as Sample;
  add(sample);
  show(sample);
  draw();
});

// The tail (--status-tail): one subject at a time.
let tail: EventSource | undefined;

function stopTail(): void {
  tail?.close();
  tail = undefined;
  element<HTMLButtonElement>("tail-stop").disabled = true;
}

function tailLine(message: TailEvent): HTMLLIElement {
  const item = document.createElement("li");
  const subject = document.createElement("span");
  subject.className = "subject";
  subject.textContent = message.subject;
  const meta = document.createElement("span");
  meta.className = "meta";
  const skipped = message.skipped > 0 ? `, ${message.skipped} skipped before` : "";
  meta.textContent = `${message.size} B ${message.encoding}${skipped}`;
  const payload = document.createElement("span");
  payload.className = "payload";
  payload.textContent = message.payload;
  item.append(subject, meta, payload);
  return item;
}

element<HTMLFormElement>("tail-form").addEventListener("submit", (event) => {
  event.preventDefault();
  stopTail();
  const subject = element<HTMLInputElement>("tail-subject").value.trim();
  const list = element("tail-list");
  list.replaceChildren();
  const source = new EventSource(`/status/tail?subject=${encodeURIComponent(subject)}`);
  tail = source;
  element<HTMLButtonElement>("tail-stop").disabled = false;
  source.addEventListener("subscribed", () => setText("tail-state", `tailing ${subject}`));
  source.addEventListener("error", () => setText("tail-state", "tail closed"));
  source.addEventListener("message", (message) => {
    list.prepend(tailLine(JSON.parse((message as MessageEvent<string>).data) as TailEvent));
    while (list.childElementCount > TAIL_LINES) list.lastElementChild?.remove();
  });
});
element("tail-stop").addEventListener("click", stopTail);
