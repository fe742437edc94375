// Reverse-mode differentiation over a recorded graph: walks the forward nodes backwards from a scalar output,
// applies each op's VJP rule and sums the contributions of values used more than once.
import { isFloat, type GraphBuilder, type Value } from './graph-builder.ts';
import * as op from './ops.ts';
import { VJP_RULES } from './vjp.ts';

/**
 * Append the nodes computing d loss / d v for every v in `wrt` (graph inputs or initializers, float) and return
 * them by name. A value the loss does not depend on gets an explicit zero gradient of its shape.
 */
export function appendGradients(b: GraphBuilder, loss: Value, wrt: readonly Value[]): Map<string, Value> {
  if (loss.shape.length !== 0) throw new Error(`The differentiated output "${loss.name}" must be a scalar (rank 0), got rank ${loss.shape.length}.`);
  for (const v of wrt) if (!isFloat(v.dtype)) throw new Error(`Cannot differentiate with respect to "${v.name}": it is ${v.dtype}, not float.`);
  const forward = b.nodes.slice();

  // Values that depend on a differentiated input.
  const requires = new Set(wrt.map((v) => v.name));
  for (const node of forward) {
    if (node.inputs.some((v) => requires.has(v.name))) for (const o of node.outputs) if (isFloat(o.dtype)) requires.add(o.name);
  }
  if (!requires.has(loss.name)) throw new Error(`"${loss.name}" does not depend on any of ${wrt.map((v) => `"${v.name}"`).join(', ')}.`);

  const grads = new Map<string, Value>();
  grads.set(loss.name, b.scalar(loss.dtype, 1));
  for (let i = forward.length - 1; i >= 0; i--) {
    const node = forward[i];
    if (!node) continue;
    const out = node.outputs[0];
    const g = out ? grads.get(out.name) : undefined;
    if (!out || !g) continue;
    const needs = node.inputs.map((v) => requires.has(v.name));
    if (!needs.some(Boolean)) continue;
    const rule = VJP_RULES[node.opType];
    if (!rule) {
      throw new Error(`No VJP rule for op ${node.opType} (node ${i}, output "${out.name}") on the path to "${loss.name}"; add one to lib/onnx/vjp.ts or build the model from ops that have one.`);
    }
    const inputGrads = rule({ b, node, grad: g, needs });
    node.inputs.forEach((v, k) => {
      const gi = inputGrads[k];
      if (!needs[k] || !gi) return;
      const prev = grads.get(v.name);
      grads.set(v.name, prev ? op.add(b, prev, gi) : gi);
    });
  }

  const result = new Map<string, Value>();
  for (const v of wrt) {
    const g = grads.get(v.name) ?? op.expand(b, b.scalar(v.dtype, 0), op.shapeOf(b, v), v.shape);
    result.set(v.name, g);
  }
  return result;
}
