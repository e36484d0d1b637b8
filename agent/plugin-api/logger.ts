/**
 * The narrow logger handed to connectors and secret stores (pino satisfies it).
 * Messages are constant strings; data goes in the object, units in key names (`durationMs`).
 */
export interface Logger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
  child(bindings: Record<string, string | number>): Logger;
}
