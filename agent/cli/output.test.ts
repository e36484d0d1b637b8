import { describe, expect, it } from 'vitest';
import { captureIo } from '../../test/helpers/cli-io.ts';
import { alignRows, commandLogLevel, createOutput, progressText } from './output.ts';

describe('the one-shot commands’ output', () => {
  it('aligns every column but the last to its widest cell, not counting colour codes', () => {
    expect(
      alignRows([
        ['ok  ', 'config', 'perimeter.yaml', '2 connections'],
        ['\u001b[31mFAIL\u001b[39m', 'secret', 'x', 'SECRET_NOT_FOUND'],
      ]),
    ).toEqual([
      'ok    config  perimeter.yaml  2 connections\n',
      '\u001b[31mFAIL\u001b[39m  secret  x               SECRET_NOT_FOUND\n',
    ]);
  });

  it('colours only when stdout is a terminal and NO_COLOR is unset', () => {
    const plain = createOutput(captureIo({}, '/'), { json: false });
    expect(plain.status(false)).toBe('FAIL');
    const tty = createOutput({ ...captureIo({}, '/'), stdoutIsTTY: true }, { json: false });
    expect(tty.status(false)).toBe('\u001b[31mFAIL\u001b[39m');
    const noColor = createOutput(
      { ...captureIo({ NO_COLOR: '1' }, '/'), stdoutIsTTY: true },
      { json: false },
    );
    expect(noColor.status(true)).toBe('ok  ');
  });

  it('draws a progress line of assets, batches and rate on a terminal’s stderr only, and clears it', () => {
    expect(progressText({ assets: 12_345, batches: 7, bytes: 2_048_000 }, 2_000)).toBe(
      '  12,345 assets  7 batches  2,000 KiB  6,173 assets/s',
    );
    const io = captureIo({}, '/');
    const piped = createOutput(io, { json: false }).progress();
    piped.update({ assets: 1, batches: 1, bytes: 1 });
    piped.done();
    expect(io.err).toEqual([]);
    const ttyIo = { ...captureIo({}, '/'), stderrIsTTY: true };
    const line = createOutput(ttyIo, { json: false }).progress();
    line.update({ assets: 10, batches: 1, bytes: 1024 });
    line.done();
    expect(ttyIo.err[0]?.startsWith('\u001b[2K\r  10 assets  1 batches  1 KiB  ')).toBe(true);
    expect(ttyIo.err[0]).toMatch(/ [\d,]+ assets\/s$/);
    expect(ttyIo.err.at(-1)).toBe('\u001b[2K\r');
  });

  it('logs nothing unless --verbose (the config’s level) or --log-level asks', () => {
    expect(commandLogLevel({ verbose: false, logLevel: undefined })).toBe('silent');
    expect(commandLogLevel({ verbose: true, logLevel: undefined })).toBeUndefined();
    expect(commandLogLevel({ verbose: false, logLevel: 'debug' })).toBe('debug');
  });
});
