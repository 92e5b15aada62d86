/**
 * The relay as users run it: `bun run src/main.ts …` in a child process, over real sockets.
 */
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { ChildLines, relayProcesses, runToExit } from "../support/child.ts";
import { TestClient } from "../support/harness.ts";

setDefaultTimeout(30_000);

const spawnRelay = relayProcesses();
const MAIN_PATH = new URL("../../src/main.ts", import.meta.url).pathname;

const run = (args: string[], env: Record<string, string> = {}) => runToExit(spawnRelay, args, env);

describe("bun run src/main.ts", () => {
  test("--help prints usage with every flag and exits 0", async () => {
    const { status, stdout } = await run(["--help"]);
    expect(status).toBe(0);
    expect(stdout).toContain("Usage: bun run src/main.ts [PUB_PORT [SUB_PORT]] [options]");
    for (const flag of [
      "--host",
      "--pub-port",
      "--sub-port",
      "--max-line",
      "--max-pending",
      "--quiet",
    ]) {
      expect(stdout).toContain(flag);
    }
  });

  test("a bad flag is one line on stderr and exit status 2, no stack trace", async () => {
    const { status, stdout, stderr } = await run(["--max-pending", "huge"]);
    expect(status).toBe(2);
    expect(stdout).toBe("");
    expect(stderr).toBe(
      "bun-relay: --max-pending: 'huge' is not a size (examples: 65536, 64KiB, 8MiB)\n" +
        "Try 'bun run src/main.ts --help'.\n",
    );
  });

  test("a mistyped mode is named as an unknown mode, not as a bad port", async () => {
    const { status, stderr } = await run(["forwrad", "--listen", "127.0.0.1:0"]);
    expect(status).toBe(2);
    expect(stderr).toBe(
      "bun-relay: unknown mode 'forwrad' (did you mean 'forward'?): the modes are forward, proxy and tunnel; the relay itself takes [PUB_PORT [SUB_PORT]]\n" +
        "Try 'bun run src/main.ts --help'.\n",
    );
  });

  test("a negative value after a flag is that flag's value, refused by its own rule", async () => {
    const { status, stderr } = await run(["--stall-timeout", "-1"]);
    expect(status).toBe(2);
    expect(stderr).toBe(
      "bun-relay: --stall-timeout: '-1' is not a duration (examples: 5, 0.5, 250ms, 1m)\n" +
        "Try 'bun run src/main.ts --help'.\n",
    );
  });

  test("tunnel with an unknown role points to `tunnel --help`", async () => {
    const { status, stderr } = await run(["tunnel", "bogus"]);
    expect(status).toBe(2);
    expect(stderr).toBe(
      "bun-relay: tunnel: unknown role 'bogus' (use 'tunnel client' or 'tunnel server')\n" +
        "Try 'bun run src/main.ts tunnel --help'.\n",
    );
  });

  test("an address that names no host is refused at parse time, so --check finds it", async () => {
    const relay = await run(["--host", "999.1.1.1", "--check"]);
    expect([relay.status, relay.stderr]).toEqual([
      2,
      "bun-relay: --host: '999.1.1.1' is not an IPv4 address\nTry 'bun run src/main.ts --help'.\n",
    ]);
    const forward = await run([
      "forward",
      "--listen",
      "1.2.3.999:80",
      "--to",
      "127.0.0.1:9",
      "--check",
    ]);
    expect(forward.status).toBe(2);
    expect(forward.stderr.split("\n")[0]).toBe(
      "bun-relay: forward: --listen: '1.2.3.999:80': the host is not an IPv4 address",
    );
  });

  test("a port already in use is one line on stderr and exit status 1", async () => {
    const squatter = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    try {
      const { status, stderr } = await run(["--host", "127.0.0.1", String(squatter.port), "0"]);
      expect(status).toBe(1);
      expect(stderr).toBe(
        `bun-relay: publisher port 127.0.0.1:${squatter.port} is already in use\n`,
      );
    } finally {
      squatter.stop(true);
    }
  });

  test.each([
    ["forward", ["--to", "127.0.0.1:9"]],
    ["proxy", ["--allow-any"]],
    ["tunnel server", ["--to", "127.0.0.1:9"]],
    ["tunnel client", ["--server", "127.0.0.1:9"]],
  ])(
    "%s: its port in use is one line, exit 1, and no SHUTDOWN for what never started",
    async (mode, rest) => {
      const squatter = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
      try {
        const listen = ["--listen", `127.0.0.1:${squatter.port}`];
        const result = await run([...mode.split(" "), ...listen, ...rest]);
        expect(result).toEqual({
          status: 1,
          stdout: "",
          stderr: `bun-relay: ${mode} port 127.0.0.1:${squatter.port} is already in use\n`,
        });
      } finally {
        squatter.stop(true);
      }
    },
  );

  test("relays, logs OPEN/CLOSE, and on SIGTERM flushes, says BYE and exits 0", async () => {
    const child = spawnRelay(["--host", "127.0.0.1", "0", "0"], { RELAY_STATS_INTERVAL: "0" });
    const out = new ChildLines(child.stdout);
    const pubPort = Number((await out.match(/LISTEN publishers on 127\.0\.0\.1:(\d+)/))[1]);
    const subPort = Number((await out.match(/LISTEN subscribers on 127\.0\.0\.1:(\d+)/))[1]);

    const subscriber = await TestClient.connect(subPort);
    await out.waitFor(/OPEN subscriber 127\.0\.0\.1:\d+/);
    const publisher = await TestClient.connect(pubPort);
    await publisher.write("from another process\r\n");
    await subscriber.waitForBytes(21);
    expect(subscriber.text()).toBe("from another process\n");
    publisher.end();
    await out.waitFor(/CLOSE publisher 127\.0\.0\.1:\d+ reason=peer_closed/);

    child.kill("SIGTERM");
    expect(await child.exited).toBe(0);
    await out.waitFor(/BYE all queued data flushed \| total .*Recv: 1 .*Sent: 1 /);
    expect(await subscriber.closed).toBeUndefined();
  });

  test("running out of file descriptors does not stop the relay", async () => {
    // A relay limited to 64 descriptors, offered 120 subscribers: accepts past the limit
    // fail inside Bun; the relay must survive and serve once descriptors are free again.
    const child = Bun.spawn(
      ["bash", "-c", `ulimit -n 64 && exec bun run ${MAIN_PATH} --host 127.0.0.1 0 0`],
      { stdout: "pipe", stderr: "pipe", stdin: "ignore" },
    );
    try {
      const out = new ChildLines(child.stdout);
      const pubPort = Number((await out.match(/LISTEN publishers on 127\.0\.0\.1:(\d+)/))[1]);
      const subPort = Number((await out.match(/LISTEN subscribers on 127\.0\.0\.1:(\d+)/))[1]);
      const flood = await Promise.all(
        Array.from({ length: 120 }, () => TestClient.connect(subPort)),
      );
      await out.waitFor(/OPEN subscriber/);
      for (const client of flood) client.reset();
      await Promise.all(flood.map((client) => client.closed));
      // Descriptors are free again: a new subscriber and publisher are served.
      const subscriber = await TestClient.connect(subPort);
      await out.waitFor(new RegExp(`OPEN subscriber 127\\.0\\.0\\.1:${subscriber.localPort}$`));
      const publisher = await TestClient.connect(pubPort);
      await publisher.write("still relaying\n");
      await subscriber.waitForBytes(15);
      expect(subscriber.text()).toBe("still relaying\n");
      expect(child.exitCode).toBeNull();
    } finally {
      child.kill("SIGKILL");
    }
  });

  test("--quiet hides OPEN/CLOSE lines; the stats line still counts connections", async () => {
    const child = spawnRelay([
      "--host",
      "127.0.0.1",
      "--quiet",
      "--stats-interval",
      "50ms",
      "0",
      "0",
    ]);
    const out = new ChildLines(child.stdout);
    const pubPort = Number((await out.match(/LISTEN publishers on 127\.0\.0\.1:(\d+)/))[1]);
    const subPort = Number((await out.match(/LISTEN subscribers on 127\.0\.0\.1:(\d+)/))[1]);
    const subscriber = await TestClient.connect(subPort);
    const publisher = await TestClient.connect(pubPort);
    await out.waitFor(/STATS .*SendConn=1 RecvConn=1/);
    subscriber.end();
    publisher.end();
    await out.waitFor(/STATS .*SendConn=0 RecvConn=0/);
    child.kill("SIGINT");
    expect(await child.exited).toBe(0);
    await out.waitFor(/BYE/);
    expect(out.lines.filter((line) => / (OPEN|CLOSE) /.test(line))).toEqual([]);
  });
});

