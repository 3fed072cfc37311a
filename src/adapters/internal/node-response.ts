// Writes the pipeline's response on a Node `ServerResponse` (Express 4 and 5 responses are ones).
import type { ServerResponse } from "node:http";
import type { WebhookResponse } from "../../response";

// The headers to write, Content-Length included, kept on a 2xx response object: the
// receiver answers accepted deliveries with a few constant responses, built once. (Failure
// responses are built per request: caching on them would only cost the reject path.)
const NODE_HEADERS = Symbol("hookguard.nodeHeaders");

type Cached = WebhookResponse & { [NODE_HEADERS]?: Readonly<Record<string, string>> };

function headersOf(response: Cached): Readonly<Record<string, string>> {
  let headers = response[NODE_HEADERS];
  if (headers === undefined) {
    // Content-Length given here, or Node would fall back to chunked encoding.
    headers = { ...response.headers, "content-length": String(Buffer.byteLength(response.body)) };
    if (response.status < 300 && Object.isExtensible(response)) Object.defineProperty(response, NODE_HEADERS, { value: headers });
  }
  return headers;
}

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
  res.writeHead(response.status, headersOf(response)).end(response.body);
}
