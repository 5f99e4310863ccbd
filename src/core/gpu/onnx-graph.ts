/**
 * A small typed builder for ONNX graphs over `onnx-proto`'s generated classes (no
 * hand-written protobuf): tensors carry their static shape and element type, every node
 * gets a fresh output name, and `encode()` returns the ModelProto bytes that
 * onnxruntime (web or node) loads.
 *
 * Only what the exact multiply-accumulate graph needs is here; shapes are computed by the
 * helpers in exact-int.ts, which know each op's semantics.
 */
import onnxProto from 'onnx-proto'

const { onnx } = onnxProto
const DataType = onnx.TensorProto.DataType
const AttrType = onnx.AttributeProto.AttributeType

/** Element types the graphs use. */
export type ElementType = 'int32' | 'int64' | 'float32' | 'bool'

const ONNX_TYPE: Record<ElementType, number> = {
  int32: DataType.INT32,
  int64: DataType.INT64,
  float32: DataType.FLOAT,
  bool: DataType.BOOL
}

/** A tensor of the graph under construction: its value name, element type and static shape. */
export interface GraphTensor {
  readonly name: string
  readonly type: ElementType
  readonly shape: readonly number[]
}

/** An attribute value: an int, a list of ints, or a string. */
export type AttributeValue = number | readonly number[] | string

/**
 * ONNX opset the graphs target: 17 has every op used here (Split with a `split` input,
 * ReduceSum with an `axes` input) and is supported by onnxruntime 1.30 on every EP.
 */
export const OPSET = 17
/** IR version matching opset 17 (ONNX 1.12). */
export const IR_VERSION = 8

/** Bytes of one element. */
export function elementBytes (type: ElementType): number {
  return type === 'bool' ? 1 : type === 'int64' ? 8 : 4
}

/** Number of elements of a shape. */
export function elementCount (shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1)
}

/** A graph under construction. */
export interface OnnxGraph {
  /** Declare a graph input. */
  input: (name: string, type: ElementType, shape: readonly number[]) => GraphTensor
  /** An int32 initializer (stored as raw little-endian bytes). */
  int32: (shape: readonly number[], data: Int32Array) => GraphTensor
  /** An int64 initializer (axes, shapes, split sizes). */
  int64: (data: readonly number[]) => GraphTensor
  /** A float32 initializer. */
  float32: (shape: readonly number[], data: Float32Array) => GraphTensor
  /** Add a node with one output of the given type and shape. */
  node: (opType: string, inputs: readonly GraphTensor[], type: ElementType, shape: readonly number[], attrs?: Readonly<Record<string, AttributeValue>>) => GraphTensor
  /** Add a node with several outputs. */
  nodeN: (opType: string, inputs: readonly GraphTensor[], outputs: ReadonlyArray<{ type: ElementType, shape: readonly number[] }>, attrs?: Readonly<Record<string, AttributeValue>>) => GraphTensor[]
  /** Mark a tensor as a graph output under `name` (an Identity node renames it). */
  output: (t: GraphTensor, name: string) => void
  /** Node count so far, by op type. */
  opCounts: () => Record<string, number>
  /** Bytes held in initializers. */
  initializerBytes: () => number
  /** The largest tensor a node produces, in bytes (a bound on any one GPU buffer). */
  largestTensorBytes: () => number
  /** The ModelProto bytes. */
  encode: () => Uint8Array
}

