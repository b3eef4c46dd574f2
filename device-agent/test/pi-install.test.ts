import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const script = join(repo, 'scripts/pi/install.sh');
const unitPath = join(repo, 'scripts/pi/loaxa-agent.service');

/** `[Section]` → key → values (systemd allows a key more than once). */
function parseUnit(text: string): Map<string, Map<string, string[]>> {
  const sections = new Map<string, Map<string, string[]>>();
  let current: Map<string, string[]> | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const section = /^\[(.+)\]$/.exec(line);
    if (section) {
      current = new Map();
      sections.set(section[1]!, current);
      continue;
    }
    const eq = line.indexOf('=');
    if (!current || eq < 1) throw new Error(`not a unit line: ${line}`);
    const key = line.slice(0, eq).trim();
    current.set(key, [...(current.get(key) ?? []), line.slice(eq + 1).trim()]);
  }
  return sections;
}

describe('scripts/pi', () => {
  it('install.sh parses (bash -n) and is shellcheck-clean where shellcheck exists', () => {
    execFileSync('bash', ['-n', script]);
    const shellcheck = spawnSync('shellcheck', [script], { encoding: 'utf8' });
    if (shellcheck.error) console.warn('shellcheck not installed; only bash -n was run');
    else expect(shellcheck.stdout + shellcheck.stderr).toBe('');
  });

  it('install.sh dry run installs the packages, user, agent and unit', () => {
    const out = execFileSync('bash', [script], { env: { ...process.env, LOAXA_DRY_RUN: '1' }, encoding: 'utf8' });
    expect(out).toMatch(/apt-get install -y --no-install-recommends ffmpeg alsa-utils gpiod/);
    expect(out).toMatch(/useradd --system .* loaxa|user loaxa exists/);
    expect(out).toMatch(/npm ci --prefix \/opt\/loaxa --omit=dev .*--workspace @loaxa\/device-agent/);
    expect(out).toContain('systemctl enable loaxa-agent.service');
  });

  it('the systemd unit has the keys the service relies on', () => {
    const unit = parseUnit(readFileSync(unitPath, 'utf8'));
    const service = unit.get('Service');
    expect(service?.get('Restart')).toEqual(['always']);
    expect(service?.get('User')).toEqual(['loaxa']);
    expect(service?.get('StateDirectory')).toEqual(['loaxa']);
    const [exec] = service?.get('ExecStart') ?? [];
    expect(exec).toMatch(/^\/\S+ /); // systemd wants an absolute program path
    expect(exec).toMatch(/\/opt\/loaxa\/device-agent\/bin\/loaxa-agent\.mjs --config \/etc\/loaxa\/agent\.json$/);
    expect(existsSync(join(repo, 'device-agent/bin/loaxa-agent.mjs'))).toBe(true);
    expect(unit.get('Install')?.get('WantedBy')).toEqual(['multi-user.target']);
  });
});
