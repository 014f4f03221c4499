import * as z from 'zod';

/**
 * The one home of every alarm and cohort setting: default, range and meaning, written once. The CDK config
 * (lib/config.ts), the sweeper's environment (SweeperEnv), the stores, `alerts:check` and the alert simulator all
 * read these schemas; docs/alarms.md explains the choices. Pure: no I/O, no AWS.
 */

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const bool = z.union([z.boolean(), z.enum(['true', 'false']).transform((v) => v === 'true')]);

/** `apiRateLimit` -> `API_RATE_LIMIT`: a setting's name in the environment. */
export const envName = (key: string) => key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();

/**
 * The cohorts `delivery_health` computes over, and how often the sweeper computes them. Windows are ranges of the
 * reported sent time, so a late webhook lands in the cohort it belongs to.
 */
export const CohortSettings = z.object({
  /** How often the sweeper computes the figures (minutes). Every alarm fed by it looks at least this far back. */
  sweeperIntervalMinutes: int(1, 60).default(5),
  /** Delivery cohort: messages sent in this window (minutes) ... */
  deliveryWindowMinutes: int(5, 1_440).default(30),
  /** ... that ended this long ago (minutes): a message is given this long to be delivered before it counts. */
  deliveryGraceMinutes: int(0, 1_440).default(5),
  /** Read cohort: messages sent in this window (hours) ... */
  readWindowHours: int(1, 168).default(24),
  /** ... that ended this long ago (minutes): reads trail deliveries by minutes to hours. */
  readGraceMinutes: int(0, 1_440).default(180),
  /** A message is undelivered once it was sent this long ago (minutes) with neither a delivery nor a failure ... */
  undeliveredAfterMinutes: int(1, 1_440).default(10),
  /** ... and is counted only until this long after sending (minutes): older ones are phones that are off. */
  undeliveredWithinMinutes: int(2, 10_080).default(60),
});
export type CohortSettings = z.infer<typeof CohortSettings>;
export const COHORT_KEYS = Object.keys(CohortSettings.shape) as (keyof CohortSettings)[];
export const DEFAULT_COHORTS: CohortSettings = CohortSettings.parse({});

/** The windows `delivery_health` takes (the cohort settings without the schedule). */
export type HealthWindows = Omit<CohortSettings, 'sweeperIntervalMinutes'>;

/**
 * One alarm's knobs; `enabled: false` leaves it out. An alarm goes off when `datapointsToAlarm` of the last
 * `evaluationPeriods` periods breach (unset: all of them).
 */
// Strict objects: a misspelt alarm or setting name is an error (lib/config.ts names the closest valid one), not a
// setting silently ignored.
const alarm = (defaults: {
  threshold: number;
  periodMinutes: number;
  evaluationPeriods: number;
  datapointsToAlarm?: number;
}) =>
  z.strictObject({
    enabled: bool.default(true),
    threshold: z.coerce.number().default(defaults.threshold),
    periodMinutes: int(1, 1_440).default(defaults.periodMinutes),
    evaluationPeriods: int(1, 100).default(defaults.evaluationPeriods),
    datapointsToAlarm:
      defaults.datapointsToAlarm === undefined
        ? int(1, 100).optional()
        : int(1, 100).default(defaults.datapointsToAlarm),
  });

/** How many breaching periods an alarm needs. */
export const datapointsToAlarm = (a: { evaluationPeriods: number; datapointsToAlarm?: number | undefined }) =>
  a.datapointsToAlarm ?? a.evaluationPeriods;

/** The smallest cohort a rate alarm judges: below it one message would swing the rate by percents. */
const minCohort = (fallback: number) => ({ minCohort: int(1, 10_000_000).default(fallback) });

/**
 * Not a CloudWatch alarm: the sweeper itself notifies the warning topic when at least `threshold` % of the delivery
 * cohort failed (a cohort of at least `minCohort`), naming the error code most of the failures carry, which an
 * alarm's notification cannot do.
 */
