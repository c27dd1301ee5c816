/**
 * ONNX export: the three example models and a table of every primitive, exported with
 * `toOnnx`, run in onnxruntime-node and compared with kiln; the protobuf read back with a
 * tiny decoder; the errors.
 */
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { toOnnx } from '../../src/export/onnx.js';
import { fromStorage } from '../../src/frontend-eager/factories.js';
import { GraphBuilder } from '../../src/ir/builder.js';
import type { NDArray } from '../../src/ir/ndarray.js';
import type { OpName } from '../../src/ir/ops/index.js';
import { tensorType } from '../../src/ir/types.js';
import { array, cnn, maxDiff, mlp, type Model, opCases, opModel, runKiln, transformerBlock } from './export-fixtures.js';

const ORT_TYPE = { f32: 'float32', i32: 'int32', bool: 'bool' } as const;

async function runOnnx(bytes: Uint8Array, inputs: ReadonlyMap<string, NDArray>): Promise<ort.InferenceSession.OnnxValueMapType> {
  const session = await ort.InferenceSession.create(bytes);
  const feeds: Record<string, ort.Tensor> = {};
  for (const [name, a] of inputs) feeds[name] = new ort.Tensor(ORT_TYPE[a.dtype], a.data as Float32Array, [...a.shape]);
  return session.run(feeds);
}

/** Exports, runs in onnxruntime, and returns max |onnx - kiln| per output (checking shapes). */
async function compare(model: Model): Promise<number[]> {
  const got = await runOnnx(toOnnx(model.graph, model.weights), model.inputs);
  return runKiln(model).map((want, i) => {
    const t = got[`out${i}`]!;
    expect(t.dims).toEqual(want.shape);
    expect(t.type).toBe(ORT_TYPE[want.dtype]);
    return maxDiff(t.data as ArrayLike<number>, want.data);
  });
}

describe('toOnnx: models run in onnxruntime and match kiln', () => {
  const models: [string, () => Model][] = [
    ['MLP (linear, relu, softmax, argmax)', () => mlp()],
    ['CNN (conv2d, relu, max/avg pooling, flatten, linear)', () => cnn()],
    ['transformer block, erf GELU', () => transformerBlock('none')],
    ['transformer block, tanh GELU', () => transformerBlock('tanh')],
  ];
  it.each(models)('%s', async (_name, make) => {
    const diffs = await compare(make());
    for (const d of diffs) expect(d).toBeLessThanOrEqual(1e-4);
  });
});

describe('toOnnx: every primitive', () => {
  it.each(opCases.map((c, i) => [c.name, c, i] as const))('%s', async (_name, c, i) => {
    const model = opModel(c, i);
    const got = await runOnnx(toOnnx(model.graph, model.weights), model.inputs);
    const want = runKiln(model);
    want.forEach((w, k) => {
      const t = got[`out${k}`]!;
      expect(t.dims, `output ${k}`).toEqual(w.shape);
      expect(t.type, `output ${k}`).toBe(ORT_TYPE[w.dtype]);
      const data = t.data as ArrayLike<number>;
      const tol = c.tol ?? 1e-5;
      for (let j = 0; j < w.data.length; j++) {
        const a = Number(data[j]);
        const e = Number(w.data[j]);
        if (a === e) continue;
        expect(Math.abs(a - e), `output ${k} [${j}]: onnx ${a} vs kiln ${e}`).toBeLessThanOrEqual(tol * (1 + Math.abs(e)));
      }
    });
  });
});

// ---- the bytes ----

type Field = { wire: 0; value: bigint } | { wire: 2; bytes: Uint8Array } | { wire: 5; value: number };

/** Decodes one protobuf message into fields by number (enough for ModelProto). */
function decode(bytes: Uint8Array): Map<number, Field[]> {
  const fields = new Map<number, Field[]>();
  let pos = 0;
  const varint = (): bigint => {
    let v = 0n;
    let shift = 0n;
    for (;;) {
      const b = bytes[pos++]!;
      v |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return v;
      shift += 7n;
    }
  };
  while (pos < bytes.length) {
    const tag = Number(varint());
    const field = tag >> 3;
    const wire = tag & 7;
    let f: Field;
    if (wire === 0) f = { wire, value: varint() };
    else if (wire === 2) {
      const n = Number(varint());
      f = { wire, bytes: bytes.subarray(pos, pos + n) };
      pos += n;
    } else if (wire === 5) {
      f = { wire, value: new DataView(bytes.buffer, bytes.byteOffset + pos, 4).getFloat32(0, true) };
      pos += 4;
    } else throw new Error(`decode: unexpected wire type ${wire}`);
    fields.set(field, [...(fields.get(field) ?? []), f]);
  }
  return fields;
}

