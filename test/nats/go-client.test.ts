/** The nats.go check (go-client-suite.ts) against the reference, nats-server 2.9. */
import { runGoClientSuite } from "./go-client-suite.ts";
import { natsServerTarget } from "./nats-server-target.ts";

runGoClientSuite(natsServerTarget);