export const FailureSpikeSettings = z
  .strictObject({
    enabled: bool.default(true),
    threshold: z.coerce.number().min(0).max(100).default(10),
    ...minCohort(50),
  })
  .prefault({});
export type FailureSpikeSettings = z.infer<typeof FailureSpikeSettings>;

/**
 * Every alarm with its defaults. Where the original design's numbers survive real traffic they are kept (read rate
 * and delivery time were tightened or changed in kind after the alert simulator showed them paging on healthy
 * weeks; docs/alarms.md gives the figures).
 */
export const AlarmSettings = z
  .strictObject({
    // critical
    /** Delivery rate (%) of the delivery cohort below this, when the cohort holds at least `minCohort` messages. */
    deliveryRate: alarm({ threshold: 80, periodMinutes: 5, evaluationPeriods: 2 }).extend(minCohort(50)).prefault({}),
    /** Share (%) of recent sends with no delivery and no failure above this (same minimum cohort). */
    undelivered: alarm({ threshold: 20, periodMinutes: 5, evaluationPeriods: 2 }).extend(minCohort(50)).prefault({}),
    /** Share (%) of webhook requests refused (4xx) or of statuses rejected, at or above this. */
    webhooksRefused: alarm({ threshold: 50, periodMinutes: 5, evaluationPeriods: 2 })
      .extend({ minRequests: int(1, 1_000_000).default(10) })
      .prefault({}),
    /**
     * No webhook request for `evaluationPeriods` periods in a row, after a period of at least `busyRequests`
     * requests within the last `busyLookbackMinutes`: the provider stopped calling while messages were going out.
     */
    webhookSilence: alarm({ threshold: 1, periodMinutes: 5, evaluationPeriods: 3 })
      .extend({ busyRequests: int(1, 1_000_000).default(100), busyLookbackMinutes: int(10, 1_440).default(60) })
      .prefault({}),
    /** Database errors (processor batches and sweeper runs that could not reach the database), at least. */
    databaseErrors: alarm({ threshold: 1, periodMinutes: 5, evaluationPeriods: 2 }).prefault({}),
    /** Messages in the dead-letter queue, at least. */
    deadLetters: alarm({ threshold: 1, periodMinutes: 5, evaluationPeriods: 1 }).prefault({}),
    /** API 5xx answers plus ingest function errors, at least, in `datapointsToAlarm` periods. */
    webhookErrors: alarm({ threshold: 1, periodMinutes: 5, evaluationPeriods: 2 }).prefault({}),
    /** Sweeper runs in the period, below. The period must be at least twice the sweeper interval. */
    sweeperNotRunning: alarm({ threshold: 1, periodMinutes: 10, evaluationPeriods: 1 }).prefault({}),
    // warning
    /** Read rate (%) of the read cohort below this, when it holds at least `minCohort` delivered messages. */
    readRate: alarm({ threshold: 40, periodMinutes: 30, evaluationPeriods: 2 }).extend(minCohort(200)).prefault({}),
    /** Median reported delivery time (s) of the delivery cohort above this, over at least `minCohort` deliveries. */
    deliveryTime: alarm({ threshold: 30, periodMinutes: 5, evaluationPeriods: 3 }).extend(minCohort(50)).prefault({}),
    /** p90 of database call durations (ms) above this. */
    slowDatabase: alarm({ threshold: 1_000, periodMinutes: 5, evaluationPeriods: 3, datapointsToAlarm: 2 }).prefault(
      {},
    ),
    /** Age (s) of the oldest queued status above this. */
    queueAge: alarm({ threshold: 600, periodMinutes: 5, evaluationPeriods: 1 }).prefault({}),
    /** Throttled Lambda invocations, at least. */
    throttles: alarm({ threshold: 1, periodMinutes: 5, evaluationPeriods: 2 }).prefault({}),
    /** p99 of the API's latency (ms) above this: providers give a webhook 5 s. */
    apiLatency: alarm({ threshold: 3_000, periodMinutes: 5, evaluationPeriods: 3 }).prefault({}),
    /** Daily summaries that failed, at least. */
    dailySummary: alarm({ threshold: 1, periodMinutes: 60, evaluationPeriods: 1 }).prefault({}),
    /**
     * Status-change events the bus refused (parked in the retry queue), lost, or dead-lettered from the retry queue,
     * at least (docs/events.md). Only with `statusEvents` on.
     */
    statusEvents: alarm({ threshold: 1, periodMinutes: 5, evaluationPeriods: 1 }).prefault({}),
    /** Account or template notifications (a template disabled, a number flagged) that could not be sent, at least. */
    accountNotifications: alarm({ threshold: 1, periodMinutes: 5, evaluationPeriods: 1 }).prefault({}),
    /**
     * Webhooks not reaching the archive (docs/archive.md): archive writes the ingest counted as failed, at least
     * `threshold`, or Firehose's oldest undelivered record older than `maxDeliveryAgeMinutes` (S3 refusing it).
     */
    archiveFailures: alarm({ threshold: 1, periodMinutes: 5, evaluationPeriods: 1 })
      .extend({ maxDeliveryAgeMinutes: int(5, 1_440).default(60) })
      .prefault({}),
    /** Hours without any webhook request at all (a stop during quiet hours, or a webhook never configured). */
    webhookAbsent: alarm({ threshold: 1, periodMinutes: 60, evaluationPeriods: 24 }).prefault({}),
    /** The sweeper's failure-spike notification (above). */
    failureSpike: FailureSpikeSettings,
  })
  .prefault({});
