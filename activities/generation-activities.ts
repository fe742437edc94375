import { Context } from '@temporalio/activity';
import { z } from 'zod';
import { generationShardKeys } from '../common/artifact-keys.ts';
import { CorruptArtifactError, DataFormatError } from '../common/errors.ts';
import { shardResultSchema, type GenerationSettings, type ShardResult } from '../common/generation-types.ts';
import type { ArtifactStore } from '../lib/artifact-store/index.ts';
import { parseJsonlRows, toJsonl } from '../lib/beir/jsonl-rows.ts';
import { lengthSortedOrder, restoreShardOrder } from '../lib/sptar/length-sorted-batches.ts';
import { withHeartbeatClock, type HeartbeatClockOptions } from './heartbeat-clock.ts';
import { storedResult } from './stored-results.ts';

export interface GenerateShardInput {
  readonly index: number;
  /** Key of the shard's documents (BEIR corpus rows). */
  readonly shardKey: string;
  /** The generation stage's outputs; this shard's are at `generationShardKeys(outputPrefix, index)`. */
  readonly outputPrefix: string;
  /** What every shard of the stage shares: LLM, prompt, examples, decoding settings. */
  readonly shared: GenerationSettings;
}

export interface GenerationActivities {
  generateShard(input: GenerateShardInput): Promise<ShardResult>;
}

export interface ShardDocument {
  readonly _id: string;
  readonly title: string;
  readonly text: string;
}

export type GenerationOutcome = { readonly query: string } | { readonly failure: string };

/** Writes one weak query per document, or says why it could not. Built from the stage's shared inputs. */
export interface QueryGenerator {
  readonly batchSize: number;
  generate(docs: readonly ShardDocument[]): Promise<GenerationOutcome[]>;
  /** Tokens of the document's own prompt (what a batch pads to its longest); without it, `documentLengthProxy`. */
  promptTokens?(doc: ShardDocument): number;
}

export interface GenerationDeps {
  readonly store: ArtifactStore;
  /** Returns the generator for a stage's shared inputs (prompt, examples, settings); may cache across shards. */
  readonly generatorFor: (shared: GenerationSettings) => Promise<QueryGenerator>;
  /** The shard's heartbeat clock (default: at least every 30 s while a batch runs); tests pass a short one. */
  readonly heartbeats?: HeartbeatClockOptions;
}

const shardDocSchema = z.object({ _id: z.string().min(1), title: z.string().default(''), text: z.string() });
const outcomeRowSchema = z.union([
  z.object({ docId: z.string(), query: z.string() }).strict(),
  z.object({ docId: z.string(), failure: z.string() }).strict(),
]);
type OutcomeRow = z.infer<typeof outcomeRowSchema>;

/** Generation on the model queue: checkpoints each batch to the store so a retry resumes where the last stopped. */
export function createGenerationActivities(deps: GenerationDeps): GenerationActivities {
  const { store } = deps;
  return {
    async generateShard(input) {
      const keys = generationShardKeys(input.outputPrefix, input.index);
      // A finished shard is never generated again, whatever the reuse setting: its documents have their outcomes.
      const stored = await storedResult(store, keys.result, true, shardResultSchema, 'a shard result');
      if (stored) return { ...stored, reused: true };

      const shardRef = await store.stat(input.shardKey);
      if (!shardRef) throw new DataFormatError(`shard documents ${input.shardKey} are not in the store; re-run the prepare stage`);
      const shardEntries = parseShardDocuments(await store.get(shardRef), input.shardKey);
      const generator = await deps.generatorFor(input.shared);
      // The shard is decoded in processing order (by prompt length with lengthSortedBatches, else shard order): its
      // checkpoint parts hold consecutive runs of that order, and the outputs go back to shard order at the end.
      const lengthOf = (doc: ShardDocument): number => generator.promptTokens?.(doc) ?? documentLengthProxy(doc, input.shared.maxDocumentWords);
      const order =
        input.shared.lengthSortedBatches === true ? lengthSortedOrder(shardEntries.map((e) => ('doc' in e ? lengthOf(e.doc) : -1))) : shardEntries.map((_, i) => i);
      const entries = order.map((i) => shardEntries[i]!);
      // Checkpoint parts are named by the processing position of their first entry, so their order is their key order.
      const partKeys = await store.list(keys.partPrefix);
      const outcomes: OutcomeRow[] = [];
      for (const [i, key] of partKeys.entries()) {
        try {
          outcomes.push(...parseJsonlRows(await store.get(key), key, outcomeRowSchema, { error: CorruptArtifactError }));
        } catch (err) {
          if (!(err instanceof CorruptArtifactError)) throw err;
          const later = partKeys.length - i - 1;
          throw new CorruptArtifactError(
            `${err.message}; delete ${key}${later > 0 ? ` and the ${later} later part${later > 1 ? 's' : ''} under ${keys.partPrefix}*` : ''}, then retry the shard (sptar retry): it generates those documents again and keeps the ${i} earlier part${i === 1 ? '' : 's'}`,
          );
        }
      }
      if (outcomes.some((o, i) => o.docId !== entryId(entries[i]))) {
        throw new CorruptArtifactError(`checkpoint parts under ${keys.partPrefix}* do not match the shard's documents; delete them to restart the shard`);
      }

      const ctx = Context.current();
      // Heartbeats on a clock as well as per batch: a slow batch or a checkpoint write keeps the attempt alive.
      await withHeartbeatClock((details) => ctx.heartbeat(details), { ...deps.heartbeats, initial: { done: outcomes.length, total: entries.length } }, async (clock) => {
        while (outcomes.length < entries.length) {
          const start = outcomes.length;
          const batch = entries.slice(start, start + generator.batchSize);
          const docs = batch.flatMap((e) => ('doc' in e ? [e.doc] : []));
          const results = docs.length > 0 ? await generateIsolated(generator, docs) : [];
          let next = 0;
          const rows = batch.map((e): OutcomeRow => {
            if (!('doc' in e)) return { docId: e.docId, failure: e.failure };
            const r = results[next++];
            if (!r) return { docId: e.doc._id, failure: 'generator returned no outcome' };
            return 'query' in r ? { docId: e.doc._id, query: r.query } : { docId: e.doc._id, failure: r.failure };
          });
          // An attempt the server has given up on (its heartbeats stopped, another attempt took over) is cancelled
          // through its heartbeats: it writes nothing more, so a stalled worker that wakes up does not race the new one.
          ctx.cancellationSignal.throwIfAborted();
          await store.put(keys.part(start), toJsonl(rows));
          outcomes.push(...rows);
          clock.beat({ done: outcomes.length, total: entries.length });
        }
      });

      const inShardOrder = restoreShardOrder(outcomes, order);
      const weak = inShardOrder.flatMap((o) => ('query' in o ? [{ _id: o.docId, text: o.query }] : []));
      const failures = inShardOrder.flatMap((o) => ('failure' in o ? [{ docId: o.docId, reason: o.failure }] : []));
      const result: ShardResult = {
        index: input.index,
        documents: entries.length,
        generated: weak.length,
        failed: failures.length,
        weakQueries: await store.put(keys.queries, toJsonl(weak)),
        failures: await store.put(keys.failures, toJsonl(failures)),
        reused: false,
      };
      await store.put(keys.result, JSON.stringify(result));
      return result;
    },
  };
}

