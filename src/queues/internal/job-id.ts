// BullMQ job ids derived from idempotency keys.
//
// BullMQ refuses custom ids that contain ':' (they would split its `<prefix>:<queue>:<id>`
// keys) or look like integers (they could collide with its own counter ids), and Redis
// stores key names as UTF-8, so a lone surrogate would be replaced by U+FFFD and two keys
// would share one job. The id stays readable in dashboards (`hg_stripe%3Aevt_123`) and is
// injective: `%`, `:` and lone surrogates are escaped, nothing else, and the fixed prefix
// keeps every id non-empty and non-numeric.

const PREFIX = "hg_";

function hex(code: number, width: number): string {
  return code.toString(16).toUpperCase().padStart(width, "0");
}

/** The job id of an idempotency key; distinct keys always get distinct ids. */
export function jobIdFor(key: string): string {
  let out = PREFIX;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    if (c === 0x25 || c === 0x3a) {
      out += `%${hex(c, 2)}`;
    } else if (c >= 0xd800 && c <= 0xdbff && i + 1 < key.length && (key.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      out += key[i]! + key[i + 1]!; // a well-formed pair: valid UTF-8, kept as it is
      i++;
    } else if (c >= 0xd800 && c <= 0xdfff) {
      out += `%u${hex(c, 4)}`;
    } else {
      out += key[i]!;
    }
  }
  return out;
}

/** The idempotency key a job id was derived from; `undefined` if it is not such an id. */
export function keyFromJobId(id: string): string | undefined {
  if (!id.startsWith(PREFIX)) return undefined;
  const body = id.slice(PREFIX.length);
  if (/%(?!25|3A|u[0-9A-F]{4})/.test(body)) return undefined;
  return body.replace(/%(?:u([0-9A-F]{4})|(25|3A))/g, (_, unit: string | undefined, byte: string | undefined) => String.fromCharCode(Number.parseInt(unit ?? byte!, 16)));
}