export type AlarmSettings = z.infer<typeof AlarmSettings>;
export type AlarmName = keyof AlarmSettings;
export const DEFAULT_ALARMS: AlarmSettings = AlarmSettings.parse({});

/** The alarms CloudWatch evaluates (every setting but the sweeper's own failure-spike notification). */
export type CloudWatchAlarmName = Exclude<AlarmName, 'failureSpike'>;
export const CLOUDWATCH_ALARMS = (Object.keys(DEFAULT_ALARMS) as AlarmName[]).filter(
  (name): name is CloudWatchAlarmName => name !== 'failureSpike',
);

/** Alarms whose figures only the sweeper computes: their period must cover at least one sweeper run. */
export const SWEEPER_FED_ALARMS = [
  'deliveryRate',
  'undelivered',
  'readRate',
  'deliveryTime',
] as const satisfies readonly AlarmName[];

/**
 * Combinations that cannot work, each named by its keys. An alarm fed by the sweeper whose period is shorter than
 * the sweeper's interval sees empty periods (treated as fine: it could never fire); a sweeperNotRunning period
 * shorter than two intervals pages whenever one run is a little late.
 */
export function settingProblems(cohorts: CohortSettings, alarms: AlarmSettings): { path: string[]; message: string }[] {
  const problems: { path: string[]; message: string }[] = [];
  const interval = cohorts.sweeperIntervalMinutes;
  for (const name of SWEEPER_FED_ALARMS) {
    const a = alarms[name];
    if (a.enabled && a.periodMinutes < interval) {
      problems.push({
        path: ['alarms', name, 'periodMinutes'],
        message: `alarms.${name}.periodMinutes (${a.periodMinutes}) is shorter than sweeperIntervalMinutes (${interval}): most periods would hold no figure and the alarm could never fire`,
      });
    }
  }
  if (alarms.sweeperNotRunning.enabled && alarms.sweeperNotRunning.periodMinutes < 2 * interval) {
    problems.push({
      path: ['alarms', 'sweeperNotRunning', 'periodMinutes'],
      message: `alarms.sweeperNotRunning.periodMinutes (${alarms.sweeperNotRunning.periodMinutes}) must be at least twice sweeperIntervalMinutes (${interval}), or one late run pages`,
    });
  }
  if (cohorts.undeliveredWithinMinutes <= cohorts.undeliveredAfterMinutes) {
    problems.push({
      path: ['undeliveredWithinMinutes'],
      message: `undeliveredWithinMinutes (${cohorts.undeliveredWithinMinutes}) must be longer than undeliveredAfterMinutes (${cohorts.undeliveredAfterMinutes})`,
    });
  }
  for (const name of CLOUDWATCH_ALARMS) {
    const a = alarms[name];
    if (datapointsToAlarm(a) > a.evaluationPeriods) {
      problems.push({
        path: ['alarms', name, 'datapointsToAlarm'],
        message: `alarms.${name}.datapointsToAlarm (${datapointsToAlarm(a)}) cannot exceed evaluationPeriods (${a.evaluationPeriods})`,
      });
    }
    // CloudWatch evaluates at most one day of periods.
    if (a.periodMinutes * a.evaluationPeriods > 1_440) {
      problems.push({
        path: ['alarms', name, 'evaluationPeriods'],
        message: `alarms.${name}: periodMinutes x evaluationPeriods (${a.periodMinutes * a.evaluationPeriods}) exceeds CloudWatch's one day`,
      });
    }
  }
  return problems;
}

