/**
 * The NATS conformance suites (issue 20) against the relay's `--nats-port`: the same cases
 * that nats-server passes (test/nats/nats-server.test.ts).
 */
import { runNatsJsSuite } from "./nats-js-suite.ts";
import { runRawProtocolSuite } from "./raw-protocol-suite.ts";
import { relayTarget } from "./relay-target.ts";

runRawProtocolSuite(relayTarget);
runNatsJsSuite(relayTarget);
