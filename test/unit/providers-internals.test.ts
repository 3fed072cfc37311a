// The pieces the provider schemes share: strict DER/P1363 conversion, key parsing, the
// X.509 reader, public-URL resolution, and the promise that node:crypto and Web Crypto give
// the same answer for every signature, malformed ones included.
import { createPublicKey, generateKeyPairSync, sign as nodeSign } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { derToP1363, ed25519PublicKey, firstValidKey, p1363ToDer, p256PublicKey, p256SpkiOrUndefined, pemOrBase64, readCertificate, firstPemCertificate, rsaPublicKey } from "../../src/internal/asymmetric";
import { missingUrl, resolvePublicUrl, urlForDetail } from "../../src/internal/public-url";
import { ed25519Pair, p256Pair } from "../fixtures/providers/support";
import { selfSignedCertificate } from "../fixtures/providers/x509";
import { params, propTimeout } from "../property/support";

describe("derToP1363 / p1363ToDer", () => {
  it("round-trips every signature node:crypto produces, and agrees with node's P1363 output", () => {
    const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (data) => {
        const der = nodeSign("sha256", data, privateKey);
        const p1363 = derToP1363(der, 32);
        expect(p1363).toBeDefined();
        expect(Buffer.from(p1363ToDer(p1363!))).toEqual(der);
      }),
      params(),
    );
  }, propTimeout(0.24));

  it("rejects every non-DER spelling: long-form lengths, padding, negatives, trailing bytes, zero", () => {
    const r = Buffer.alloc(32, 0x11);
    const s = Buffer.alloc(32, 0x22);
    const good = Buffer.concat([Buffer.of(0x30, 68, 0x02, 32), r, Buffer.of(0x02, 32), s]);
    expect(derToP1363(good, 32)).toEqual(new Uint8Array(Buffer.concat([r, s])));
    const bad = [
      Buffer.concat([good, Buffer.of(0)]), // trailing byte
      Buffer.concat([Buffer.of(0x30, 0x81, 68, 0x02, 32), r, Buffer.of(0x02, 32), s]), // long-form length
      Buffer.concat([Buffer.of(0x30, 69, 0x02, 33, 0x00), r, Buffer.of(0x02, 32), s]), // needless leading zero
      Buffer.concat([Buffer.of(0x30, 68, 0x02, 32), Buffer.alloc(32, 0x81), Buffer.of(0x02, 32), s]), // negative r
      Buffer.concat([Buffer.of(0x30, 37, 0x02, 1, 0x00, 0x02, 32), s]), // r = 0
      Buffer.concat([Buffer.of(0x30, 70, 0x02, 34, 0x00, 0x00), r, Buffer.of(0x02, 32), s]), // r longer than the order
      Buffer.concat([Buffer.of(0x31, 68, 0x02, 32), r, Buffer.of(0x02, 32), s]), // not a SEQUENCE
      Buffer.of(),
    ];
    for (const b of bad) expect(derToP1363(b, 32)).toBeUndefined();
  });

  it("never throws on arbitrary bytes", () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 80 }), (b) => void derToP1363(b, 32)), params());
  }, propTimeout(0.01));
});

describe("key parsing", () => {
  it("accepts P-256 SPKI as base64 or PEM, and refuses other curves, other key types and off-curve points", () => {
    const p = p256Pair();
    expect(p256SpkiOrUndefined(pemOrBase64(p.spkiBase64)!)).toBeDefined();
    expect(p256SpkiOrUndefined(pemOrBase64(p.spkiPem)!)).toBeDefined();
    const p384 = generateKeyPairSync("ec", { namedCurve: "P-384" }).publicKey.export({ format: "der", type: "spki" });
    expect(p256SpkiOrUndefined(p384)).toBeUndefined();
    expect(p256SpkiOrUndefined(ed25519Pair().publicKey.export({ format: "der", type: "spki" }))).toBeUndefined();
    const off = Buffer.from(p.spkiBase64, "base64");
    off[40]! ^= 0x04;
    expect(p256SpkiOrUndefined(off)).toBeUndefined();
    expect(pemOrBase64("-----BEGIN PUBLIC KEY-----\n!!!\n-----END PUBLIC KEY-----")).toBeUndefined();
  });

  it("reads a certificate's RSA key and validity, and refuses what is not one", () => {
    const now = Date.UTC(2024, 0, 1);
    const cert = selfSignedCertificate(now, now + 86_400_000);
    const der = firstPemCertificate(cert.pem)!;
    const info = readCertificate(der)!;
    expect(info.notBeforeMs).toBe(now);
    expect(info.notAfterMs).toBe(now + 86_400_000);
    expect(Buffer.from(info.spki)).toEqual(createPublicKey(cert.privateKey).export({ format: "der", type: "spki" }));
    expect(readCertificate(der.subarray(0, der.length - 1))).toBeUndefined();
    expect(readCertificate(Buffer.concat([der, Buffer.of(0)]))).toBeUndefined();
    expect(firstPemCertificate("no pem here")).toBeUndefined();
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (b) => void readCertificate(b)), params());
  }, propTimeout(0.04));
});

