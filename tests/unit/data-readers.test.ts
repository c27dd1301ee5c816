/**
 * The data readers on handmade bytes: CSV text, big-endian IDX files, NPY files written by
 * NumPy (base64 below, from `np.save` / `np.lib.format.write_array`), and malformed inputs,
 * whose errors are checked by message.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tensor } from '../../src/frontend-eager/index.js';
import { DataFormatError, loadCsv, loadIdx, loadNpy, parseIdx, parseNpy, readCsv, saveNpy } from '../../src/data/index.js';

const b64 = (s: string) => new Uint8Array(Buffer.from(s, 'base64'));

describe('readCsv', () => {
  it('parses numbers, a header, blank lines, CRLF, quotes and padding', () => {
    const text = 'a,b,"c"\r\n1,2.5,-3\r\n\r\n "4" ,1e-3,.5\r\n7,nan,-inf\n';
    const { header, rows } = readCsv(text, { header: true });
    expect(header).toEqual(['a', 'b', 'c']);
    expect(rows).toEqual([
      [1, 2.5, -3],
      [4, 0.001, 0.5],
      [7, Number.NaN, -Infinity],
    ]);
  });

  it('takes every line as data without a header, and other delimiters', () => {
    expect(readCsv('1;2\n3;4', { delimiter: ';' })).toEqual({ header: null, rows: [[1, 2], [3, 4]] });
  });

  it('names line:column of a field that is not a number', () => {
    expect(() => readCsv('x,y\n1,2\n3, abc\n', { header: true })).toThrow(new DataFormatError('readCsv: 3:4: field 2 is not a number: "abc"'));
    expect(() => readCsv('1,2\n3,\n')).toThrow('readCsv: 2:3: field 2 is not a number: ""');
    expect(() => readCsv('1,2\n0x10,2\n')).toThrow('readCsv: 2:1: field 1 is not a number: "0x10"');
  });

  it('rejects ragged rows', () => {
    expect(() => readCsv('1,2,3\n4,5\n')).toThrow('readCsv: 2: 2 fields, expected 3 (as on line 1)');
  });

  it('loadCsv names the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-csv-'));
    const path = join(dir, 'bad.csv');
    writeFileSync(path, 'a,b\n1,2\n3,?\n');
    expect(() => loadCsv(path, { header: true })).toThrow(`loadCsv: ${path}:3:3: field 2 is not a number: "?"`);
    expect(() => loadCsv(join(dir, 'missing.csv'))).toThrow(`loadCsv: cannot read ${join(dir, 'missing.csv')}: ENOENT`);
  });
});

/** An IDX file: magic 00 00 type ndim, big-endian uint32 dims, then `data` as is. */
function idx(type: number, dims: number[], data: number[]): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + data.length);
  out.set([0, 0, type, dims.length]);
  const v = new DataView(out.buffer);
  dims.forEach((d, i) => v.setUint32(4 + 4 * i, d, false));
  out.set(data, 4 + 4 * dims.length);
  return out;
}

describe('parseIdx', () => {
  it('reads unsigned bytes (MNIST images and labels) as i32', () => {
    const t = parseIdx(idx(0x08, [2, 3], [1, 2, 3, 4, 5, 255]));
    expect(t.dtype).toBe('i32');
    expect(t.toArray()).toEqual([
      [1, 2, 3],
      [4, 5, 255],
    ]);
    expect(parseIdx(idx(0x08, [2, 3], [1, 2, 3, 4, 5, 255]), { dtype: 'f32' }).dtype).toBe('f32');
  });

  it('reads the other types big-endian', () => {
    expect(parseIdx(idx(0x09, [2], [0xff, 0x7f])).toArray()).toEqual([-1, 127]);
    expect(parseIdx(idx(0x0b, [2], [0x01, 0x02, 0xff, 0xfe])).toArray()).toEqual([258, -2]);
    expect(parseIdx(idx(0x0c, [1], [0x00, 0x01, 0x00, 0x00])).toArray()).toEqual([65536]);
    const f = parseIdx(idx(0x0d, [1, 1], [0x3f, 0xc0, 0x00, 0x00]));
    expect([f.dtype, f.toArray()]).toEqual(['f32', [[1.5]]]);
    expect(parseIdx(idx(0x0e, [1], [0xc0, 0x02, 0, 0, 0, 0, 0, 0])).toArray()).toEqual([-2.25]);
  });

  it('explains bad files', () => {
    expect(() => parseIdx(new Uint8Array([0, 0]))).toThrow('parseIdx: 2 bytes is too short for the 4-byte IDX magic number');
    expect(() => parseIdx(new Uint8Array([0x1f, 0x8b, 8, 0]))).toThrow('parseIdx: this is a gzip file (it starts with 1f 8b); decompress it first');
    expect(() => parseIdx(new Uint8Array([1, 0, 8, 1]))).toThrow('parseIdx: bad magic number 0x01000801: an IDX file starts with two zero bytes');
    expect(() => parseIdx(new Uint8Array([0, 0, 7, 1]))).toThrow('parseIdx: unknown data type code 0x07 in magic number 0x00000701');
    expect(() => parseIdx(new Uint8Array([0, 0, 8, 3, 0, 0, 0, 1]))).toThrow('parseIdx: the header declares 3 dimensions (16 header bytes) but there are only 8 bytes');
    expect(() => parseIdx(idx(0x08, [2, 3], [1, 2, 3]))).toThrow('parseIdx: expected 6 bytes of unsigned byte data for shape [2, 3], found 3 (the file is truncated)');
    expect(() => parseIdx(idx(0x0c, [1], [0, 0, 0, 1, 9]))).toThrow('parseIdx: expected 4 bytes of int data for shape [1], found 5 (trailing bytes after the data)');
  });

  it('loadIdx names the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-idx-'));
    const path = join(dir, 'labels-idx1-ubyte');
    writeFileSync(path, idx(0x08, [3], [7, 8, 9]));
    expect(loadIdx(path).toArray()).toEqual([7, 8, 9]);
    writeFileSync(path, idx(0x08, [4], [7, 8, 9]));
    expect(() => loadIdx(path)).toThrow(`loadIdx: ${path}: expected 4 bytes of unsigned byte data for shape [4], found 3 (the file is truncated)`);
  });
});

