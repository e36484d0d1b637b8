// Log-line redaction benchmark: the value layer runs on every line the agent writes.
//
//   node bench/redaction.ts [secrets] [redactor module]   (default: 50, agent/logging/redactor.ts)
//
// Prints the time to redact one typical line (about 300 characters of pino JSON) with that
// many registered secrets, with and without a secret in it, and the one-off compile time.
import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';

interface RedactorLike {
  add(value: string): boolean;
  redact(text: string): string;
}

const count = Number(process.argv[2] ?? 50);
const modulePath = process.argv[3];
const { Redactor } = (await import(
  modulePath === undefined ? '../agent/logging/redactor.ts' : pathToFileURL(modulePath).href
)) as { Redactor: new () => RedactorLike };

const secrets = Array.from({ length: count }, (_, index) =>
  index % 2 === 0
    ? randomBytes(24).toString('base64')
    : `sk-live-${randomBytes(16).toString('hex')}`,
);
const redactor = new Redactor();
secrets.forEach((secret) => redactor.add(secret));

const clean = JSON.stringify({
  level: 'info',
  time: new Date(0).toISOString(),
  component: 'http',
  runId: 'run-01J9Z6W1T2Q8M4C7V5N3B0X6YK',
  connection: 'cyera-prod',
  endpoint: 'GET /v1/datastores',
  method: 'GET',
  host: 'api.cyera.io',
  attempt: 1,
  status: 200,
  durationMs: 182,
  bytes: 48213,
  msg: 'HTTP request',
});
const leaking = clean.replace('HTTP request', `HTTP request with ${secrets[count - 1] ?? ''}`);

const escaped = clean.replace(
  'HTTP request',
  'failed\\n    at request (agent/http/exchange.ts:97:17)\\n    at \\"GET /v1/datastores\\"',
);

const percent = clean.replace('GET /v1/datastores', 'GET /v1/search?q=name%3Dorders%2F2024');

const encodedSecret = percent.replace('orders', encodeURIComponent(secrets[0] ?? ''));

/** The median over 25 batches of 2,000 lines: the machine is shared, a mean would drift. */
function perLineMicros(line: string): number {
  const batches: number[] = [];
  for (let batch = 0; batch < 25; batch += 1) {
    const started = performance.now();
    for (let index = 0; index < 2_000; index += 1) {
      redactor.redact(line);
    }
    batches.push(((performance.now() - started) * 1000) / 2_000);
  }
  return batches.sort((a, b) => a - b)[12] ?? Number.NaN;
}

const compileStarted = performance.now();
redactor.redact('warm-up');
const compileMs = performance.now() - compileStarted;
[clean, leaking, escaped, percent, encodedSecret].forEach(perLineMicros);
const rows = [
  ['line without a secret', perLineMicros(clean)],
  ['line with a secret', perLineMicros(leaking)],
  ['line with JSON escapes (a stack trace)', perLineMicros(escaped)],
  ['line with percent-escapes', perLineMicros(percent)],
  ['line with a secret percent-encoded (every form is tried)', perLineMicros(encodedSecret)],
] as const;
process.stdout.write(
  `| ${count} secrets, ${clean.length}-char line | µs per line (median) |\n|---|---|\n`,
);
for (const [name, micros] of rows) {
  process.stdout.write(`| ${name} | ${micros.toFixed(2)} |\n`);
}
process.stdout.write(
  `| compiling the pattern (once per new secret) | ${(compileMs * 1000).toFixed(0)} |\n`,
);
