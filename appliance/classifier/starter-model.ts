// The starter model: weights learned from the SpamAssassin public corpus, shipped with the
// appliance so a fresh box does not start blank. Built by scripts/build-starter-model.ts.
// The store's lessons are refitted on top of these weights, so the customer's training adds to
// the day-one knowledge instead of replacing it (model.ts).
// File format (starter-model.json.gz): gzip of JSON
//   { format: 2, hashBits, featureVersion, source, spam, ham, scale, calibration: { slope, t90, heldOut },
//     ids: base64 of the sorted feature ids as LEB128 varint deltas,
//     weights: base64 of Int16 little-endian, weight = value * scale }
// Only the weights largest in magnitude are kept, quantized to 16 bits, so the file stays small;
// the many small weights of rare tokens are dropped (the customer's own feedback relearns them).
import { gunzipSync, gzipSync } from 'node:zlib';
import { readFile } from 'node:fs/promises';
import type { Calibration } from './calibration.ts';

export const STARTER_MODEL_URL = new URL('./starter-model.json.gz', import.meta.url);

export interface StarterModel {
  hashBits: number;
  featureVersion: number;
  source: string;
  spam: number;
  ham: number;
  ids: Uint32Array;
  weights: Float64Array;
  /** Fitted by cross-validation on the starter's corpus; used until a store has its own. */
  calibration: Calibration;
}

interface StarterFile {
  format: 2;
  hashBits: number;
  featureVersion: number;
  source: string;
  spam: number;
  ham: number;
  scale: number;
  calibration: Calibration;
  ids: string;
  weights: string;
}

export function encodeStarterModel(m: StarterModel): Buffer {
  const bytes: number[] = [];
  let prev = 0;
  for (const id of m.ids) {
    let d = id - prev;
    prev = id;
    while (d >= 0x80) { bytes.push((d & 0x7f) | 0x80); d >>>= 7; }
    bytes.push(d);
  }
  let max = 0;
  for (const w of m.weights) max = Math.max(max, Math.abs(w));
  const scale = max / 32767 || 1;
  const q = new Int16Array(m.weights.length);
  for (let i = 0; i < q.length; i++) q[i] = Math.round(m.weights[i] / scale);
  const file: StarterFile = {
    format: 2, hashBits: m.hashBits, featureVersion: m.featureVersion, source: m.source, spam: m.spam, ham: m.ham, scale,
    calibration: { ...m.calibration, basis: 'starter' },
    ids: Buffer.from(bytes).toString('base64'),
    weights: Buffer.from(q.buffer).toString('base64'),
  };
  // A fixed gzip header (no mtime) keeps the build reproducible byte for byte.
  return gzipSync(JSON.stringify(file), { level: 9 });
}

export function decodeStarterModel(gz: Buffer): StarterModel {
  const file = JSON.parse(gunzipSync(gz).toString('utf8')) as StarterFile;
  if (file.format !== 2) throw new Error(`starter model format ${String(file.format)} is not supported by this version`);
  const idBytes = Buffer.from(file.ids, 'base64');
  const ids: number[] = [];
  let prev = 0;
  for (let i = 0; i < idBytes.length;) {
    let d = 0;
    let shift = 0;
    let b: number;
    do { b = idBytes[i++]; d |= (b & 0x7f) << shift; shift += 7; } while (b & 0x80);
    prev += d;
    ids.push(prev);
  }
  const wb = Buffer.from(file.weights, 'base64');
  const q = new Int16Array(wb.buffer.slice(wb.byteOffset, wb.byteOffset + wb.length));
  if (q.length !== ids.length) throw new Error('starter model file is damaged (ids and weights differ in number); reinstall the package');
  const weights = Float64Array.from(q, (x) => x * file.scale);
  return { hashBits: file.hashBits, featureVersion: file.featureVersion, source: file.source, spam: file.spam, ham: file.ham, ids: Uint32Array.from(ids), weights, calibration: file.calibration };
}

export async function readStarterModel(): Promise<StarterModel> {
  return decodeStarterModel(await readFile(STARTER_MODEL_URL));
}
