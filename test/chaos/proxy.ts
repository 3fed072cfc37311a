// A loopback TCP proxy in front of the shared Redis or PostgreSQL server, so a chaos run can
// make the idempotency store unreachable for a while without touching the server itself
// (other engineers and test files use it at the same time).
//
// Down means every open connection is reset and every new one is accepted and reset at
// once: to a client it looks like a server that crashed and is refusing work, and it fails
// fast (ECONNRESET), the case the receiver must answer with 503.
import { createServer, connect, type Server, type Socket } from "node:net";

/** The proxy as a chaos run drives it. */
export interface TcpProxy {
  /** The loopback port clients connect to. */
  readonly port: number;
  /** True while connections are being dropped. */
  readonly isDown: boolean;
  /** Resets every open connection and every new one until {@link TcpProxy.up}. */
  down(): void;
  /** Forwards new connections again. */
  up(): void;
  /** Counts: connections forwarded, and connections reset (open ones at `down()`, and refused ones during it). */
  stats(): { forwarded: number; reset: number };
  /** Closes the listener and every connection. */
  close(): Promise<void>;
}

function reset(socket: Socket): void {
  // An RST rather than a FIN: the client sees ECONNRESET at once, as from a crashed server.
  if (!socket.destroyed) socket.resetAndDestroy();
}

/** Starts a proxy on 127.0.0.1 (an ephemeral port) forwarding to `target`. */
export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  // Each client connection and its upstream twin.
  const open = new Map<Socket, Socket>();
  let isDown = false;
  let forwarded = 0;
  let resets = 0;

  const server: Server = createServer({ noDelay: true }, (client) => {
    client.on("error", () => {});
    if (isDown) {
      resets++;
      reset(client);
      return;
    }
    forwarded++;
    const upstream = connect({ host: target.host, port: target.port, noDelay: true });
    upstream.on("error", () => reset(client));
    client.on("error", () => reset(upstream));
    open.set(client, upstream);
    client.on("close", () => {
      open.delete(client);
      upstream.destroy();
    });
    upstream.on("close", () => {
      open.delete(client);
      client.destroy();
    });
    client.pipe(upstream);
    upstream.pipe(client);
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("the proxy has no TCP address");

  return {
    port: address.port,
    get isDown() {
      return isDown;
    },
    down() {
      isDown = true;
      for (const [client, upstream] of open) {
        resets++;
        reset(client);
        reset(upstream);
      }
      open.clear();
    },
    up() {
      isDown = false;
    },
    stats() {
      return { forwarded, reset: resets };
    },
    close() {
      for (const [client, upstream] of open) {
        client.destroy();
        upstream.destroy();
      }
      open.clear();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
