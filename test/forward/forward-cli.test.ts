import { expect, test } from "bun:test";
import { cleanupAfterEach, EchoServer, PipeClient } from "./forward-harness.ts";

const cleanup = cleanupAfterEach();

/** Reads lines from a child's stdout until one matches. */
async function waitForLine(
  lines: AsyncIterator<string>,
  test: (line: string) => boolean,
): Promise<string> {
  for (;;) {
    const next = await lines.next();
    if (next.done) throw new Error("the process ended before the expected line");
    if (test(next.value)) return next.value;
  }
}

async function* splitLines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let buffered = "";
  for await (const chunk of stream) {
    buffered += decoder.decode(chunk, { stream: true });
    let newline = buffered.indexOf("\n");
    while (newline >= 0) {
      yield buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      newline = buffered.indexOf("\n");
    }
  }
}

test("`main.ts forward` logs LISTEN/OPEN/CLOSE with both addresses and exits 0 on SIGTERM", async () => {
  const echo = new EchoServer();
  cleanup.push(() => echo.stop());
  const child = Bun.spawn(
    [
      "bun",
      "run",
      "src/main.ts",
      "forward",
      "--listen",
      "127.0.0.1:0",
      "--to",
      `127.0.0.1:${echo.port}`,
    ],
    { stdout: "pipe", stderr: "pipe" },
  );
  cleanup.push(() => child.kill());
  const lines = splitLines(child.stdout);
  const listening = await waitForLine(lines, (line) => line.includes("LISTEN forward"));
  const port = Number(/:(\d+)$/.exec(listening)?.[1]);
  const client = await PipeClient.connect(port);
  const clientPort = client.localPort;
  await client.write("abc");
  client.halfClose();
  await client.closed;
  const open = await waitForLine(lines, (line) => line.includes("OPEN forward"));
  expect(open).toContain(`127.0.0.1:${clientPort} -> 127.0.0.1:${echo.port}`);
  const close = await waitForLine(lines, (line) => line.includes("CLOSE forward"));
  expect(close).toContain("reason=peer_closed up=3B down=3B");
  child.kill("SIGTERM");
  expect(await child.exited).toBe(0);
});

test("`main.ts forward` with a bad flag exits 2 with a one-line reason", async () => {
  const child = Bun.spawn(["bun", "run", "src/main.ts", "forward", "--to", "x"], {
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stderr, code] = await Promise.all([new Response(child.stderr).text(), child.exited]);
  expect(code).toBe(2);
  expect(stderr.split("\n")[0]).toBe(
    "bun-relay: forward: --to: 'x' is not host:port (examples: 10.0.0.5:80, [::1]:8080)",
  );
});
