/** A different short string for each n below 64^5: see unique-suffix.mjs. */
export declare function uniqueSuffix(n: number): string;
