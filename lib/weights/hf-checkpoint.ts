// A HuggingFace checkpoint folder (config.json + model.safetensors) -> model config + weights.
// Names are normalised to the bare base model (`bert.`/`transformer.` prefixes dropped) so checkpoints saved
// from task heads and from the base model load alike.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BertConfig, Gpt2Config, WeightMap, WeightTensor } from '../models/model-config.ts';
import { readSafetensors } from './safetensors.ts';

type Json = Record<string, unknown>;

function num(json: Json, key: string, source: string, fallback?: number): number {
  const value = json[key];
  if (typeof value === 'number') return value;
  if (fallback !== undefined && (value === undefined || value === null)) return fallback;
  throw new Error(`${source}: '${key}' is missing or not a number`);
}

export function bertConfigFromHf(json: Json, source: string): BertConfig {
  if (json['model_type'] !== 'bert') throw new Error(`${source}: model_type '${String(json['model_type'])}' is not 'bert'`);
  const act = json['hidden_act'] ?? 'gelu';
  if (act !== 'gelu') throw new Error(`${source}: hidden_act '${String(act)}' is not supported (expected 'gelu')`);
  const positions = json['position_embedding_type'] ?? 'absolute';
  if (positions !== 'absolute') throw new Error(`${source}: position_embedding_type '${String(positions)}' is not supported (expected 'absolute')`);
  return {
    architecture: 'bert',
    vocabSize: num(json, 'vocab_size', source),
    hiddenSize: num(json, 'hidden_size', source),
    numLayers: num(json, 'num_hidden_layers', source),
    numHeads: num(json, 'num_attention_heads', source),
    intermediateSize: num(json, 'intermediate_size', source),
    layerNormEps: num(json, 'layer_norm_eps', source, 1e-12),
    maxPositions: num(json, 'max_position_embeddings', source),
    typeVocabSize: num(json, 'type_vocab_size', source, 2),
  };
}

function gpt2ConfigFromHf(json: Json, source: string): Gpt2Config {
  if (json['model_type'] !== 'gpt2') throw new Error(`${source}: model_type '${String(json['model_type'])}' is not 'gpt2'`);
  const hiddenSize = num(json, 'n_embd', source);
  return {
    architecture: 'gpt2',
    vocabSize: num(json, 'vocab_size', source),
    hiddenSize,
    numLayers: num(json, 'n_layer', source),
    numHeads: num(json, 'n_head', source),
    intermediateSize: num(json, 'n_inner', source, 4 * hiddenSize),
    layerNormEps: num(json, 'layer_norm_epsilon', source, 1e-5),
    maxPositions: num(json, 'n_positions', source),
  };
}

export function normaliseCheckpointNames(weights: ReadonlyMap<string, WeightTensor>): Map<string, WeightTensor> {
  const out = new Map<string, WeightTensor>();
  for (const [name, t] of weights) out.set(name.replace(/^(bert|transformer)\./, ''), t);
  return out;
}

interface HfCheckpoint<C> {
  readonly config: C;
  readonly weights: WeightMap;
}

async function readConfig(dir: string): Promise<Json> {
  const path = join(dir, 'config.json');
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new Error(`${path}: cannot read the checkpoint config (${(err as Error).message})`, { cause: err });
  }
  try {
    return JSON.parse(text) as Json;
  } catch (err) {
    throw new Error(`${path}: not valid JSON (${(err as Error).message})`, { cause: err });
  }
}

function requireTensor(weights: WeightMap, name: string, dims: readonly number[], source: string): void {
  const t = weights.get(name);
  if (!t) throw new Error(`${source}: tensor '${name}' is missing; is this a checkpoint of the configured architecture?`);
  if (t.dims.length !== dims.length || t.dims.some((d, i) => d !== dims[i])) {
    throw new Error(`${source}: tensor '${name}' has dims [${t.dims.join(', ')}], config.json implies [${dims.join(', ')}]`);
  }
}

export async function loadBertCheckpoint(dir: string): Promise<HfCheckpoint<BertConfig>> {
  const config = bertConfigFromHf(await readConfig(dir), join(dir, 'config.json'));
  const file = join(dir, 'model.safetensors');
  const weights = normaliseCheckpointNames((await readSafetensors(file)).weights);
  requireTensor(weights, 'embeddings.word_embeddings.weight', [config.vocabSize, config.hiddenSize], file);
  requireTensor(weights, `encoder.layer.${config.numLayers - 1}.output.dense.weight`, [config.hiddenSize, config.intermediateSize], file);
  return { config, weights };
}

export async function loadGpt2Checkpoint(dir: string): Promise<HfCheckpoint<Gpt2Config>> {
  const config = gpt2ConfigFromHf(await readConfig(dir), join(dir, 'config.json'));
  const file = join(dir, 'model.safetensors');
  const weights = normaliseCheckpointNames((await readSafetensors(file)).weights);
  requireTensor(weights, 'wte.weight', [config.vocabSize, config.hiddenSize], file);
  requireTensor(weights, `h.${config.numLayers - 1}.attn.c_attn.weight`, [config.hiddenSize, 3 * config.hiddenSize], file);
  return { config, weights };
}
