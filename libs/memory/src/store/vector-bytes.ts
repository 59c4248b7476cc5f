/** FLOAT32 little-endian bytes, the layout RediSearch's VECTOR fields expect. */
export function vectorToBuffer(v: Float32Array): Buffer {
  return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
}

export function bufferToVector(b: Buffer): Float32Array {
  // Copy: a Buffer from ioredis may sit at an offset that is not 4-byte aligned.
  const out = new Float32Array(b.byteLength / 4);
  Buffer.from(out.buffer).set(b);
  return out;
}