/**
 * A generator's stand-in for its prompt length: characters of the document as the prompt shows it (title and
 * text, cut to `maxWords` words when given).
 */
export function documentLengthProxy(doc: ShardDocument, maxWords?: number): number {
  const words = (doc.title ? `${doc.title} ${doc.text}` : doc.text).split(/\s+/).filter((w) => w.length > 0);
  const shown = maxWords === undefined ? words : words.slice(0, maxWords);
  return shown.join(' ').length;
}

type ShardEntry = { readonly doc: ShardDocument } | { readonly docId: string; readonly failure: string };

const entryId = (e: ShardEntry | undefined): string | undefined => (e === undefined ? undefined : 'doc' in e ? e.doc._id : e.docId);

/**
 * Splits a shard file into documents. A line that is not valid UTF-8, not JSON or not a document is a poison
 * document: it becomes a recorded failure (under its `_id` when one can be read) and the shard goes on.
 */
export function parseShardDocuments(bytes: Uint8Array, key: string): ShardEntry[] {
  const strict = new TextDecoder('utf-8', { fatal: true });
  const lenient = new TextDecoder('utf-8');
  const entries: ShardEntry[] = [];
  let lineNo = 0;
  for (let start = 0; start < bytes.length; ) {
    let end = bytes.indexOf(0x0a, start);
    if (end < 0) end = bytes.length;
    const raw = bytes.subarray(start, end);
    start = end + 1;
    lineNo++;
    if (raw.length === 0) continue;
    const fallbackId = (): string => /"_id"\s*:\s*"([^"\\]{1,200})"/.exec(lenient.decode(raw))?.[1] ?? `${key}#line-${lineNo}`;
    let text: string;
    try {
      text = strict.decode(raw);
    } catch {
      entries.push({ docId: fallbackId(), failure: `invalid UTF-8 at ${key}:${lineNo}` });
      continue;
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      entries.push({ docId: fallbackId(), failure: `not JSON at ${key}:${lineNo}` });
      continue;
    }
    const parsed = shardDocSchema.safeParse(value);
    if (parsed.success) entries.push({ doc: parsed.data });
    else entries.push({ docId: fallbackId(), failure: `not a document at ${key}:${lineNo}: ${parsed.error.issues[0]?.message ?? ''}` });
  }
  return entries;
}

/** A batch that throws is retried one document at a time, so one poison document cannot sink its neighbours. */
async function generateIsolated(generator: QueryGenerator, batch: readonly ShardDocument[]): Promise<GenerationOutcome[]> {
  try {
    return await generator.generate(batch);
  } catch (batchErr) {
    if (batch.length === 1) return [{ failure: `generation error: ${(batchErr as Error).message}` }];
    const out: GenerationOutcome[] = [];
    for (const doc of batch) {
      try {
        out.push(...(await generator.generate([doc])));
      } catch (err) {
        out.push({ failure: `generation error: ${(err as Error).message}` });
      }
    }
    return out;
  }
}
