import { describe, expect, it } from 'vitest';
import { checkpointDecision, endsBeforeLine } from './cut-rules.ts';

const limits = { batchMaxAssets: 10, batchMaxBytes: 1000, checkpointMinAssets: 4 };

describe('endsBeforeLine', () => {
  it.each([
    {
      pending: { assets: 0, bytes: 0 },
      line: 50,
      ends: false,
      why: 'an empty batch takes any line',
    },
    { pending: { assets: 0, bytes: 0 }, line: 5000, ends: false, why: 'the first line never cuts' },
    { pending: { assets: 9, bytes: 100 }, line: 10, ends: false, why: 'the 10th asset still fits' },
    {
      pending: { assets: 10, bytes: 100 },
      line: 10,
      ends: true,
      why: 'the 11th asset exceeds the count',
    },
    {
      pending: { assets: 3, bytes: 990 },
      line: 10,
      ends: false,
      why: 'exactly batchMaxBytes fits',
    },
    {
      pending: { assets: 3, bytes: 990 },
      line: 11,
      ends: true,
      why: 'one byte over the limit cuts',
    },
  ])('says $ends when $why', ({ pending, line, ends }) => {
    expect(endsBeforeLine(pending, line, limits)).toBe(ends);
  });
});

describe('checkpointDecision', () => {
  it.each([
    { pending: { assets: 0, bytes: 0 }, decision: 'boundary', why: 'nothing is pending' },
    { pending: { assets: 3, bytes: 100 }, decision: 'skip', why: 'fewer than checkpointMinAssets' },
    { pending: { assets: 4, bytes: 100 }, decision: 'cut', why: 'checkpointMinAssets are pending' },
    { pending: { assets: 1, bytes: 500 }, decision: 'skip', why: 'exactly half of batchMaxBytes' },
    { pending: { assets: 1, bytes: 501 }, decision: 'cut', why: 'more than half of batchMaxBytes' },
  ])('answers $decision when $why', ({ pending, decision }) => {
    expect(checkpointDecision(pending, limits)).toBe(decision);
  });

  it('caps checkpointMinAssets at batchMaxAssets so a full batch still cuts', () => {
    const high = { ...limits, checkpointMinAssets: 50 };
    expect(checkpointDecision({ assets: 10, bytes: 100 }, high)).toBe('cut');
    expect(checkpointDecision({ assets: 9, bytes: 100 }, high)).toBe('skip');
  });
});
