/**
 * The bench's verdict for a row: the ratio, its target and "met?" come from one limit, and a ratio
 * that two decimals would print as its limit gets more (so the table never shows `0.90x` marked no).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { judged, ratioText } from '../../bench/common.js';

describe('bench verdicts', () => {
  it('states the target once: the text, the comparison and "met?" agree', () => {
    assert.deepEqual(judged(0.91, { atLeast: 0.9 }), { ratio: '0.91x', target: '>= 0.9x', met: 'yes' });
    assert.deepEqual(judged(0.9, { atLeast: 0.9 }), { ratio: '0.90x', target: '>= 0.9x', met: 'yes' });
    assert.deepEqual(judged(39.6, { atLeast: 10 }), { ratio: '39.60x', target: '>= 10x', met: 'yes' });
    assert.deepEqual(judged(1.61, { atMost: 2 }), { ratio: '1.61x', target: '<= 2x', met: 'yes' });
    assert.deepEqual(judged(1.25, { atMost: 1.2 }), { ratio: '1.25x', target: '<= 1.2x', met: 'no' });
  });

  it('prints a third decimal where two would show the limit on the wrong side of it', () => {
    assert.deepEqual(judged(0.899, { atLeast: 0.9 }), { ratio: '0.899x', target: '>= 0.9x', met: 'no' });
    assert.deepEqual(judged(0.8496, { atLeast: 0.85 }), { ratio: '0.8496x', target: '>= 0.85x', met: 'no' });
    assert.deepEqual(judged(2.004, { atMost: 2 }), { ratio: '2.004x', target: '<= 2x', met: 'no' });
    assert.equal(ratioText(1 / 1.3, 1 / 1.3), '0.77x', 'exactly the limit keeps two decimals');
  });

  it('marks a row with failed requests or wrong answers not met, whatever its ratio', () => {
    assert.equal(judged(1.2, { atLeast: 0.85 }, false).met, 'no');
    assert.equal(judged(1.2, { atMost: 2 }, false).met, 'no');
  });
});
