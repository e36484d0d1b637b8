#!/usr/bin/env node
// Runs the built agent (dist/) when present, else the TypeScript sources (Node 24 strips types).
/* global URL */
import { existsSync } from 'node:fs';

const built = new URL('../dist/agent/main.js', import.meta.url);
const entry = existsSync(built) ? built : new URL('../agent/main.ts', import.meta.url);
const { mainWithDefaults } = await import(entry.href);
await mainWithDefaults();
