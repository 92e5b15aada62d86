/**
 * Serves the example page (examples/browser/index.html), its TypeScript bundled by Bun on the
 * fly. Run a relay with a WebSocket port, then this, then open the page:
 *
 *   bun run src/main.ts --ws-port 8080 &
 *   bun run examples/browser/serve.ts            # http://127.0.0.1:3000/
 *   printf 'hello\n' | nc 127.0.0.1 7001         # appears on the page
 *
 * PORT sets this page server's port (default 3000; 0: any free port).
 */
import page from "./index.html";

/** Starts the page server on `port` (0: any free port); returns it. */
export function servePage(port: number, hostname = "127.0.0.1") {
  return Bun.serve({ hostname, port, routes: { "/": page }, development: false });
}

if (import.meta.main) {
  const server = servePage(Number(process.env.PORT ?? 3000));
  console.log(`example page at http://${server.hostname}:${server.port}/`);
}
