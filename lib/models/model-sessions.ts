// Ready-to-run sessions for the model graphs, built once and cached on disk (see lib/onnx/graph-cache.ts).
import { cachedGraphPath, weightsDigest, DEFAULT_GRAPH_CACHE_DIR } from '../onnx/graph-cache.ts';
import { ModelSession } from '../onnx/session.ts';
import { buildDecoderStepGraph, buildSoftPromptLossGraph, type DecoderConfig, type DecoderGraphOptions } from './decoder-graphs.ts';
import { buildEncoderGraph, buildEncoderTrainingGraph, type EncoderGraphOptions, type EncoderTrainingOptions } from './encoder-graphs.ts';
import type { BertConfig, WeightMap } from './model-config.ts';

export interface SessionPlace {
  /** Graph cache directory (default .cache/graphs). */
  readonly cacheDir?: string;
  readonly threads?: number;
  /** Precomputed weightsDigest(weights), to hash large checkpoints once for several graphs. */
  readonly weightsDigest?: string;
  /** Run onnxruntime in a worker thread so long runs leave the event loop (and heartbeats) free. */
  readonly worker?: boolean;
}

/**
 * Versions of the graph builders whose output changed for the same weights and options: the version joins the
 * graph cache key, so a cache filled by older code is never run with newer feeds. Bump a graph's entry when its
 * builder changes; graphs absent here are at version 1 and keep their keys.
 */
const GRAPH_VERSIONS: Readonly<Record<string, number>> = {
  // 2: documents after the batch's positives are hard negatives (a 'docs' dimension of its own).
  'mnrl-training-step': 2,
};

async function open(architecture: string, graph: string, digest: string, options: Record<string, unknown>, build: () => Uint8Array, place: SessionPlace): Promise<ModelSession> {
  const version = GRAPH_VERSIONS[graph];
  const keyOptions = version === undefined ? options : { ...options, graphVersion: version };
  const { path } = await cachedGraphPath({ architecture, graph, weightsDigest: digest, options: keyOptions }, build, place.cacheDir ?? DEFAULT_GRAPH_CACHE_DIR);
  const dtype = options.dtype ?? 'float32';
  return ModelSession.create(path, { intraOpThreads: place.threads ?? 2, optimization: dtype === 'float64' ? 'basic' : 'all', label: `${architecture} ${graph} (${path})`, ...(place.worker ? { worker: true } : {}) });
}

export async function openDecoderStepSession(weights: WeightMap, cfg: DecoderConfig, options: DecoderGraphOptions = {}, place: SessionPlace = {}): Promise<ModelSession> {
  const digest = place.weightsDigest ?? weightsDigest(weights);
  return open(cfg.architecture, 'decoder-step', digest, { ...options, cfg }, () => buildDecoderStepGraph(weights, cfg, options).toBytes(), place);
}

export async function openSoftPromptLossSession(
  weights: WeightMap,
  cfg: DecoderConfig,
  options: Parameters<typeof buildSoftPromptLossGraph>[2],
  place: SessionPlace = {},
): Promise<ModelSession> {
  const digest = place.weightsDigest ?? weightsDigest(weights);
  return open(cfg.architecture, options.gradient ? 'soft-prompt-loss-grad' : 'soft-prompt-loss', digest, { ...options, cfg }, () => buildSoftPromptLossGraph(weights, cfg, options).toBytes(), place);
}

export async function openEncoderSession(weights: WeightMap, cfg: BertConfig, options: EncoderGraphOptions = {}, place: SessionPlace = {}): Promise<ModelSession> {
  const digest = place.weightsDigest ?? weightsDigest(weights);
  return open('bert', 'encoder', digest, { ...options, cfg }, () => buildEncoderGraph(weights, cfg, options).toBytes(), place);
}

/** The training-step graph depends only on weight shapes (weights are inputs), so it is shared across checkpoints. */
export async function openEncoderTrainingSession(
  weights: WeightMap,
  cfg: BertConfig,
  options: EncoderTrainingOptions = {},
  place: SessionPlace = {},
): Promise<{ session: ModelSession; weightNames: string[] }> {
  const built = buildEncoderTrainingGraph(weights, cfg, options);
  const session = await open('bert', 'mnrl-training-step', weightsDigest(weights, true), { ...options, cfg }, () => built.graph.toBytes(), place);
  return { session, weightNames: built.weightNames };
}
