import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IO_LONG, IO_SHORT, ML_LONG, retryToleranceSeconds } from '../../../workflows/activity-profiles.ts';

describe('activity retry profiles', () => {
  it('ride out an object-store outage of 43 minutes (99.9% a month) and stop within about an hour', () => {
    // 1+2+...+256 s, then 5-minute probes: 511 + 10 x 300 s.
    assert.equal(retryToleranceSeconds(IO_SHORT), 3511);
    assert.equal(retryToleranceSeconds(IO_LONG), 3511);
    // 5+10+...+320 s, then 10-minute probes: 635 + 5 x 600 s.
    assert.equal(retryToleranceSeconds(ML_LONG), 3635);
    for (const p of [IO_SHORT, IO_LONG, ML_LONG]) {
      assert.ok(retryToleranceSeconds(p) >= 43 * 60);
      assert.ok(Number.isFinite(p.retry?.maximumAttempts));
    }
  });

  it('counts a capped exponential backoff', () => {
    assert.equal(retryToleranceSeconds({ retry: { initialInterval: '2 seconds', backoffCoefficient: 3, maximumInterval: '10 seconds', maximumAttempts: 4 } }), 2 + 6 + 10);
  });
});
