/**
 * What the status page shows, sampled once a second (or `intervalMs`) from the relay's running
 * totals and its ConnectionRegistry: connections by kind, messages in and out per second,
 * pending bytes, slow consumers and stalls. The last HISTORY_SAMPLES samples are kept, so a
 * page that opens gets the last minutes for its chart at once; each new sample goes to every
 * page watching (server-sent events, src/metrics/sse.ts).
 *
 * A sample costs O(1) plus one walk of the subscriber list (for the stalled ones): nothing
 * runs per message.
 */
import type { ConnectionRegistry } from "../relay/connection-registry.ts";
import type { Counters } from "../relay/relay-stats.ts";

/** Samples kept: five minutes at one a second. */
export const HISTORY_SAMPLES = 300;
/** Subscribers listed as stalled in one sample, the largest backlogs first. */
const STALLED_LISTED = 10;

/** What a sample reads. `Relay` (src/relay/server.ts) satisfies it. */
export interface StatusSource {
  readonly connections: ConnectionRegistry;
  readonly hub: {
    readonly counters: Readonly<Counters>;
    readonly pendingBytes: number;
    readonly holdingPublishers: boolean;
    readonly subscribers: readonly {
      readonly cid: number;
      readonly peer: string;
      readonly backlog: { readonly length: number };
      readonly holdingPublishers: boolean;
      readonly holdingSince: number;
    }[];
  };
}

/** A subscriber with a backlog, in a sample. */
export interface StalledSubscriber {
  cid: number;
  peer: string;
  pendingBytes: number;
  /** Milliseconds it has held publishers in this episode (0: it holds none). */
  holdingMs: number;
}

/** One sample, as the page receives it (JSON). */
export interface StatusSample {
  /** Epoch milliseconds. */
  t: number;
  /** Open connections by group: `line-publisher`, `frame-subscriber`, `nats`, `ws`. */
  connections: Record<string, number>;
  /** Messages and bytes per second since the previous sample. */
  inPerSecond: number;
  outPerSecond: number;
  inBytesPerSecond: number;
  outBytesPerSecond: number;
  /** Totals since start. */
  inMsgs: number;
  outMsgs: number;
  pendingBytes: number;
  publishersHeld: boolean;
  slowConsumers: number;
  writeTimeouts: number;
  stallTimeouts: number;
  droppedMessages: number;
  publisherPauses: number;
  stalled: StalledSubscriber[];
}

export class StatusFeed {
  private readonly history: StatusSample[] = [];
  private readonly watchers = new Set<(sample: StatusSample) => void>();
  private timer: ReturnType<typeof setInterval> | undefined;
  private last: { t: number; counters: Counters } | undefined;

  constructor(
    private readonly source: StatusSource,
    private readonly intervalMs = 1000,
  ) {}

  /** Starts sampling (idempotent). */
  start(): void {
    if (this.timer !== undefined) return;
    this.take();
    this.timer = setInterval(() => this.take(), this.intervalMs);
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** The samples kept, oldest first. */
  get recent(): readonly StatusSample[] {
    return this.history;
  }

  /** `watcher` gets every new sample until the returned function is called. */
  watch(watcher: (sample: StatusSample) => void): () => void {
    this.watchers.add(watcher);
    return () => this.watchers.delete(watcher);
  }

  /** Takes a sample now, keeps it and hands it to the watchers. */
  take(): StatusSample {
    const { hub, connections } = this.source;
    const t = Date.now();
    const counters = { ...hub.counters };
    const previous = this.last ?? { t, counters };
    const seconds = Math.max((t - previous.t) / 1000, 0.001);
    const rate = (now: number, before: number) => Math.round((now - before) / seconds);
    this.last = { t, counters };
    const sample: StatusSample = {
      t,
      connections: connections.byGroup(),
      inPerSecond: rate(counters.messagesReceived, previous.counters.messagesReceived),
      outPerSecond: rate(counters.messagesSent, previous.counters.messagesSent),
      inBytesPerSecond: rate(counters.bytesReceived, previous.counters.bytesReceived),
      outBytesPerSecond: rate(counters.bytesSent, previous.counters.bytesSent),
      inMsgs: counters.messagesReceived,
      outMsgs: counters.messagesSent,
      pendingBytes: hub.pendingBytes,
      publishersHeld: hub.holdingPublishers,
      slowConsumers: counters.slowConsumerDisconnects,
      writeTimeouts: counters.writeTimeouts,
      stallTimeouts: counters.stallTimeouts,
      droppedMessages: counters.messagesDropped,
      publisherPauses: counters.publisherPauses,
      stalled: this.stalled(),
    };
    this.history.push(sample);
    if (this.history.length > HISTORY_SAMPLES) this.history.shift();
    for (const watcher of this.watchers) watcher(sample);
    return sample;
  }

  private stalled(): StalledSubscriber[] {
    const now = performance.now();
    const behind: StalledSubscriber[] = [];
    for (const subscriber of this.source.hub.subscribers) {
      const pendingBytes = subscriber.backlog.length;
      if (pendingBytes === 0) continue;
      const holdingMs = subscriber.holdingPublishers ? now - subscriber.holdingSince : 0;
      behind.push({
        cid: subscriber.cid,
        peer: subscriber.peer,
        pendingBytes,
        holdingMs: Math.round(holdingMs),
      });
    }
    behind.sort((a, b) => b.pendingBytes - a.pendingBytes);
    return behind.slice(0, STALLED_LISTED);
  }
}
