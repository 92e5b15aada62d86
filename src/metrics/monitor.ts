/**
 * The relay's paths on the metrics port besides /metrics and /healthz (src/metrics/server.ts):
 *
 * - `GET /varz`, `GET /connz`, `GET /subsz`: nats-server's monitoring JSON (varz.ts, connz.ts).
 * - `GET /`: the status page (status-assets.ts), and its bundled files.
 * - `GET /status/events`: server-sent events for the page: `hello` (server id, version, whether
 *   the tail is on), `history` (the samples kept), then a `sample` a second (status-feed.ts).
 * - `GET /status/tail?subject=S`: with --status-tail, server-sent `message` events of subject
 *   S (a subject or wildcard), at most TAIL_PER_SECOND a second, payloads as text or hex;
 *   without the flag, 404.
 */
import type { Server } from "bun";
import type { TailMessage } from "../relay/subject-tail.ts";
import { isValidSubject } from "../relay/subjects.ts";
import { connz, parseConnzQuery, QueryError } from "./connz.ts";
import { EVENT_STREAM_HEADERS, eventStream } from "./sse.ts";
import { StatusAssets } from "./status-assets.ts";
import { StatusFeed, type StatusSource } from "./status-feed.ts";
import { type IntrospectionSource, subsz, varz } from "./varz.ts";

/** Messages a tail passes on per second at most. */
export const TAIL_PER_SECOND = 5;

/** What the monitor reads of the relay. `Relay` (src/relay/server.ts) satisfies it. */
export type MonitoredRelay = IntrospectionSource &
  StatusSource & {
    tail(
      subject: string,
      perSecond: number,
      send: (message: TailMessage) => void,
    ): { close(): void };
  };

export interface MonitorOptions {
  /** --status-tail: the page may tail a subject (it shows payloads to whoever reaches it). */
  statusTail: boolean;
  /** --handshake-timeout in seconds (/varz tls_timeout). */
  tlsTimeout: number;
  /** Milliseconds between status samples (1000; tests use less). */
  sampleIntervalMs?: number;
}

/** The monitoring endpoint's own address, known once it listens (and again after a reload). */
export interface MonitorEndpoint {
  readonly host: string;
  readonly port: number;
  readonly https: boolean;
}

const JSON_HEADERS = { "content-type": "application/json; charset=utf-8" };
const TEXT_HEADERS = { "content-type": "text/plain; charset=utf-8" };
const decoder = new TextDecoder("utf-8", { fatal: true });
/** Control characters but tab, newline and carriage return: such a payload is shown as hex. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: the point is to find them.
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

/** A tailed payload as the page gets it: UTF-8 text when it is printable, else hex. */
export function tailPayload(payload: Uint8Array): { encoding: "text" | "hex"; payload: string } {
  try {
    const text = decoder.decode(payload);
    if (!CONTROL.test(text)) return { encoding: "text", payload: text };
  } catch {
    // not UTF-8 (or cut inside a character at the preview's end): hex
  }
  return { encoding: "hex", payload: Buffer.from(payload).toString("hex") };
}

export class Monitor {
  readonly feed: StatusFeed;
  private readonly assets = new StatusAssets();
  private readonly requests: Record<string, number> = {};
  private readonly started = Date.now();

  constructor(
    private readonly relay: MonitoredRelay,
    private readonly options: MonitorOptions,
  ) {
    this.feed = new StatusFeed(relay, options.sampleIntervalMs);
    this.feed.start();
  }

  stop(): void {
    this.feed.stop();
  }

  /** The response for a GET of `url`, or undefined when the path is not the monitor's. */
  async respond(
    request: Request,
    url: URL,
    server: Server<undefined>,
    endpoint: MonitorEndpoint,
  ): Promise<Response | undefined> {
    const path = url.pathname;
    const count = () => {
      this.requests[path] = (this.requests[path] ?? 0) + 1;
    };
    try {
      switch (path) {
        case "/varz":
          count();
          return json(
            varz(this.relay, {
              ...endpoint,
              start: this.started,
              requests: this.requests,
              tlsTimeout: this.options.tlsTimeout,
            }),
          );
        case "/connz":
          count();
          return json(
            connz(
              this.relay.serverId,
              this.relay.connections.list(),
              parseConnzQuery(url.searchParams),
            ),
          );
        case "/subsz":
          count();
          return json(subsz(this.relay));
        case "/status/events":
          return request.method === "HEAD" ? eventStreamHead() : this.events(request, server);
        case "/status/tail":
          if (request.method === "HEAD" && this.options.statusTail) return eventStreamHead();
          return this.tail(request, url, server);
      }
    } catch (error) {
      if (error instanceof QueryError) {
        return new Response(error.message, { status: 400, headers: TEXT_HEADERS });
      }
      throw error;
    }
    const asset = await this.assets.respond(path);
    if (asset !== undefined && path === "/") count();
    return asset;
  }

  private events(request: Request, server: Server<undefined>): Response {
    return eventStream(request, server, (send) => {
      send("hello", {
        serverId: this.relay.serverId,
        tail: this.options.statusTail,
        tailPerSecond: TAIL_PER_SECOND,
      });
      send("history", this.feed.recent);
      return this.feed.watch((sample) => send("sample", sample));
    });
  }

  private tail(request: Request, url: URL, server: Server<undefined>): Response {
    if (!this.options.statusTail) {
      return new Response("not found: the tail needs --status-tail\n", {
        status: 404,
        headers: TEXT_HEADERS,
      });
    }
    const subject = url.searchParams.get("subject") ?? "";
    // As a SUB's subject (nats-server's IsValidSubject): no empty token, no whitespace.
    if (!isValidSubject(subject)) {
      return new Response(`not a subject or wildcard: ${JSON.stringify(subject)}\n`, {
        status: 400,
        headers: TEXT_HEADERS,
      });
    }
    return eventStream(request, server, (send) => {
      send("subscribed", { subject });
      const tail = this.relay.tail(subject, TAIL_PER_SECOND, (message) =>
        send("message", {
          subject: message.subject,
          size: message.size,
          skipped: message.skipped,
          ...tailPayload(message.payload),
        }),
      );
      return () => tail.close();
    });
  }
}

/** HEAD of an event stream: its headers, no stream opened. */
function eventStreamHead(): Response {
  return new Response(null, { headers: EVENT_STREAM_HEADERS });
}

function json(value: unknown): Response {
  return new Response(`${JSON.stringify(value, null, 2)}\n`, { headers: JSON_HEADERS });
}
