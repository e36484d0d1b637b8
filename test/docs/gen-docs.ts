// Regenerates the docs that are derived from code: `npm run docs:gen`.
import { readFileSync, writeFileSync } from 'node:fs';
import { renderAssetSchema } from './asset-schema-doc.ts';
import { renderConfigDoc } from './config-doc.ts';
import { renderErrorsDoc } from './errors-doc.ts';
import { renderSecretsDocLists } from './store-lists.ts';

writeFileSync(new URL('../../docs/errors.md', import.meta.url), renderErrorsDoc());
writeFileSync(
  new URL('../../docs/schemas/asset.schema.json', import.meta.url),
  await renderAssetSchema(),
);
writeFileSync(new URL('../../docs/configuration.md', import.meta.url), renderConfigDoc());
const secretsDoc = new URL('../../docs/secrets.md', import.meta.url);
writeFileSync(secretsDoc, renderSecretsDocLists(readFileSync(secretsDoc, 'utf8')));
