/** The nats.go check (go-client-suite.ts) against the reference, nats-server 2.9, and the relay. */
import { runGoClientSuite } from "./go-client-suite.ts";
import { natsServerTarget } from "./nats-server-target.ts";
import { relayTarget } from "./relay-target.ts";

runGoClientSuite(natsServerTarget);
runGoClientSuite(relayTarget);