// Written by NumPy 2.4.
const NPY = {
  f32_2x3: 'k05VTVBZAQB2AHsnZGVzY3InOiAnPGY0JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDIsIDMpLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAAAAAACAPgAAAD8AAEA/AACAPwAAoD8=',
  i64: 'k05VTVBZAQB2AHsnZGVzY3InOiAnPGk4JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDQsKSwgfSAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoBAAAAAAAAAP7/////////AwAAAAAAAAD///9/AAAAAA==',
  u1: 'k05VTVBZAQB2AHsnZGVzY3InOiAnfHUxJywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDIsIDIpLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAB8j/',
  b1: 'k05VTVBZAQB2AHsnZGVzY3InOiAnfGIxJywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDMsKSwgfSAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoBAAE=',
  f8_scalar: 'k05VTVBZAQB2AHsnZGVzY3InOiAnPGY4JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKCksIH0gICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAqamZmZmZm5Pw==',
  f8_v2: 'k05VTVBZAgB0AAAAeydkZXNjcic6ICc8ZjgnLCAnZm9ydHJhbl9vcmRlcic6IEZhbHNlLCAnc2hhcGUnOiAoMiwpLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAAAAAAD4PwAAAAAAAALA',
  i4_v3: 'k05VTVBZAwB0AAAAeydkZXNjcic6ICc8aTQnLCAnZm9ydHJhbl9vcmRlcic6IEZhbHNlLCAnc2hhcGUnOiAoMiwgMSksIH0gICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoBAAAAAgAAAA==',
  fortran: 'k05VTVBZAQB2AHsnZGVzY3InOiAnPGY0JywgJ2ZvcnRyYW5fb3JkZXInOiBUcnVlLCAnc2hhcGUnOiAoMiwgMyksIH0gICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAAAAAABAQAAAgD8AAIBAAAAAQAAAoEA=',
  be_i4: 'k05VTVBZAQB2AHsnZGVzY3InOiAnPmk0JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDIsKSwgfSAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAAABAAABAg==',
  i64_big: 'k05VTVBZAQB2AHsnZGVzY3InOiAnPGk4JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDEsKSwgfSAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAAAAAAEAAA==',
  empty: 'k05VTVBZAQB2AHsnZGVzY3InOiAnPGY0JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDAsIDMpLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAo=',
};

/** An NPY v1.0 file with a handwritten header (padded with spaces to 64 bytes, as NumPy does). */
function npy(header: string, data: number[] = [], major = 1): Uint8Array {
  const prefix = major === 1 ? 10 : 12;
  const padLen = (64 - ((prefix + header.length + 1) % 64)) % 64;
  const h = `${header}${' '.repeat(padLen)}\n`;
  const out = new Uint8Array(prefix + h.length + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, 0]);
  const v = new DataView(out.buffer);
  if (major === 1) v.setUint16(8, h.length, true);
  else v.setUint32(8, h.length, true);
  for (let i = 0; i < h.length; i++) out[prefix + i] = h.charCodeAt(i);
  out.set(data, prefix + h.length);
  return out;
}

