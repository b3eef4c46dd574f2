/**
 * `loaxa`: the operator's command line. `npx loaxa --help` from the repo root.
 */
import { Command } from 'commander';
import { SERVER_VERSION } from '../version';
// Only what every command needs: each command loads the rest when it runs (`--help` and
// `normalize` answer in about twice a bare `node -e 0`).
import { ConfigError } from '../config-error';
import { registerDeviceCommands } from './device-commands';
import { CliError } from './errors';

const program = new Command();
program
  .name('loaxa')
  .description(
    'Loa Xã — loudspeaker and text-to-speech broadcast server for a province of communes ' +
      '(each commune has its own zones, loudspeakers, notices and users)',
  )
  .version(SERVER_VERSION)
  .addHelpText(
    'after',
    `
Commands that change data talk to the running server as a province administrator (the local
token in LOAXA_DATA); with no server running they write to the database. Examples:
  loaxa device add loa-cho --commune xa-an-binh --zone thon-1 > agent.json
  loaxa device add loa-cho --zone thon-1     (only while the province has one commune)
  loaxa device revoke loa-cho`,
  );

program
  .command('serve')
  .description(
    'run the server (production: no demo loudspeakers, unlike `npm start`); configured by PORT, HOST, MQTT_PORT, LOAXA_DATA, …',
  )
  .action(async () => {
    const { runServer } = await import('../main');
    await runServer();
  });

program
  .command('say')
  .description('render a notice offline, as a broadcast would sound (normalised text, chime, loudness), to a file')
  .argument('<text>', 'the notice text')
  .requiredOption('-o, --out <file>', 'output file (.ogg for Opus, .mp3 for MP3)')
  .option('-v, --voice <voice>', 'voice of the engine (espeak: vi, vi-VN-x-central, vi-VN-x-south)')
  .option('-e, --engine <engine>', 'engine to try first (espeak, fpt, viettel, vbee, zalo, google, azure, piper)')
  .option('--no-chime', 'without the intro and outro chime')
  .option('--repeat <n>', 'read the notice n times', (v) => Number(v))
  .action(
    async (text: string, opts: { out: string; voice?: string; engine?: string; chime: boolean; repeat?: number }) => {
      const { renderToFile } = await import('./say');
      const r = await renderToFile(text, opts);
      console.log(
        `${opts.out}: ${(r.durationMs / 1000).toFixed(1)} s, ${r.bytes} bytes, ${r.loudness.integratedLufs.toFixed(1)} LUFS, ` +
          `true peak ${r.loudness.truePeakDbtp.toFixed(1)} dBTP, engine ${r.engine}, rendered in ${r.renderMs} ms`,
      );
    },
  );

program
  .command('normalize')
  .description('print the Vietnamese text as the TTS engine will read it (numbers, dates, units, abbreviations)')
  .argument('<text...>', 'the text')
  .action(async (words: string[]) => {
    const { normalizeVietnamese } = await import('../tts/normalize');
    console.log(normalizeVietnamese(words.join(' ')));
  });

program
  .command('backup')
  .description(
    'write a consistent copy of the database (safe while the server runs) to <file>, or with --dir into a folder, ' +
      'keeping the newest --keep copies there (the nightly timer of an installed server)',
  )
  .argument('[file]', 'backup file to write')
  .option('--dir <dir>', 'write loaxa-<UTC time>.sqlite into this folder instead of <file>')
  .option('--keep <n>', 'with --dir: how many backups to keep (older ones are deleted)', '14')
  .action(async (file: string | undefined, opts: { dir?: string; keep: string }) => {
    if (!file === !opts.dir) throw new CliError('give a backup <file> or --dir <folder>, not both');
    const { loadConfig } = await import('../config');
    // With DATABASE_URL the database is PostgreSQL: pg_dump writes the copy (db/pg-backup.ts).
    const { dataDir, databaseUrl } = loadConfig();
    if (opts.dir) {
      const keep = /^\d+$/.test(opts.keep.trim()) ? Number(opts.keep) : NaN;
      if (!(keep >= 1)) throw new CliError(`--keep ${JSON.stringify(opts.keep)}: a whole number of at least 1`);
      const { backupIntoDirectory } = await import('../db/backup-rotation');
      const r = await backupIntoDirectory(dataDir, opts.dir, keep, new Date(), databaseUrl);
      console.error(
        `loaxa: database backed up to ${r.file} (${r.bytes} bytes, schema version ${r.version}); ` +
          `${r.removed.length} older backup(s) deleted, the newest ${keep} kept`,
      );
      return;
    }
    const { backupDatabase } = await import('../db/backup');
    const { pgDump } = await import('../db/pg-backup');
    const { bytes, version } = databaseUrl ? await pgDump(databaseUrl, file!) : await backupDatabase(dataDir, file!);
    console.error(`loaxa: database backed up to ${file} (${bytes} bytes, schema version ${version})`);
  });

program
  .command('restore')
  .description(
    'replace the database with a backup (stop the server first; on SQLite the current one is kept beside it; ' +
      'on PostgreSQL (DATABASE_URL) a pg_dump file, restored in one transaction)',
  )
  .argument('<file>', 'backup file to restore')
  .action(async (file: string) => {
    const { restoreDatabase } = await import('../db/backup');
    const { resolveTarget, serverIsRunning } = await import('./server-client');
    const target = resolveTarget(undefined);
    if (await serverIsRunning(target)) {
      throw new CliError(`a server is running at ${target.url}; stop it before restoring`);
    }
    if (target.config.databaseUrl) {
      const { pgRestore } = await import('../db/pg-backup');
      const { describePostgresUrl } = await import('../db/open');
      const { version } = await pgRestore(target.config.databaseUrl, file);
      console.error(
        `loaxa: restored ${file} (schema version ${version}) into ${describePostgresUrl(target.config.databaseUrl)}`,
      );
      return;
    }
    const { keptAs, version } = restoreDatabase(target.config.dataDir, file);
    console.error(
      `loaxa: restored ${file} (schema version ${version}) into ${target.config.dataDir}` +
        (keptAs ? `; the previous database is kept as ${keptAs}` : ''),
    );
  });

program
  .command('nats-auth-init')
  .description(
    "write the NATS nodes' first authorization include (NATS_AUTH_FILE) with the server's own user " +
      '(MQTT_USERNAME / MQTT_PASSWORD), before the nodes start; the server keeps it up to date afterwards',
  )
  .action(async () => {
    const { loadConfig } = await import('../config');
    const { writeInitialNatsAuthorization } = await import('../broker/nats');
    const config = loadConfig();
    if (!config.natsAuthFile) throw new CliError('set NATS_AUTH_FILE to the file the nodes include');
    if (!config.mqttUsername || !config.mqttPassword) {
      throw new CliError("set MQTT_USERNAME and MQTT_PASSWORD: the server's own identity on the nodes");
    }
    try {
      writeInitialNatsAuthorization(config.natsAuthFile, config.mqttUsername, config.mqttPassword);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
        throw new CliError(`${config.natsAuthFile} exists already: the server keeps it (it holds the devices)`);
      }
      throw err;
    }
    console.error(`loaxa: wrote ${config.natsAuthFile}; include it in every node's configuration`);
  });

registerDeviceCommands(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CliError || err instanceof ConfigError) {
    console.error(`loaxa: ${err.message}`);
    process.exit(1);
  }
  throw err;
}
