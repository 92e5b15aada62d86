/**
 * What the server needs of a publisher connection, whatever its wire format: LinePublisher
 * (newline-terminated messages) and FramePublisher (seed 003 frames with acks) implement it.
 * Neither touches the socket for reading: the server feeds chunks in, and closes the socket
 * when `receive` says so.
 */
import type { CloseReason } from "../errors.ts";
import type { Hub } from "./hub.ts";

export interface PublisherConnection {
  readonly peer: string;
  /** Its id in the relay's ConnectionRegistry (0: not registered). */
  cid: number;
  /** Bytes and messages read from it (counted per read, for /connz). */
  readonly bytesIn: number;
  readonly messagesIn: number;
  /** Set when the relay itself closes the connection, so the close handler reports why. */
  closeReason: CloseReason | undefined;
  closeDetail: string | undefined;
  /**
   * Paused for a reason of its own (acks its client does not read): releasing the relay-wide
   * hold must not resume it.
   */
  readonly selfPaused: boolean;
  /**
   * Publishes every message `chunk` completes. Returns false when the connection must be
   * closed (`closeReason` says why); what came before the bad input was published.
   */
  receive(chunk: Uint8Array, hub: Hub): boolean;
  /**
   * The connection is gone (`reset` when by RST). Returns the close reason and the bytes of
   * an unfinished message lost with it.
   */
  closed(reset: boolean, hub: Hub): { reason: CloseReason; droppedBytes: number };
  /** The socket can take more: write what waits for it (acks). */
  drain(hub: Hub): void;
}
