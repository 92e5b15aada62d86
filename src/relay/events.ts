/**
 * Everything the relay reports, as plain objects. The relay emits them to one listener; the
 * command line turns them into log lines, and tests wait on them instead of sleeping.
 */
import type { CloseReason } from "../errors.ts";

export type Side = "publisher" | "subscriber";

/** Counters over one stats interval (or since start, for the final report). */
export interface StatsSnapshot {
  /** Seconds the figures cover. */
  seconds: number;
  messagesReceived: number;
  /** Message deliveries: one message to three subscribers counts three. */
  messagesSent: number;
  bytesReceived: number;
  bytesSent: number;
  publishers: number;
  subscribers: number;
  slowConsumerDisconnects: number;
  writeTimeouts: number;
  /** Policy `drop`: message deliveries dropped. */
  messagesDropped: number;
  /** Policy `block`: times publishers were held. */
  publisherPauses: number;
  linesTooLong: number;
  /** Connections closed at accept because of --max-conns. */
  refusedConnections: number;
  /** Bytes queued in the relay for subscribers, right now. */
  pendingBytes: number;
}

export type RelayEvent =
  | { type: "listening"; side: Side; host: string; port: number }
  | { type: "open"; side: Side; peer: string }
  | {
      type: "close";
      side: Side;
      peer: string;
      reason: CloseReason;
      /** Why, in words, when the relay closed the connection itself or data was lost. */
      detail?: string;
      /** Queued bytes (subscriber) or unfinished-line bytes (publisher) lost with the close. */
      droppedBytes: number;
    }
  | { type: "subscriber_input"; peer: string; bytes: number; totalBytes: number }
  | {
      /** Policy `drop`: one episode of drops for a subscriber, reported when it ends. */
      type: "drop_episode";
      peer: string;
      messages: number;
      bytes: number;
      /** Messages dropped for this subscriber since it connected. */
      totalMessages: number;
    }
  | {
      /** Policy `block`: publishers are held (true) or released (false). Not logged: counted. */
      type: "publishers_held";
      held: boolean;
      pendingBytes: number;
    }
  | { type: "stats"; stats: StatsSnapshot }
  | { type: "shutdown_started"; pendingBytes: number; timeoutSeconds: number }
  | {
      type: "shutdown_finished";
      /** Bytes still queued when the timeout ran out (0 when everything was flushed). */
      unflushedBytes: number;
      totals: StatsSnapshot;
    };

export type RelayEventListener = (event: RelayEvent) => void;
