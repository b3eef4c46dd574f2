// `npm install` (postinstall) and `npm start` (prestart): builds whatever is missing or older
// than its sources, so a fresh clone needs no extra step and an edit is never silently ignored:
// the console (web/dist), the server and its command line (server/dist), the demo that
// `npm start` runs (scripts/dist) and the loudspeaker agent's bundle (device-agent/dist).
import { build } from './build.mjs';
import { bundleAgent, bundleIsFresh } from '../device-agent/scripts/bundle.mjs';

await import('./ensure-web-built.mjs');
for (const target of ['server', 'demo']) {
  if (await build(target)) console.log(`[loaxa] built ${target} (scripts/build.mjs)`);
}
if (!bundleIsFresh()) {
  await bundleAgent();
  console.log('[loaxa] bundled the loudspeaker agent (device-agent/scripts/bundle.mjs)');
}
