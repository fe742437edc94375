// A typed builder for ONNX graphs. Every node is recorded (op, inputs, outputs, attributes) so that reverse-mode
// differentiation can walk the graph afterwards; serialisation produces ModelProto bytes via onnx-proto.
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

/** int8, uint8 and int32 carry quantized tensors (int8 inference graphs); they are never on a differentiated path. */
export type DType = 'float32' | 'float64' | 'int64' | 'int32' | 'int8' | 'uint8' | 'bool';
/** A known size, a symbolic name (same name = same size at run time), or null when unknown. */
export type Dim = number | string | null;
export type Shape = readonly Dim[];

export interface Value {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: Shape;
}

type TensorData = Float32Array | Float64Array | BigInt64Array | Int32Array | Int8Array | Uint8Array;

type Attr =
  | { readonly kind: 'int'; readonly value: number }
  | { readonly kind: 'ints'; readonly value: readonly number[] }
  | { readonly kind: 'float'; readonly value: number }
  | { readonly kind: 'string'; readonly value: string };

export interface NodeRecord {
  readonly opType: string;
  readonly inputs: readonly Value[];
  readonly outputs: readonly Value[];
  readonly attrs: Readonly<Record<string, Attr>>;
  /** Builder-level facts a VJP needs that are not ONNX attributes (e.g. a constant exponent). */
  readonly meta: Readonly<Record<string, unknown>>;
  /** Operator set domain: absent for standard ONNX ops, 'com.microsoft' for onnxruntime's contrib ops. */
  readonly domain?: string;
}

interface InitializerRecord {
  readonly value: Value;
  readonly dims: readonly number[];
  readonly data: TensorData;
}

export const int = (value: number): Attr => ({ kind: 'int', value });
export const ints = (value: readonly number[]): Attr => ({ kind: 'ints', value });
export const float = (value: number): Attr => ({ kind: 'float', value });

const OPSET_VERSION = 17;
// onnx-proto 8 knows IR version 8 (opset <= 17 per the ONNX versioning table); onnxruntime 1.30 accepts it.
const IR_VERSION = 8;
/** onnxruntime's contrib operator set (version 1), imported only by graphs that use one of its ops. */
export const MS_DOMAIN = 'com.microsoft';

const ELEM_TYPE: Record<DType, number> = {
  float32: onnx.TensorProto.DataType.FLOAT,
  float64: onnx.TensorProto.DataType.DOUBLE,
  int64: onnx.TensorProto.DataType.INT64,
  int32: onnx.TensorProto.DataType.INT32,
  int8: onnx.TensorProto.DataType.INT8,
  uint8: onnx.TensorProto.DataType.UINT8,
  bool: onnx.TensorProto.DataType.BOOL,
};

/** The TensorProto element type code of a dtype (Cast's `to` attribute). */
export function elemTypeOf(dtype: DType): number {
  return ELEM_TYPE[dtype];
}

export function isFloat(dtype: DType): boolean {
  return dtype === 'float32' || dtype === 'float64';
}

function typedArrayFor(dtype: DType, values: readonly number[]): TensorData {
  switch (dtype) {
    case 'float32':
      return Float32Array.from(values);
    case 'float64':
      return Float64Array.from(values);
    case 'int64':
      return BigInt64Array.from(values.map((v) => BigInt(v)));
    case 'int32':
      return Int32Array.from(values);
    case 'int8':
      return Int8Array.from(values);
    case 'uint8':
      return Uint8Array.from(values);
    case 'bool':
      return Uint8Array.from(values.map((v) => (v ? 1 : 0)));
  }
}

