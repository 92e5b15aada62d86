/**
 * Server-sent events (WHATWG HTML, "Server-sent events": `event:`/`data:` lines, a blank
 * line per event) for the status page: a Response whose body stays open and gets an event
 * whenever the caller sends one. Works the same over HTTPS (--metrics-tls).
 */
import type { Server } from "bun";

const encoder = new TextEncoder();

export const EVENT_STREAM_HEADERS = {
  "content-type": "text/event-stream; charset=utf-8",
  "cache-control": "no-store",
  "x-content-type-options": "nosniff",
};

/** Sends one event: `name` and a JSON value (one `data:` line: JSON.stringify has no newline). */
export type SendEvent = (name: string, value: unknown) => void;

/**
 * Opens an event stream for `request`. `open` is called with a sender once the stream starts
 * and returns what to do when the page goes away (or the server stops). Bun.serve's idle
 * timeout is turned off for this request: an event stream is quiet between events by design.
 */
export function eventStream(
  request: Request,
  server: Server<undefined>,
  open: (send: SendEvent) => () => void,
): Response {
  server.timeout(request, 0);
  let close: (() => void) | undefined;
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      let closed = false;
      const send: SendEvent = (name, value) => {
        if (closed) return;
        try {
          controller.enqueue(encoder.encode(`event: ${name}\ndata: ${JSON.stringify(value)}\n\n`));
        } catch {
          closed = true; // the page went away between two events
          close?.();
        }
      };
      close = open(send);
      request.signal.addEventListener("abort", () => {
        closed = true;
        close?.();
      });
    },
    cancel() {
      close?.();
    },
  });
  return new Response(body, { headers: EVENT_STREAM_HEADERS });
}
