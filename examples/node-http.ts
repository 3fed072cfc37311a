// Node http: verify GitHub webhooks with no framework at all.
// Run: GITHUB_WEBHOOK_SECRET=... npx tsx examples/node-http.ts
import { createServer } from "node:http";
import { github } from "hookguard";
import { verifyWebhook } from "hookguard/node";

const onWebhook = verifyWebhook(github({ secret: process.env.GITHUB_WEBHOOK_SECRET! }), (event, _req, res) => {
  console.log(`github ${event.type} ${event.id}`);
  res.writeHead(204).end();
});

createServer(onWebhook).listen(3000, () => console.log("POST http://localhost:3000/"));
