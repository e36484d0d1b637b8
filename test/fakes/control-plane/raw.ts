/**
 * An instruction issued as JSON text, sent exactly as written: for what `JSON.stringify` cannot
 * write (nesting thousands deep overflows its stack) or must not normalise. `id` lets the fake
 * lease and match the acknowledgement like any other instruction.
 */
export class RawInstruction {
  readonly text: string;
  readonly id: string | undefined;

  constructor(text: string, id?: string) {
    this.text = text;
    this.id = id;
  }
}

/** The poll answer's body: the envelope written by hand around raw items, JSON otherwise. */
export function envelopeText(instructions: readonly unknown[]): string {
  const items = instructions.map((item) =>
    item instanceof RawInstruction ? item.text : JSON.stringify(item),
  );
  return `{"instructions":[${items.join(',')}]}`;
}
