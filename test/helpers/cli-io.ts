import { Writable } from 'node:stream';
import type { CliIo } from '../../agent/cli/io.ts';

/** A CliIo whose streams are captured, for in-process CLI tests. */
export interface CapturedIo extends CliIo {
  readonly out: string[];
  readonly err: string[];
  readonly logLines: string[];
  text(): string;
}

export function captureIo(
  env: Record<string, string | undefined>,
  cwd: string,
  signal = AbortSignal.timeout(60_000),
): CapturedIo {
  const out: string[] = [];
  const err: string[] = [];
  const logLines: string[] = [];
  const logDestination = new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      logLines.push(chunk.toString());
      callback();
    },
  });
  return {
    out,
    err,
    logLines,
    stdout: (text) => out.push(text),
    stderr: (text) => err.push(text),
    logDestination,
    env,
    signal,
    cwd,
    text: () => [...out, ...err, ...logLines].join(''),
  };
}
