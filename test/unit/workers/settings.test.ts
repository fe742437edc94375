// Worker settings from the environment: the data roots every config-named path must lie in.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadSettings } from '../../../workers/settings.ts';

describe('worker settings', () => {
  it('takes the working directory as the only data root when SPTAR_DATA_ROOTS is unset', () => {
    assert.deepEqual(loadSettings({}).dataRoots, [process.cwd()]);
  });

  it('splits SPTAR_DATA_ROOTS at the path delimiter and resolves each folder', () => {
    const settings = loadSettings({ SPTAR_DATA_ROOTS: '/srv/sptar:/mnt/datasets/:models' });
    assert.deepEqual(settings.dataRoots, ['/srv/sptar', '/mnt/datasets', `${process.cwd()}/models`]);
  });
});
