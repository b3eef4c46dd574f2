import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDatabase } from './database';
import { backupFileName, backupIntoDirectory } from './backup-rotation';
import { inspectBackup } from './backup';
import { removeAtExit } from '../../test/remove-at-exit';

function tempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  removeAtExit(dir);
  return dir;
}

describe('backupIntoDirectory', () => {
  it('names backups by UTC time so that names sort by age', () => {
    expect(backupFileName(new Date('2026-12-04T03:15:00.123Z'))).toBe('loaxa-20261204T031500-123Z.sqlite');
    const names = ['2026-01-02T00:00:00.000Z', '2025-12-31T23:59:59.999Z', '2026-01-01T10:00:00.000Z'].map((t) =>
      backupFileName(new Date(t)),
    );
    expect([...names].sort()).toEqual([names[1], names[2], names[0]]);
  });

  it('keeps the newest `keep` backups, leaves other files alone and drops interrupted ones', async () => {
    const dataDir = tempDir('loaxa-rot-data-');
    openDatabase(dataDir).close();
    const dir = path.join(tempDir('loaxa-rot-'), 'backups');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'notes.txt'), 'mine');
    fs.writeFileSync(path.join(dir, `${backupFileName(new Date('2026-01-01T00:00:00Z'))}.partial`), 'half');

    const days = [1, 2, 3, 4].map((d) => new Date(`2026-03-0${d}T03:15:00Z`));
    const results = [];
    for (const day of days) results.push(await backupIntoDirectory(dataDir, dir, 2, day));

    expect(results.map((r) => r.removed.length)).toEqual([0, 0, 1, 1]);
    expect(fs.readdirSync(dir).sort()).toEqual([backupFileName(days[2]!), backupFileName(days[3]!), 'notes.txt']);
    expect(inspectBackup(results[3]!.file).version).toBe(results[3]!.version);
    expect(fs.statSync(results[3]!.file).mode & 0o777).toBe(0o600);
  });

  it('refuses keep below 1 and a missing database, deleting nothing', async () => {
    const dir = tempDir('loaxa-rot-');
    fs.writeFileSync(path.join(dir, backupFileName(new Date('2026-01-01T00:00:00Z'))), 'old');
    await expect(backupIntoDirectory(tempDir('loaxa-rot-data-'), dir, 0)).rejects.toThrow(/at least 1/);
    await expect(backupIntoDirectory(tempDir('loaxa-rot-data-'), dir, 1)).rejects.toThrow(/no database/);
    expect(fs.readdirSync(dir)).toHaveLength(1);
  });
});
