import type { TestProject } from 'vitest/node';

/** Prints the Node version the tests run on, so a CI log shows that it is Node 24. */
export function setup(_project: TestProject): void {
  process.stdout.write(
    `perimeter tests on Node ${process.version} (${process.platform}/${process.arch})\n`,
  );
}
