#!/usr/bin/env node
// Runs the TypeScript sources directly: the Pi install ships sources, not a build.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli.ts');
