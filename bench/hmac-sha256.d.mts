/** `(head, body) => HMAC-SHA256(key, head + body)`: see hmac-sha256.mjs. */
export declare function hmacSha256(key: Buffer): (head: string, body: Buffer) => Buffer;