describe('parseNpy', () => {
  it.each([
    ['f32_2x3', 'f32', [2, 3], [[0, 0.25, 0.5], [0.75, 1, 1.25]]],
    ['i64', 'i32', [4], [1, -2, 3, 2147483647]],
    ['u1', 'i32', [2, 2], [[0, 7], [200, 255]]],
    ['b1', 'bool', [3], [true, false, true]],
    ['f8_v2', 'f32', [2], [1.5, -2.25]],
    ['i4_v3', 'i32', [2, 1], [[1], [2]]],
    ['be_i4', 'i32', [2], [1, 258]],
    ['empty', 'f32', [0, 3], []],
  ] as const)('reads NumPy %s', (name, dtype, shape, values) => {
    const t = parseNpy(b64(NPY[name]));
    expect([t.dtype, t.shape]).toEqual([dtype, shape]);
    expect(t.toArray()).toEqual(values);
  });

  it('reads a 0-d array', () => {
    const t = parseNpy(b64(NPY.f8_scalar));
    expect(t.shape).toEqual([]);
    expect(t.item()).toBeCloseTo(0.1, 7);
  });

  it('reads handwritten headers: other key order, double quotes, no trailing comma, padding', () => {
    const t = parseNpy(npy('{"shape": (2,), "fortran_order": False, "descr": "<i4"}', [5, 0, 0, 0, 6, 0, 0, 0]));
    expect(t.toArray()).toEqual([5, 6]);
    expect(parseNpy(npy("{'descr': '|u1', 'fortran_order': False, 'shape': (1, 2), }", [9, 10], 2)).toArray()).toEqual([[9, 10]]);
  });

  it('explains what is wrong', () => {
    expect(() => parseNpy(b64(NPY.fortran))).toThrow(
      'parseNpy: fortran_order=True arrays are not supported; save a C-ordered array (np.ascontiguousarray(a)) instead',
    );
    expect(() => parseNpy(new TextEncoder().encode('PK\x03\x04 this is a zip'))).toThrow('parseNpy: not an NPY file: it must start with the magic string \\x93NUMPY, found "PK\\u0003\\u0004 t"');
    expect(() => parseNpy(npy("{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }"))).toThrow(
      "parseNpy: unsupported dtype '<c8' (kiln reads f4, f8, i1, i2, i4, i8, u1, u2, u4, u8 and b1)",
    );
    expect(() => parseNpy(npy("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }"))).toThrow(
      'parseNpy: structured dtypes are not supported (descr [["a","<f4"]]); save a plain numeric array',
    );
    expect(() => parseNpy(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", [0, 0, 0x80, 0x3f]))).toThrow(
      "parseNpy: expected 8 bytes of '<f4' data for shape (2), found 4 (the file is truncated)",
    );
    expect(() => parseNpy(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2,) "))).toThrow(/^parseNpy: bad header .*: expected ',' or "}" at offset/);
    expect(() => parseNpy(b64(NPY.i64_big))).toThrow("parseNpy: value 1099511627776 at flat index 0 does not fit in i32 (kiln stores '<i8' integers as i32)");
    const v9 = npy("{'descr': '<f4', 'fortran_order': False, 'shape': (), }");
    v9[6] = 9;
    expect(() => parseNpy(v9)).toThrow('parseNpy: unsupported NPY format version 9.0 (kiln reads 1.0, 2.0 and 3.0)');
  });

  it('loadNpy names the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-npy-'));
    const path = join(dir, 'x.npy');
    writeFileSync(path, b64(NPY.fortran));
    expect(() => loadNpy(path)).toThrow(`loadNpy: ${path}: fortran_order=True arrays are not supported`);
    writeFileSync(path, b64(NPY.f32_2x3));
    expect(loadNpy(path).shape).toEqual([2, 3]);
  });
});

describe('saveNpy', () => {
  it("writes exactly NumPy's bytes", () => {
    const t = tensor([[0, 0.25, 0.5], [0.75, 1, 1.25]]);
    expect(Buffer.from(saveNpy(t)).toString('base64')).toBe(NPY.f32_2x3);
  });

  it('round-trips f32, i32 and bool tensors of any rank', () => {
    const cases = [
      tensor([[1.5, -2], [3, 4e-8]]),
      tensor([1, -2, 2147483647], { dtype: 'i32' }),
      tensor([true, false]),
      tensor(3.25),
      tensor([[[1]], [[2]]], { dtype: 'i32' }),
    ];
    for (const t of cases) {
      const bytes = saveNpy(t);
      expect((10 + new DataView(bytes.buffer).getUint16(8, true)) % 64).toBe(0); // data starts 64-aligned
      const back = parseNpy(bytes);
      expect([back.dtype, back.shape, back.toArray()]).toEqual([t.dtype, t.shape, t.toArray()]);
    }
  });
});
