#!/usr/bin/env bun
/**
 * bun-relay's command line: `bun-relay [MODE] [options]`. The first word picks the mode and
 * its runner (src/<mode>/<mode>-cli.ts), loaded only when asked for; anything else is the
 * relay's own command line. `--version` is answered here, before any mode checks anything.
 */
import { versionText } from "./cli/program.ts";

/** Everything before a `--` that ends the options. */
function options(argv: readonly string[]): readonly string[] {
  const end = argv.indexOf("--");
  return end === -1 ? argv : argv.slice(0, end);
}

async function main(argv: string[]): Promise<void> {
  if (options(argv).includes("--version")) {
    process.stdout.write(`${versionText()}\n`);
    process.exit(0);
  }
  switch (argv[0]) {
    case "forward": // TCP forwarding (docs/forwarding.md)
      process.exit(await (await import("./forward/forward-cli.ts")).runForwardMode(argv));
      break;
    case "proxy": // the HTTP CONNECT proxy (docs/forwarding.md)
      process.exit(await (await import("./proxy/proxy-cli.ts")).runProxyMode(argv));
      break;
    case "tunnel": // TCP over smux sessions (docs/tunnel.md)
      process.exit(await (await import("./tunnel/tunnel-cli.ts")).runTunnelMode(argv));
      break;
    default:
      (await import("./relay/relay-cli.ts")).runRelayMode(argv);
  }
}

void main(process.argv.slice(2));
