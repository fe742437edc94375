import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client, type Connection } from '@temporalio/client';
import { createNightlySchedule, listSchedules } from '../../workers/schedules.ts';
import { connectClient } from '../../workers/temporal-connection.ts';
import { serviceSettings } from '../support/services.ts';

const settings = serviceSettings();

describe('nightly re-augmentation schedule (real dev server)', () => {
  let connection: Connection;
  let client: Client;
  const scheduleId = `test-nightly-${Date.now()}`;

  before(async () => {
    connection = await connectClient(settings);
    client = new Client({ connection, namespace: settings.namespace });
  });
  after(async () => {
    await client.schedule.getHandle(scheduleId).delete().catch(() => undefined);
    await connection.close();
  });

  it('creates an incremental, overlap-skip schedule; lists, pauses and unpauses it', async () => {
    await createNightlySchedule(client, { scheduleId, config: { runName: 'nightly' }, cron: '0 2 * * *' });
    const d = await client.schedule.getHandle(scheduleId).describe();
    assert.equal(d.policies.overlap, 'SKIP');
    assert.equal(d.action.type, 'startWorkflow');
    if (d.action.type !== 'startWorkflow') return;
    assert.equal(d.action.workflowType, 'sptarPipeline');
    assert.deepEqual(d.action.args, [{ runName: 'nightly', mode: 'incremental' }]);
    const next = d.info.nextActionTimes[0];
    assert.ok(next);
    assert.equal(next.getUTCHours(), 2);
    assert.equal(next.getUTCMinutes(), 0);

    // The visibility listing can lag a moment behind the create.
    let mine;
    for (let i = 0; i < 50 && !mine; i++) {
      mine = (await listSchedules(client)).find((s) => s.scheduleId === scheduleId);
      if (!mine) await new Promise((r) => setTimeout(r, 200));
    }
    assert.deepEqual(mine && { paused: mine.paused, cron: mine.cron }, { paused: false, cron: '0 2 * * *' });

    await client.schedule.getHandle(scheduleId).pause('test');
    assert.equal((await client.schedule.getHandle(scheduleId).describe()).state.paused, true);
    await client.schedule.getHandle(scheduleId).unpause('test');
    assert.equal((await client.schedule.getHandle(scheduleId).describe()).state.paused, false);
  });

  it('refuses an invalid config before creating anything', async () => {
    await assert.rejects(
      createNightlySchedule(client, { scheduleId: `${scheduleId}-bad`, config: { splits: { trainPairs: 0 } }, cron: '0 2 * * *' }),
      /splits\.trainPairs: Too small/,
    );
    await assert.rejects(client.schedule.getHandle(`${scheduleId}-bad`).describe(), /not found/i);
  });
});
