import type { Db } from '../db/database.ts';

export interface MinuteRow {
  integration_id: string;
  minute: Date;
  delivered: number;
  failed: number;
  rejected: number;
}

/** Per-integration attempt counts per minute since `since`, from the rollup the settle keeps. */
export async function minuteSeries(db: Db, since: Date): Promise<MinuteRow[]> {
  return db
    .selectFrom('delivery_minutes')
    .select(['integration_id', 'minute', 'delivered', 'failed', 'rejected'])
    .where('minute', '>=', since)
    .orderBy('minute')
    .execute();
}
