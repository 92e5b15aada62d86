/**
 * The nats.go conformance check (issue 20): test/nats/go-client/main.go, the official Go
 * client (nats.go 1.22, Debian's golang-github-nats-io-go-nats-dev) built in GOPATH mode
 * against Debian's source, connects to the server under test and prints one line per check:
 * plain, wildcard and queue subscriptions, request/reply with headers, no-responders and
 * auto-unsubscribe. Every line must say ok.
 */

import { afterAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import path from "node:path";
import { goGopathProgram } from "../support/go-peers.ts";
import type { NatsTarget, RunningNats } from "./target.ts";

const SOURCE = path.join(import.meta.dir, "go-client");
const NATS_GO = "/usr/share/gocode/src/github.com/nats-io/nats.go/nats.go";

/** The case's time limit: the first run on a machine compiles nats.go and its dependencies. */
const FIRST_BUILD_MS = 120_000;

/** What go-client prints when every check passes, in its order. */
export const GO_CLIENT_OK = [
  "connect ok",
  "pubsub ok",
  "wildcard-star ok",
  "wildcard-gt ok",
  "queue ok",
  "request-headers ok",
  "no-responders ok",
  "unsubscribe-max ok",
];

/** Why the Go client cannot be built here, or undefined when it can. */
export function goClientMissing(): string | undefined {
  if (!Bun.which("go")) return "`go` is not installed (Debian package golang-go)";
  if (!existsSync(NATS_GO)) {
    return `no ${NATS_GO} (Debian package golang-github-nats-io-go-nats-dev)`;
  }
  return undefined;
}

/** Registers the nats.go case against `target`; skipped, saying why, if Go or it is missing. */
export function runGoClientSuite(target: NatsTarget): void {
  const missing = target.missing ?? goClientMissing();
  describe.skipIf(missing !== undefined)(`nats.go against ${target.name}`, () => {
    let server: RunningNats | undefined;
    afterAll(async () => {
      await server?.stop();
    });

    test(
      "every check of go-client says ok",
      async () => {
        const [binary, running] = await Promise.all([
          goGopathProgram(SOURCE, "nats-go-client"),
          target.start({}),
        ]);
        server = running;
        const child = Bun.spawn([binary, running.url], { stdout: "pipe", stderr: "pipe" });
        const [status, output, errors] = await Promise.all([
          child.exited,
          new Response(child.stdout).text(),
          new Response(child.stderr).text(),
        ]);
        expect({ lines: output.trimEnd().split("\n"), errors }).toEqual({
          lines: GO_CLIENT_OK,
          errors: "",
        });
        expect(status).toBe(0);
      },
      FIRST_BUILD_MS,
    );
  });
}
