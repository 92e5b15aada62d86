/**
 * Every open connection of the relay, of every kind, under one connection id (`cid`), for the
 * introspection endpoints (/connz, /varz, /subsz on the metrics port: src/metrics/introspection.ts).
 *
 * A connection registers once, when it is admitted (after --max-conns), and leaves when its
 * socket closes. Registering stores what never changes (kind, role, address, start, TLS) and a
 * `figures` callback that reads the counters the connection keeps anyway (bytes, messages,
 * backlog), so nothing here runs per message: the figures are read only when someone asks.
 *
 * Kinds: `line` and `frame` (the publisher and subscriber ports, by their --pub-framing and
 * --sub-framing), `nats` (the NATS port), `ws` (NATS over WebSocket). A new kind plugs in with
 * one `add()` at its open handler and one `remove()` at its close handler.
 */

/** What protocol a connection speaks: /connz `kind`. */
export type ConnectionKind = "line" | "frame" | "nats" | "ws";

/** Line and frame connections are one or the other; NATS clients are both (undefined). */
export type ConnectionRole = "publisher" | "subscriber";

/** A connection's live figures, read at request time from counters it keeps anyway. */
export interface ConnectionFigures {
  /** Messages and bytes read from the peer (a subscriber's ignored input counts as bytes). */
  inMsgs: number;
  inBytes: number;
  /** Message deliveries to the peer, and bytes the kernel took for it. */
  outMsgs: number;
  outBytes: number;
  /** Bytes queued in the relay for the peer that the kernel has not taken yet. */
  pendingBytes: number;
  /** The subjects it subscribes to (line/frame subscribers: the stream's --sub-subject). */
  subjects: readonly string[];
  /**
   * Publishers: milliseconds their input was held by pacing (policies `stall`, `block`) while
   * they were connected. Subscribers: milliseconds their backlog held the publishers.
   */
  heldMs: number;
  /** Subscribers: milliseconds the current episode of holding publishers has lasted (0: none). */
  stalledMs: number;
  /** NATS: the user admitted by CONNECT (never a password or token). */
  user?: string | undefined;
  /** NATS: CONNECT's `name`. */
  name?: string | undefined;
}

/** The peer side of a socket, as Bun gives it (TLS methods return null on plaintext). */
export interface PeerSocket {
  readonly remoteAddress: string;
  readonly remotePort: number;
  getTLSVersion?(): string | null;
  getCipher?(): { name?: string } | null | undefined;
}

/** One registered connection. */
export interface RegisteredConnection {
  readonly cid: number;
  readonly kind: ConnectionKind;
  readonly role: ConnectionRole | undefined;
  readonly ip: string;
  readonly port: number;
  /** Epoch milliseconds it was admitted. */
  readonly start: number;
  /** TLS version and cipher suite as OpenSSL names them; undefined: plaintext. */
  readonly tls: { readonly version: string; readonly cipher: string } | undefined;
  readonly figures: () => ConnectionFigures;
}

/** `line-publisher`, `frame-subscriber`, `nats`, `ws`: how the status page groups connections. */
export function groupOf(kind: ConnectionKind, role: ConnectionRole | undefined): string {
  return role === undefined ? kind : `${kind}-${role}`;
}

export class ConnectionRegistry {
  private readonly open = new Map<number, RegisteredConnection>();
  private readonly groups = new Map<string, number>();
  private lastCid = 0;

  /** Connections registered since start (each cid once): /varz `total_connections`. */
  get total(): number {
    return this.lastCid;
  }

  /** Connections open now. */
  get size(): number {
    return this.open.size;
  }

  /** Connections open now by groupOf(kind, role), kept up to date by add/remove. */
  byGroup(): Record<string, number> {
    return Object.fromEntries(this.groups);
  }

  /**
   * Registers an admitted connection and returns its cid (1, 2, 3, ... in admission order,
   * never reused, as nats-server's). `figures` is called only when /connz or the status page
   * asks; it must not throw.
   */
  add(
    kind: ConnectionKind,
    role: ConnectionRole | undefined,
    socket: PeerSocket,
    figures: () => ConnectionFigures,
  ): number {
    const cid = ++this.lastCid;
    const group = groupOf(kind, role);
    this.groups.set(group, (this.groups.get(group) ?? 0) + 1);
    const version = socket.getTLSVersion?.() ?? null;
    this.open.set(cid, {
      cid,
      kind,
      role,
      ip: socket.remoteAddress,
      port: socket.remotePort,
      start: Date.now(),
      tls: version === null ? undefined : { version, cipher: socket.getCipher?.()?.name ?? "" },
      figures,
    });
    return cid;
  }

  /** Its socket closed (idempotent; cid 0, never registered, is ignored). */
  remove(cid: number): void {
    const connection = this.open.get(cid);
    if (connection === undefined) return;
    this.open.delete(cid);
    const group = groupOf(connection.kind, connection.role);
    const left = (this.groups.get(group) ?? 1) - 1;
    if (left === 0) this.groups.delete(group);
    else this.groups.set(group, left);
  }

  get(cid: number): RegisteredConnection | undefined {
    return this.open.get(cid);
  }

  /** The open connections, in cid order. */
  list(): RegisteredConnection[] {
    return [...this.open.values()];
  }
}
