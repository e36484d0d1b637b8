// One Cyera run per set of V8 flags (given through NODE_OPTIONS, which the launcher respects):
// CPU seconds of the process and of its main thread, and peak RSS. For choosing the heap flags
// bin/perimeter.js sets; not part of `npm run bench`.
//
//   node bench/gc-variants.ts [columns] ['flags' ...]
import { measureAgentRun } from './agent-run.ts';
import { startService } from './services.ts';

const [columnsArg = '300000', ...variants] = process.argv.slice(2);
const source = await startService('cyera', { columns: Number(columnsArg) });
const info = source.info;
for (const flags of variants.length > 0 ? variants : ['']) {
  const catalog = await startService('catalog');
  const figures = await measureAgentRun(
    {
      connector: 'cyera',
      connection: {
        baseUrl: info['url'],
        credentials: { clientId: 'env://CYERA_CLIENT_ID', secret: 'env://CYERA_SECRET' },
      },
      env: {
        CYERA_CLIENT_ID: String(info['clientId']),
        CYERA_SECRET: String(info['secret']),
        ...(flags === '' ? {} : { NODE_OPTIONS: flags }),
      },
      allowHosts: [new URL(String(info['url'])).host],
    },
    String(catalog.info['url']),
    'gc',
  );
  await catalog.close();
  process.stdout.write(
    `${(flags || '(launcher defaults)').padEnd(60)} cpu ${figures.cpuSeconds.toFixed(2)} s, main ${figures.mainThreadCpuSeconds.toFixed(2)} s, rss ${(figures.peakRssBytes / 2 ** 20).toFixed(0)} MiB\n`,
  );
}
await source.close();
