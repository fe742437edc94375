// Checkpoints of retriever training (weights, AdamW state, the best epoch so far and the dev curve; a step checkpoint
// also the batches done inside its epoch and their summed loss) as bytes, in the float32 container: what a resumed
// training run starts from.
import { CorruptArtifactError } from '../../common/errors.ts';
import type { DevCurvePoint } from '../../common/retriever-types.ts';
import { packFloat32, unpackFloat32 } from '../models/float32-container.ts';
import type { RetrieverCheckpoint } from './retriever-training.ts';

const CHECKPOINT_FORMAT = 'sptar-retriever-checkpoint@1';
// A format of its own, so code that knows only epoch checkpoints refuses a step checkpoint instead of resuming from
// it as if its epoch had ended.
const STEP_CHECKPOINT_FORMAT = 'sptar-retriever-step-checkpoint@1';

/** What a checkpoint must match: the trainable tensors of the encoder being trained, in trainer order. */
export interface TrainableLayout {
  readonly names: readonly string[];
  readonly shapes: ReadonlyMap<string, readonly number[]>;
}

interface BestHeader {
  readonly epoch: number;
  readonly devScore: number;
  readonly separate: boolean;
}

export function serializeCheckpoint(c: RetrieverCheckpoint, layout: TrainableLayout): Uint8Array {
  // The best weights are stored separately only when they are not the current ones (always, inside an epoch).
  const separateBest = c.best !== undefined && (c.within !== undefined || c.best.epoch !== c.epoch);
  const tensors = [...c.weights, ...c.optimizer.m, ...c.optimizer.v, ...(separateBest ? c.best!.weights : [])];
  const curve: DevCurvePoint[] = c.curve.map((p) => ({ epoch: p.epoch, trainLoss: Number.isNaN(p.trainLoss) ? null : p.trainLoss, devScore: p.devScore }));
  const best: BestHeader | null = c.best === undefined ? null : { epoch: c.best.epoch, devScore: c.best.devScore, separate: separateBest };
  return packFloat32(
    {
      format: c.within === undefined ? CHECKPOINT_FORMAT : STEP_CHECKPOINT_FORMAT,
      lengths: tensors.map((t) => t.length),
      epoch: c.epoch,
      optimizerStep: c.optimizer.step,
      best,
      curve,
      // A JS number survives JSON exactly, so the resumed epoch's mean loss is the uninterrupted one.
      ...(c.within === undefined ? {} : { within: { steps: c.within.steps, lossSum: Number.isNaN(c.within.lossSum) ? null : c.within.lossSum } }),
      names: layout.names,
      shapes: layout.names.map((n) => layout.shapes.get(n)),
    },
    tensors,
  );
}

export function deserializeCheckpoint(bytes: Uint8Array, source: string, layout: TrainableLayout): RetrieverCheckpoint {
  const { header, tensors } = unpackFloat32(bytes, source, [CHECKPOINT_FORMAT, STEP_CHECKPOINT_FORMAT]);
  const names = header['names'];
  const shapes = header['shapes'];
  const sameLayout =
    Array.isArray(names) &&
    Array.isArray(shapes) &&
    names.length === layout.names.length &&
    names.every((n, i) => n === layout.names[i] && JSON.stringify(shapes[i]) === JSON.stringify(layout.shapes.get(n)));
  if (!sameLayout) throw new CorruptArtifactError(`${source}: checkpoint tensors do not match the encoder being trained; it belongs to another model. Delete it to restart training`);
  const k = layout.names.length;
  const isStep = header['format'] === STEP_CHECKPOINT_FORMAT;
  const best = header['best'] as BestHeader | null;
  if (best === null && !isStep) throw new CorruptArtifactError(`${source}: an epoch checkpoint without a best epoch`);
  const expected = (best?.separate ? 4 : 3) * k;
  if (tensors.length !== expected) throw new CorruptArtifactError(`${source}: holds ${tensors.length} tensors, expected ${expected}`);
  const weights = tensors.slice(0, k);
  const curve = (header['curve'] as DevCurvePoint[]).map((p) => ({ epoch: p.epoch, trainLoss: p.trainLoss ?? Number.NaN, devScore: p.devScore }));
  const within = header['within'] as { steps: number; lossSum: number | null } | undefined;
  if (isStep && within === undefined) throw new CorruptArtifactError(`${source}: a step checkpoint without its step`);
  return {
    epoch: header['epoch'] as number,
    weights,
    optimizer: { step: header['optimizerStep'] as number, m: tensors.slice(k, 2 * k), v: tensors.slice(2 * k, 3 * k) },
    best: best === null ? undefined : { epoch: best.epoch, devScore: best.devScore, weights: best.separate ? tensors.slice(3 * k) : weights.map((w) => Float32Array.from(w)) },
    curve,
    ...(isStep && within ? { within: { steps: within.steps, lossSum: within.lossSum ?? Number.NaN } } : {}),
  };
}