function expectedElements(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

function dtypeMatches(dtype: DType, data: TensorData): boolean {
  switch (dtype) {
    case 'float32':
      return data instanceof Float32Array;
    case 'float64':
      return data instanceof Float64Array;
    case 'int64':
      return data instanceof BigInt64Array;
    case 'int32':
      return data instanceof Int32Array;
    case 'int8':
      return data instanceof Int8Array;
    case 'uint8':
    case 'bool':
      return data instanceof Uint8Array;
  }
}

export class GraphBuilder {
  readonly nodes: NodeRecord[] = [];
  private readonly inputs: Value[] = [];
  private readonly outputs: Value[] = [];
  private readonly initializers = new Map<string, InitializerRecord>();
  private readonly names = new Set<string>();
  private readonly scalarCache = new Map<string, Value>();
  private counter = 0;

  constructor(readonly graphName = 'graph') {}

  /** A fresh value name; `hint` keeps the serialised graph readable. */
  fresh(hint: string): string {
    let name: string;
    do {
      name = `${hint}_${this.counter++}`;
    } while (this.names.has(name));
    this.names.add(name);
    return name;
  }

  private claim(name: string): string {
    if (this.names.has(name)) throw new Error(`Graph value name "${name}" is already used in graph "${this.graphName}"; choose another name.`);
    this.names.add(name);
    return name;
  }

  input(name: string, dtype: DType, shape: Shape): Value {
    const value: Value = { name: this.claim(name), dtype, shape: [...shape] };
    this.inputs.push(value);
    return value;
  }

  graphInputs(): readonly Value[] {
    return this.inputs;
  }

  graphOutputs(): readonly Value[] {
    return this.outputs;
  }

  isInitializer(value: Value): boolean {
    return this.initializers.has(value.name);
  }

  initializerData(value: Value): TensorData | undefined {
    return this.initializers.get(value.name)?.data;
  }

  initializer(name: string, dtype: DType, dims: readonly number[], data: TensorData): Value {
    return this.addInitializer(this.claim(name), dtype, dims, data);
  }

  private addInitializer(name: string, dtype: DType, dims: readonly number[], data: TensorData): Value {
    if (!dtypeMatches(dtype, data)) throw new Error(`Initializer "${name}": data array does not hold ${dtype} values.`);
    if (expectedElements(dims) !== data.length) {
      throw new Error(`Initializer "${name}": dims [${dims.join(', ')}] need ${expectedElements(dims)} values but ${data.length} were given.`);
    }
    const value: Value = { name, dtype, shape: [...dims] };
    this.initializers.set(name, { value, dims: [...dims], data });
    return value;
  }

  /** An anonymous constant tensor (stored as an initializer). */
  constant(dtype: DType, dims: readonly number[], values: readonly number[] | TensorData): Value {
    const data = Array.isArray(values) ? typedArrayFor(dtype, values) : (values as TensorData);
    return this.addInitializer(this.fresh('const'), dtype, dims, data);
  }

  /** A rank-0 constant, shared between uses. */
  scalar(dtype: DType, value: number): Value {
    const key = `${dtype}:${value}`;
    const cached = this.scalarCache.get(key);
    if (cached) return cached;
    const created = this.constant(dtype, [], [value]);
    this.scalarCache.set(key, created);
    return created;
  }

  /** A rank-1 int64 constant (shapes, axes, slice bounds). */
  int64s(values: readonly number[]): Value {
    return this.constant('int64', [values.length], values);
  }

  /** Record one node with a single output whose dtype and shape the caller inferred. */
  node(
    opType: string,
    inputs: readonly Value[],
    out: { dtype: DType; shape: Shape; name?: string },
    attrs: Record<string, Attr> = {},
    meta: Record<string, unknown> = {},
  ): Value {
    const output: Value = { name: out.name ? this.claim(out.name) : this.fresh(opType.toLowerCase()), dtype: out.dtype, shape: [...out.shape] };
    this.nodes.push({ opType, inputs: [...inputs], outputs: [output], attrs, meta });
    return output;
  }

  /**
   * Record one node with several outputs (e.g. DynamicQuantizeLinear's data, scale and zero point), or one from
   * another operator set domain (onnxruntime's contrib ops).
   */
  nodeOutputs(
    opType: string,
    inputs: readonly Value[],
    outs: readonly { dtype: DType; shape: Shape }[],
    options: { attrs?: Record<string, Attr>; domain?: string } = {},
  ): Value[] {
    const outputs = outs.map((o): Value => ({ name: this.fresh(opType.toLowerCase()), dtype: o.dtype, shape: [...o.shape] }));
    this.nodes.push({ opType, inputs: [...inputs], outputs, attrs: options.attrs ?? {}, meta: {}, ...(options.domain ? { domain: options.domain } : {}) });
    return outputs;
  }

  /** Expose a value as a graph output under `name` (an Identity node renames it when needed). */
  output(value: Value, name?: string): Value {
    let exposed = value;
    if (name !== undefined && name !== value.name) {
      exposed = this.node('Identity', [value], { dtype: value.dtype, shape: value.shape, name });
    }
    this.outputs.push(exposed);
    return exposed;
  }

  /**
   * Output-renaming Identity nodes that can be dropped on serialisation: the renamed value is produced by a node
   * (not a graph input or initializer) and exposed once, so that node can write the output name directly.
   * onnxruntime keeps such Identity nodes and copies the tensor (e.g. every layer's key/value cache per step).
   */
  private outputRenames(): Map<string, string> {
    const exposures = new Map<string, number>();
    for (const o of this.outputs) exposures.set(o.name, (exposures.get(o.name) ?? 0) + 1);
    const produced = new Set(this.nodes.flatMap((n) => n.outputs.map((o) => o.name)));
    const candidates = new Map<string, string[]>();
    for (const n of this.nodes) {
      const source = n.inputs[0];
      const target = n.outputs[0];
      if (n.opType !== 'Identity' || !source || !target || !exposures.has(target.name)) continue;
      if (!produced.has(source.name) || exposures.has(source.name)) continue;
      candidates.set(source.name, [...(candidates.get(source.name) ?? []), target.name]);
    }
    const renames = new Map<string, string>();
    for (const [source, targets] of candidates) if (targets.length === 1 && targets[0] !== undefined) renames.set(source, targets[0]);
    return renames;
  }

  toModelProto(): onnxProto.onnx.ModelProto {
    const renames = this.outputRenames();
    const nameOf = (v: Value) => renames.get(v.name) ?? v.name;
    const valueInfo = (v: Value): onnxProto.onnx.IValueInfoProto => ({
      name: v.name,
      type: {
        tensorType: {
          elemType: ELEM_TYPE[v.dtype],
          shape: { dim: v.shape.map((d) => (typeof d === 'number' ? { dimValue: d } : typeof d === 'string' ? { dimParam: d } : {})) },
        },
      },
    });
    const attrProto = (name: string, a: Attr): onnxProto.onnx.IAttributeProto => {
      const T = onnx.AttributeProto.AttributeType;
      switch (a.kind) {
        case 'int':
          return { name, type: T.INT, i: a.value };
        case 'ints':
          return { name, type: T.INTS, ints: [...a.value] };
        case 'float':
          return { name, type: T.FLOAT, f: a.value };
        case 'string':
          return { name, type: T.STRING, s: new TextEncoder().encode(a.value) };
      }
    };
    const graph: onnxProto.onnx.IGraphProto = {
      name: this.graphName,
      input: this.inputs.map(valueInfo),
      output: this.outputs.map(valueInfo),
      initializer: [...this.initializers.values()].map((init) => ({
        name: init.value.name,
        dataType: ELEM_TYPE[init.value.dtype],
        dims: [...init.dims],
        rawData: new Uint8Array(init.data.buffer, init.data.byteOffset, init.data.byteLength),
      })),
      node: this.nodes.flatMap((n, i) => {
        const source = n.inputs[0];
        if (n.opType === 'Identity' && source && renames.get(source.name) === n.outputs[0]?.name) return [];
        return [
          {
            name: `${n.opType}_${i}`,
            opType: n.opType,
            ...(n.domain ? { domain: n.domain } : {}),
            input: n.inputs.map(nameOf),
            output: n.outputs.map(nameOf),
            attribute: Object.entries(n.attrs).map(([k, a]) => attrProto(k, a)),
          },
        ];
      }),
    };
    return onnx.ModelProto.create({
      irVersion: IR_VERSION,
      producerName: 'sptar-graph-builder',
      opsetImport: [{ domain: '', version: OPSET_VERSION }, ...(this.nodes.some((n) => n.domain === MS_DOMAIN) ? [{ domain: MS_DOMAIN, version: 1 }] : [])],
      graph,
    });
  }

  /** Serialised ModelProto bytes, ready for an onnxruntime session or a file. */
  toBytes(): Uint8Array {
    return onnx.ModelProto.encode(this.toModelProto()).finish();
  }
}