describe("node:crypto and Web Crypto agree on every signature", () => {
  it("Ed25519: valid, tampered and random signatures", async () => {
    const pair = ed25519Pair();
    const raw = Buffer.from(pair.publicHex, "hex");
    const keys = { node: ed25519PublicKey(raw, "node"), web: ed25519PublicKey(raw, "web") };
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 100 }), fc.nat(), fc.uint8Array({ minLength: 64, maxLength: 64 }), async (data, index, random) => {
        const good = nodeSign(null, data, pair.privateKey);
        const tampered = Buffer.from(good);
        tampered[index % 64]! ^= 1 << index % 8;
        for (const sig of [good, tampered, random]) {
          const n = await keys.node.verify([data], sig);
          expect(await keys.web.verify([data], sig)).toBe(n);
        }
        expect(await keys.node.verify([data], good)).toBe(true);
      }),
      params(),
    );
  }, propTimeout(1.05));

  it("ECDSA P-256: valid, high-s, tampered and out-of-range (r, s)", async () => {
    const p = p256Pair();
    const spki = Buffer.from(p.spkiBase64, "base64");
    const keys = { node: p256PublicKey(spki, "node"), web: p256PublicKey(spki, "web") };
    const n = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
    const hex32 = (v: bigint) => Buffer.from(v.toString(16).padStart(64, "0"), "hex");
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 100 }), fc.nat(), async (data, index) => {
        const good = derToP1363(nodeSign("sha256", data, p.privateKey), 32)!;
        const s = BigInt(`0x${Buffer.from(good.subarray(32)).toString("hex")}`);
        const highS = Buffer.concat([good.subarray(0, 32), hex32(n - s)]);
        const tampered = Buffer.from(good);
        tampered[index % 64]! ^= 1;
        const outOfRange = Buffer.concat([hex32(n), good.subarray(32)]);
        for (const sig of [good, highS, tampered, outOfRange, Buffer.alloc(64)]) {
          expect(await keys.web.verify([data], sig)).toBe(await keys.node.verify([data], sig));
        }
        // ECDSA accepts (r, n - s) as well as (r, s): both paths do, as OpenSSL and the SDK do.
        expect(await keys.node.verify([data], highS)).toBe(true);
      }),
      params(),
    );
  }, propTimeout(1.17));

  it("RSA: valid and tampered signatures; firstValidKey stays synchronous on node", async () => {
    const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const spki = publicKey.export({ format: "der", type: "spki" });
    const node = rsaPublicKey(spki, "node");
    const web = rsaPublicKey(spki, "web");
    const sig = nodeSign("sha256", Buffer.from("x"), privateKey);
    expect(firstValidKey([node], ["x"], [sig])).toBe(0);
    expect(await firstValidKey([web], ["x"], [sig])).toBe(0);
    const bad = Buffer.from(sig);
    bad[5]! ^= 1;
    expect(firstValidKey([node, node], ["x"], [bad, sig])).toBe(0);
    expect(await firstValidKey([web], ["x"], [bad])).toBe(-1);
    expect(() => rsaPublicKey(Buffer.from(p256Pair().spkiBase64, "base64"), "node")).toThrow(/RSA/);
  });
});

describe("public URL resolution", () => {
  it("prefers url, then baseUrl + the request's path and query, then an absolute request.url", () => {
    expect(resolvePublicUrl("/hook?x=1", { url: "https://a.example/fixed" })).toBe("https://a.example/fixed");
    expect(resolvePublicUrl(undefined, { url: "https://a.example/fixed" })).toBe("https://a.example/fixed");
    expect(resolvePublicUrl("/hook?x=1", { baseUrl: "https://a.example/" })).toBe("https://a.example/hook?x=1");
    expect(resolvePublicUrl("hook", { baseUrl: "https://a.example/api" })).toBe("https://a.example/api/hook");
    expect(resolvePublicUrl("http://10.0.0.7:3000/hook?x=1", { baseUrl: "https://a.example" })).toBe("https://a.example/hook?x=1");
    expect(resolvePublicUrl("https://a.example/hook", {})).toBe("https://a.example/hook");
    expect(resolvePublicUrl("/hook", {})).toBeUndefined();
    expect(resolvePublicUrl(undefined, {})).toBeUndefined();
    expect(missingUrl(undefined)).toMatchObject({ ok: false, code: "url_unknown" });
  });

  it("keeps credentials and the query out of failure details", () => {
    expect(urlForDetail("https://user:pass@a.example/hook?token=secret#frag")).toBe("https://a.example/hook");
    expect(urlForDetail("http://a.example:8080/x")).toBe("http://a.example:8080/x");
  });
});
