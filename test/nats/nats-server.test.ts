/**
 * The NATS conformance suites (issue 20) against the reference, nats-server 2.9 (Debian's
 * nats-server package): every case here is known to hold for it. The relay's NATS port runs
 * the same suites through its own target.
 */
import { stopNatsServersAfterAll } from "../support/nats-server.ts";
import { runNatsJsSuite } from "./nats-js-suite.ts";
import { natsServerTarget } from "./nats-server-target.ts";
import { runRawProtocolSuite } from "./raw-protocol-suite.ts";

// Stops any server a failed case left running.
stopNatsServersAfterAll();

runRawProtocolSuite(natsServerTarget);
runNatsJsSuite(natsServerTarget);
