// Preloaded with `node --import` by the start-up test: records the URL of every module the
// process loads and, on exit, writes them one per line to $RECORD_IMPORTS_FILE.
/* global process */
import { writeFileSync } from 'node:fs';
import { registerHooks } from 'node:module';

const loaded = new Set();
registerHooks({
  load(url, context, nextLoad) {
    loaded.add(url);
    return nextLoad(url, context);
  },
});
process.on('exit', () => {
  writeFileSync(process.env.RECORD_IMPORTS_FILE, [...loaded].join('\n'));
});
