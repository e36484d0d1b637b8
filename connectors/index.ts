import type { Connector } from '../agent/plugin-api/index.ts';
import { connector as anaplan } from './anaplan/index.ts';
import { connector as cyera } from './cyera/index.ts';
import { connector as cyral } from './cyral/index.ts';

/**
 * The shipped connectors, registered explicitly (never discovered from the filesystem). A test
 * checks that every folder under connectors/ is listed and that each name equals its folder.
 */
export const connectors: readonly Connector[] = [anaplan, cyera, cyral];
