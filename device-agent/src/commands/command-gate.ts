/**
 * Decides whether a command is new, a repeat, or too old. A device in two zones
 * receives a zone command once per zone, and a persistent session may redeliver
 * after a reconnect; each command id acts once. Ids are remembered until a
 * while after their expiry, when any repeat would be rejected as expired anyway.
 */
export type CommandVerdict = 'new' | 'duplicate' | 'expired';

export class CommandGate {
  private readonly seen = new Map<string, number>();

  constructor(private readonly graceMs = 60_000) {}

  admit(command: { commandId: string; expiresAt: number }, now: number): CommandVerdict {
    this.prune(now);
    if (this.seen.has(command.commandId)) return 'duplicate';
    // Expired ids are remembered too, so a late duplicate is not acked "skipped" twice.
    this.seen.set(command.commandId, command.expiresAt);
    return now > command.expiresAt ? 'expired' : 'new';
  }

  get size(): number {
    return this.seen.size;
  }

  private prune(now: number): void {
    for (const [id, expiresAt] of this.seen) {
      if (expiresAt + this.graceMs < now) this.seen.delete(id);
    }
  }
}