/** A relay child on ephemeral loopback ports with --metrics-port 0 and `extra` flags. */
async function relayWithMetrics(extra: string[]) {
  const child = spawnRelay([
    ...["--host", "127.0.0.1", "--pub-port", "0", "--sub-port", "0", "--metrics-port", "0"],
    ...extra,
  ]);
  const out = new ChildLines(child.stdout);
  const subPort = Number((await out.match(/LISTEN subscribers on 127\.0\.0\.1:(\d+)/))[1]);
  const metrics = (await out.match(/LISTEN metrics on (http:\/\/127\.0\.0\.1:\d+)\/metrics/))[1];
  return { out, subPort, metrics };
}

describe("the metrics port as main.ts wires it", () => {
  test("/connz sees the relay's connections; --status-tail opens the tail; /varz is served", async () => {
    const { out, subPort, metrics } = await relayWithMetrics(["--status-tail"]);
    const subscriber = await TestClient.connect(subPort);
    await out.waitFor(/ OPEN subscriber /);
    const connz = (await (await fetch(`${metrics}/connz`)).json()) as {
      connections: { cid: number; kind: string; role: string; port: number }[];
    };
    expect(
      connz.connections.map(({ cid, kind, role, port }) => ({ cid, kind, role, port })),
    ).toEqual([{ cid: 1, kind: "line", role: "subscriber", port: subscriber.localPort }]);
    expect((await fetch(`${metrics}/varz`)).status).toBe(200);
    const tail = await fetch(`${metrics}/status/tail?subject=relay`);
    expect(tail.status).toBe(200);
    await tail.body?.cancel();
    subscriber.end();
  });

  test("--allow-from refuses the metrics port too: 403 and a REFUSED metrics line", async () => {
    const { out, metrics } = await relayWithMetrics(["--allow-from", "10.0.0.0/8"]);
    const response = await fetch(`${metrics}/connz`);
    expect(response.status).toBe(403);
    expect(await out.waitFor(/REFUSED metrics/)).toMatch(
      /REFUSED metrics 127\.0\.0\.1:\d+ reason=allow_from \(not in --allow-from 10\.0\.0\.0\/8\)$/,
    );
    const tail = await fetch(`${metrics}/status/tail?subject=relay`);
    expect(tail.status).toBe(403);
  });
});
