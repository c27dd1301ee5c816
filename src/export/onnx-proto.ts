/**
 * ONNX's protobuf messages (onnx/onnx.proto, IR version 8) as plain objects, and their
 * encoding with the small writer in protobuf.ts. Field numbers are ONNX's.
 */
import { ProtoWriter } from './protobuf.js';

/** TensorProto.DataType values kiln uses. */
export const OnnxType = { FLOAT: 1, INT32: 6, INT64: 7, BOOL: 9 } as const;
export type OnnxElemType = (typeof OnnxType)[keyof typeof OnnxType];

export interface OnnxTensor {
  name: string;
  elemType: OnnxElemType;
  dims: readonly number[];
  /** Little-endian element bytes (bool: one byte per element). */
  raw: Uint8Array;
}

export type OnnxAttr =
  | { name: string; int: number }
  | { name: string; ints: readonly number[] }
  | { name: string; float: number }
  | { name: string; str: string }
  | { name: string; tensor: OnnxTensor };

export interface OnnxNode {
  opType: string;
  inputs: readonly string[];
  outputs: readonly string[];
  name: string;
  attrs: readonly OnnxAttr[];
  /** Where the node came from (kiln op, composite, source location). */
  doc?: string;
}

export interface OnnxValueInfo {
  name: string;
  elemType: OnnxElemType;
  shape: readonly number[];
}

export interface OnnxGraph {
  name: string;
  nodes: readonly OnnxNode[];
  initializers: readonly OnnxTensor[];
  inputs: readonly OnnxValueInfo[];
  outputs: readonly OnnxValueInfo[];
}

export interface OnnxModel {
  irVersion: number;
  opset: number;
  producerName: string;
  producerVersion: string;
  graph: OnnxGraph;
  docString?: string;
}

// AttributeProto.AttributeType
const ATTR_FLOAT = 1;
const ATTR_INT = 2;
const ATTR_STRING = 3;
const ATTR_TENSOR = 4;
const ATTR_INTS = 7;

function tensorProto(t: OnnxTensor): ProtoWriter {
  return new ProtoWriter()
    .varints(1, t.dims) // dims
    .varint(2, t.elemType) // data_type
    .string(8, t.name) // name
    .bytes(9, t.raw); // raw_data
}

function attributeProto(a: OnnxAttr): ProtoWriter {
  const w = new ProtoWriter().string(1, a.name);
  if ('int' in a) return w.varint(20, ATTR_INT).varint(3, a.int);
  if ('ints' in a) return w.varint(20, ATTR_INTS).varints(8, a.ints);
  if ('float' in a) return w.varint(20, ATTR_FLOAT).float(2, a.float);
  if ('str' in a) return w.varint(20, ATTR_STRING).string(4, a.str);
  return w.varint(20, ATTR_TENSOR).message(5, tensorProto(a.tensor));
}

function nodeProto(n: OnnxNode): ProtoWriter {
  const w = new ProtoWriter();
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  w.string(3, n.name).string(4, n.opType);
  for (const a of n.attrs) w.message(5, attributeProto(a));
  if (n.doc) w.string(6, n.doc);
  return w;
}

function valueInfoProto(v: OnnxValueInfo): ProtoWriter {
  const shape = new ProtoWriter();
  for (const d of v.shape) shape.message(1, new ProtoWriter().varint(1, d)); // dim { dim_value }
  const tensorType = new ProtoWriter().varint(1, v.elemType).message(2, shape);
  const type = new ProtoWriter().message(1, tensorType); // TypeProto.tensor_type
  return new ProtoWriter().string(1, v.name).message(2, type);
}

function graphProto(g: OnnxGraph): ProtoWriter {
  const w = new ProtoWriter();
  for (const n of g.nodes) w.message(1, nodeProto(n));
  w.string(2, g.name);
  for (const t of g.initializers) w.message(5, tensorProto(t));
  for (const v of g.inputs) w.message(11, valueInfoProto(v));
  for (const v of g.outputs) w.message(12, valueInfoProto(v));
  return w;
}

/** Encodes a ModelProto. */
export function encodeModel(m: OnnxModel): Uint8Array {
  const opset = new ProtoWriter().string(1, '').varint(2, m.opset); // default domain ai.onnx
  const w = new ProtoWriter()
    .varint(1, m.irVersion)
    .string(2, m.producerName)
    .string(3, m.producerVersion)
    .message(7, graphProto(m.graph))
    .message(8, opset);
  if (m.docString) w.string(6, m.docString);
  return w.finish();
}
