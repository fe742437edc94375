import { Context } from '@temporalio/activity';
import { z } from 'zod';
import { CorruptArtifactError, DataFormatError } from '../common/errors.ts';
import { shardResultSchema, type ShardResult } from '../common/generation-types.ts';
import type { ArtifactStore } from './artifact-store/index.ts';
import { markReused } from './activity-costs.ts';

export interface GenerateShardInput {
  readonly index: number;
  /** Key of the shard's documents (BEIR corpus rows). */
  readonly shardKey: string;
  /** Outputs go to `${outputPrefix}/shard-${index}.*`; a stored result there means the shard is finished. */
  readonly outputPrefix: string;
  readonly shared: unknown;
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
}

export interface GenerationDeps {
  readonly store: ArtifactStore;
  /** Returns the generator for a stage's shared inputs (prompt, examples, settings); may cache across shards. */
  readonly generatorFor: (shared: unknown) => Promise<QueryGenerator>;
}

const shardDocSchema = z.object({ _id: z.string().min(1), title: z.string().default(''), text: z.string() });
const outcomeRowSchema = z.union([
  z.object({ docId: z.string(), query: z.string() }).strict(),
  z.object({ docId: z.string(), failure: z.string() }).strict(),
]);
type OutcomeRow = z.infer<typeof outcomeRowSchema>;

/** Checkpoint rows this module wrote itself: anything unreadable means the artifact is corrupt. */
function parseJsonl<T>(bytes: Uint8Array, key: string, schema: z.ZodType<T>): T[] {
  const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  const rows: T[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (!line) continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (err) {
      throw new CorruptArtifactError(`${key}:${i + 1}: not JSON (${(err as Error).message})`);
    }
    const parsed = schema.safeParse(value);
    if (!parsed.success) throw new CorruptArtifactError(`${key}:${i + 1}: ${parsed.error.issues.map((x) => `${x.path.join('.')}: ${x.message}`).join('; ')}`);
    rows.push(parsed.data);
  }
  return rows;
}

const toJsonl = (rows: readonly unknown[]): string => rows.map((r) => `${JSON.stringify(r)}\n`).join('');

/** Generation on the model queue: checkpoints each batch to the store so a retry resumes where the last stopped. */
export function createGenerationActivities(deps: GenerationDeps): GenerationActivities {
  const { store } = deps;
  return {
    async generateShard(input) {
      const base = `${input.outputPrefix}/shard-${String(input.index).padStart(6, '0')}`;
      const resultKey = `${base}.result.json`;
      const existing = await store.stat(resultKey);
      if (existing) {
        const stored = shardResultSchema.safeParse(JSON.parse(new TextDecoder().decode(await store.get(existing))));
        if (!stored.success) throw new CorruptArtifactError(`${resultKey} is not a shard result; delete it to regenerate the shard`);
        markReused();
        return { ...stored.data, reused: true };
      }

      const shardRef = await store.stat(input.shardKey);
      if (!shardRef) throw new DataFormatError(`shard documents ${input.shardKey} are not in the store; re-run the prepare stage`);
      const entries = parseShardDocuments(await store.get(shardRef), input.shardKey);
      // Checkpoint parts are named by the index of their first entry, so their order is their key order.
      const partKeys = await store.list(`${base}.part-`);
      const outcomes: OutcomeRow[] = [];
      for (const key of partKeys) outcomes.push(...parseJsonl(await store.get(key), key, outcomeRowSchema));
      if (outcomes.some((o, i) => o.docId !== entryId(entries[i]))) {
        throw new CorruptArtifactError(`checkpoint parts under ${base}.part-* do not match the shard's documents; delete them to restart the shard`);
      }

      const generator = await deps.generatorFor(input.shared);
      const ctx = Context.current();
      ctx.heartbeat({ done: outcomes.length, total: entries.length });
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
        await store.put(`${base}.part-${String(start).padStart(9, '0')}.jsonl`, toJsonl(rows));
        outcomes.push(...rows);
        ctx.heartbeat({ done: outcomes.length, total: entries.length });
      }

      const weak = outcomes.flatMap((o) => ('query' in o ? [{ _id: o.docId, text: o.query }] : []));
      const failures = outcomes.flatMap((o) => ('failure' in o ? [{ docId: o.docId, reason: o.failure }] : []));
      const result: ShardResult = {
        index: input.index,
        documents: entries.length,
        generated: weak.length,
        failed: failures.length,
        weakQueries: await store.put(`${base}.queries.jsonl`, toJsonl(weak)),
        failures: await store.put(`${base}.failures.jsonl`, toJsonl(failures)),
        reused: false,
      };
      await store.put(resultKey, JSON.stringify(result));
      return result;
    },
  };
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
