#!/usr/bin/env -S node --import tsx
// sptar: start and watch pipeline runs. `sptar help` lists the commands.
import { readFile, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Client, WorkflowNotFoundError } from '@temporalio/client';
import { createArtifactStore } from '../lib/artifact-store/index.ts';
import { parsePipelineConfig } from '../common/pipeline-config.ts';
import type { GenerationProgress } from '../common/generation-types.ts';
import type { PipelineProgress } from '../common/pipeline-stages.ts';
import { TASK_QUEUES } from '../common/task-queues.ts';
import { createNightlySchedule, listSchedules } from './schedules.ts';
import { loadSettings } from './settings.ts';
import { connectClient } from './temporal-connection.ts';

const USAGE = `usage: sptar <command> [options]
  start [config.json] [--id ID] [--detach]   validate the config (default configs/scifact-default.json), start a run, follow it
  status <workflow-id>                        stage, stages done and metrics of a run
  report <workflow-id> [--out FILE]           print (or save) the run's Markdown report
  retry <workflow-id> [shard ...]             retry failed generation shards (all failed ones by default)
  pause <workflow-id> | resume <workflow-id>  pause / resume weak-query generation (running shards finish)
  schedule create <config.json> --id ID [--cron "0 2 * * *"]   nightly incremental re-augmentation
  schedule list | pause ID | unpause ID | trigger ID | delete ID
  help                                        this text
Environment: TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, SPTAR_STORE, SPTAR_S3_* (see README).`;

class UsageError extends Error {}

