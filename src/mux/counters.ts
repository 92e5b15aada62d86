/**
 * Counters of a Session and of a Stream: plain objects of numbers that the data path bumps
 * in place (no allocation, no clock), for STATS lines, metrics and tests. They only grow.
 */

import { SmuxErrorCode } from "../protocol/smux-frame.ts";

/** One Session's counters. Bytes are counted on the wire (headers included) unless "data". */
export interface SessionCounters {
  /** Streams this side opened with `open()` (SYN sent). */
  streamsOpened: number;
  /** Streams the peer opened (SYN received, not a duplicate). */
  streamsAccepted: number;
  /** Streams that finished: closed locally, finished both ways, or ended with the session. */
  streamsClosed: number;
  /** Frames decoded, any command. */
  framesIn: number;
  /** Frames put on the wire, any command. */
  framesOut: number;
  /** Bytes read from the transport. */
  bytesIn: number;
  /** Bytes the transport accepted. */
  bytesOut: number;
  /** PSH body bytes received for a known stream (what the receive budget counts). */
  dataBytesIn: number;
  /** PSH body bytes framed for sending. */
  dataBytesOut: number;
  /** Frames dropped as Go drops them: a duplicate SYN, PSH/FIN/UPD for an unknown stream. */
  framesIgnored: number;
  /** Calls to the transport's write (one per batch, plus retries after a short write). */
  transportWrites: number;
  /** Times the session stopped reading its transport (budget spent or accept backlog full). */
  readPauses: number;
  /** NOP frames sent by the keepalive timer. */
  keepAlivesSent: number;
  /** Protocol violations by code (a session closes on the first, so at most one here is 1). */
  protocolErrors: Record<SmuxErrorCode, number>;
}

/** One Stream's counters. */
export interface StreamCounters {
  /** PSH frames received with a body. */
  framesIn: number;
  /** PSH frames sent. */
  framesOut: number;
  /** Data bytes received. */
  bytesIn: number;
  /** Data bytes framed for sending. */
  bytesOut: number;
  /** v2: UPD frames sent for this stream. */
  updatesSent: number;
  /** v2: UPD frames received for this stream. */
  updatesReceived: number;
}

export function newSessionCounters(): SessionCounters {
  const protocolErrors = {} as Record<SmuxErrorCode, number>;
  for (const code of Object.values(SmuxErrorCode)) protocolErrors[code] = 0;
  return {
    streamsOpened: 0,
    streamsAccepted: 0,
    streamsClosed: 0,
    framesIn: 0,
    framesOut: 0,
    bytesIn: 0,
    bytesOut: 0,
    dataBytesIn: 0,
    dataBytesOut: 0,
    framesIgnored: 0,
    transportWrites: 0,
    readPauses: 0,
    keepAlivesSent: 0,
    protocolErrors,
  };
}

export function newStreamCounters(): StreamCounters {
  return { framesIn: 0, framesOut: 0, bytesIn: 0, bytesOut: 0, updatesSent: 0, updatesReceived: 0 };
}
