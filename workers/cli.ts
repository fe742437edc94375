#!/usr/bin/env -S node --import tsx
// sptar: start and watch pipeline runs. `sptar help` lists the commands.
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Client, WorkflowNotFoundError } from '@temporalio/client';
import { createArtifactStore } from '../lib/artifact-store/index.ts';
import { parsePipelineConfig } from '../common/pipeline-config.ts';
import type { GenerationProgress } from '../common/generation-types.ts';
import type { PipelineProgress } from '../common/pipeline-stages.ts';
import { TASK_QUEUES } from '../common/task-queues.ts';
import { formatGeneration } from './progress-format.ts';
import { exportReportTo, reportBytes, reportFormat } from './report-export.ts';
import { followRun, printStatus, reportKeysOf, RunCommandError } from './run-commands.ts';
import { runUiUrl, shellArg } from './run-summary.ts';
import { createNightlySchedule, listSchedules } from './schedules.ts';
import { DATA_USAGE, prepareConfiguredDataset, runDataCommand } from './data-command.ts';
import { loadSettings } from './settings.ts';
import { connectClient } from './temporal-connection.ts';

const USAGE = `usage: npx sptar <command> [options]
  start [config.json] [--id ID] [--detach]   validate the config (default configs/scifact-default.json), start a run, follow it
  status <workflow-id>                        stage, stages done and metrics of a run
  report <workflow-id> [--format html|md] [--out FILE|-]   write the run's report (default reports/<id>/report.html; - prints it)
  retry <workflow-id> [shard ...]             retry failed generation shards (all failed ones by default)
  accept <workflow-id>                        go on without the failed shards (their documents are recorded as not done)
  pause <workflow-id> | resume <workflow-id>  pause / resume weak-query generation (running shards finish)
  schedule create <config.json> --id ID [--cron "0 2 * * *"]   nightly incremental re-augmentation
  schedule list | pause ID | unpause ID | trigger ID | delete ID
${DATA_USAGE}
  help                                        this text
Environment: TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, SPTAR_STORE, SPTAR_S3_*, SPTAR_DATASET_BASE_URL, SPTAR_DATASET_PIN (see README).`;

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

async function main(argv: string[]): Promise<void> {
  if (argv[0] === 'data') return runDataCommand(argv.slice(1)); // its own options (--dir, --archive)
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      id: { type: 'string' },
      detach: { type: 'boolean', default: false },
      out: { type: 'string' },
      format: { type: 'string' },
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
      await prepareConfiguredDataset(parsed.config.dataset); // a missing dataset.path of a known dataset is fetched first
      const workflowId = values.id ?? `${parsed.config.runName}-${new Date().toISOString().replace(/[:.]/g, '-')}`;
      await withClient(async (client) => {
        const handle = await client.workflow.start('sptarPipeline', {
          taskQueue: TASK_QUEUES.orchestrator,
          workflowId,
          args: [raw],
        });
        console.log(`started ${workflowId}`);
        console.log(`  UI: ${runUiUrl(settings.uiUrl, settings.namespace, workflowId, handle.firstExecutionRunId)}`);
        if (values.detach) {
          console.log(`  progress: npx sptar status ${shellArg(workflowId)}`);
          return;
        }
        await followRun(client, handle, { settings, configPath, runName: parsed.config.runName });
      });
      return;
    }
    case 'status': {
      if (!arg) throw new UsageError('status needs a workflow id');
      await withClient((client) => printStatus(client, arg));
      return;
    }
    case 'report': {
      if (!arg) throw new UsageError('report needs a workflow id');
      const format = reportFormat(values.format, values.out);
      const keys = await withClient((client) => reportKeysOf(client, arg));
      const store = createArtifactStore(settings.store);
      if (values.out === '-') process.stdout.write(await reportBytes(store, keys, format));
      else console.log((await exportReportTo(store, keys, arg, { format, out: values.out })).message);
      return;
    }
    case 'retry':
    case 'accept':
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
        } else if (command === 'accept') {
          if (shards.length > 0) throw new UsageError('accept takes no shard numbers: it goes on without every failed shard');
          const accepted = (await gen.executeUpdate('acceptFailedShards')) as number;
          console.log(`${gen.workflowId}: going on without ${accepted} failed shard(s); their documents are recorded as not done`);
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
  if (err instanceof UsageError || err instanceof RunCommandError) console.error(err.message);
  else if (err instanceof WorkflowNotFoundError) console.error(`no such run: ${err.workflowId}`);
  else console.error(err instanceof Error ? (err.cause instanceof Error ? `${err.message}: ${err.cause.message}` : err.message) : err);
  process.exit(1);
});
