/**
 * Real openings of other protocols for the first-bytes tests, captured live from the clients
 * that send them against a plain TCP listener: TLS ClientHellos from Bun's own TLS client (the
 * one the SDK and the relay's peers use) and from `openssl s_client` (when installed), and the
 * request head of Bun's fetch.
 */

/**
 * Listens on a plain TCP port on 127.0.0.1, lets `dial(port)` start a client against it, and
 * resolves with the client's first bytes, exactly as they arrived, up to `openingLength` of
 * them: how long the opening is once enough has arrived to tell, else undefined. The
 * connection is then closed. `dial` returns a function that stops the client.
 */
async function captureOpening(
  dial: (port: number) => Promise<() => void>,
  openingLength: (received: Buffer) => number | undefined,
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
        const received = Buffer.concat(chunks);
        const length = openingLength(received);
        if (length === undefined || received.length < length) return;
        resolve(new Uint8Array(received.subarray(0, length)));
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

/** A TLS record's length: its 5-byte header plus the body length the header gives. */
function tlsRecordLength(received: Buffer): number | undefined {
  return received.length < 5 ? undefined : 5 + received.readUInt16BE(3);
}

/** The ClientHello record Bun's TLS client (Bun.connect with `tls`) sends. */
export function bunClientHello(): Promise<Uint8Array> {
  return captureOpening(async (port) => {
    const socket = await Bun.connect({
      hostname: "127.0.0.1",
      port,
      tls: { serverName: "localhost" },
      socket: { data() {}, handshake() {}, close() {}, error() {}, connectError() {} },
    });
    return () => socket.terminate();
  }, tlsRecordLength);
}

/** The ClientHello record `openssl s_client` sends, or undefined without openssl. */
export async function opensslClientHello(): Promise<Uint8Array | undefined> {
  const openssl = Bun.which("openssl");
  if (openssl === null) return undefined;
  return captureOpening(async (port) => {
    const child = Bun.spawn(
      [openssl, "s_client", "-connect", `127.0.0.1:${port}`, "-servername", "localhost"],
      { stdin: "pipe", stdout: "ignore", stderr: "ignore" },
    );
    return () => child.kill();
  }, tlsRecordLength);
}

/** The request head (request line and headers) Bun's fetch sends. */
export function fetchRequestHead(): Promise<Uint8Array> {
  return captureOpening(
    async (port) => {
      fetch(`http://127.0.0.1:${port}/`).catch(() => {}); // closed unanswered: it fails
      return () => {};
    },
    (received) => {
      const end = received.indexOf("\r\n\r\n");
      return end === -1 ? undefined : end + 4;
    },
  );
}
