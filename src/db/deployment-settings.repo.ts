import type { Db } from './database.ts';

export async function getDeploymentSetting(db: Db, name: string): Promise<string | undefined> {
  const row = await db.selectFrom('deployment_settings').select('value').where('name', '=', name).executeTakeFirst();
  return row?.value;
}

/** Stores `value` unless the setting exists; returns the value that is stored now. */
export async function putDeploymentSettingIfAbsent(db: Db, name: string, value: string): Promise<string> {
  await db
    .insertInto('deployment_settings')
    .values({ name, value })
    .onConflict((oc) => oc.column('name').doNothing())
    .execute();
  return (await getDeploymentSetting(db, name)) ?? value;
}
