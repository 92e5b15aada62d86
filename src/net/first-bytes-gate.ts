/**
 * The listener's side of the first-bytes check (first-bytes.ts decides, this acts): on a
 * plaintext port that `expects` a protocol, each socket's first bytes are held, never
 * delivered, while they may still be the start of another protocol's opening (for at most
 * FIRST_BYTES_BOUND_MS); then the mode's `data` gets every byte so far as one chunk, or the
 * socket is refused: the mode records why, the refusal is counted and logged, and the socket
 * is closed gracefully.
 *
 * Apart from listener.ts because it is a state machine of its own (hold, bound, settle) that
 * an established connection never enters: the listener's `data` handler looks at the gate's
 * map only while it is not empty, so a decided socket costs one `Map.size` check per chunk.
 */
import type { Socket } from "bun";
import { formatPeer } from "../errors.ts";
import {
  classifyFirstBytes,
  FIRST_BYTES_BOUND_MS,
  type FirstBytesRefusal,
  type FirstBytesVerdict,
  type PortProtocol,
  verdictAtBound,
} from "./first-bytes.ts";
import type { ListenerOptions } from "./listener.ts";

/**
 * A plaintext socket whose first bytes are not decided yet (given to the mode, which has not
 * seen a byte of it), or one refused on its way out.
 */
export interface Sniffing {
  /** Every byte received so far, while undecided; undefined before the first. */
  held: Uint8Array | undefined;
  /** FIRST_BYTES_BOUND_MS from the first byte held. */
  timer: ReturnType<typeof setTimeout> | undefined;
  /** Refused: whatever it still sends is swallowed until it closes. */
  refused: boolean;
}

export class FirstBytesGate<T> {
  /** Plaintext sockets whose first bytes are not decided yet, or that were refused for them. */
  readonly sockets = new Map<Socket<T>, Sniffing>();

  /** `closeGracefully`: the listener's graceful close (graceful-close.ts). */
  constructor(
    private readonly options: ListenerOptions<T>,
    private readonly closeGracefully: (socket: Socket<T>) => void,
  ) {}

  /** A new plaintext socket, given to the mode: its first bytes will be checked. */
  watch(socket: Socket<T>): void {
    this.sockets.set(socket, { held: undefined, timer: undefined, refused: false });
  }

  /** The socket closed: undecided bytes are decided as they are, then it is forgotten. */
  forget(socket: Socket<T>): void {
    this.settleHeld(socket, "peer_closed");
    this.sockets.delete(socket);
  }

  /** The listener stops: no bound timer may fire after. */
  stop(): void {
    for (const sniffing of this.sockets.values()) clearTimeout(sniffing.timer);
  }

  /**
   * A chunk from a socket whose first bytes are undecided (or that was refused): holds it,
   * hands everything held to the mode, or refuses the socket, as first-bytes.ts decides.
   */
  chunk(socket: Socket<T>, state: Sniffing, chunk: unknown): void {
    if (state.refused) return;
    const view = chunk instanceof ArrayBuffer ? new Uint8Array(chunk) : (chunk as Uint8Array);
    const held = state.held;
    let bytes = view;
    if (held !== undefined) {
      bytes = new Uint8Array(held.length + view.length);
      bytes.set(held);
      bytes.set(view, held.length);
    }
    const verdict = classifyFirstBytes(bytes, this.options.expects as PortProtocol);
    if (verdict.kind === "undecided") {
      state.held = bytes;
      state.timer ??= setTimeout(() => this.settleHeld(socket, "bound"), FIRST_BYTES_BOUND_MS);
      return;
    }
    // Accepted at the first chunk: the mode gets Bun's own chunk, untouched.
    this.settle(socket, state, verdict, held === undefined ? chunk : this.asModeChunk(bytes));
  }

  /**
   * Nothing more will settle the socket's held bytes: the bound passed, the peer sent its FIN
   * or the socket closed. They are decided as they are (first-bytes.ts verdictAtBound).
   */
  settleHeld(socket: Socket<T>, ended: "bound" | "peer_closed"): void {
    const state = this.sockets.get(socket);
    if (state === undefined || state.refused || state.held === undefined) return;
    const verdict = verdictAtBound(state.held, this.options.expects as PortProtocol, ended);
    this.settle(socket, state, verdict, this.asModeChunk(state.held));
  }

  /** Applies a decision: the mode gets `chunk` (every byte so far), or the socket is refused. */
  private settle(
    socket: Socket<T>,
    state: Sniffing,
    verdict: FirstBytesVerdict,
    chunk: unknown,
  ): void {
    clearTimeout(state.timer);
    state.timer = undefined;
    state.held = undefined;
    if (verdict.kind === "refuse") {
      state.refused = true;
      this.refuse(socket, verdict.reason, verdict.detail);
      return;
    }
    this.sockets.delete(socket);
    const data = this.options.socket.data as
      | ((socket: Socket<T>, chunk: unknown) => void)
      | undefined;
    data?.(socket, chunk);
  }

  /** Held bytes as the mode's `binaryType` delivers chunks (Buffer by default, as Bun). */
  private asModeChunk(bytes: Uint8Array): unknown {
    switch (this.options.socket.binaryType) {
      case "uint8array":
        return bytes;
      case "arraybuffer":
        return bytes.buffer;
      default:
        return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    }
  }

  /**
   * Every refusal of a socket the mode already has goes through here: the mode records why
   * (its `close` handler reports it), the refusal is counted and logged, and the socket is
   * closed gracefully: what it still sends is read and discarded, never delivered, so the
   * close cannot turn into a reset.
   */
  private refuse(socket: Socket<T>, reason: FirstBytesRefusal, detail: string): void {
    const peer = formatPeer(socket.remoteAddress, socket.remotePort);
    this.options.refused?.(socket, reason, detail);
    this.options.access?.refused(this.options.what, reason, peer, detail);
    this.closeGracefully(socket);
  }
}
