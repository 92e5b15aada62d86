/**
 * Opens one upstream connection with a connect timeout on our own timer.
 *
 * Bun.connect cannot be cancelled: when the timeout wins, the attempt is abandoned and the
 * socket, should it connect later, is reset at once (its PipeEnd is handed to an owner that
 * ignores everything).
 */
import type { Socket } from "bun";
import { ErrorCode, RelayError } from "../errors.ts";
import { type EndOwner, type PipeEnd, pipeEndHandlers } from "./pipe.ts";

const IGNORE: EndOwner = {
  onData() {},
  onDrain() {},
  onEnd() {},
  onClose() {},
};

const connectHandlers = {
  ...pipeEndHandlers,
  connectError() {
    // The promise rejects with the same error.
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
): Promise<Socket<PipeEnd>> {
  const where = host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
  return new Promise((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(() => {
      settled = true;
      end.owner = IGNORE;
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
    }).then(
      (socket) => {
        if (settled) {
          socket.terminate();
          return;
        }
        settled = true;
        clearTimeout(timer);
        end.socket = socket;
        end.peerAddress = where;
        resolve(socket);
      },
      (error: unknown) => {
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
