// Builds the console when its bundle is missing, so `npm start` works even if
// the install step skipped it (for example `npm install --ignore-scripts`).
import { existsSync } from 'node:fs';
import { execSync } from 'node:child_process';

const bundle = new URL('../web/dist/index.html', import.meta.url);
if (!existsSync(bundle)) {
  console.log('[loaxa] building the web console (web/dist is missing)…');
  execSync('npm run build -w @loaxa/web', { stdio: 'inherit' });
}
