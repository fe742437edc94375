// Where a model definition gets its weights from: baked into the graph as initializers (frozen models: onnxruntime
// can pre-pack them and fold their transposes) or declared as graph inputs (weights an optimiser updates).
import type { GraphBuilder, Value } from '../onnx/graph-builder.ts';
import type { WeightMap, WeightTensor } from './model-config.ts';

export type FloatType = 'float32' | 'float64';

export interface WeightSource {
  readonly dtype: FloatType;
  /** The weight `name`, checked against the dims the model expects. */
  get(name: string, dims: readonly number[]): Value;
  /** Every weight handed out so far, in first-use order. */
  used(): readonly Value[];
}

class MissingWeightError extends Error {
  override readonly name = 'MissingWeightError';
}

function lookup(weights: WeightMap, name: string, dims: readonly number[]): WeightTensor {
  const t = weights.get(name);
  if (!t) {
    const sample = [...weights.keys()].slice(0, 5).join(', ');
    throw new MissingWeightError(`Weight "${name}" is missing (the map holds ${weights.size} tensors, e.g. ${sample}). Check the loader's naming for this architecture.`);
  }
  if (t.dims.length !== dims.length || t.dims.some((d, i) => d !== dims[i])) {
    throw new MissingWeightError(`Weight "${name}" has dims [${t.dims.join(', ')}] but the config implies [${dims.join(', ')}]; the config does not match the checkpoint.`);
  }
  return t;
}

/** Each weight made once in the graph by `make`, after its dims were checked against the checkpoint. */
function weightSource(weights: WeightMap, dtype: FloatType, make: (name: string, t: WeightTensor) => Value): WeightSource {
  const made = new Map<string, Value>();
  return {
    dtype,
    get(name, dims) {
      const existing = made.get(name);
      if (existing) return existing;
      const v = make(name, lookup(weights, name, dims));
      made.set(name, v);
      return v;
    },
    used: () => [...made.values()],
  };
}

export function initializerWeights(b: GraphBuilder, weights: WeightMap, dtype: FloatType): WeightSource {
  return weightSource(weights, dtype, (name, t) => b.initializer(name, dtype, t.dims, dtype === 'float32' ? t.data : Float64Array.from(t.data)));
}

/** Weights as graph inputs named by their HuggingFace names; `weights` only fixes the expected dims. */
export function inputWeights(b: GraphBuilder, weights: WeightMap, dtype: FloatType): WeightSource {
  return weightSource(weights, dtype, (name, t) => b.input(name, dtype, t.dims));
}
