#!/usr/bin/env node
// Entry point of the sync CronJob (charts/bff-accounting/templates/cronjob-sync-external.yaml).
// Run from the repository root after install and build: `node scripts/worker_sync_external.mjs --help`.
import { main } from '../packages/bff-accounting/dist/worker/main.js';

process.exitCode = await main(process.argv.slice(2));