const msgs = (m: Map<number, Field[]>, field: number): Map<number, Field[]>[] =>
  (m.get(field) ?? []).map((f) => decode((f as { bytes: Uint8Array }).bytes));
const str = (m: Map<number, Field[]>, field: number): string => new TextDecoder().decode((m.get(field)?.[0] as { bytes: Uint8Array }).bytes);
const ints = (m: Map<number, Field[]>, field: number): number[] => (m.get(field) ?? []).map((f) => Number(BigInt.asIntN(64, (f as { value: bigint }).value)));

describe('toOnnx: the protobuf', () => {
  it('decodes to a ModelProto with the graph, initializers, inputs and outputs', () => {
    const model = mlp();
    const m = decode(toOnnx(model.graph, model.weights));
    expect(ints(m, 1)).toEqual([8]); // ir_version
    expect(str(m, 2)).toBe('kiln');
    const [opset] = msgs(m, 8);
    expect(ints(opset!, 2)).toEqual([17]);
    const [graph] = msgs(m, 7);
    expect(str(graph!, 2)).toBe('mlp');
    const inits = msgs(graph!, 5);
    const byName = new Map(inits.map((t) => [str(t, 8), t]));
    const w1 = byName.get('fc1.weight')!;
    expect(ints(w1, 1)).toEqual([32, 16]); // dims
    expect(ints(w1, 2)).toEqual([1]); // FLOAT
    const raw = (w1.get(9)![0] as { bytes: Uint8Array }).bytes;
    const floats = new Float32Array(raw.slice().buffer);
    expect(Array.from(floats.subarray(0, 4))).toEqual(Array.from(model.weights.get('fc1.weight')!.data.subarray(0, 4)));
    const inputs = msgs(graph!, 11).map((v) => str(v, 1));
    expect(inputs).toEqual(['x']);
    const outputs = msgs(graph!, 12);
    expect(outputs.map((v) => str(v, 1))).toEqual(['out0', 'out1']);
    const shape = msgs(msgs(msgs(outputs[1]!, 2)[0]!, 1)[0]!, 2)[0]!; // type.tensor_type.shape
    expect(msgs(shape, 1).map((d) => ints(d, 1)[0])).toEqual([4]);
    const opTypes = new Set(msgs(graph!, 1).map((n) => str(n, 4)));
    expect([...opTypes]).toEqual(expect.arrayContaining(['MatMul', 'Add', 'ReduceMax', 'ReduceSum', 'Exp', 'Div', 'ArgMax', 'Where']));
  });

  it('encodes negative int64s as ten-byte varints (flip)', async () => {
    const b = new GraphBuilder('flip');
    const x = b.param('x', tensorType('f32', [5]));
    const model: Model = { graph: b.build([b.emit('flip', [x], { axes: [0] })]), weights: new Map(), inputs: new Map([['x', array('f32', [5], [1, 2, 3, 4, 5])]]) };
    const got = await runOnnx(toOnnx(model.graph, model.weights), model.inputs);
    expect(Array.from(got.out0!.data as Float32Array)).toEqual([5, 4, 3, 2, 1]);
  });
});

describe('toOnnx: errors', () => {
  const small = () => {
    const b = new GraphBuilder('lin');
    const x = b.param('x', tensorType('f32', [2, 3]));
    const w = b.param('w', tensorType('f32', [3, 4]));
    return { b, x, w };
  };

  it('names an op it cannot map', () => {
    const { b, x } = small();
    const op: string = 'rng_uniform';
    const y = b.push(op as OpName, [x], {}, tensorType('f32', [2, 3]));
    expect(() => toOnnx(b.build([y]), new Map())).toThrow("toOnnx: op 'rng_uniform' has no ONNX mapping");
  });

  it('takes eager Tensors as weights', async () => {
    const model = mlp();
    const weights = new Map([...model.weights].map(([k, a]) => [k, fromStorage(a.data, a.shape)]));
    const got = await runOnnx(toOnnx(model.graph, weights), model.inputs);
    expect(maxDiff(got.out0!.data as Float32Array, runKiln(model)[0]!.data)).toBeLessThanOrEqual(1e-4);
  });

  it('checks weights against the parameters', () => {
    const { b, x, w } = small();
    const g = b.build([b.emit('matmul', [x, w], {})]);
    expect(() => toOnnx(g, new Map([['w', array('f32', [4, 3], new Float32Array(12))]]))).toThrow("toOnnx: weight 'w' must be f32[3,4], got f32[4,3]");
    expect(() => toOnnx(g, new Map([['v', array('f32', [3, 4], new Float32Array(12))]]))).toThrow("toOnnx: weight 'v' matches no parameter of @lin (parameters: x, w)");
    expect(() => toOnnx(g, new Map(), { outputNames: ['x'] })).toThrow("toOnnx: output name 'x' is also a parameter name");
  });
});
