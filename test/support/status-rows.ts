import type { StatusUpdate } from '../../lambdas/domain/status-update';
import type { SqlExecutor } from '../../lambdas/store/sql-executor';

/** A row as tests compare it: everything the merge decides, nothing that depends on when it ran. */
export interface MessageRow {
  message_id: string;
  phone_number: string | null;
  status: Record<string, string>;
  inferred_stages: string[];
  current_status: string;
  failure: Record<string, unknown> | null;
  error_code: number | null;
  campaign: string | null;
  provider_message_id: string | null;
  conversation: unknown;
  pricing: unknown;
  recipient_user_id: string | null;
  recipient_parent_user_id: string | null;
  sender_waba_id: string | null;
  sender_phone_number_id: string | null;
  sender_display_phone_number: string | null;
  sender_project_id: string | null;
}

export async function readRows(executor: SqlExecutor): Promise<MessageRow[]> {
  const { rows } = await executor.query<MessageRow>(
    `select message_id, phone_number, status, inferred_stages, current_status, failure, error_code, campaign,
            provider_message_id, conversation, pricing, recipient_user_id, recipient_parent_user_id,
            sender_waba_id, sender_phone_number_id, sender_display_phone_number, sender_project_id
       from public.broadcasts_messages order by message_id`,
  );
  return rows;
}

export async function readRow(executor: SqlExecutor, messageId: string): Promise<MessageRow | undefined> {
  return (await readRows(executor)).find((r) => r.message_id === messageId);
}

export const at = (second: number) => new Date(Date.UTC(2024, 0, 1, 10, 0, second)).toISOString();

export function update(
  message_id: string,
  status: StatusUpdate['status'],
  second: number,
  extra: Partial<StatusUpdate> = {},
): StatusUpdate {
  return { message_id, status, timestamp: at(second), ...extra };
}
