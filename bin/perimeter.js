#!/usr/bin/env node
// Runs the built agent (dist/) when present, else the TypeScript sources (Node 24 strips types).
import { existsSync } from 'node:fs';

const built = new URL('../dist/agent/main.js', import.meta.url);
await import(existsSync(built) ? built.href : new URL('../agent/main.ts', import.meta.url).href);
