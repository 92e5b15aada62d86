/**
 * Real TLS ClientHellos for the first-bytes tests: what a TLS client sends to a plain TCP
 * listener, captured live from Bun's own TLS client (the one the SDK and the relay's peers
 * use) and from `openssl s_client` (when openssl is installed).
 */

/**
 * Listens on a plain TCP port on 127.0.0.1, lets `dial(port)` start a TLS client against it,
 * and resolves with the client's first TLS record (5-byte header plus its body), exactly as
 * it arrived; the connection is then closed. `dial` returns a function that stops the client.
 */
async function captureFirstRecord(
  dial: (port: number) => Promise<() => void>,
): Promise<Uint8Array> {
  let resolve!: (bytes: Uint8Array) => void;
  const captured = new Promise<Uint8Array>((r) => {
    resolve = r;
  });
  const chunks: Uint8Array[] = [];
  const listener = Bun.listen({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      binaryType: "uint8array",
      data(socket, chunk) {
        chunks.push(chunk);
        const all = Buffer.concat(chunks);
        if (all.length < 5 || all.length < 5 + all.readUInt16BE(3)) return;
        resolve(new Uint8Array(all.subarray(0, 5 + all.readUInt16BE(3))));
        socket.terminate();
      },
      error() {},
    },
  });
  const stop = await dial(listener.port);
  try {
    return await captured;
  } finally {
    stop();
    listener.stop(true);
  }
}

/** The ClientHello record Bun's TLS client (Bun.connect with `tls`) sends. */
export function bunClientHello(): Promise<Uint8Array> {
  return captureFirstRecord(async (port) => {
    const socket = await Bun.connect({
      hostname: "127.0.0.1",
      port,
      tls: { serverName: "localhost" },
      socket: { data() {}, handshake() {}, close() {}, error() {}, connectError() {} },
    });
    return () => socket.terminate();
  });
}

/** The ClientHello record `openssl s_client` sends, or undefined without openssl. */
export async function opensslClientHello(): Promise<Uint8Array | undefined> {
  const openssl = Bun.which("openssl");
  if (openssl === null) return undefined;
  return captureFirstRecord(async (port) => {
    const child = Bun.spawn(
      [openssl, "s_client", "-connect", `127.0.0.1:${port}`, "-servername", "localhost"],
      { stdin: "pipe", stdout: "ignore", stderr: "ignore" },
    );
    return () => child.kill();
  });
}
