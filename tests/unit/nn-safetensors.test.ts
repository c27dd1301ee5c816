/**
 * safetensors: byte layout against the reference implementation's own test vectors and the
 * PyTorch-written conformance files, round trips, strict validation of bad files (errors
 * name the file and the key), and atomic saves.
 */
import type { Layer } from '../conformance/training.js';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ArgumentError, arange, ShapeError, type Tensor, tensor, zeros } from '../../src/index.js';
import {
  Linear,
  loadFile,
  parseSafetensors,
  parseSafetensorsHeader,
  ReLU,
  saveFile,
  Sequential,
  serializeSafetensors,
  sourceOf,
} from '../../src/stdlib-nn/index.js';

const CASES = join(import.meta.dirname, '../conformance/cases/training');
const dir = mkdtempSync(join(tmpdir(), 'kiln-nn-st-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const u64 = (b: Uint8Array): number => Number(new DataView(b.buffer, b.byteOffset).getBigUint64(0, true));
const headerText = (b: Uint8Array): string => new TextDecoder().decode(b.subarray(8, 8 + u64(b)));

/** A well-formed file with the given header object and data bytes (header padded to 8). */
function craft(header: object | string, data: number[] | Uint8Array = []): Uint8Array {
  let h = typeof header === 'string' ? header : JSON.stringify(header);
  while (h.length % 8) h += ' ';
  const hb = new TextEncoder().encode(h);
  const out = new Uint8Array(8 + hb.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(hb.length), true);
  out.set(hb, 8);
  out.set(data, 8 + hb.length);
  return out;
}

describe('byte layout', () => {
  // The expected bytes are the reference implementation's own serialization tests.
  it('matches the reference serializer byte for byte', () => {
    const six = tensor([0, 1, 2, 3, 4, 5]);
    expect([...serializeSafetensors({ 'attn.0': six.reshape(1, 2, 3) })]).toEqual([
      64, 0, 0, 0, 0, 0, 0, 0, ...new TextEncoder().encode('{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}'),
      0, 0, 0, 0, 0, 0, 128, 63, 0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64, 0, 0, 160, 64,
    ]);
    // A shorter name: the header is padded with spaces so the data starts 8-byte aligned.
    const padded = serializeSafetensors({ attn0: six.reshape(1, 1, 2, 3) });
    expect(u64(padded)).toBe(72);
    expect(headerText(padded)).toBe('{"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}}       ');
    expect([...serializeSafetensors({})]).toEqual([8, 0, 0, 0, 0, 0, 0, 0, 123, 125, 32, 32, 32, 32, 32, 32]);
    expect(headerText(serializeSafetensors({}, { framework: 'pt' }))).toBe('{"__metadata__":{"framework":"pt"}}     ');
  });

  it('re-serializes the PyTorch-written conformance files to identical bytes', () => {
    const files = readdirSync(CASES).filter((f) => f.endsWith('.safetensors'));
    expect(files.length).toBe(6);
    for (const f of files) {
      const original = new Uint8Array(readFileSync(join(CASES, f)));
      expect(Buffer.from(serializeSafetensors(loadFile(join(CASES, f)))).equals(Buffer.from(original)), f).toBe(true);
    }
  });

  it('sorts by dtype (F32, I32, BOOL) then name bytes, with contiguous offsets', () => {
    const bytes = serializeSafetensors({
      b: tensor([1, 2, 3]),
      flag: tensor([true, false]),
      '10': tensor([7], { dtype: 'i32' }),
      a: zeros([2, 2]),
      '9': tensor([[5, 6]], { dtype: 'i32' }),
      'a.b': tensor(4),
    });
    const n = u64(bytes);
    expect((8 + n) % 8).toBe(0);
    const text = headerText(bytes);
    expect(/^\{.*\} *$/.test(text)).toBe(true);
    const header = JSON.parse(text) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
    // Key order in the header text is the data order.
    expect([...text.matchAll(/"([^"]+)":\{"dtype"/g)].map((m) => m[1])).toEqual(['a', 'a.b', 'b', '10', '9', 'flag']);
    let end = 0;
    for (const name of ['a', 'a.b', 'b', '10', '9', 'flag']) {
      const e = header[name]!;
      expect(e.data_offsets[0]).toBe(end);
      end = e.data_offsets[1];
    }
    expect(8 + n + end).toBe(bytes.length);
    expect(header['a.b']).toEqual({ dtype: 'F32', shape: [], data_offsets: [16, 20] });
    expect(header['9']!.dtype).toBe('I32');
    expect(header['flag']).toEqual({ dtype: 'BOOL', shape: [2], data_offsets: [44, 46] });
  });
});

describe('round trip', () => {
  it('keeps names, dtypes, shapes and values; remembers the source', () => {
    const tensors: Record<string, Tensor> = {
      w: arange(12).reshape(3, 4).mul(0.1),
      idx: tensor([[-5, 2147483647]], { dtype: 'i32' }),
      mask: tensor([true, false, true]),
      scalar: tensor(-2.5),
      empty: zeros([0, 3]),
    };
    const path = join(dir, 'rt.safetensors');
    saveFile(tensors, path, { format: 'pt' });
    const back = loadFile(path);
    expect(Object.keys(back).sort()).toEqual(Object.keys(tensors).sort());
    for (const [k, t] of Object.entries(tensors)) {
      expect(back[k]!.dtype, k).toBe(t.dtype);
      expect(back[k]!.shape, k).toEqual(t.shape);
      expect(back[k]!.toArray(), k).toEqual(t.toArray());
    }
    expect(sourceOf(back)).toBe(path);
    expect(parseSafetensorsHeader(readFileSync(path)).metadata).toEqual({ format: 'pt' });
  });

  it('saves and restores a model state dict', () => {
    const a = new Sequential(new Linear(4, 3), new ReLU(), new Linear(3, 2));
    const b = new Sequential(new Linear(4, 3), new ReLU(), new Linear(3, 2));
    const path = join(dir, 'mlp.safetensors');
    saveFile(a.stateDict(), path);
    b.loadStateDict(loadFile(path));
    const x = arange(8).reshape(2, 4);
    expect(b.call(x).toArray()).toEqual(a.call(x).toArray());
  });

  it('reads the other dtypes of the format into f32 / i32 / bool', () => {
    const le = (n: number, set: (dv: DataView) => void): number[] => {
      const b = new Uint8Array(n);
      set(new DataView(b.buffer));
      return [...b];
    };
    const data = [
      ...le(16, (dv) => (dv.setFloat64(0, 0.1, true), dv.setFloat64(8, -3, true))),
      ...le(16, (dv) => (dv.setBigInt64(0, -7n, true), dv.setBigInt64(8, 2147483647n, true))),
      ...le(4, (dv) => (dv.setUint16(0, 0x3c00, true), dv.setUint16(2, 0xc000, true))), // F16 1, -2
      ...le(4, (dv) => (dv.setUint16(0, 0x3f80, true), dv.setUint16(2, 0x4049, true))), // BF16 1, 3.140625
      ...[255, 1],
    ];
    const bytes = craft(
      {
        d: { dtype: 'F64', shape: [2], data_offsets: [0, 16] },
        l: { dtype: 'I64', shape: [2], data_offsets: [16, 32] },
        h: { dtype: 'F16', shape: [2], data_offsets: [32, 36] },
        bf: { dtype: 'BF16', shape: [2], data_offsets: [36, 40] },
        u: { dtype: 'U8', shape: [2], data_offsets: [40, 42] },
      },
      data,
    );
    const t = parseSafetensors(bytes, 'mixed.safetensors');
    expect(t['d']!.dtype).toBe('f32');
    expect(t['d']!.toArray()).toEqual([Math.fround(0.1), -3]);
    expect(t['l']!.dtype).toBe('i32');
    expect(t['l']!.toArray()).toEqual([-7, 2147483647]);
    expect(t['h']!.toArray()).toEqual([1, -2]);
    expect(t['bf']!.toArray()).toEqual([1, 3.140625]);
    expect(t['u']!.toArray()).toEqual([255, 1]);
  });
});

describe('the PyTorch-written conformance files', () => {
  /** PyTorch's parameter names and shapes for a conformance model spec. */
  function expectedParams(model: Layer[]): [string, number[]][] {
    return model.flatMap((l, i): [string, number[]][] => {
      switch (l.type) {
        case 'linear':
          return [[`${i}.weight`, [l.out_features!, l.in_features!]], ...(l.bias === false ? [] : [[`${i}.bias`, [l.out_features!]] as [string, number[]]])];
        case 'conv2d':
          return [[`${i}.weight`, [l.out_channels!, l.in_channels!, l.kernel_size!, l.kernel_size!]], [`${i}.bias`, [l.out_channels!]]];
        case 'layer_norm':
          return [[`${i}.weight`, l.normalized_shape!], [`${i}.bias`, l.normalized_shape!]];
        case 'batch_norm1d':
        case 'batch_norm2d':
          return [[`${i}.weight`, [l.num_features!]], [`${i}.bias`, [l.num_features!]]];
        default:
          return [];
      }
    });
  }

  const cases = readdirSync(CASES).filter((f) => f.endsWith('.json'));
  it('are all here', () => expect(cases.length).toBe(3));
  for (const f of cases) {
    it(`${f}: init and final files hold the model's parameters`, () => {
      const spec = JSON.parse(readFileSync(join(CASES, f), 'utf8')) as { model: Layer[]; init: string; expected: { final: string } };
      const want = expectedParams(spec.model).sort(([a], [b]) => (a < b ? -1 : 1));
      for (const file of [spec.init, spec.expected.final]) {
        const sd = loadFile(join(CASES, file));
        expect(Object.entries(sd).map(([k, t]) => [k, t.shape]).sort(([a], [b]) => ((a as string) < (b as string) ? -1 : 1))).toEqual(want);
        expect(Object.values(sd).every((t) => t.dtype === 'f32' && t.data().every(Number.isFinite))).toBe(true);
      }
    });
  }
});

describe('bad files', () => {
  const good = serializeSafetensors({ w: tensor([[1, 2], [3, 4]]), b: tensor([5, 6]) });
  const bad = (bytes: Uint8Array): (() => unknown) => () => parseSafetensors(bytes, 'ckpt.safetensors');

  it('names the file on truncation anywhere', () => {
    expect(bad(good.subarray(0, 5))).toThrow('safetensors: ckpt.safetensors: file is truncated: 5 bytes, too short for the 8-byte header length');
    expect(bad(good.subarray(0, 40))).toThrow(`safetensors: ckpt.safetensors: header length ${u64(good)} points past the end of the file (40 bytes): the file is truncated`);
    const n = u64(good);
    expect(bad(good.subarray(0, good.length - 3))).toThrow(
      `safetensors: ckpt.safetensors: tensor "w": data_offsets [8,24] are outside the data section (${good.length - 3 - 8 - n} bytes): the file is truncated`,
    );
    expect(bad(good.subarray(0, 8 + n))).toThrow(ArgumentError);
  });

  it('rejects headers that are not JSON objects', () => {
    expect(bad(craft('{"w": {"dtype": "F32",'))).toThrow(/^safetensors: ckpt\.safetensors: header is not valid JSON: /);
    expect(bad(craft('[1, 2]'))).toThrow(`safetensors: ckpt.safetensors: header does not start with '{' (got "[1, 2]  "): not a safetensors file, or corrupt`);
    const huge = new Uint8Array(16);
    new DataView(huge.buffer).setBigUint64(0, 1n << 40n, true);
    expect(bad(huge)).toThrow('safetensors: ckpt.safetensors: header length 1099511627776 is larger than the 100000000-byte limit');
    expect(bad(craft({ __metadata__: { a: 1 } }))).toThrow('safetensors: ckpt.safetensors: "__metadata__" must be an object of strings');
  });

  it('names the key on bad entries', () => {
    expect(bad(craft({ w: { dtype: 'F8_E4M3', shape: [1], data_offsets: [0, 1] } }, [0]))).toThrow(
      'safetensors: ckpt.safetensors: tensor "w": unknown dtype "F8_E4M3" (kiln reads F64, F32, F16, BF16, I64, I32, I16, I8, U64, U32, U16, U8, BOOL)',
    );
    expect(bad(craft({ w: { dtype: 'F32', shape: [2, 3], data_offsets: [0, 20] } }, new Array(20).fill(0)))).toThrow(
      'safetensors: ckpt.safetensors: tensor "w": F32[2,3] needs 24 bytes, but data_offsets [0,20] hold 20',
    );
    expect(bad(craft({ w: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }, [0, 0, 0, 0]))).toThrow(
      'safetensors: ckpt.safetensors: tensor "w": shape must be an array of non-negative integers, got [-1]',
    );
    expect(bad(craft({ w: { dtype: 'F32', shape: [1], data_offsets: [4, 0] } }, [0, 0, 0, 0]))).toThrow(
      'safetensors: ckpt.safetensors: tensor "w": data_offsets must be [begin, end] with 0 <= begin <= end, got [4,0]',
    );
  });

  it('requires the offsets to tile the data section exactly', () => {
    const two = (a: [number, number], b: [number, number], len: number) =>
      craft({ a: { dtype: 'F32', shape: [2], data_offsets: a }, b: { dtype: 'F32', shape: [2], data_offsets: b } }, new Array(len).fill(0));
    expect(bad(two([0, 8], [4, 12], 12))).toThrow('safetensors: ckpt.safetensors: tensor "b": data_offsets [4,12] overlap tensor "a" [0,8]');
    expect(bad(two([0, 8], [12, 20], 20))).toThrow('safetensors: ckpt.safetensors: tensor "b": data_offsets [12,20] leave a gap after byte 8 of the data section');
    expect(bad(two([0, 8], [8, 16], 20))).toThrow(
      'safetensors: ckpt.safetensors: the tensors cover 16 bytes of data, but the data section has 20: trailing bytes after tensor "b"',
    );
    expect(Object.keys(parseSafetensors(two([8, 16], [0, 8], 16)))).toEqual(['b', 'a']);
  });

  it('range-checks integers read into i32', () => {
    const big = new Uint8Array(8);
    new DataView(big.buffer).setBigInt64(0, 1n << 40n, true);
    expect(bad(craft({ steps: { dtype: 'I64', shape: [1], data_offsets: [0, 8] } }, big))).toThrow(
      'safetensors: ckpt.safetensors: tensor "steps": I64 value 1099511627776 at flat index 0 does not fit in i32 (kiln stores integer tensors as i32)',
    );
    expect(bad(craft({ m: { dtype: 'BOOL', shape: [2], data_offsets: [0, 2] } }, [1, 7]))).toThrow(
      'safetensors: ckpt.safetensors: tensor "m": BOOL byte 7 at flat index 1 is neither 0 nor 1',
    );
  });

  it('names the file when its tensors do not fit the model', () => {
    const path = join(dir, 'wrong.safetensors');
    saveFile(new Sequential(new Linear(4, 3), new ReLU(), new Linear(3, 5)).stateDict(), path);
    const model = new Sequential(new Linear(4, 3), new ReLU(), new Linear(3, 2));
    expect(() => model.loadStateDict(loadFile(path))).toThrow(ShapeError);
    expect(() => model.loadStateDict(loadFile(path))).toThrow(
      `loadStateDict: error(s) in loading state_dict for Sequential from ${path}:\n` +
        '\tsize mismatch for 2.weight: copying a param with shape f32[5,3] from checkpoint, the shape in current model is f32[2,3].\n' +
        '\tsize mismatch for 2.bias: copying a param with shape f32[5] from checkpoint, the shape in current model is f32[2].',
    );
    const partial = join(dir, 'partial.safetensors');
    saveFile({ '0.weight': zeros([3, 4]) }, partial);
    expect(() => model.loadStateDict(loadFile(partial))).toThrow(
      `loadStateDict: error(s) in loading state_dict for Sequential from ${partial}:\n\tMissing key(s) in state_dict: "0.bias", "2.weight", "2.bias".`,
    );
  });

  it('rejects non-tensors and the reserved name when writing', () => {
    expect(() => serializeSafetensors({ w: [1, 2] as unknown as Tensor })).toThrow('serializeSafetensors: "w" is not a Tensor (got Array)');
    expect(() => serializeSafetensors({ __metadata__: zeros([1]) })).toThrow('serializeSafetensors: "__metadata__" is reserved');
  });
});

describe('atomic saves', () => {
  it('never leaves a half-written file when serialization fails midway', () => {
    const sub = mkdtempSync(join(dir, 'atomic-'));
    const path = join(sub, 'model.safetensors');
    saveFile({ w: tensor([1, 2, 3]) }, path);
    const before = readFileSync(path);
    const poisoned = zeros([1000]);
    // A tensor whose values cannot be read: serialization throws after earlier tensors were encoded.
    Object.defineProperty(poisoned, 'data', {
      value: () => {
        throw new Error('device lost');
      },
    });
    expect(() => saveFile({ a: zeros([10]), z: poisoned }, path)).toThrow('device lost');
    expect(readFileSync(path).equals(before)).toBe(true);
    expect(readdirSync(sub)).toEqual(['model.safetensors']);
    expect(loadFile(path)['w']!.toArray()).toEqual([1, 2, 3]);
  });

  it('replaces the old file with the whole new one', () => {
    const path = join(dir, 'replace.safetensors');
    writeFileSync(path, 'old contents');
    saveFile({ w: tensor([9]) }, path);
    expect(loadFile(path)['w']!.toArray()).toEqual([9]);
  });
});
