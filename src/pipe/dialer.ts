/**
 * Opens one upstream connection with a connect timeout on our own timer.
 *
 * Bun.connect cannot be cancelled: when the timeout wins, the attempt is abandoned and the
 * socket, should it connect later, is reset at once (its PipeEnd is handed to an owner that
 * ignores everything).
 *
 * With `tls` (forward --to-tls) the upstream is dialed with Bun's TLS, verified against the
 * system store or --to-ca, SNI and the name checked from --to-servername or the target's
 * host; the dial settles once the handshake has (within the same connect timeout), and a
 * failed verification is a failed connect: the forwarder fails over as for a refusal.
 */
import type { Socket } from "bun";
import { ErrorCode, RelayError } from "../errors.ts";
import type { EndOwner } from "./endpoint.ts";
import { type PipeEnd, pipeEndHandlers } from "./pipe-end.ts";

const IGNORE: EndOwner = {
  onData() {},
  onDrain() {},
  onEnd() {},
  onClose() {},
};

/** TLS origination for dials (forward --to-tls). */
export interface DialTls {
  /** PEM CA certificates to verify the upstream against; undefined: the system store. */
  ca?: string | undefined;
  /** SNI and the name checked against the certificate; undefined: the target's host. */
  serverName?: string | undefined;
}

/** Dials waiting for their TLS handshake, by the PipeEnd on the socket's data. */
const handshakes = new WeakMap<PipeEnd, (ok: boolean, error: Error | null) => void>();

const connectHandlers = {
  ...pipeEndHandlers,
  connectError() {
    // The promise rejects with the same error.
  },
  handshake(socket: Socket<PipeEnd>, ok: boolean, error: Error | null) {
    const settle = handshakes.get(socket.data);
    handshakes.delete(socket.data);
    settle?.(ok, error);
  },
};

/**
 * Connects to `host:port` with `end` as the socket's data. Rejects with a RelayError:
 * RELAY_ERR_CONNECT_TIMEOUT after `timeoutSeconds`, RELAY_ERR_CONNECT_FAILED on a refusal or
 * any other connect error (the system code is in the reason).
 */
export function dialUpstream(
  host: string,
  port: number,
  timeoutSeconds: number,
  end: PipeEnd,
  tls?: DialTls,
): Promise<Socket<PipeEnd>> {
  const where = host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
  return new Promise((resolve, reject) => {
    let settled = false;
    // With TLS the dial settles at the handshake, which may come before or after connect().
    let connected: Socket<PipeEnd> | undefined;
    let handshake: { ok: boolean; error: Error | null } | undefined;
    const finish = () => {
      if (settled || connected === undefined || (tls !== undefined && handshake === undefined)) {
        return;
      }
      settled = true;
      clearTimeout(timer);
      if (handshake !== undefined && !handshake.ok) {
        end.owner = IGNORE;
        connected.terminate();
        const code =
          (handshake.error as { code?: string } | null)?.code ?? handshake.error?.message;
        reject(
          new RelayError(
            ErrorCode.ConnectFailed,
            `TLS handshake failed (${code ?? "unknown"})`,
            where,
          ),
        );
        return;
      }
      end.socket = connected;
      end.peerAddress = where;
      resolve(connected);
    };
    if (tls !== undefined) {
      handshakes.set(end, (ok, error) => {
        handshake = { ok, error };
        finish();
      });
    }
    const timer = setTimeout(() => {
      settled = true;
      end.owner = IGNORE;
      handshakes.delete(end);
      connected?.terminate(); // connected, but its TLS handshake did not finish in time
      reject(
        new RelayError(
          ErrorCode.ConnectTimeout,
          `no connection within --connect-timeout ${timeoutSeconds}s`,
          where,
        ),
      );
    }, timeoutSeconds * 1000);
    Bun.connect<PipeEnd>({
      hostname: host,
      port,
      allowHalfOpen: true,
      data: end,
      socket: connectHandlers,
      ...(tls === undefined
        ? {}
        : {
            tls: {
              serverName: tls.serverName ?? host,
              ...(tls.ca === undefined ? {} : { ca: tls.ca }),
            },
          }),
    }).then(
      (socket) => {
        if (settled) {
          socket.terminate();
          return;
        }
        connected = socket;
        finish();
      },
      (error: unknown) => {
        handshakes.delete(end);
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        const code = (error as { code?: string }).code ?? (error as Error).message;
        reject(
          new RelayError(ErrorCode.ConnectFailed, `connect failed (${code})`, where, {
            cause: error,
          }),
        );
      },
    );
  });
}
