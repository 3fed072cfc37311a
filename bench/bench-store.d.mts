/** Keys of the benches' memory stores: see bench-store.mjs. */
export declare const BENCH_STORE_ENTRIES: number;
