import { gunzipSync, gzipSync } from 'node:zlib';
import type { Features } from './features.ts';
import type { Lang } from './language.ts';
import type { TextClass, TextKind } from './types.ts';

/** Per kind of text, what is added to each class's logit (in `classes` order) before the softmax. */
export type ModelOffsets = Readonly<Record<TextKind, readonly number[]>>;

/** A softmax-linear model over hashed features: weights[index * classes.length + k]. */
export interface LinearModel {
  /** e.g. `ru-v1`; a brand adaptation appends `+b<brand>.<version>`. */
  name: string;
  lang: Lang;
  bits: number;
  classes: TextClass[];
  weights: Float32Array;
  /**
   * Decision offsets fitted on a dev set that looks like production (its class balance, its kind of text):
   * a prior shift, so probabilities and labels both follow it. Absent: none.
   */
  offsets?: ModelOffsets;
}

/** Class probabilities, in `model.classes` order, with the model's offsets for this kind of text. */
export function predictProbabilities(model: LinearModel, features: Features, kind: TextKind = 'post'): Float64Array {
  const k = model.classes.length;
  const logits = new Float64Array(k);
  const { weights } = model;
  for (const index of features.indices) {
    const base = index * k;
    for (let c = 0; c < k; c++) logits[c]! += weights[base + c]!;
  }
  const offsets = model.offsets?.[kind];
  for (let c = 0; c < k; c++) logits[c] = logits[c]! * features.value + (offsets?.[c] ?? 0);
  let max = -Infinity;
  for (let c = 0; c < k; c++) max = Math.max(max, logits[c]!);
  let sum = 0;
  for (let c = 0; c < k; c++) sum += logits[c] = Math.exp(logits[c]! - max);
  for (let c = 0; c < k; c++) logits[c]! /= sum;
  return logits;
}

// File: "ESM1", u32 header length, JSON header, then the weights as int16 scaled by header.scale, all gzipped.
// int16 keeps every weight to 1/32767 of the largest one, which changes no dev-split prediction we measured.
const MAGIC = 'ESM1';

interface Header {
  name: string;
  lang: Lang;
  bits: number;
  classes: TextClass[];
  scale: number;
  offsets?: ModelOffsets;
}

export function serializeModel(model: LinearModel): Buffer {
  let maxAbs = 0;
  for (const w of model.weights) maxAbs = Math.max(maxAbs, Math.abs(w));
  const scale = maxAbs === 0 ? 1 : maxAbs / 32767;
  const quantized = new Int16Array(model.weights.length);
  for (let i = 0; i < quantized.length; i++) quantized[i] = Math.round(model.weights[i]! / scale);
  // A model without offsets keeps the header (and so the bytes) it had before offsets existed.
  const header: Header = {
    name: model.name, lang: model.lang, bits: model.bits, classes: model.classes, scale,
    ...(model.offsets === undefined ? {} : { offsets: model.offsets }),
  };
  const json = Buffer.from(JSON.stringify(header));
  const length = Buffer.alloc(4);
  length.writeUInt32LE(json.length);
  // Pad the header so the int16 array starts on an even offset.
  const pad = Buffer.alloc((MAGIC.length + 4 + json.length) % 2);
  return gzipSync(Buffer.concat([Buffer.from(MAGIC), length, json, pad, Buffer.from(quantized.buffer)]), { level: 9 });
}

export function deserializeModel(bytes: Uint8Array, origin: string): LinearModel {
  const raw = gunzipSync(bytes);
  if (raw.subarray(0, 4).toString() !== MAGIC) throw new Error(`${origin}: not an earshot sentiment model`);
  const length = raw.readUInt32LE(4);
  const header = JSON.parse(raw.subarray(8, 8 + length).toString()) as Header;
  const start = 8 + length + ((8 + length) % 2);
  const expected = (1 << header.bits) * header.classes.length;
  const body = raw.subarray(start);
  if (body.length !== expected * 2) throw new Error(`${origin}: ${Math.floor(body.length / 2)} weights, expected ${expected}`);
  // A copy: the gunzipped bytes may sit at an odd offset of a shared buffer.
  const quantized = new Int16Array(Uint8Array.from(body).buffer);
  const weights = new Float32Array(expected);
  for (let i = 0; i < expected; i++) weights[i] = quantized[i]! * header.scale;
  const model: LinearModel = { name: header.name, lang: header.lang, bits: header.bits, classes: header.classes, weights };
  if (header.offsets !== undefined) {
    for (const [kind, offsets] of Object.entries(header.offsets)) {
      if (offsets.length !== header.classes.length) throw new Error(`${origin}: ${offsets.length} ${kind} offsets for ${header.classes.length} classes`);
    }
    model.offsets = header.offsets;
  }
  return model;
}
