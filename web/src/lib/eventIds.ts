// Redis Stream ids ("<ms>-<seq>") order the job's events; compare them numerically.

export function compareEventIds(a: string, b: string): number {
  const [am = "0", as = "0"] = a.split("-");
  const [bm = "0", bs = "0"] = b.split("-");
  const ms = BigInt(am) - BigInt(bm);
  if (ms !== 0n) return ms < 0n ? -1 : 1;
  const seq = BigInt(as) - BigInt(bs);
  return seq === 0n ? 0 : seq < 0n ? -1 : 1;
}

/** True when `id` comes after `last` (or there is no `last`). */
export function isNewer(id: string | null | undefined, last: string | null | undefined): boolean {
  if (!id) return false;
  return !last || compareEventIds(id, last) > 0;
}
