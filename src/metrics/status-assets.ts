/**
 * The status page's files: src/metrics/status/index.html with its TypeScript and CSS, bundled
 * by Bun.build (no CDN, no framework) the first time someone asks for the page, then kept in
 * memory. Served from the metrics server's own fetch handler (not Bun.serve's `routes`), so
 * --allow-from is checked before every file, as before every other path.
 */

/** One bundled file: its bytes and content type. */
interface Asset {
  readonly bytes: Uint8Array<ArrayBuffer>;
  readonly type: string;
}

const ENTRY = new URL("./status/index.html", import.meta.url).pathname;

/**
 * The page may load only its own files and open only its own event streams; inline scripts
 * and styles are refused, so a payload that slipped into the DOM as HTML could not run.
 */
const SECURITY_HEADERS = {
  "content-security-policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
};

export class StatusAssets {
  private built: Promise<Map<string, Asset>> | undefined;

  /**
   * The response for `pathname` (`/` is the page), or undefined when it is none of the page's
   * files. A failed build is a 500 naming Bun's first message, and is tried again next time.
   */
  async respond(pathname: string): Promise<Response | undefined> {
    let assets: Map<string, Asset>;
    try {
      this.built ??= build();
      assets = await this.built;
    } catch (error) {
      this.built = undefined;
      return new Response(`status page build failed: ${(error as Error).message}\n`, {
        status: 500,
        headers: { "content-type": "text/plain; charset=utf-8" },
      });
    }
    const asset = assets.get(pathname === "/" ? "/index.html" : pathname);
    if (asset === undefined) return undefined;
    return new Response(asset.bytes, {
      headers: { ...SECURITY_HEADERS, "content-type": asset.type, "cache-control": "no-cache" },
    });
  }
}

async function build(): Promise<Map<string, Asset>> {
  const result = await Bun.build({ entrypoints: [ENTRY], minify: true, target: "browser" });
  if (!result.success) {
    throw new Error(String(result.logs[0] ?? "unknown error"));
  }
  const assets = new Map<string, Asset>();
  for (const output of result.outputs) {
    const name = output.path.replace(/^\.\//, "/");
    assets.set(name, { bytes: new Uint8Array(await output.arrayBuffer()), type: output.type });
  }
  return assets;
}
