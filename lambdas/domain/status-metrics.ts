import { STAGES, type Stage, type StatusTimes } from './status-update';

/** A row's status before and after one batch, as apply_status_updates reports it. */
export interface StatusChange {
  previous_status: StatusTimes | null;
  status: StatusTimes;
  inferred_stages: string[];
}

export interface ChangeMetrics {
  /** Per stage: messages whose reported time for that stage took effect in this batch. */
  appliedByStage: Partial<Record<Stage, number>>;
  /** Seconds from sent to delivered, for messages where either changed now and both times are reported. */
  deliveryLatencySeconds: number[];
  /** Seconds from delivered to read, likewise. */
  readLatencySeconds: number[];
}

/**
 * What a batch changed, for metrics. Only changes count, so a retried or duplicated webhook adds nothing; a stage
 * that is merely inferred from a later one is not counted as applied, and latency samples leave inferred times
 * out (an inferred delivered time equals the read time and would show a false zero-second read delay).
 */
export function measureChanges(changes: readonly StatusChange[]): ChangeMetrics {
  const result: ChangeMetrics = { appliedByStage: {}, deliveryLatencySeconds: [], readLatencySeconds: [] };
  for (const change of changes) {
    const before = change.previous_status ?? {};
    const inferred = new Set(change.inferred_stages);
    const changed = (stage: Stage) => change.status[stage] !== undefined && change.status[stage] !== before[stage];
    const reported = (stage: Stage) => change.status[stage] !== undefined && !inferred.has(stage);

    for (const stage of STAGES) {
      if (changed(stage) && reported(stage)) result.appliedByStage[stage] = (result.appliedByStage[stage] ?? 0) + 1;
    }
    const seconds = (from: Stage, to: Stage) =>
      (Date.parse(change.status[to] ?? '') - Date.parse(change.status[from] ?? '')) / 1000;
    // A sample is taken when either end changed (a real time replacing an inferred one completes a pair); a rare
    // correction to an earlier time can therefore sample a message twice.
    if ((changed('delivered') || changed('sent')) && reported('delivered') && reported('sent')) {
      const s = seconds('sent', 'delivered');
      if (Number.isFinite(s) && s >= 0) result.deliveryLatencySeconds.push(s);
    }
    if ((changed('read') || changed('delivered')) && reported('read') && reported('delivered')) {
      const s = seconds('delivered', 'read');
      if (Number.isFinite(s) && s >= 0) result.readLatencySeconds.push(s);
    }
  }
  return result;
}
