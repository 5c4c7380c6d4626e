#!/usr/bin/env node
// Writes docs/openapi.json: the OpenAPI 3.1 document of bff-accounting, generated from the policy
// table and the zod schemas the routes validate with. Run `pnpm openapi` (it builds first);
// packages/bff-accounting/test/openapi.test.ts fails while the committed file differs.
import { writeFileSync } from 'node:fs';
import { buildOpenApiDocument } from '../packages/bff-accounting/dist/openapi/buildOpenApiDocument.js';

const target = new URL('../docs/openapi.json', import.meta.url);
writeFileSync(target, `${JSON.stringify(buildOpenApiDocument(), null, 2)}\n`);
process.stdout.write(`wrote ${target.pathname}\n`);
