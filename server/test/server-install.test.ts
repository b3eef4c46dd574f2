/**
 * scripts/install-server.sh and server/deploy: the script installs into a
 * temporary root (--root, as a packager's DESTDIR) and the files it writes are
 * checked; then the installed unit's own ExecStart runs, with the installed
 * environment file, on free ports: the server answers /api/v1/health with no
 * loudspeakers and serves the console, and the backup unit's command writes a
 * backup. Dependencies come from this checkout (--deps-from-checkout): the real
 * `npm ci --omit=dev` takes minutes (better-sqlite3 compiles).
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { onPath, requireTool } from '../../scripts/test/require-tool';
import { freePort, waitFor } from './helpers';
import { exited } from './processes';
import { removeAtExit } from './remove-at-exit';

const repo = path.resolve(import.meta.dirname, '../..');
const script = path.join(repo, 'scripts/install-server.sh');
const hasShellcheck = requireTool({
  tool: 'shellcheck',
  found: () => onPath('shellcheck'),
  install: 'apt-get install shellcheck',
  skips: 'shellcheck of install-server.sh',
});
const hasSystemdAnalyze = requireTool({
  tool: 'systemd-analyze',
  found: () => onPath('systemd-analyze'),
  install: 'apt-get install systemd',
  skips: 'systemd-analyze verify of server/deploy',
});

type Unit = Map<string, Map<string, string[]>>;

/** `[Section]` → key → values (systemd allows a key more than once). */
function parseUnit(text: string): Unit {
  const sections: Unit = new Map();
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

/** NAME=value lines, as systemd reads an EnvironmentFile (and Environment= values). */
function parseEnv(lines: string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const raw of lines) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    env[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return env;
}

/** The environment systemd gives the service: Environment= lines, then the EnvironmentFile over them. */
function serviceEnv(unit: Unit, root: string): Record<string, string> {
  const service = unit.get('Service')!;
  const [envFile] = service.get('EnvironmentFile') ?? [];
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    ...parseEnv(service.get('Environment') ?? []),
    ...parseEnv(fs.readFileSync(path.join(root, envFile!.replace(/^-/, '')), 'utf8').split('\n')),
  };
}

