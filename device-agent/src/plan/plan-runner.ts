import { fileAssets, type AckStage, type PlanItem, type PlanPayload } from '@loaxa/protocol';
import { isFinalStage, type AckReporter } from '../ack/ack-reporter';
import type { Logger } from '../logger';
import type { OccurrenceRunner, OccurrenceSpec } from '../occurrence/occurrence-runner';
import { acceptsPlan, diffPlan, type HeldItem, type PlanStamp } from './plan-diff';

export interface PlanOutcome {
  accepted: boolean;
  /** The zones the device belongs to after this plan. */
  zones: readonly string[];
}

/** Holds the newest plan and turns its changes into occurrence runs. */
export class PlanRunner {
  private held: PlanStamp | null = null;
  private zoneIds: readonly string[] = [];
  /** Every plan item still remembered: the current plan's, plus removed ones still playing. */
  private readonly items = new Map<string, PlanItem>();

  constructor(
    private readonly runner: OccurrenceRunner,
    private readonly logger: Logger,
    /** What earlier runs of the agent acked; without it every new item is launched. */
    private readonly acks?: Pick<AckReporter, 'stagesOf' | 'occurrence'>,
  ) {}

  /** sha256 of every asset the held items use: the cache must keep these. */
  referencedAssets(): Set<string> {
    const shas = new Set<string>();
    for (const item of this.items.values()) for (const asset of fileAssets(item.assets)) shas.add(asset.sha256);
    return shas;
  }

  get planVersion(): number | null {
    return this.held?.version ?? null;
  }

  get zones(): readonly string[] {
    return this.zoneIds;
  }

  private settledBeforeRestart(occurrenceId: string): boolean {
    if (!this.acks || this.runner.has(occurrenceId)) return false;
    switch (restartDecision(this.acks.stagesOf(occurrenceId))) {
      case 'run':
        return false;
      case 'over':
        this.logger.debug({ occurrenceId }, 'plan item already over before the agent restarted');
        return true;
      case 'interrupted':
        this.acks.occurrence(occurrenceId, 'preempted', 'cut off by an agent restart while playing');
        return true;
    }
  }

  apply(plan: PlanPayload): PlanOutcome {
    const stamp: PlanStamp = { version: plan.planVersion, epoch: plan.epoch };
    if (!acceptsPlan(this.held, stamp)) {
      this.logger.warn({ planVersion: plan.planVersion, held: this.held }, 'ignored a plan older than the one held');
      return { accepted: false, zones: this.zoneIds };
    }
    const held = new Map<string, HeldItem>();
    for (const [id, item] of this.items) held.set(id, { item, phase: this.runner.phase(id) ?? 'done' });
    const changes = diffPlan(held, plan.items);
    for (const change of changes) {
      switch (change.kind) {
        case 'schedule':
          this.items.set(change.item.occurrenceId, change.item);
          if (this.settledBeforeRestart(change.item.occurrenceId)) break;
          if (!this.runner.launch(specOf(change.item), 'plan')) {
            // Already known from a play-now command: that run stands.
            this.logger.info({ occurrenceId: change.item.occurrenceId }, 'plan item already running from a command');
          }
          break;
        case 'reschedule':
          this.items.set(change.item.occurrenceId, change.item);
          this.runner.replace(specOf(change.item), 'plan');
          break;
        case 'cancel':
          // Stays held until its run has ended; the next plan then forgets it.
          this.runner.cancel(change.occurrenceId, `removed from plan v${plan.planVersion}`);
          break;
        case 'forget':
          this.items.delete(change.occurrenceId);
          this.runner.forget(change.occurrenceId);
          break;
      }
    }
    if (changes.length > 0 || this.held?.version !== plan.planVersion || this.held.epoch !== plan.epoch) {
      this.logger.info(
        { planVersion: plan.planVersion, epoch: plan.epoch, items: plan.items.length, changes: changes.length },
        'plan applied',
      );
    }
    this.held = stamp;
    this.zoneIds = plan.zones;
    return { accepted: true, zones: this.zoneIds };
  }
}

/**
 * After a restart the runner knows nothing, but the ack journal does: an item
 * already over is left alone, and one that was audible when the agent died is
 * reported cut rather than played again from the top.
 */
export function restartDecision(stages: readonly AckStage[]): 'run' | 'over' | 'interrupted' {
  if (stages.some(isFinalStage)) return 'over';
  if (stages.includes('started')) return 'interrupted';
  return 'run';
}

function specOf(item: PlanItem): OccurrenceSpec {
  return {
    occurrenceId: item.occurrenceId,
    priority: item.priority,
    assets: item.assets,
    startAt: item.startAt,
    ...(item.volume !== undefined ? { volume: item.volume } : {}),
  };
}
