// Kept apart from the lifecycle so that main.ts can install its handlers without importing it.
import { PerimeterError } from '../plugin-api/errors.ts';

/**
 * The reason main.ts aborts the daemon with after an uncaught exception or unhandled rejection:
 * the daemon logs it `fatal`, drains, and exits 1.
 */
export function fatalStop(error: unknown): PerimeterError {
  return new PerimeterError('INTERNAL', 'Fatal: an uncaught exception or unhandled rejection', {
    cause: error,
    context: { fatal: true },
  });
}
