/** Orders Redis stream ids ("ms-seq") numerically; a lexical compare gets "9-0" vs "10-0" wrong. */
export function compareStreamIds(a: string, b: string): number {
  const [am, as] = split(a);
  const [bm, bs] = split(b);
  if (am !== bm) return am < bm ? -1 : 1;
  if (as !== bs) return as < bs ? -1 : 1;
  return 0;
}

export const STREAM_ID = /^\d{1,20}-\d{1,20}$/;

function split(id: string): [bigint, bigint] {
  const [ms, seq = '0'] = id.split('-');
  return [BigInt(ms), BigInt(seq)];
}
