import { describe, expect, it } from "vitest";
import { WebhookError, WebhookVerificationError, isWebhookError, isWebhookVerificationError, verificationErrorStatus } from "../../src/index";

describe("errors", () => {
  it("carries code, status and name", () => {
    const e = new WebhookVerificationError("signature_mismatch", "no match");
    expect(e).toBeInstanceOf(WebhookError);
    expect(e).toBeInstanceOf(Error);
    expect(e.code).toBe("signature_mismatch");
    expect(e.status).toBe(401);
    expect(e.name).toBe("WebhookVerificationError");
    expect(isWebhookError(e)).toBe(true);
    expect(isWebhookVerificationError(e)).toBe(true);
  });

  it("passes the cause through", () => {
    const cause = new Error("inner");
    expect(new WebhookError("store_unavailable", "down", { status: 503, cause }).cause).toBe(cause);
  });

  it("recognises an error from another copy of the library by its brand", () => {
    // What tsup's per-entry CJS copies or another realm produce: same shape, other class.
    class OtherCopy extends Error {
      code = "signature_mismatch";
      status = 401;
      override name = "WebhookVerificationError";
    }
    expect(isWebhookError(new OtherCopy())).toBe(true);
    expect(isWebhookVerificationError(new OtherCopy())).toBe(true);
    expect(isWebhookError(new Error("x"))).toBe(false);
    expect(isWebhookError({ name: "WebhookError", code: "x" })).toBe(false);
    expect(isWebhookError(null)).toBe(false);
    expect(isWebhookError("WebhookError")).toBe(false);
  });

  it("maps every verification code to a 4xx, except the server's own configuration mistakes", () => {
    const serverSide = new Set(["body_not_raw", "url_unknown"]);
    for (const [code, status] of Object.entries(verificationErrorStatus)) {
      if (serverSide.has(code)) expect(status).toBe(500);
      else {
        expect(status).toBeGreaterThanOrEqual(400);
        expect(status).toBeLessThan(500);
      }
    }
  });
});
