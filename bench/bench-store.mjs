// The benches' hookguard receivers claim each event under the receiver's default key, the
// event's id, in a memory store of BENCH_STORE_ENTRIES keys. Their pools of signed events
// repeat, but an event comes back only after more claims than that (255 at least: pools of
// 256 in turn here, 512 in memory and 256 per connection over loopback in the HTTP bench),
// when the full store, evicting its oldest completed key on every claim, has let it go: every
// call is a new claim, as on a busy server. Until session 15 they kept the default store
// (100,000 keys) and keyed claims `${event.id}/${n}` (unique-suffix.mjs), a string only the
// bench built — ~210 ns a call of hashing through the join that a user of the default key does
// not pay. The store's size barely matters (session 12).
export const BENCH_STORE_ENTRIES = 128;