/** Start a graph called `name`. */
export function createOnnxGraph (name: string): OnnxGraph {
  const nodes: InstanceType<typeof onnx.NodeProto>[] = []
  const initializers: InstanceType<typeof onnx.TensorProto>[] = []
  const inputs: InstanceType<typeof onnx.ValueInfoProto>[] = []
  const outputs: InstanceType<typeof onnx.ValueInfoProto>[] = []
  const counts: Record<string, number> = {}
  let serial = 0
  let initBytes = 0
  let largest = 0
  const fresh = (prefix: string): string => `${prefix}_${serial++}`
  const valueInfo = (name: string, type: ElementType, shape: readonly number[] | null): InstanceType<typeof onnx.ValueInfoProto> =>
    onnx.ValueInfoProto.create({
      name,
      type: { tensorType: shape === null ? { elemType: ONNX_TYPE[type] } : { elemType: ONNX_TYPE[type], shape: { dim: shape.map(d => ({ dimValue: d })) } } }
    })
  const attribute = (key: string, v: AttributeValue): InstanceType<typeof onnx.AttributeProto> => {
    if (typeof v === 'string') return onnx.AttributeProto.create({ name: key, type: AttrType.STRING, s: new TextEncoder().encode(v) })
    if (typeof v === 'number') return onnx.AttributeProto.create({ name: key, type: AttrType.INT, i: v })
    return onnx.AttributeProto.create({ name: key, type: AttrType.INTS, ints: [...v] })
  }
  const addNode = (opType: string, ins: readonly GraphTensor[], outs: ReadonlyArray<{ type: ElementType, shape: readonly number[] }>, attrs: Readonly<Record<string, AttributeValue>>): GraphTensor[] => {
    const made = outs.map(o => ({ name: fresh(opType.toLowerCase()), type: o.type, shape: [...o.shape] }))
    for (const t of made) largest = Math.max(largest, elementCount(t.shape) * elementBytes(t.type))
    nodes.push(onnx.NodeProto.create({
      opType,
      name: made[0].name,
      input: ins.map(t => t.name),
      output: made.map(t => t.name),
      attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v))
    }))
    counts[opType] = (counts[opType] ?? 0) + 1
    return made
  }
  const addInit = (type: ElementType, shape: readonly number[], fields: Record<string, unknown>, bytes: number): GraphTensor => {
    const t = { name: fresh('const'), type, shape: [...shape] }
    initializers.push(onnx.TensorProto.create({ name: t.name, dataType: ONNX_TYPE[type], dims: [...shape], ...fields }))
    initBytes += bytes
    return t
  }
  return {
    input (inputName, type, shape) {
      inputs.push(valueInfo(inputName, type, shape))
      return { name: inputName, type, shape: [...shape] }
    },
    int32 (shape, data) {
      if (data.length !== elementCount(shape)) throw new RangeError(`int32 initializer of shape [${shape.join(', ')}] given ${data.length} values`)
      return addInit('int32', shape, { rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) }, data.byteLength)
    },
    int64 (data) {
      return addInit('int64', [data.length], { int64Data: [...data] }, 8 * data.length)
    },
    float32 (shape, data) {
      if (data.length !== elementCount(shape)) throw new RangeError(`float32 initializer of shape [${shape.join(', ')}] given ${data.length} values`)
      return addInit('float32', shape, { rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) }, data.byteLength)
    },
    node (opType, ins, type, shape, attrs = {}) {
      return addNode(opType, ins, [{ type, shape }], attrs)[0]
    },
    nodeN (opType, ins, outs, attrs = {}) {
      return addNode(opType, ins, outs, attrs)
    },
    output (t, outName) {
      nodes.push(onnx.NodeProto.create({ opType: 'Identity', name: outName, input: [t.name], output: [outName] }))
      counts.Identity = (counts.Identity ?? 0) + 1
      outputs.push(valueInfo(outName, t.type, t.shape))
    },
    opCounts: () => ({ ...counts }),
    initializerBytes: () => initBytes,
    largestTensorBytes: () => largest,
    encode () {
      const graph = onnx.GraphProto.create({ name, node: nodes, initializer: initializers, input: inputs, output: outputs })
      const model = onnx.ModelProto.create({ irVersion: IR_VERSION, producerName: 'cerberus', opsetImport: [{ domain: '', version: OPSET }], graph })
      return onnx.ModelProto.encode(model).finish()
    }
  }
}
