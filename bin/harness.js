#!/usr/bin/env node
// Runs the TypeScript CLI through tsx's loader: no build step, so what you read is what runs.
import { register } from 'tsx/esm/api';

register();
await import('../harness/cli/main.ts');