/** ExecStart as argv, with ${VAR} expanded from `env` and the installed paths moved under `root`. */
function execStart(unit: Unit, env: Record<string, string>, root: string): string[] {
  const [exec] = unit.get('Service')?.get('ExecStart') ?? [];
  return exec!
    .replace(/\$\{(\w+)\}/g, (_, name: string) => env[name] ?? '')
    .split(/\s+/)
    .map((arg) => (/^\/(opt|var|etc)\//.test(arg) ? path.join(root, arg) : arg));
}

const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

describe('scripts/install-server.sh', () => {
  it('parses (bash -n)', () => {
    execFileSync('bash', ['-n', script]);
  });

  it.skipIf(!hasShellcheck)('is shellcheck-clean, and so is the loaxa command it installs', () => {
    const result = spawnSync('shellcheck', [script, path.join(repo, 'server/deploy/loaxa')], { encoding: 'utf8' });
    expect(result.error).toBeUndefined();
    expect(result.stdout + result.stderr).toBe('');
    expect(result.status).toBe(0);
  });

  it('dry run: user, build, production dependencies, directories, units, timer and the next steps', () => {
    const out = execFileSync('bash', [script, '--dry-run', '--keep', '9'], { encoding: 'utf8' });
    expect(out).toMatch(/loaxa-install-server: node v\d+/);
    expect(out).toMatch(/useradd --system --home-dir \/var\/lib\/loaxa-server .* loaxa|user loaxa exists/);
    expect(out).toMatch(/\+ \S*node \S+\/scripts\/build\.mjs server/);
    expect(out).toMatch(
      /npm ci --prefix \/opt\/loaxa-server\.new --omit=dev .*--workspace @loaxa\/server --include-workspace-root=false/,
    );
    expect(out).toContain('mv /opt/loaxa-server.new /opt/loaxa-server');
    expect(out).toContain('chmod 0700 /var/lib/loaxa-server');
    expect(out).toContain('chown loaxa:loaxa /var/lib/loaxa-server');
    expect(out).toContain('chmod 0700 /var/backups/loaxa-server');
    expect(out).toMatch(/install -m 0644 \S+\/server\/deploy\/loaxa-server\.service \/etc\/systemd\/system\//);
    expect(out).toContain('systemctl enable loaxa-server.service loaxa-server-backup.timer');
    expect(out).toContain('systemctl restart loaxa-server.service');
    expect(out).toMatch(/newest 9 kept/);
    // Where the admin password is, and TLS through a reverse proxy.
    expect(out).toMatch(/journalctl -u loaxa-server\.service -o cat \| grep 'admin \/'/);
    expect(out).toMatch(/reverse proxy/);
    expect(out).toContain('LOAXA_PUBLIC_URL=https://');
  });

  it.skipIf(!hasSystemdAnalyze)('its units pass systemd-analyze verify without a warning', () => {
    const deploy = path.join(repo, 'server/deploy');
    const units = ['loaxa-server.service', 'loaxa-server-backup.service', 'loaxa-server-backup.timer'];
    const result = spawnSync('systemd-analyze', ['verify', ...units.map((u) => path.join(deploy, u))], {
      encoding: 'utf8',
    });
    expect(result.error).toBeUndefined();
    expect(result.stdout + result.stderr).toBe('');
    expect(result.status).toBe(0);
  });

  it('refuses a bad --keep and an unknown argument', () => {
    for (const args of [['--keep', '0'], ['--keep', 'many'], ['--frobnicate']]) {
      const result = spawnSync('bash', [script, '--dry-run', ...args], { encoding: 'utf8' });
      expect(result.status, args.join(' ')).toBe(1);
      expect(result.stderr).toMatch(/error:/);
    }
  });
});

describe('the server installed into a temporary root', () => {
  let root: string;
  let unit: Unit;
  let backupUnit: Unit;
  let installOutput: string;

  beforeAll(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'loaxa-install-root-'));
    removeAtExit(root);
    installOutput = execFileSync('bash', [script, '--root', root, '--deps-from-checkout', '--keep', '5'], {
      encoding: 'utf8',
    });
    const units = path.join(root, 'etc/systemd/system');
    unit = parseUnit(fs.readFileSync(path.join(units, 'loaxa-server.service'), 'utf8'));
    backupUnit = parseUnit(fs.readFileSync(path.join(units, 'loaxa-server-backup.service'), 'utf8'));
  });

  it('has the compiled server and the console, and neither sources nor the simulator', () => {
    expect(installOutput).toContain('--root: systemctl not run');
    const opt = path.join(root, 'opt/loaxa-server');
    expect(fs.existsSync(path.join(opt, 'server/bin/loaxa.mjs'))).toBe(true);
    expect(fs.existsSync(path.join(opt, 'server/dist/loaxa.mjs'))).toBe(true);
    expect(fs.existsSync(path.join(opt, 'web/dist/index.html'))).toBe(true);
    expect(fs.existsSync(path.join(opt, 'server/src'))).toBe(false);
    expect(fs.existsSync(path.join(opt, 'firmware-sim'))).toBe(false);
    expect(fs.existsSync(path.join(root, 'opt/loaxa-server.new'))).toBe(false);
    // The checkout's install scripts do not run there.
    expect(JSON.parse(fs.readFileSync(path.join(opt, 'package.json'), 'utf8'))).not.toHaveProperty('scripts');
    expect(fs.statSync(path.join(root, 'usr/local/bin/loaxa')).mode & 0o777).toBe(0o755);
  });

  it('the unit: loaxa serve as loaxa, restarted always, 10,000 sockets, two malloc arenas, journald', () => {
    const service = unit.get('Service')!;
    expect(service.get('ExecStart')).toEqual(['/usr/bin/env node /opt/loaxa-server/server/bin/loaxa.mjs serve']);
    expect(service.get('Restart')).toEqual(['always']);
    expect(unit.get('Unit')?.get('StartLimitIntervalSec')).toEqual(['0']);
    expect(Number(service.get('LimitNOFILE')?.[0])).toBeGreaterThanOrEqual(20_000);
    expect(service.get('Environment')).toContain('MALLOC_ARENA_MAX=2');
    expect(service.get('Environment')).toContain('LOAXA_DATA=/var/lib/loaxa-server');
    expect(service.get('EnvironmentFile')).toEqual(['/etc/loaxa/server.env']);
    expect(service.get('StandardOutput')).toEqual(['journal']);
    expect(service.get('StandardError')).toEqual(['journal']);
    expect(service.get('User')).toEqual(['loaxa']);
    expect(service.get('StateDirectory')).toEqual(['loaxa-server']);
    expect(service.get('StateDirectoryMode')).toEqual(['0700']);
    expect(unit.get('Install')?.get('WantedBy')).toEqual(['multi-user.target']);
  });

  it('the nightly backup: a timer and a oneshot `loaxa backup --dir … --keep …`', () => {
    const timer = parseUnit(fs.readFileSync(path.join(root, 'etc/systemd/system/loaxa-server-backup.timer'), 'utf8'));
    expect(timer.get('Timer')?.get('OnCalendar')?.[0]).toMatch(/^\*-\*-\* \d\d:\d\d:\d\d$/);
    expect(timer.get('Timer')?.get('Persistent')).toEqual(['true']);
    expect(timer.get('Install')?.get('WantedBy')).toEqual(['timers.target']);
    const service = backupUnit.get('Service')!;
    expect(service.get('Type')).toEqual(['oneshot']);
    expect(service.get('User')).toEqual(['loaxa']);
    expect(service.get('EnvironmentFile')).toEqual(['/etc/loaxa/server.env']);
    expect(service.get('ExecStart')).toEqual([
      '/usr/bin/env node /opt/loaxa-server/server/bin/loaxa.mjs backup --dir ${LOAXA_BACKUP_DIR} --keep ${LOAXA_BACKUP_KEEP}',
    ]);
  });

  it('the environment file and the data and backup directories are not for everyone', () => {
    const envFile = path.join(root, 'etc/loaxa/server.env');
    expect(fs.statSync(envFile).mode & 0o777).toBe(0o640);
    const env = parseEnv(fs.readFileSync(envFile, 'utf8').split('\n'));
    expect(env).toMatchObject({ PORT: '8080', LOAXA_BACKUP_KEEP: '5', LOAXA_BACKUP_DIR: '/var/backups/loaxa-server' });
    expect(env).not.toHaveProperty('LOAXA_DEMO');
    expect(fs.statSync(path.join(root, 'var/lib/loaxa-server')).mode & 0o777).toBe(0o700);
    expect(fs.statSync(path.join(root, 'var/backups/loaxa-server')).mode & 0o777).toBe(0o700);
  });

  it('runs again as an upgrade and keeps an edited environment file', () => {
    const envFile = path.join(root, 'etc/loaxa/server.env');
    fs.appendFileSync(envFile, 'LOG_LEVEL=warn\n');
    const before = fs.readFileSync(envFile, 'utf8');
    const out = execFileSync('bash', [script, '--root', root, '--deps-from-checkout'], { encoding: 'utf8' });
    expect(out).toContain(`keeping ${envFile}`);
    expect(fs.readFileSync(envFile, 'utf8')).toBe(before);
    expect(fs.statSync(envFile).mode & 0o777).toBe(0o640);
  });

  it("the unit's ExecStart serves /api/v1/health and the console, with no loudspeakers; the backup unit's command backs up", async () => {
    const dataDir = path.join(root, 'var/lib/loaxa-server');
    const env: Record<string, string> = {
      ...serviceEnv(unit, root),
      HOST: '127.0.0.1',
      PORT: String(await freePort()),
      MQTT_PORT: String(await freePort()),
      LOAXA_DATA: dataDir,
      LOAXA_ADMIN_PASSWORD: 'install-test-password',
    };
    expect(env.MALLOC_ARENA_MAX).toBe('2');
    const [program, ...args] = execStart(unit, env, root);
    let output = '';
    const child = spawn(program!, args, { env, cwd: dataDir, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    child.stdout!.on('data', (c: Buffer) => (output += c.toString('utf8')));
    child.stderr!.on('data', (c: Buffer) => (output += c.toString('utf8')));
    const url = `http://127.0.0.1:${env.PORT}`;
    const health = await waitFor(
      'the installed server',
      async () => (await fetch(`${url}/api/v1/health`)).json() as Promise<Record<string, unknown>>,
      30_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n${output}`);
    });
    expect(health).toMatchObject({ status: 'ok', devices: 0, devicesOnline: 0 });
    const page = await fetch(`${url}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/<!doctype html>/i);

    // The nightly backup, as its unit runs it (the server still running), with the same environment file.
    const backupEnv: Record<string, string> = { ...serviceEnv(backupUnit, root), LOAXA_DATA: dataDir };
    backupEnv.LOAXA_BACKUP_DIR = path.join(root, backupEnv.LOAXA_BACKUP_DIR!);
    const [bProgram, ...bArgs] = execStart(backupUnit, backupEnv, root);
    for (let i = 0; i < 2; i++) {
      const backup = spawnSync(bProgram!, bArgs, { env: backupEnv, encoding: 'utf8' });
      expect(backup.status, backup.stderr).toBe(0);
      expect(backup.stderr).toMatch(/database backed up to .*loaxa-\d{8}T\d{6}-\d{3}Z\.sqlite/);
    }
    const backups = fs.readdirSync(path.join(root, 'var/backups/loaxa-server'));
    expect(backups.filter((f) => f.endsWith('.sqlite'))).toHaveLength(2);

    child.kill('SIGTERM');
    expect(await exited(child)).toBe(0);
  }, 90_000);
});