/** The settings the sweeper function needs, as environment variables (SCREAMING_SNAKE names of the keys). */
export function sweeperSettingsEnvironment(
  cohorts: CohortSettings,
  failureSpike: FailureSpikeSettings,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const key of COHORT_KEYS) env[envName(key)] = String(cohorts[key]);
  env.FAILURE_SPIKE_ENABLED = String(failureSpike.enabled);
  env.FAILURE_SPIKE_THRESHOLD = String(failureSpike.threshold);
  env.FAILURE_SPIKE_MIN_COHORT = String(failureSpike.minCohort);
  return env;
}

/** Reads what sweeperSettingsEnvironment wrote, with the same schemas, so any value the config accepts is accepted here. */
export function sweeperSettingsFromEnvironment(env: NodeJS.ProcessEnv): {
  cohorts: CohortSettings;
  failureSpike: FailureSpikeSettings;
} {
  const raw: Record<string, unknown> = {};
  for (const key of COHORT_KEYS) {
    const value = env[envName(key)];
    if (value !== undefined && value !== '') raw[key] = value;
  }
  const cohorts = CohortSettings.safeParse(raw);
  const failureSpike = FailureSpikeSettings.safeParse({
    ...(env.FAILURE_SPIKE_ENABLED ? { enabled: env.FAILURE_SPIKE_ENABLED } : {}),
    ...(env.FAILURE_SPIKE_THRESHOLD ? { threshold: env.FAILURE_SPIKE_THRESHOLD } : {}),
    ...(env.FAILURE_SPIKE_MIN_COHORT ? { minCohort: env.FAILURE_SPIKE_MIN_COHORT } : {}),
  });
  const issues = [
    ...(cohorts.success ? [] : cohorts.error.issues.map((i) => `${envName(String(i.path[0]))}: ${i.message}`)),
    ...(failureSpike.success
      ? []
      : failureSpike.error.issues.map((i) => `FAILURE_SPIKE_${envName(String(i.path[0]))}: ${i.message}`)),
  ];
  if (!cohorts.success || !failureSpike.success) throw new Error(`invalid environment: ${issues.join('; ')}`);
  return { cohorts: cohorts.data, failureSpike: failureSpike.data };
}

/** The windows part of the cohort settings, as `delivery_health` takes them. */
export function healthWindows(cohorts: CohortSettings): HealthWindows {
  const { sweeperIntervalMinutes: _interval, ...windows } = cohorts;
  return windows;
}

/**
 * The instant the sweeper judges the cohorts at: the start of the current minute. The windows are whole minutes and
 * hours back from it, so each starts and ends on a whole minute, which the rollups answer alone. At an arbitrary
 * instant `delivery_health` also reads the messages of the partial minutes at every window's ends, a cost that
 * grows with traffic (at the 10M benchmark's density, 26 ms against 2.9 ms: docs/performance.md). The windows move by
 * less than a minute, which no alarm period notices.
 */
export function cohortInstant(now: Date): Date {
  return new Date(Math.floor(now.getTime() / 60_000) * 60_000);
}
