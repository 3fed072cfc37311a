// Writes the pipeline's response on a Node `ServerResponse` (Express 4 and 5 responses are ones).
import type { ServerResponse } from "node:http";
import type { WebhookResponse } from "../../response";

/**
 * Writes status, headers and body exactly as given. `undefined` means the client went
 * away mid-body: there is nothing to write to.
 */
export function writeNodeResponse(res: ServerResponse, response: WebhookResponse | undefined): void {
  if (response === undefined) {
    res.destroy();
    return;
  }
  // Something else (a timeout middleware, …) already answered: a second answer would throw.
  if (res.headersSent) return;
  // writeHead with one headers object: Node serialises it as it is when nothing was set
  // before (its fast path), and merges it over headers set earlier (middleware) otherwise.
  // Content-Length given here, or Node would fall back to chunked encoding.
  res.writeHead(response.status, { ...response.headers, "content-length": String(Buffer.byteLength(response.body)) }).end(response.body);
}
