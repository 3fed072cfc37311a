// Provider schemes against their official SDKs: one scheme of each family — HMAC hex
// (Coinbase Commerce), HMAC base64 (Clerk / Svix), URL-signed (Twilio), Ed25519
// (Discord), ECDSA P-256 (SendGrid) — on node:crypto and on Web Crypto. Every row's check
// proves it verifies before it is timed. Run alone: `npx tsx bench/providers.ts`.
import { Buffer } from "node:buffer";
import { generateKeyPairSync, sign as nodeSign } from "node:crypto";
import { pathToFileURL } from "node:url";
import { EventWebhook } from "@sendgrid/eventwebhook";
// @ts-expect-error -- coinbase-commerce-node ships no types
import coinbaseSdk from "coinbase-commerce-node";
import { verifyKey } from "discord-interactions";
import { Webhook as SvixWebhook } from "svix";
import twilioSdk from "twilio";
import { clerk } from "../src/schemes/clerk";
import { coinbaseCommerce } from "../src/schemes/coinbase-commerce";
import { discord } from "../src/schemes/discord";
import { sendgrid } from "../src/schemes/sendgrid";
import { twilio } from "../src/schemes/twilio";
import type { WebhookScheme } from "../src/types";
import { verifyRequest } from "../src/verify";
import { measure, ratio, type HarnessOptions, type Measurement, type Task } from "./harness";

const coinbase = coinbaseSdk as { Webhook: { verifyEventBody(payload: string, sig: string, secret: string): unknown } };

/** One family: hookguard on both crypto paths against the provider's SDK. */
export interface ProviderBenchRow {
  readonly family: string;
  readonly scheme: string;
  readonly sdk: string;
  readonly nodeUs: number;
  readonly webUs: number;
  readonly sdkUs: number;
  /** SDK time over hookguard (node:crypto) time, median of per-round ratios: > 1 means hookguard is faster. */
  readonly sdkOverNode: number;
  /** SDK time over hookguard (Web Crypto) time. */
  readonly sdkOverWeb: number;
}

const SECRET = "bench-provider-secret-0123456789abcdef";
const WHSEC = `whsec_${Buffer.from("hookguard-bench-clerk-secret-32b").toString("base64")}`;

/** A JSON event of about 1 KiB, with some non-ASCII text. */
function event(extra: Record<string, unknown>): string {
  const items = Array.from({ length: 8 }, (_, i) => ({ id: `li_${i}`, amount: 1999 + i, description: `Abonnement « Pro » — mois ${i}` }));
  return JSON.stringify({ ...extra, data: { items } });
}

function ours(name: string, scheme: WebhookScheme<unknown>, request: Parameters<typeof verifyRequest>[0], now?: number): Task {
  return {
    name,
    kind: "async",
    run: () => verifyRequest(request, scheme, { now }),
    async check() {
      const o = await verifyRequest(request, scheme, { now });
      if (!o.ok) throw new Error(`${name}: expected to verify, got ${o.code}`);
    },
  };
}

interface Family {
  readonly family: string;
  readonly scheme: string;
  readonly sdk: string;
  readonly tasks: () => Promise<[Task, Task, Task]>;
}

