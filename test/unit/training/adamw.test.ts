import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AdamW, clipGradNorm, linearSchedule } from '../../../lib/training/adamw.ts';

const close = (a: number, b: number, tol = 1e-6) => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);

describe('AdamW', () => {
  it('matches hand-computed updates over two steps', () => {
    // p0 = 1, g = 0.5 then -0.25, lr 0.1, wd 0.01, betas (0.9, 0.999), eps 1e-8.
    const p = new Float32Array([1]);
    const opt = new AdamW([1], { weightDecay: 0.01 });
    opt.step([p], [new Float32Array([0.5])], 0.1);
    // step 1: decay 1*(1-0.001)=0.999; m=0.05, v=0.00025; m_hat=0.5, v_hat=0.25; update 0.1*0.5/0.5=0.1 -> 0.899
    close(p[0]!, 0.899);
    opt.step([p], [new Float32Array([-0.25])], 0.1);
    // step 2: decay 0.899*0.999=0.898101; m=0.045-0.025=0.02, v=0.00024975+0.0000625=0.00031225
    // m_hat=0.02/0.19=0.105263158, v_hat=0.00031225/0.001999=0.156203102, sqrt=0.395225382
    // update 0.1*0.105263158/0.395225382=0.026633703 -> 0.871467297
    close(p[0]!, 0.871467297, 1e-6);
    assert.equal(opt.state.step, 2);
  });

  it('minimises a quadratic', () => {
    const p = new Float32Array([3, -2]);
    const opt = new AdamW([2], { weightDecay: 0 });
    for (let i = 0; i < 500; i++) opt.step([p], [new Float32Array([2 * (p[0]! - 1), 2 * (p[1]! + 1)])], 0.05);
    close(p[0]!, 1, 1e-2);
    close(p[1]!, -1, 1e-2);
  });

  it('refuses state of another model', () => {
    const state = new AdamW([3]).state;
    assert.throws(() => new AdamW([4], {}, state), /does not match/);
  });
});

describe('schedules and clipping', () => {
  it('linear warm-up then linear decay to zero', () => {
    assert.deepEqual([0, 1, 2, 3, 6, 10].map((s) => linearSchedule(s, 10, 2, 1)), [0, 0.5, 1, 0.875, 0.5, 0]);
    assert.deepEqual([0, 5, 10].map((s) => linearSchedule(s, 10, 0, 0.03)), [0.03, 0.015, 0]);
  });

  it('clips the global norm and reports it', () => {
    const g = [new Float32Array([3]), new Float32Array([4])];
    close(clipGradNorm(g, 1), 5);
    close(g[0]![0]!, 0.6, 1e-6);
    close(g[1]![0]!, 0.8, 1e-6);
    const small = [new Float32Array([0.3, 0.4])];
    clipGradNorm(small, 1);
    assert.deepEqual([...small[0]!].map((x) => +x.toFixed(6)), [0.3, 0.4]);
  });
});
