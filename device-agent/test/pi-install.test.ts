import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { onPath, requireTool } from '../../scripts/test/require-tool';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const script = join(repo, 'scripts/install-agent.sh');
const unitPath = join(repo, 'device-agent/deploy/loaxa-agent.service');
const hasShellcheck = requireTool({
  tool: 'shellcheck',
  found: () => onPath('shellcheck'),
  install: 'apt-get install shellcheck',
  skips: 'shellcheck of install-agent.sh',
});

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

describe('scripts/install-agent.sh and device-agent/deploy', () => {
  it('install-agent.sh parses (bash -n)', () => {
    execFileSync('bash', ['-n', script]);
  });

  it.skipIf(!hasShellcheck)('install-agent.sh is shellcheck-clean', () => {
    const shellcheck = spawnSync('shellcheck', [script], { encoding: 'utf8' });
    expect(shellcheck.error).toBeUndefined();
    expect(shellcheck.stdout + shellcheck.stderr).toBe('');
    expect(shellcheck.status).toBe(0);
  });

  it('install-agent.sh dry run installs the packages, user, agent, bundle and unit', () => {
    const out = execFileSync('bash', [script], { env: { ...process.env, LOAXA_DRY_RUN: '1' }, encoding: 'utf8' });
    expect(out).toMatch(/loaxa-install: node v\d+/); // this machine's Node is recent: kept
    expect(out).not.toMatch(/nodejs\.org/);
    expect(out).toMatch(/apt-get install -y --no-install-recommends ffmpeg alsa-utils gpiod/);
    expect(out).toMatch(/useradd --system .* loaxa|user loaxa exists/);
    expect(out).toMatch(/npm ci --prefix \/opt\/loaxa --omit=dev .*--workspace @loaxa\/device-agent/);
    expect(out).toMatch(/\+ \S*node \/opt\/loaxa\/device-agent\/scripts\/bundle\.mjs/);
    expect(out).toMatch(/install -m 0644 \S+\/device-agent\/deploy\/loaxa-agent\.service \/etc\/systemd\/system\//);
    expect(out).toContain('systemctl enable loaxa-agent.service');
    expect(existsSync(join(repo, 'device-agent/scripts/bundle.mjs'))).toBe(true);
  });

  it('install-agent.sh installs Node from nodejs.org when none is found', () => {
    const out = execFileSync('bash', [script], {
      env: { ...process.env, LOAXA_DRY_RUN: '1', LOAXA_NODE: '/nonexistent/node' },
      encoding: 'utf8',
    });
    expect(out).toMatch(/installing Node 22 \((arm64|armv7l|x64)\) from https:\/\/nodejs\.org\/dist\/latest-v22\.x/);
    expect(out).toMatch(/curl -fsSL https:\/\/nodejs\.org\/dist\/latest-v22\.x\/SHASUMS256\.txt/);
    expect(out).toMatch(/tar -xJ -C \/usr\/local --strip-components=1/);
  });

  it('the systemd unit has the keys the service relies on', () => {
    const unit = parseUnit(readFileSync(unitPath, 'utf8'));
    const service = unit.get('Service');
    expect(service?.get('Restart')).toEqual(['always']);
    // The watchdog: systemd restarts an agent that stops saying WATCHDOG=1 (src/systemd/notify.ts).
    expect(service?.get('Type')).toEqual(['notify']);
    expect(service?.get('NotifyAccess')).toEqual(['all']); // sent by the systemd-notify child, not node
    expect(Number(service?.get('WatchdogSec')?.[0])).toBeGreaterThanOrEqual(10);
    expect(unit.get('Unit')?.get('StartLimitIntervalSec')).toEqual(['0']);
    expect(service?.get('User')).toEqual(['loaxa']);
    expect(service?.get('StateDirectory')).toEqual(['loaxa']);
    const [exec] = service?.get('ExecStart') ?? [];
    expect(exec).toMatch(/^\/\S+ /); // systemd wants an absolute program path
    expect(exec).toMatch(/\/opt\/loaxa\/device-agent\/bin\/loaxa-agent\.mjs --config \/etc\/loaxa\/agent\.json$/);
    expect(existsSync(join(repo, 'device-agent/bin/loaxa-agent.mjs'))).toBe(true);
    expect(unit.get('Install')?.get('WantedBy')).toEqual(['multi-user.target']);
  });
});