const FAMILIES: readonly Family[] = [
  {
    family: "HMAC-SHA256 hex",
    scheme: "coinbaseCommerce()",
    sdk: "coinbase-commerce-node Webhook.verifyEventBody",
    async tasks() {
      const body = event({ id: 1, event: { id: "evt_1", type: "charge:confirmed" } });
      const headers = await import("../src/sign").then((m) => m.signWebhook(body, coinbaseCommerce({ secret: SECRET })));
      const request = { body: Buffer.from(body), headers };
      const sig = headers["x-cc-webhook-signature"]!;
      return [
        ours("hookguard node", coinbaseCommerce({ secret: SECRET, crypto: "node" }), request),
        ours("hookguard web", coinbaseCommerce({ secret: SECRET, crypto: "web" }), request),
        { name: "sdk", kind: "sync", run: () => coinbase.Webhook.verifyEventBody(body, sig, SECRET), check: () => void coinbase.Webhook.verifyEventBody(body, sig, SECRET) },
      ];
    },
  },
  {
    family: "HMAC-SHA256 base64",
    scheme: "clerk()",
    sdk: "svix Webhook.verify",
    async tasks() {
      const body = event({ type: "user.created", object: "event" });
      const svix = new SvixWebhook(WHSEC);
      const now = new Date();
      const headers = { "svix-id": "msg_bench", "svix-timestamp": String(Math.floor(now.getTime() / 1000)), "svix-signature": svix.sign("msg_bench", now, body) };
      const request = { body: Buffer.from(body), headers };
      return [
        ours("hookguard node", clerk({ secret: WHSEC, crypto: "node" }), request, now.getTime()),
        ours("hookguard web", clerk({ secret: WHSEC, crypto: "web" }), request, now.getTime()),
        { name: "sdk", kind: "sync", run: () => svix.verify(body, headers), check: () => void svix.verify(body, headers) },
      ];
    },
  },
  {
    family: "URL-signed HMAC-SHA1",
    scheme: "twilio()",
    sdk: "twilio validateRequest",
    async tasks() {
      const params: Record<string, string> = {
        ToCountry: "US", ToState: "CA", SmsMessageSid: "SMbe794ce78f6b9fdf853d2acb76c080db", NumMedia: "0", ToCity: "SAN BRUNO", FromZip: "94030",
        SmsSid: "SMbe794ce78f6b9fdf853d2acb76c080db", FromState: "CA", SmsStatus: "received", FromCity: "SAN BRUNO", Body: "Hello from the bench ✓",
        FromCountry: "US", To: "+16505558225", ToZip: "94030", NumSegments: "1", MessageSid: "SMbe794ce78f6b9fdf853d2acb76c080db", AccountSid: "AC0123456789abcdef0123456789abcdef", From: "+16505551199", ApiVersion: "2010-04-01",
      };
      const url = "https://api.example.com/twilio/sms?tenant=7";
      const body = new URLSearchParams(params).toString();
      const signature = twilioSdk.getExpectedTwilioSignature(SECRET, url, params);
      const request = { body: Buffer.from(body), headers: { "x-twilio-signature": signature, "content-type": "application/x-www-form-urlencoded" }, url };
      return [
        ours("hookguard node", twilio({ secret: SECRET, crypto: "node" }), request),
        ours("hookguard web", twilio({ secret: SECRET, crypto: "web" }), request),
        {
          name: "sdk",
          kind: "sync",
          // The SDK gets the params already parsed (express.urlencoded's work); we parse the raw body.
          run: () => twilioSdk.validateRequest(SECRET, signature, url, params),
          check() {
            if (!twilioSdk.validateRequest(SECRET, signature, url, params)) throw new Error("twilio sdk rejected");
          },
        },
      ];
    },
  },
  {
    family: "Ed25519",
    scheme: "discord()",
    sdk: "discord-interactions verifyKey",
    async tasks() {
      const { publicKey, privateKey } = generateKeyPairSync("ed25519");
      const publicHex = Buffer.from(publicKey.export({ format: "jwk" }).x!, "base64url").toString("hex");
      const body = event({ id: "1", type: 2, token: "tok", application_id: "2" });
      const ts = String(Math.floor(Date.now() / 1000));
      const sig = nodeSign(null, Buffer.from(ts + body), privateKey).toString("hex");
      const request = { body: Buffer.from(body), headers: { "x-signature-ed25519": sig, "x-signature-timestamp": ts } };
      return [
        ours("hookguard node", discord({ publicKey: publicHex, crypto: "node", toleranceSeconds: Number.POSITIVE_INFINITY }), request),
        ours("hookguard web", discord({ publicKey: publicHex, crypto: "web", toleranceSeconds: Number.POSITIVE_INFINITY }), request),
        {
          name: "sdk",
          kind: "async",
          run: () => verifyKey(request.body, sig, ts, publicHex),
          async check() {
            if (!(await verifyKey(request.body, sig, ts, publicHex))) throw new Error("verifyKey rejected");
          },
        },
      ];
    },
  },
  {
    family: "ECDSA P-256",
    scheme: "sendgrid()",
    sdk: "@sendgrid/eventwebhook verifySignature",
    async tasks() {
      const { publicKey, privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
      const spki = publicKey.export({ format: "der", type: "spki" }).toString("base64");
      const body = JSON.stringify(Array.from({ length: 4 }, (_, i) => ({ email: "a@example.com", timestamp: 1_700_000_000, event: "delivered", sg_event_id: `ev_${i}`, sg_message_id: `msg_${i}.filter0001` })));
      const ts = "1700000000";
      const sig = nodeSign("sha256", Buffer.from(ts + body), privateKey).toString("base64");
      const request = { body: Buffer.from(body), headers: { "x-twilio-email-event-webhook-signature": sig, "x-twilio-email-event-webhook-timestamp": ts } };
      const sdk = new EventWebhook();
      const key = sdk.convertPublicKeyToECDSA(spki);
      return [
        ours("hookguard node", sendgrid({ publicKey: spki, crypto: "node" }), request, 1_700_000_000_000),
        ours("hookguard web", sendgrid({ publicKey: spki, crypto: "web" }), request, 1_700_000_000_000),
        {
          name: "sdk",
          kind: "sync",
          run: () => sdk.verifySignature(key, body, sig, ts),
          check() {
            if (!sdk.verifySignature(key, body, sig, ts)) throw new Error("sendgrid sdk rejected");
          },
        },
      ];
    },
  },
];

/** Measures every family; returns one row each. */
export async function benchProviders(options: HarnessOptions = {}): Promise<ProviderBenchRow[]> {
  const rows: ProviderBenchRow[] = [];
  for (const f of FAMILIES) {
    const [node, web, sdk] = (await measure(await f.tasks(), options)) as [Measurement, Measurement, Measurement];
    rows.push({
      family: f.family,
      scheme: f.scheme,
      sdk: f.sdk,
      nodeUs: node.nsPerOp / 1000,
      webUs: web.nsPerOp / 1000,
      sdkUs: sdk.nsPerOp / 1000,
      sdkOverNode: ratio(sdk, node),
      sdkOverWeb: ratio(sdk, web),
    });
  }
  return rows;
}

/** The rows as a Markdown table. */
export function formatProviderRows(rows: readonly ProviderBenchRow[]): string {
  const us = (n: number) => (n >= 100 ? n.toFixed(0) : n.toFixed(1));
  const x = (n: number) => `${n.toFixed(2)}×`;
  const lines = [
    "| family | hookguard scheme | official SDK | hookguard node µs/op | hookguard web µs/op | SDK µs/op | SDK ÷ node | SDK ÷ web |",
    "|---|---|---|---:|---:|---:|---:|---:|",
    ...rows.map((r) => `| ${r.family} | \`${r.scheme}\` | ${r.sdk} | ${us(r.nodeUs)} | ${us(r.webUs)} | ${us(r.sdkUs)} | ${x(r.sdkOverNode)} | ${x(r.sdkOverWeb)} |`),
  ];
  return lines.join("\n");
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const rows = await benchProviders();
  console.log(`Node ${process.version}, ${new Date().toISOString()}\n`);
  console.log(formatProviderRows(rows));
}
