import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { svgBarChart } from '../../../lib/report/svg-bar-chart.ts';

describe('svg bar chart', () => {
  it('scales bars to the largest value and escapes labels', () => {
    const svg = svgBarChart('Time <per> stage', 's', ['wall', 'CPU'], [{ label: 'a&b', values: [10, 5] }, { label: 'c', values: [null, 2.5] }], 560);
    // Plot width 560 - 130 - 70 = 360 for the maximum 10.
    const widths = [...svg.matchAll(/<rect class="bar" x="130" y="[\d.]+" width="([\d.]+)"/g)].map((m) => m[1]);
    assert.deepEqual(widths, ['360.0', '180.0', '90.0']);
    assert.match(svg, />a&amp;b</);
    assert.match(svg, /aria-label="Time &lt;per&gt; stage"/);
    assert.match(svg, />10</);
    assert.match(svg, />2\.50</);
  });

  it('says when there is no data', () => {
    assert.match(svgBarChart('t', 's', ['wall'], []), />no data</);
  });
});
