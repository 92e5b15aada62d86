/**
 * Everything the `tunnel` modes report, as plain objects: the connection table's events
 * (OPEN, CLOSE, STATS, SHUTDOWN, as in forward) and the sessions' own. The command line
 * turns them into log lines (tunnel-log.ts); tests wait on them instead of sleeping.
 */
import type { TableEvent } from "../pipe/connection-table.ts";

export type TunnelMode = "tunnel-client" | "tunnel-server";

/** Session figures for the STATS line: since start, except `up` and `streams` (now). */
export interface SessionStats {
  /** Live sessions now. */
  up: number;
  /** Pool size (client), or 0 on the server, which takes what comes. */
  slots: number;
  /** Streams open now over all live sessions. */
  streams: number;
  opened: number;
  closed: number;
  dialFailures: number;
}

export type TunnelEvent =
  | TableEvent<TunnelMode>
  | {
      type: "listening";
      mode: TunnelMode;
      host: string;
      port: number;
      /** `-> 127.0.0.1:9000, 4 sessions, smux v1` */
      detail: string;
    }
  | {
      type: "session_up";
      mode: TunnelMode;
      session: number;
      peer: string;
      /** Client: the pool slot (1..--conns). */
      slot?: number;
    }
  | {
      type: "session_down";
      mode: TunnelMode;
      session: number;
      peer: string;
      /** The MuxError code of the cause (MUX_ERR_KEEPALIVE_TIMEOUT, ...). */
      code: string;
      reason: string;
      seconds: number;
      /** Streams the session carried over its life. */
      streams: number;
      slot?: number;
      /** Client: when the slot dials again. */
      retryInSeconds?: number;
    }
  | { type: "dial_failed"; slot: number; peer: string; reason: string; retryInSeconds: number }
  | { type: "draining"; mode: TunnelMode; open: number; graceSeconds: number };

export type TunnelEventListener = (event: TunnelEvent) => void;
