/**
 * Everything `forward` and `proxy` report, as plain objects. The command line turns them into
 * log lines (pipe-log.ts); tests wait on them instead of sleeping.
 */
import type { CloseReason } from "../errors.ts";

export type ForwardMode = "forward" | "proxy";

/** Counters over one stats interval (or since start). */
export interface ForwardStats {
  seconds: number;
  /** Connections open right now. */
  open: number;
  opened: number;
  closed: number;
  /** Clients refused before any upstream was tried (--max-conns, proxy 4xx). */
  refused: number;
  bytesUp: number;
  bytesDown: number;
  /** Pool hand-outs and empty-pool dials; zero without --pool. */
  poolHits: number;
  poolMisses: number;
  /** Targets not marked down, out of all targets. */
  targetsUp: number;
  targets: number;
}

export type ForwardEvent =
  | { type: "listening"; mode: ForwardMode; host: string; port: number }
  /** Both sockets are connected and the pipe runs. */
  | {
      type: "open";
      mode: ForwardMode;
      id: number;
      client: string;
      upstream: string;
      pooled: boolean;
    }
  | {
      type: "close";
      mode: ForwardMode;
      id: number;
      client: string;
      /** The target (or `-` when none was reached). */
      upstream: string;
      reason: CloseReason;
      detail?: string;
      bytesUp: number;
      bytesDown: number;
      seconds: number;
    }
  /**
   * A target that was up failed (the up -> down transition only; failures while it is down,
   * and overlapping ones, lengthen or keep its backoff silently): `retryInSeconds` is 1.
   */
  | { type: "target_down"; target: string; reason: string; retryInSeconds: number }
  /** A target that was down connected again (the down -> up transition). */
  | { type: "target_up"; target: string }
  | { type: "stats"; mode: ForwardMode; stats: ForwardStats }
  | { type: "shutdown"; mode: ForwardMode; open: number }
  /** --shutdown-timeout: stopped accepting; open connections may finish for graceSeconds. */
  | { type: "draining"; mode: ForwardMode; open: number; graceSeconds: number };

export type ForwardEventListener = (event: ForwardEvent) => void;
