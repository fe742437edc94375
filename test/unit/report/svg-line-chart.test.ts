import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { svgLineChart } from '../../../lib/report/svg-line-chart.ts';

describe('svg line chart', () => {
  it('maps points into the plot area and labels series', () => {
    const svg = svgLineChart('Loss <per> epoch', 'epoch', 'loss', [{ name: 'S_eval', points: [[0, 3], [1, 2], [2, 1]] }], 560, 300);
    // x: 0 -> 60, 2 -> 540; y: 3 -> 30 (top), 1 -> 255 (bottom)
    assert.match(svg, /<path class="series" d="M60\.0,30\.0 L300\.0,142\.5 L540\.0,255\.0"/);
    assert.match(svg, /Loss &lt;per&gt; epoch/);
    assert.match(svg, />S_eval<\/text>/);
    assert.equal((svg.match(/<circle /g) ?? []).length, 3);
  });

  it('skips non-finite points and says when there is no data', () => {
    const svg = svgLineChart('t', 'x', 'y', [{ name: 'a', points: [[0, Number.NaN], [1, 1], [2, 2]] }]);
    assert.equal((svg.match(/<circle /g) ?? []).length, 2);
    assert.match(svgLineChart('t', 'x', 'y', []), />no data</);
  });
});
