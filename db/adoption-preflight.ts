import type { SqlExecutor } from '../lambdas/store/sql-executor';

/**
 * What usually stops the original guide's table from being adopted as it is, found before any migration runs
 * (docs/adoption.md#what-stops-an-adoption). Migration 0000 sets the guide's table aside and 0010, nine migrations
 * later, moves its rows across and drops it: a view or a foreign key of the user's on the guide's table makes 0010's
 * drop fail, and a column named like a tracker column is taken for it. The adoption runs in one transaction
 * (applyMigrations), so such a failure changes nothing either way; this check says what to do about each, instead of
 * PostgreSQL's first error. Nothing is changed while any is left.
 */
export async function adoptionBlockers(executor: SqlExecutor): Promise<string[]> {
  if (!(await hasGuideTable(executor))) return [];

  const { rows: views } = await executor.query<{ kind: string; name: string }>(
    `select distinct case c.relkind when 'm' then 'materialized view' when 'v' then 'view' else 'rule on table' end as kind,
            c.oid::regclass::text as name
       from pg_depend d
       join pg_rewrite r on r.oid = d.objid
       join pg_class c on c.oid = r.ev_class
      where d.classid = 'pg_rewrite'::regclass and d.refobjid = 'public.broadcasts_messages'::regclass
        and c.oid <> d.refobjid
      order by 2`,
  );
  const { rows: foreignKeys } = await executor.query<{ constraint_name: string; table_name: string }>(
    `select conname as constraint_name, conrelid::regclass::text as table_name
       from pg_constraint
      where contype = 'f' and confrelid = 'public.broadcasts_messages'::regclass and conrelid <> confrelid
      order by 2, 1`,
  );
  const { rows: sequences } = await executor.query<{ column_name: string; sequence_name: string; identity: boolean }>(
    `select a.attname as column_name, s.oid::regclass::text as sequence_name, d.deptype = 'i' as identity
       from pg_depend d
       join pg_class s on s.oid = d.objid and s.relkind = 'S'
       join pg_attribute a on a.attrelid = d.refobjid and a.attnum = d.refobjsubid
      where d.refobjid = 'public.broadcasts_messages'::regclass and d.deptype in ('a', 'i') and a.attname <> 'id'
      order by 1`,
  );
  const { rows: columns } = await executor.query<{ column_name: string; type: string }>(
    `select a.attname as column_name, format_type(a.atttypid, a.atttypmod) as type
       from pg_attribute a
      where a.attrelid = 'public.broadcasts_messages'::regclass and a.attnum > 0 and not a.attisdropped
      order by a.attnum`,
  );

  return [
    ...views.map((v) =>
      v.kind === 'rule on table'
        ? `a rule on table ${v.name} reads the table: drop the rule (not the table), migrate, then create it again`
        : `${v.kind} ${v.name} reads the table: save its definition (select pg_get_viewdef('${v.name}')), drop it, migrate, then create it again`,
    ),
    ...foreignKeys.map(
      (f) =>
        `foreign key ${f.constraint_name} of ${f.table_name} references the table: drop it (alter table ${f.table_name} drop constraint ${f.constraint_name}), migrate, then add it again (message_id stays unique)`,
    ),
    ...sequences.map((s) =>
      s.identity
        ? `your identity column ${s.column_name} would lose its sequence with the set-aside table: make it a plain column first (alter table public.broadcasts_messages alter column ${s.column_name} drop identity)`
        : `your column ${s.column_name} takes its numbers from ${s.sequence_name}, which would be dropped with the set-aside table: keep it (alter sequence ${s.sequence_name} owned by none)`,
    ),
    ...columns.flatMap((c) => {
      const rename = `rename it (alter table public.broadcasts_messages rename column ${c.column_name} to my_${c.column_name})`;
      // hasOwn: a column named `constructor` is not one of the tracker's.
      if (Object.hasOwn(TRACKER_COLUMNS_ADDED_AFTER_ADOPTION, c.column_name))
        return `your column ${c.column_name} has the name of a column the tracker adds after the adoption (migration ${TRACKER_COLUMNS_ADDED_AFTER_ADOPTION[c.column_name]}): ${rename}`;
      const tracker = Object.hasOwn(TRACKER_COLUMNS_AT_ADOPTION, c.column_name)
        ? TRACKER_COLUMNS_AT_ADOPTION[c.column_name]
        : undefined;
      // 0010 copies a column of the tracker's name only into one of the same type that the tracker writes itself.
      if (tracker === undefined || tracker === c.type) return [];
      return `your column ${c.column_name} (${c.type}) has the name of the tracker's ${tracker === null ? 'computed column' : `column of type ${tracker}`}: ${rename}`;
    }),
  ];
}

/** Whether `broadcasts_messages` is there without the tracker's columns: the table 0000 would set aside for 0010. */
export async function hasGuideTable(executor: SqlExecutor): Promise<boolean> {
  const { rows } = await executor.query<{ is_guide: boolean }>(
    `select to_regclass('public.broadcasts_messages') is not null
            and not exists (select 1 from information_schema.columns
                             where table_schema = 'public' and table_name = 'broadcasts_messages'
                               and column_name = 'reported_sent_at') as is_guide`,
  );
  return rows[0]?.is_guide === true;
}

/**
 * The tracker's columns that migrations after 0010 add with `add column if not exists`: a user column of that name
 * would be carried over by 0010 and then taken for the tracker's own. test/integration/adopt-guide-table.test.ts
 * derives this list from the migrations and fails when a new one adds a column.
 */
export const TRACKER_COLUMNS_ADDED_AFTER_ADOPTION: Readonly<Record<string, string>> = {
  pricing_category: '0014',
  pricing_type: '0014',
  pricing_model: '0014',
  pricing_billable: '0014',
  recipient_user_id: '0016',
  recipient_parent_user_id: '0016',
  sender_waba_id: '0016',
  sender_phone_number_id: '0016',
  sender_display_phone_number: '0016',
  sender_project_id: '0016',
};

/**
 * The tracker's columns when 0010 moves the guide's rows across, beside the guide's own six: each with the type a user
 * column of that name must have to be copied into it, or null for the computed ones, which take no user column.
 * test/integration/adopt-guide-table.test.ts derives it from the migrations.
 */
export const TRACKER_COLUMNS_AT_ADOPTION: Readonly<Record<string, string | null>> = {
  reported_sent_at: 'timestamp with time zone',
  reported_delivered_at: 'timestamp with time zone',
  reported_read_at: 'timestamp with time zone',
  played_at: 'timestamp with time zone',
  failed_at: 'timestamp with time zone',
  failure: 'jsonb',
  campaign: 'text',
  provider_message_id: 'text',
  conversation: 'jsonb',
  pricing: 'jsonb',
  sent_at: null,
  delivered_at: null,
  read_at: null,
  inferred_stages: null,
  current_status: null,
  error_code: null,
  error_title: null,
};

/** The error db:migrate (and its dry run) stops with, before applying anything. */
export class AdoptionBlockedError extends Error {
  override readonly name = 'AdoptionBlockedError';
  constructor(readonly blockers: readonly string[]) {
    super(
      `the original guide's table cannot be adopted as it is; nothing was changed:\n${blockers.map((b) => `  - ${b}`).join('\n')}\nsee docs/adoption.md#what-stops-an-adoption`,
    );
  }
}

/** Throws AdoptionBlockedError when the guide's table is there and something of the user's stops its adoption. */
export async function checkAdoption(executor: SqlExecutor): Promise<void> {
  const blockers = await adoptionBlockers(executor);
  if (blockers.length) throw new AdoptionBlockedError(blockers);
}