async function readConfig(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(resolve(path), 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read config file ${path}: ${(err as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new UsageError(`config file ${path} is not valid JSON: ${(err as Error).message}`);
  }
}

function formatProgress(p: PipelineProgress, g?: GenerationProgress): string {
  const done = p.stagesDone.length ? ` (done: ${p.stagesDone.join(', ')})` : '';
  return `stage ${p.stage}${done}${g ? `\n    ${formatGeneration(g)}` : ''}`;
}

/** One line of shard progress: a bar, shard counts, throughput and ETA. */
function formatGeneration(g: GenerationProgress): string {
  const width = 30;
  const filled = g.shardsTotal ? Math.round((g.shardsDone / g.shardsTotal) * width) : 0;
  const eta = g.etaSeconds === null ? '?' : g.etaSeconds >= 3600 ? `${(g.etaSeconds / 3600).toFixed(1)} h` : `${Math.ceil(g.etaSeconds / 60)} min`;
  return (
    `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] shards ${g.shardsDone}/${g.shardsTotal}, running ${g.shardsRunning.length}, ` +
    `failed ${g.shardsFailed.length}${g.paused ? ' (paused)' : ''}; ${g.generated} queries, ${g.failedDocuments} failed docs; ` +
    `${g.documentsPerSecond.toFixed(2)} docs/s, ETA ${eta}`
  );
}

/** The generation workflow behind a run id: the pipeline's current generation child, or the id itself. */
async function generationHandle(client: Client, id: string) {
  const handle = client.workflow.getHandle(id);
  const d = await handle.describe();
  if (d.type === 'sptarPipeline') {
    const p = await handle.query<PipelineProgress>('progress');
    if (!p.generationWorkflowId) throw new UsageError(`run ${id} is not generating weak queries now (stage ${p.stage})`);
    return client.workflow.getHandle(p.generationWorkflowId);
  }
  if (d.type !== 'generateWeakQueriesWorkflow') throw new UsageError(`${id} is a ${d.type}, not a pipeline run or a generation workflow`);
  return handle;
}

function printEvaluations(evaluations: PipelineProgress['evaluations']): void {
  for (const e of evaluations) {
    console.log(`  ${e.system.padEnd(10)} nDCG@10 ${e.metrics.ndcg10.toFixed(4)}  MAP@100 ${e.metrics.map100.toFixed(4)}  R@100 ${e.metrics.recall100.toFixed(4)}  MRR@10 ${e.metrics.mrr10.toFixed(4)}`);
  }
}

async function main(argv: string[]): Promise<void> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      id: { type: 'string' },
      detach: { type: 'boolean', default: false },
      out: { type: 'string' },
      cron: { type: 'string', default: '0 2 * * *' },
    },
  });
  const [command, arg] = positionals;
  if (!command || command === 'help') {
    console.log(USAGE);
    return;
  }
  const settings = loadSettings();
  const withClient = async <T>(fn: (client: Client) => Promise<T>): Promise<T> => {
    const connection = await connectClient(settings);
    try {
      return await fn(new Client({ connection, namespace: settings.namespace }));
    } finally {
      await connection.close();
    }
  };

  switch (command) {
    case 'start': {
      const configPath = arg ?? 'configs/scifact-default.json';
      const raw = await readConfig(configPath);
      const parsed = parsePipelineConfig(raw);
      if (!parsed.ok) throw new UsageError(`${configPath}: ${parsed.message}`);
      const workflowId = values.id ?? `${parsed.config.runName}-${new Date().toISOString().replace(/[:.]/g, '-')}`;
      await withClient(async (client) => {
        const handle = await client.workflow.start('sptarPipeline', {
          taskQueue: TASK_QUEUES.orchestrator,
          workflowId,
          args: [raw],
        });
        console.log(`started ${workflowId}`);
        console.log(`  UI: ${settings.uiUrl}/namespaces/${settings.namespace}/workflows/${encodeURIComponent(workflowId)}`);
        if (values.detach) return;
        let last = '';
        // One progress query at a time; the last one is awaited before the connection closes.
        let inflight: Promise<void> | undefined;
        const timer = setInterval(() => {
          inflight ??= handle
            .query<PipelineProgress>('progress')
            .then(async (p) => {
              const g = p.generationWorkflowId
                ? await client.workflow.getHandle(p.generationWorkflowId).query<GenerationProgress>('generationProgress').catch(() => undefined)
                : undefined;
              const line = formatProgress(p, g);
              if (line !== last) console.log(`  ${line}`);
              last = line;
            })
            .catch(() => undefined) // the run may not have started its first task yet
            .finally(() => {
              inflight = undefined;
            });
        }, 1000);
        try {
          const result = (await handle.result()) as { evaluations: PipelineProgress['evaluations']; reportKey: string };
          printEvaluations(result.evaluations);
          console.log(`finished; report: sptar report ${workflowId}`);
        } finally {
          clearInterval(timer);
          await inflight;
        }
      });
      return;
    }
    case 'status': {
      if (!arg) throw new UsageError('status needs a workflow id');
      await withClient(async (client) => {
        const handle = client.workflow.getHandle(arg);
        const d = await handle.describe();
        console.log(`${arg}: ${d.status.name}`);
        if (d.status.name === 'COMPLETED') {
          const result = (await handle.result()) as { evaluations: PipelineProgress['evaluations'] };
          printEvaluations(result.evaluations);
        } else if (d.status.name === 'RUNNING') {
          const p = await handle.query<PipelineProgress>('progress').catch((err: unknown) => {
            throw new UsageError(`${(err as Error).message}: start a worker (npm run worker) to see live progress`);
          });
          const g = p.generationWorkflowId
            ? await client.workflow.getHandle(p.generationWorkflowId).query<GenerationProgress>('generationProgress').catch(() => undefined)
            : undefined;
          console.log(`  ${formatProgress(p, g)}`);
          printEvaluations(p.evaluations);
        }
      });
      return;
    }
    case 'report': {
      if (!arg) throw new UsageError('report needs a workflow id');
      const memo = await withClient(async (client) => (await client.workflow.getHandle(arg).describe()).memo);
      const key = memo?.['reportKey'];
      if (typeof key !== 'string') throw new UsageError(`run ${arg} has no report yet`);
      const text = new TextDecoder().decode(await createArtifactStore(settings.store).get(key));
      if (values.out) await writeFile(values.out, text);
      else process.stdout.write(text);
      return;
    }
    case 'retry':
    case 'pause':
    case 'resume': {
      if (!arg) throw new UsageError(`${command} needs a run id (or a generation workflow id)`);
      const shards = positionals.slice(2).map((x) => {
        const n = Number(x);
        if (!Number.isInteger(n) || n < 0) throw new UsageError(`shard numbers are non-negative integers, got '${x}'`);
        return n;
      });
      await withClient(async (client) => {
        const gen = await generationHandle(client, arg);
        if (command === 'retry') {
          const retried = (shards.length ? await gen.executeUpdate('retryFailedShards', { args: [shards] }) : await gen.executeUpdate('retryFailedShards')) as number;
          console.log(`${gen.workflowId}: ${retried} failed shard(s) queued again`);
        } else {
          await gen.executeUpdate(command === 'pause' ? 'pauseGeneration' : 'resumeGeneration');
          console.log(`${gen.workflowId}: generation ${command === 'pause' ? 'paused (running shards finish)' : 'resumed'}`);
        }
        console.log(`  ${formatGeneration(await gen.query<GenerationProgress>('generationProgress'))}`);
      });
      return;
    }
    case 'schedule': {
      const [, sub, target] = positionals;
      await withClient(async (client) => {
        switch (sub) {
          case 'create': {
            if (!target || !values.id) throw new UsageError('schedule create needs a config file and --id');
            await createNightlySchedule(client, { scheduleId: values.id, config: (await readConfig(target)) as object, cron: values.cron });
            console.log(`created schedule ${values.id} (${values.cron} UTC, incremental, overlap skip)`);
            return;
          }
          case 'list':
            for (const s of await listSchedules(client)) {
              console.log(`${s.scheduleId}  ${s.paused ? 'paused' : 'active'}  cron '${s.cron}'  next ${s.nextRun ?? '-'}`);
            }
            return;
          case 'pause':
          case 'unpause':
          case 'trigger':
          case 'delete': {
            if (!target) throw new UsageError(`schedule ${sub} needs a schedule id`);
            const handle = client.schedule.getHandle(target);
            if (sub === 'pause') await handle.pause('paused from the sptar CLI');
            else if (sub === 'unpause') await handle.unpause('resumed from the sptar CLI');
            else if (sub === 'trigger') await handle.trigger();
            else await handle.delete();
            console.log(`${sub}: ${target}`);
            return;
          }
          default:
            throw new UsageError(`unknown schedule command '${sub ?? ''}'\n${USAGE}`);
        }
      });
      return;
    }
    default:
      throw new UsageError(`unknown command '${command}'\n${USAGE}`);
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  if (err instanceof UsageError) console.error(err.message);
  else if (err instanceof WorkflowNotFoundError) console.error(`no such run: ${err.workflowId}`);
  else console.error(err instanceof Error ? (err.cause instanceof Error ? `${err.message}: ${err.cause.message}` : err.message) : err);
  process.exit(1);
});
