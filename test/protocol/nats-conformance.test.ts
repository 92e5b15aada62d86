/**
 * The NatsParser against the reference: every stream of nats-cases.ts is also sent, over a
 * real socket, to a real nats-server 2.9 (the Debian package), and what nats-server does with
 * it (accepts it and answers a PING; or sends this -ERR, or none, and closes) must be what the
 * parser decides. Skips, saying why, when nats-server is not installed.
 */
import { describe, expect, test } from "bun:test";
import { NatsParser } from "../../src/protocol/nats-parser.ts";
import { bytes, decoder } from "../support/harness.ts";
import { NatsServer, natsMissing, stopNatsServersAfterAll } from "../support/nats-server.ts";
import { SHOULD_FAIL, STREAMS } from "./nats-cases.ts";
import { Recorder } from "./nats-recorder.ts";

stopNatsServersAfterAll();

const CONNECT_HEADERS =
  'CONNECT {"verbose":false,"pedantic":false,"headers":true,"protocol":1}\r\n';

/** What nats-server did with a stream: the -ERR texts it sent, and how the talk ended. */
interface Verdict {
  errs: string[];
  /** "closed": nats-server closed the connection; "pong": it answered the PING sent last. */
  end: "closed" | "pong";
}

/**
 * Connects to nats-server, waits for its INFO, sends `prefix` then `stream` (then a PING when
 * `ping`), and resolves when nats-server closes the connection or, with `ping`, answers that
 * PING: its PONG is the stream's own PINGs (as many as the parser found) plus one.
 */
function converse(port: number, prefix: string, stream: string, ping: boolean): Promise<Verdict> {
  const recorder = new Recorder();
  new NatsParser(recorder, { headers: true }).push(bytes(stream));
  const pongs = recorder.events.filter((event) => event === "PING").length + 1;
  return new Promise((resolve, reject) => {
    let text = "";
    let sent = false;
    const verdict = (end: Verdict["end"]): Verdict => ({
      errs: [...text.matchAll(/-ERR '([^']*)'\r\n/g)].map((m) => m[1] as string),
      end,
    });
    Bun.connect({
      hostname: "127.0.0.1",
      port,
      socket: {
        data(socket, chunk) {
          text += decoder.decode(chunk);
          if (!sent && text.includes("\r\n")) {
            sent = true;
            const out = bytes(`${prefix}${stream}${ping ? "PING\r\n" : ""}`);
            socket.write(out, 0, out.length);
          } else if (sent && ping && text.split("PONG\r\n").length - 1 === pongs) {
            resolve(verdict("pong"));
            socket.end();
          }
        },
        close() {
          resolve(verdict("closed"));
        },
        error(_socket, error) {
          reject(error);
        },
      },
    }).catch(reject);
  });
}

/** What the parser decides for the same bytes: the -ERR it asks for, and whether it stops. */
function parserVerdict(
  stream: string,
  options: ConstructorParameters<typeof NatsParser>[1],
): Verdict {
  const recorder = new Recorder();
  const parser = new NatsParser(recorder, options);
  parser.push(bytes(stream));
  const err = parser.error?.err?.text;
  return { errs: err === undefined ? [] : [err], end: parser.stopped ? "closed" : "pong" };
}

describe.skipIf(natsMissing !== undefined)("NatsParser decides as nats-server 2.9 does", () => {
  test("streams a client may send are accepted", async () => {
    const server = await NatsServer.start();
    for (const stream of STREAMS) {
      const seen = await converse(server.port, CONNECT_HEADERS, stream.input, true);
      expect({ stream: stream.name, ...seen }).toEqual({
        stream: stream.name,
        errs: [],
        end: "pong",
      });
    }
  });

  test("refused streams get the same -ERR (or none) and the connection closes", async () => {
    const server = await NatsServer.start();
    for (const [input] of SHOULD_FAIL) {
      const seen = await converse(server.port, CONNECT_HEADERS, input, false);
      const decided = parserVerdict(input, { headers: true });
      expect({ input, ...seen }).toEqual({ input, ...decided });
    }
  });

  test("max_control_line and max_payload at their limits, and HPUB without headers", async () => {
    const server = await NatsServer.start({ config: "max_control_line: 16\nmax_payload: 10\n" });
    const options = { maxControlLine: 16, maxPayload: 10 };
    const cases = [
      "PUB a.b.c.d.e.f 10\r\n0123456789\r\n", // arguments of exactly 16 bytes, payload of 10
      "PUB a.b.c.d.e.fg 1\r\n0\r\n", // 17 bytes of arguments
      "SUB a.b.c.d.e.f.g.h.i 1\r\n",
      "PUB a 11\r\n01234567890\r\n",
      "HPUB a 2 4\r\nab\r\n\r\n", // CONNECT {} did not ask for headers
    ];
    for (const input of cases) {
      const seen = await converse(server.port, "CONNECT {}\r\n", input, true);
      const decided = parserVerdict(input, options);
      expect({ input, ...seen }).toEqual({ input, ...decided });
    }
  });

  test("with authentication required, anything but CONNECT first is an Authorization Violation", async () => {
    const server = await NatsServer.start({ config: 'authorization { token: "s3cret" }\n' });
    const cases = ["PING\r\n", "SUB foo 1\r\n", "+OK\r\n", 'cONNECT {"auth_token":"s3cret"}\r\n'];
    for (const input of cases) {
      const seen = await converse(server.port, "", input, input.startsWith("cONNECT"));
      const decided = parserVerdict(input, { awaitingConnect: true });
      expect({ input, ...seen }).toEqual({ input, ...decided });
    }
  });
});
